package libvirt

/*
#include <stdint.h>
*/
import "C"

import (
	"reflect"
	"sync"
	"unsafe"
)

// C holds a callback's user data as a number: the key of the Go func here.
// libvirt calls the free callback (pyvirtgoFreeCallback) when it drops it.
var (
	callbackMu   sync.Mutex
	callbackNext uintptr = 1
	callbackMap          = map[uintptr]interface{}{}
)

func registerCallback(f interface{}) uintptr {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	id := callbackNext
	callbackNext++
	callbackMap[id] = f
	return id
}

func lookupCallback(id uintptr) interface{} {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	return callbackMap[id]
}

// callbackSet holds the funcs of one call that share one user data
// (virStreamSparseSendAll's handlers); each trampoline takes the one of its type.
type callbackSet []interface{}

func lookupCallbacks(id uintptr) []interface{} {
	v := lookupCallback(id)
	if set, ok := v.(callbackSet); ok {
		return set
	}
	return []interface{}{v}
}

// Hooks without user data (virEventRegisterImpl's) are one set per process.
var globalSet callbackSet

func setGlobalCallbacks(set callbackSet) {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	globalSet = set
}

func globalCallbacks() callbackSet {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	return globalSet
}

func unregisterCallback(id uintptr) {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	delete(callbackMap, id)
}

//export pyvirtgoFreeCallback
func pyvirtgoFreeCallback(id C.uintptr_t) {
	unregisterCallback(uintptr(id))
}

// Callbacks without user data (virConnectDomainEventDeregister) are matched by
// libvirt on their C pointer, which is one trampoline per callback type: so the
// package remembers, per object and type, which Go func it registered, and
// passes the trampoline back only for that func (a func is known by its code:
// two closures of one literal count as the same).
type keyedKey struct {
	obj   unsafe.Pointer
	ctype string
}

var keyedMap = map[keyedKey]uintptr{}

func keyedKeep(obj unsafe.Pointer, ctype string, id uintptr) {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	keyedMap[keyedKey{obj, ctype}] = id
}

func keyedIs(obj unsafe.Pointer, ctype string, f interface{}) bool {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	id, ok := keyedMap[keyedKey{obj, ctype}]
	g, live := callbackMap[id]
	return ok && live && f != nil && reflect.ValueOf(g).Pointer() == reflect.ValueOf(f).Pointer()
}

func keyedDrop(obj unsafe.Pointer, ctype string) {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	delete(keyedMap, keyedKey{obj, ctype})
}

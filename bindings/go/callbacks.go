package libvirt

/*
#include <stdint.h>
*/
import "C"

import "sync"

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

func unregisterCallback(id uintptr) {
	callbackMu.Lock()
	defer callbackMu.Unlock()
	delete(callbackMap, id)
}

//export pyvirtgoFreeCallback
func pyvirtgoFreeCallback(id C.uintptr_t) {
	unregisterCallback(uintptr(id))
}

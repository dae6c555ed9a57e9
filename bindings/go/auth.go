package libvirt

/*
#include <stdint.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>
void pyvirtgo_auth_set(virConnectAuthPtr auth, uintptr_t id);
*/
import "C"

import "unsafe"

// ConnectCredential is one credential libvirt asks for while opening a
// connection (virConnectCredential): the callback sets Result.
type ConnectCredential struct {
	Type      ConnectCredentialType
	Prompt    string
	Challenge string
	DefResult string
	Result    string
}

// ConnectAuthCallback fills the credentials libvirt asks for; an error refuses
// them (libvirt then fails the open).
type ConnectAuthCallback func(creds []*ConnectCredential) error

// ConnectAuth is virConnectAuth: the credential types the callback can answer.
type ConnectAuth struct {
	CredType []ConnectCredentialType
	Callback ConnectAuthCallback
}

// authToC builds the C virConnectAuth for one call; done releases it.
func authToC(a *ConnectAuth) (C.virConnectAuthPtr, func()) {
	if a == nil {
		return nil, func() {}
	}
	c := (C.virConnectAuthPtr)(C.calloc(1, C.size_t(unsafe.Sizeof(C.virConnectAuth{}))))
	n := len(a.CredType)
	c.credtype = (*C.int)(C.calloc(C.size_t(n)+1, C.size_t(unsafe.Sizeof(C.int(0)))))
	for i, t := range a.CredType {
		unsafe.Slice(c.credtype, n)[i] = C.int(t)
	}
	c.ncredtype = C.uint(n)
	id := registerCallback(a.Callback)
	C.pyvirtgo_auth_set(c, C.uintptr_t(id))
	return c, func() {
		unregisterCallback(id)
		C.free(unsafe.Pointer(c.credtype))
		C.free(unsafe.Pointer(c))
	}
}

//export pyvirtgoAuthCallback
func pyvirtgoAuthCallback(cred C.virConnectCredentialPtr, ncred C.uint, id C.uintptr_t) C.int {
	f, ok := lookupCallback(uintptr(id)).(ConnectAuthCallback)
	if !ok || f == nil {
		return -1
	}
	cs := unsafe.Slice(cred, int(ncred))
	creds := make([]*ConnectCredential, len(cs))
	for i := range cs {
		creds[i] = &ConnectCredential{
			Type:      ConnectCredentialType(cs[i]._type),
			Prompt:    goStringOrEmpty(cs[i].prompt),
			Challenge: goStringOrEmpty(cs[i].challenge),
			DefResult: goStringOrEmpty(cs[i].defresult),
		}
	}
	if err := f(creds); err != nil {
		return -1
	}
	// libvirt frees each result with free()
	for i := range cs {
		cs[i].result = C.CString(creds[i].Result)
		cs[i].resultlen = C.uint(len(creds[i].Result))
	}
	return 0
}

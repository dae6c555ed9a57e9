/* The C side of ConnectAuth: libvirt calls pyvirtgo_auth_cb with the user data
 * authToC registered, and it hands the credentials to the Go callback. */
#include <stdint.h>
#include <libvirt/libvirt.h>
#include "_cgo_export.h"

static int pyvirtgo_auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
    return pyvirtgoAuthCallback(cred, ncred, (uintptr_t)cbdata);
}

void pyvirtgo_auth_set(virConnectAuthPtr auth, uintptr_t id)
{
    auth->cb = pyvirtgo_auth_cb;
    auth->cbdata = (void *)id;
}

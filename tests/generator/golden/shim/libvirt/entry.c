/* libvirt.so.0's exported functions that have a Python extern: generated
 * from apispec/libvirt.xml; do not edit.  Each resets the thread's last
 * error here, in C, then calls its extern (pyvirt_py_NAME): resetting from
 * Python would cost a call through cffi, which also lets go of the GIL. */
#define VIR_DEPRECATED
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "pyvirt_shim.h"

#define PUBLIC __attribute__((visibility("default")))

virConnectPtr pyvirt_py_virOpen(const char *name);
PUBLIC virConnectPtr virOpen(const char *name)
{
    pyvirt_reset_error();
    return pyvirt_py_virOpen(name);
}

int pyvirt_py_virGetInfo(virConnectPtr conn, virInfoPtr info);
PUBLIC int virGetInfo(virConnectPtr conn, virInfoPtr info)
{
    pyvirt_reset_error();
    return pyvirt_py_virGetInfo(conn, info);
}

char *pyvirt_py_virGetName(virConnectPtr conn, unsigned int flags);
PUBLIC char *virGetName(virConnectPtr conn, unsigned int flags)
{
    pyvirt_reset_error();
    return pyvirt_py_virGetName(conn, flags);
}

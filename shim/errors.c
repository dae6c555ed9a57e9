/* The error API: each thread's last error lives here, in C, so reading it
 * (virGetLastError and friends) never enters Python. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyvirt_shim.h"

#define PUBLIC __attribute__((visibility("default")))

static __thread virError last_error;
static virErrorFunc global_handler;
static void *global_data;

/* Names virDefaultErrorFunc prints for each virErrorDomain (libvirt 9.0's words). */
static const char *const domain_names[] = {
    "",
    "Xen Driver",
    "Xen Daemon",
    "Xen Store",
    "S-Expression",
    "XML Util",
    "Domain",
    "XML-RPC",
    "Proxy Daemon",
    "Config File",
    "QEMU Driver",
    "Network",
    "Test Driver",
    "Remote Driver",
    "OpenVZ Driver",
    "Xen XM Driver",
    "Linux Statistics",
    "LXC Driver",
    "Storage Driver",
    "Network Driver",
    "Domain Config",
    "User Mode Linux Driver",
    "Node Device Driver",
    "Xen Inotify Driver",
    "Security Driver",
    "VirtualBox Driver",
    "Network Interface Driver",
    "Open Nebula Driver",
    "ESX Driver",
    "Power Hypervisor Driver",
    "Secrets Driver",
    "CPU Driver",
    "XenAPI Driver",
    "Network Filter Driver",
    "Lifecycle Hook",
    "Domain Snapshot",
    "Audit Utils",
    "Sysinfo Utils",
    "I/O Stream Utils",
    "VMware Driver",
    "Event Loop",
    "Xen Light Driver",
    "Lock Driver",
    "Hyper-V Driver",
    "Capabilities Utils",
    "URI Utils",
    "Authentication Utils",
    "DBus Utils",
    "Parallels Cloud Server",
    "Device Config",
    "SSH transport layer",
    "Lock Space",
    "Init control",
    "Identity",
    "Cgroup",
    "Access Manager",
    "Systemd",
    "Bhyve",
    "Crypto",
    "Firewall",
    "Polkit",
    "Thread jobs",
    "Admin Interface",
    "Log Manager",
    "Xen XL Config",
    "Perf",
    "Libssh transport layer",
    "Resource control",
    "FirewallD",
    "Domain Checkpoint",
    "TPM",
    "BPF",
    "Cloud-Hypervisor Driver",
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

PUBLIC void
virResetError(virErrorPtr err)
{
    if (!err)
        return;
    free(err->message);
    free(err->str1);
    free(err->str2);
    free(err->str3);
    memset(err, 0, sizeof(*err));
}

void
pyvirt_copy_error(virErrorPtr to, const virError *from)
{
    virResetError(to);
    to->code = from->code;
    to->domain = from->domain;
    to->level = from->level;
    to->message = dup_or_null(from->message);
    to->str1 = dup_or_null(from->str1);
    to->str2 = dup_or_null(from->str2);
    to->str3 = dup_or_null(from->str3);
    to->int1 = from->int1;
    to->int2 = from->int2;
}

PUBLIC void
virDefaultErrorFunc(virErrorPtr err)
{
    const char *dom = "", *lvl = "";

    if (!err || err->code == VIR_ERR_OK)
        return;
    if (err->domain >= 0 && (size_t)err->domain < sizeof(domain_names) / sizeof(domain_names[0]))
        dom = domain_names[err->domain];
    if (err->level == VIR_ERR_WARNING)
        lvl = "warning";
    else if (err->level == VIR_ERR_ERROR)
        lvl = "error";
    const char *msg = err->message ? err->message : "unknown error";
    size_t len = strlen(msg);
    /* as libvirt: a message ending in a newline (yajl's) gets no second one */
    fprintf(stderr, "libvirt: %s %s : %s%s", dom, lvl, msg,
            len && msg[len - 1] == '\n' ? "" : "\n");
}

void
pyvirt_set_error(int code, int domain, int level, const char *message,
                 const char *str1, const char *str2, const char *str3,
                 int int1, int int2, virErrorFunc conn_handler, void *conn_data)
{
    virError *err = &last_error;

    virResetError(err);
    err->code = code;
    err->domain = domain;
    err->level = level;
    err->message = dup_or_null(message);
    err->str1 = dup_or_null(str1);
    err->str2 = dup_or_null(str2);
    err->str3 = dup_or_null(str3);
    err->int1 = int1;
    err->int2 = int2;
    if (conn_handler)
        conn_handler(conn_data, err);
    else if (global_handler)
        global_handler(global_data, err);
    else
        virDefaultErrorFunc(err);
}

void
pyvirt_report_error(int code, int domain, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pyvirt_set_error(code, domain, VIR_ERR_ERROR, msg, msg, NULL, NULL, -1, -1, NULL, NULL);
}

void
pyvirt_reset_error(void)
{
    if (last_error.code != VIR_ERR_OK)
        virResetError(&last_error);
}

PUBLIC virErrorPtr
virGetLastError(void)
{
    return last_error.code == VIR_ERR_OK ? NULL : &last_error;
}

PUBLIC const char *
virGetLastErrorMessage(void)
{
    if (last_error.code == VIR_ERR_OK)
        return "no error";
    return last_error.message ? last_error.message : "unknown error";
}

PUBLIC int
virGetLastErrorCode(void)
{
    return last_error.code;
}

PUBLIC int
virGetLastErrorDomain(void)
{
    return last_error.domain;
}

PUBLIC int
virCopyLastError(virErrorPtr to)
{
    if (!to)
        return -1;
    if (last_error.code == VIR_ERR_OK)
        virResetError(to);
    else
        pyvirt_copy_error(to, &last_error);
    return to->code;
}

PUBLIC void
virResetLastError(void)
{
    virResetError(&last_error);
}

PUBLIC virErrorPtr
virSaveLastError(void)
{
    virErrorPtr copy = calloc(1, sizeof(*copy));

    if (copy)
        virCopyLastError(copy);
    return copy;
}

PUBLIC void
virFreeError(virErrorPtr err)
{
    virResetError(err);
    free(err);
}

PUBLIC void
virSetErrorFunc(void *userData, virErrorFunc handler)
{
    global_handler = handler;
    global_data = userData;
}

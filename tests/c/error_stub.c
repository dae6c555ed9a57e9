/*
 * error_stub.c: a stand-in for the shim's error storage, so that
 * shim/typedparams.c can be tested on its own, without libvirt or Python.
 * It provides the two functions typedparams.c calls, plus the few libvirt
 * error functions typedparams_test.c uses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static __thread virError last_error;
static __thread char last_message[4096];

void pyvirt_report_error(int code, int domain, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pyvirt_reset_error(void);

void
pyvirt_report_error(int code, int domain, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_message, sizeof(last_message), fmt, ap);
    va_end(ap);

    memset(&last_error, 0, sizeof(last_error));
    last_error.code = code;
    last_error.domain = domain;
    last_error.level = VIR_ERR_ERROR;
    last_error.message = last_message;
}

void
pyvirt_reset_error(void)
{
    memset(&last_error, 0, sizeof(last_error));
}

virErrorPtr
virGetLastError(void)
{
    return last_error.code == VIR_ERR_OK ? NULL : &last_error;
}

void
virResetLastError(void)
{
    pyvirt_reset_error();
}

int
virInitialize(void)
{
    return 0;
}

void
virSetErrorFunc(void *userData, virErrorFunc handler)
{
    (void)userData;
    (void)handler;
}

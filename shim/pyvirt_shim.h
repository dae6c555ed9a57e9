/* Hand-written C parts of the shim: what Python calls back into, and what the
 * C sources of the shim share. Public API prototypes come from <libvirt/libvirt.h>. */
#ifndef PYVIRT_SHIM_H
#define PYVIRT_SHIM_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/* Record an error as the thread's last error and run the error handler chain:
 * the connection's handler if given, else the global one, else the default
 * that prints to stderr. Strings may be NULL; they are copied. */
void pyvirt_set_error(int code, int domain, int level, const char *message,
                      const char *str1, const char *str2, const char *str3,
                      int int1, int int2, virErrorFunc conn_handler, void *conn_data);

/* printf-style reporting for errors raised in C (typed parameters). */
void pyvirt_report_error(int code, int domain, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pyvirt_reset_error(void);

/* Deep copy of an error record, for the per-connection last error. */
void pyvirt_copy_error(virErrorPtr to, const virError *from);

#endif

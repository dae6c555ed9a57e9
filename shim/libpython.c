/* Perl, Go and OCaml load libvirt.so.0 with RTLD_LOCAL; the embedded Python's own
 * extension modules (lxml, _cffi_backend) then cannot see libpython's symbols.
 * Re-opening the already loaded libpython with RTLD_GLOBAL makes them visible. */
#include <dlfcn.h>

__attribute__((constructor)) static void
pyvirt_promote_libpython(void)
{
    dlopen(PYVIRT_LIBPYTHON, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
}

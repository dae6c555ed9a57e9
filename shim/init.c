/* virInitialize: everything the library needs is set up on first use (the
 * interpreter by cffi, error storage statically), so there is nothing to do.
 * It stays in C so that calling it never starts Python. */
#include "pyvirt_shim.h"

__attribute__((visibility("default"))) int
virInitialize(void)
{
    return 0;
}

package libvirt

/*
#include <stdlib.h>
#include <string.h>
*/
import "C"

import "unsafe"

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// cUUID copies a raw UUID into a 16-byte C buffer (zero-padded), which the caller frees.
func cUUID(b []byte) *C.uchar {
	p := (*C.uchar)(C.calloc(16, 1))
	n := len(b)
	if n > 16 {
		n = 16
	}
	if n > 0 {
		C.memcpy(unsafe.Pointer(p), unsafe.Pointer(&b[0]), C.size_t(n))
	}
	return p
}

// cStrings makes a C array of C strings; freeCStrings releases it.
func cStrings(xs []string) (**C.char, C.int) {
	size := C.size_t(unsafe.Sizeof((*C.char)(nil)))
	arr := (**C.char)(C.calloc(C.size_t(len(xs))+1, size))
	items := unsafe.Slice(arr, len(xs)+1)
	for i, x := range xs {
		items[i] = C.CString(x)
	}
	return arr, C.int(len(xs))
}

func freeCStrings(arr **C.char, n C.int) {
	for _, p := range unsafe.Slice(arr, int(n)) {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(arr))
}

// goStringArray copies n C strings (a struct field such as virDomainFSInfo.devAlias).
func goStringArray(arr **C.char, n int) []string {
	if arr == nil || n <= 0 {
		return nil
	}
	out := make([]string, 0, n)
	for _, p := range unsafe.Slice(arr, n) {
		out = append(out, goStringOrEmpty(p))
	}
	return out
}

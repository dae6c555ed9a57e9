package libvirt

/*
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// TypedParam is one virTypedParameter: Value is an int32, uint32, int64,
// uint64, float64, bool or string, following the parameter's C type.
type TypedParam struct {
	Field string
	Value interface{}
}

// TypedParams is a virTypedParameter array in its order.
type TypedParams []TypedParam

// Get returns the value of the first parameter called field.
func (p TypedParams) Get(field string) (interface{}, bool) {
	for _, x := range p {
		if x.Field == field {
			return x.Value, true
		}
	}
	return nil, false
}

func typedParamsFromC(c C.virTypedParameterPtr, n C.int) TypedParams {
	if c == nil || n <= 0 {
		return TypedParams{}
	}
	out := make(TypedParams, 0, int(n))
	for _, p := range unsafe.Slice(c, int(n)) {
		v := unsafe.Pointer(&p.value)
		var val interface{}
		switch p._type {
		case C.VIR_TYPED_PARAM_INT:
			val = int32(*(*C.int)(v))
		case C.VIR_TYPED_PARAM_UINT:
			val = uint32(*(*C.uint)(v))
		case C.VIR_TYPED_PARAM_LLONG:
			val = int64(*(*C.longlong)(v))
		case C.VIR_TYPED_PARAM_ULLONG:
			val = uint64(*(*C.ulonglong)(v))
		case C.VIR_TYPED_PARAM_DOUBLE:
			val = float64(*(*C.double)(v))
		case C.VIR_TYPED_PARAM_BOOLEAN:
			val = *(*C.char)(v) != 0
		case C.VIR_TYPED_PARAM_STRING:
			val = goStringOrEmpty(*(**C.char)(v))
		default:
			continue
		}
		out = append(out, TypedParam{Field: C.GoString(&p.field[0]), Value: val})
	}
	return out
}

// typedParamsToC builds a C array that the caller releases with virTypedParamsFree.
func typedParamsToC(ps TypedParams) (C.virTypedParameterPtr, C.int, error) {
	size := C.size_t(unsafe.Sizeof(C.virTypedParameter{}))
	arr := (C.virTypedParameterPtr)(C.calloc(C.size_t(len(ps))+1, size))
	items := unsafe.Slice(arr, len(ps)+1)
	for i, x := range ps {
		p := &items[i]
		if len(x.Field) >= C.VIR_TYPED_PARAM_FIELD_LENGTH {
			C.virTypedParamsFree(arr, C.int(i))
			return nil, 0, Error{Code: ERR_INVALID_ARG, Domain: FROM_NONE, Level: ERR_ERROR,
				Message: fmt.Sprintf("invalid argument: field name '%s' too long", x.Field)}
		}
		f := C.CString(x.Field)
		C.strncpy(&p.field[0], f, C.VIR_TYPED_PARAM_FIELD_LENGTH-1)
		C.free(unsafe.Pointer(f))
		v := unsafe.Pointer(&p.value)
		switch val := x.Value.(type) {
		case int32:
			p._type = C.VIR_TYPED_PARAM_INT
			*(*C.int)(v) = C.int(val)
		case int:
			p._type = C.VIR_TYPED_PARAM_INT
			*(*C.int)(v) = C.int(val)
		case uint32:
			p._type = C.VIR_TYPED_PARAM_UINT
			*(*C.uint)(v) = C.uint(val)
		case uint:
			p._type = C.VIR_TYPED_PARAM_UINT
			*(*C.uint)(v) = C.uint(val)
		case int64:
			p._type = C.VIR_TYPED_PARAM_LLONG
			*(*C.longlong)(v) = C.longlong(val)
		case uint64:
			p._type = C.VIR_TYPED_PARAM_ULLONG
			*(*C.ulonglong)(v) = C.ulonglong(val)
		case float64:
			p._type = C.VIR_TYPED_PARAM_DOUBLE
			*(*C.double)(v) = C.double(val)
		case bool:
			p._type = C.VIR_TYPED_PARAM_BOOLEAN
			if val {
				*(*C.char)(v) = 1
			}
		case string:
			p._type = C.VIR_TYPED_PARAM_STRING
			*(**C.char)(v) = C.CString(val)
		default:
			C.virTypedParamsFree(arr, C.int(i))
			return nil, 0, Error{Code: ERR_INVALID_ARG, Domain: FROM_NONE, Level: ERR_ERROR,
				Message: fmt.Sprintf("invalid argument: parameter '%s' has Go type %T", x.Field, x.Value)}
		}
	}
	return arr, C.int(len(ps)), nil
}

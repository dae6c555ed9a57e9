package libvirt

/*
#cgo pkg-config: libvirt
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

// libvirt prints every error on stderr unless a handler is set; Go callers get
// the error as a value instead.
static void pyvirtgoQuiet(void *opaque, virErrorPtr err) { (void)opaque; (void)err; }
static void pyvirtgoSilence(void) { virSetErrorFunc(NULL, pyvirtgoQuiet); }
*/
import "C"

import "fmt"

// Error is libvirt's virError: what a failed call reports.
type Error struct {
	Code    ErrorNumber
	Domain  ErrorDomain
	Level   ErrorLevel
	Message string
}

func (e Error) Error() string {
	return fmt.Sprintf("libvirt: code=%d domain=%d: %s", int(e.Code), int(e.Domain), e.Message)
}

// makeError converts the error a wrapper copied, then releases its strings.
func makeError(c *C.virError) error {
	if c.code == 0 {
		return Error{Code: ERR_INTERNAL_ERROR, Domain: FROM_NONE, Level: ERR_ERROR,
			Message: "an error occurred, but the cause is unknown"}
	}
	e := Error{Code: ErrorNumber(c.code), Domain: ErrorDomain(c.domain),
		Level: ErrorLevel(c.level), Message: goStringOrEmpty(c.message)}
	C.virResetError(c)
	return e
}

func callbackTypeError(event string, want string) error {
	msg := "invalid argument: the callback does not fit " + event
	if want != "" {
		msg += ": it must be a " + want
	}
	return Error{Code: ERR_INVALID_ARG, Domain: FROM_NONE, Level: ERR_ERROR, Message: msg}
}

func init() {
	C.pyvirtgoSilence()
}

package libvirt

import (
	"strings"
	"testing"
)

// The fd-array functions convert their arguments, and the test driver refuses
// them with libvirt's error, returned as an Error.
func checkNoSupport(t *testing.T, what string, err error) {
	t.Helper()
	e, ok := err.(Error)
	if !ok {
		t.Fatalf("%s: want an Error, got %v", what, err)
	}
	if e.Code != ERR_NO_SUPPORT || e.Domain != FROM_NONE || e.Message !=
		"this function is not supported by the connection driver: vir"+what {
		t.Fatalf("%s: %+v", what, e)
	}
}

func TestFdArrays(t *testing.T) {
	c := open(t)
	d, err := c.DomainLookupByName("test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free()
	files, result, err := d.QemuMonitorCommandWithFiles(`{"execute":"query-status"}`, []int{0, 1}, 0)
	if files != nil || result != "" {
		t.Fatalf("outputs on failure: %v %q", files, result)
	}
	checkNoSupport(t, "DomainQemuMonitorCommandWithFiles", err)
	fds, err := d.LxcOpenNamespace(0)
	if fds != nil {
		t.Fatalf("fds on failure: %v", fds)
	}
	checkNoSupport(t, "DomainLxcOpenNamespace", err)
	// libvirt joins the namespaces in the caller's process: flags it does not know
	// make it fail before touching any (pyvirt's library does not join them yet:
	// its error says not supported).
	old, err := d.LxcEnterNamespace([]int{-1}, 1)
	if e, ok := err.(Error); !ok || e.Domain != FROM_NONE || old != nil ||
		!strings.HasSuffix(e.Message, "virDomainLxcEnterNamespace") {
		t.Fatalf("LxcEnterNamespace = %v, %v", old, err)
	}
}

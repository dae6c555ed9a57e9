package libvirt

import "testing"

// The old event API and close callbacks: callbacks without user data, undone
// by passing the same func back.
func TestDomainEventDeregister(t *testing.T) {
	if err := EventRegisterDefaultImpl(); err != nil {
		t.Fatal(err)
	}
	c := open(t)
	cb := ConnectDomainEventCallback(func(conn *Connect, d *Domain, event, detail int) {})
	other := ConnectDomainEventCallback(func(conn *Connect, d *Domain, event, detail int) {})
	if _, err := c.DomainEventRegister(cb); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.DomainEventDeregister(other).(Error); !ok || e.Code != ERR_INVALID_ARG {
		t.Fatalf("deregistering a func never registered: %v", e)
	}
	if err := c.DomainEventDeregister(cb); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.DomainEventDeregister(cb).(Error); !ok || e.Code != ERR_INVALID_ARG {
		t.Fatalf("deregistering twice: %v", e)
	}
	// registered again once it is gone
	if _, err := c.DomainEventRegister(cb); err != nil {
		t.Fatal(err)
	}
	if err := c.DomainEventDeregister(cb); err != nil {
		t.Fatal(err)
	}
}

func TestUnregisterCloseCallback(t *testing.T) {
	c := open(t)
	cb := ConnectCloseFunc(func(conn *Connect, reason int) {})
	if err := c.RegisterCloseCallback(cb); err != nil {
		t.Fatal(err)
	}
	if err := c.UnregisterCloseCallback(cb); err != nil {
		t.Fatal(err)
	}
}

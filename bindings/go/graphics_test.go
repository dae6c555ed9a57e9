package libvirt

import "testing"

// Graphics events carry the client's addresses and identities as Go structs.
// The test driver has no graphics clients, so it never emits one: this checks
// that the callback is taken for its event ID, and given back.
func TestDomainEventGraphicsRegister(t *testing.T) {
	if err := EventRegisterDefaultImpl(); err != nil {
		t.Fatal(err)
	}
	c := open(t)
	var cb ConnectDomainEventGraphicsCallback = func(conn *Connect, dom *Domain, phase int,
		local, remote *DomainEventGraphicsAddress, authScheme string,
		subject *DomainEventGraphicsSubject) {
		t.Errorf("graphics event on the test driver: %v %v %v", local, remote, subject)
	}
	id, err := c.DomainEventRegisterAny(nil, int(DOMAIN_EVENT_ID_GRAPHICS), cb)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DomainEventDeregisterAny(id); err != nil {
		t.Fatal(err)
	}
	if e, ok := c.DomainEventDeregisterAny(id).(Error); !ok || e.Code != ERR_INVALID_ARG {
		t.Fatalf("deregistering twice: %v", e)
	}
	// another event's callback type does not fit this ID
	lifecycle := ConnectDomainEventCallback(func(*Connect, *Domain, int, int) {})
	if _, err := c.DomainEventRegisterAny(nil, int(DOMAIN_EVENT_ID_GRAPHICS), lifecycle); err == nil {
		t.Fatal("a lifecycle callback taken for graphics events")
	}
}

package libvirt

import (
	"strings"
	"testing"
	"time"
)

const testXML = `<domain type='test'><name>gotest</name><memory>1048576</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`

func open(t *testing.T) *Connect {
	t.Helper()
	c, err := ConnectOpen("test:///default")
	if err != nil {
		t.Fatalf("ConnectOpen: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConstants(t *testing.T) {
	if DOMAIN_RUNNING != 1 || DOMAIN_SHUTOFF != 5 || ERR_NO_DOMAIN != 42 || DOMAIN_EVENT_ID_LIFECYCLE != 0 {
		t.Fatal("enum values differ from libvirt's")
	}
	if DOMAIN_SCHEDULER_WEIGHT != "weight" {
		t.Fatal("string macro differs")
	}
}

func TestConnect(t *testing.T) {
	c := open(t)
	uri, err := c.GetURI()
	if err != nil || uri != "test:///default" {
		t.Fatalf("GetURI = %q, %v", uri, err)
	}
	typ, err := c.GetType()
	if err != nil || typ != "TEST" {
		t.Fatalf("GetType = %q, %v", typ, err)
	}
	alive, err := c.IsAlive()
	if err != nil || !alive {
		t.Fatalf("IsAlive = %v, %v", alive, err)
	}
	info, err := c.NodeGetInfo()
	if err != nil || info.Cpus == 0 || info.Model == "" {
		t.Fatalf("NodeGetInfo = %+v, %v", info, err)
	}
	if err := c.Ref(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Close(); err != nil || n < 1 {
		t.Fatalf("Close after Ref = %d, %v", n, err)
	}
}

func TestDomains(t *testing.T) {
	c := open(t)
	doms, err := c.ListAllDomains(0)
	if err != nil || len(doms) != 1 {
		t.Fatalf("ListAllDomains = %v, %v", doms, err)
	}
	defer doms[0].Free()
	name, _ := doms[0].GetName()
	if name != "test" {
		t.Fatalf("name %q", name)
	}
	ids, err := c.ListDomains(10)
	if err != nil || len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("ListDomains = %v, %v", ids, err)
	}
	d, err := c.DomainLookupByName("test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free()
	state, _, err := d.GetState(0)
	if err != nil || state != int(DOMAIN_RUNNING) {
		t.Fatalf("GetState = %d %v", state, err)
	}
	info, err := d.GetInfo()
	if err != nil || info.State != uint8(DOMAIN_RUNNING) || info.MaxMem == 0 {
		t.Fatalf("GetInfo = %+v %v", info, err)
	}
	uuid, err := d.GetUUID()
	if err != nil || len(uuid) != 16 {
		t.Fatalf("GetUUID = %v %v", uuid, err)
	}
	s, _ := d.GetUUIDString()
	byUUID, err := c.DomainLookupByUUID(uuid)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := byUUID.GetUUIDString()
	byUUID.Free()
	if s != s2 || len(s) != 36 {
		t.Fatalf("uuid %q %q", s, s2)
	}
	xml, err := d.GetXMLDesc(0)
	if err != nil || !strings.Contains(xml, "<name>test</name>") {
		t.Fatalf("GetXMLDesc: %v", err)
	}
	conn, err := d.GetConnect()
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := conn.GetURI(); u != "test:///default" {
		t.Fatalf("GetConnect uri %q", u)
	}
	conn.Close()
}

func TestErrors(t *testing.T) {
	c := open(t)
	_, err := c.DomainLookupByName("nope")
	e, ok := err.(Error)
	if !ok {
		t.Fatalf("error %T %v", err, err)
	}
	if e.Code != ERR_NO_DOMAIN || e.Domain != FROM_TEST {
		t.Fatalf("error %+v", e)
	}
	if !strings.HasPrefix(e.Message, "Domain not found") || e.Level != ERR_ERROR {
		t.Fatalf("message %q", e.Message)
	}
	if _, err := c.DomainDefineXML("<domain"); err == nil {
		t.Fatal("bad XML accepted")
	} else if err.(Error).Code != ERR_XML_ERROR && err.(Error).Code != ERR_XML_DETAIL {
		t.Fatalf("bad XML: %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	c := open(t)
	d, err := c.DomainDefineXML(testXML)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free()
	steps := []struct {
		name string
		do   func() error
		want DomainState
	}{
		{"create", d.Create, DOMAIN_RUNNING},
		{"suspend", d.Suspend, DOMAIN_PAUSED},
		{"resume", d.Resume, DOMAIN_RUNNING},
		{"destroy", d.Destroy, DOMAIN_SHUTOFF},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if st, _, _ := d.GetState(0); st != int(s.want) {
			t.Fatalf("%s: state %d", s.name, st)
		}
	}
	if err := d.Destroy(); err == nil || err.(Error).Code != ERR_OPERATION_INVALID {
		t.Fatalf("destroy twice: %v", err)
	}
	if err := d.Undefine(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DomainLookupByName("gotest"); err == nil {
		t.Fatal("still defined")
	}
}

func TestTypedParamsRoundTrip(t *testing.T) {
	in := TypedParams{{"a", int32(-1)}, {"b", uint32(2)}, {"c", int64(-3)}, {"d", uint64(4)},
		{"e", 0.5}, {"f", true}, {"g", "str"}}
	c, n, err := typedParamsToC(in)
	if err != nil {
		t.Fatal(err)
	}
	out := typedParamsFromC(c, n)
	if len(out) != len(in) {
		t.Fatalf("%v", out)
	}
	for i := range in {
		if in[i] != out[i] {
			t.Fatalf("%v != %v", in[i], out[i])
		}
	}
	if v, ok := out.Get("g"); !ok || v != "str" {
		t.Fatal("Get")
	}
	if _, _, err := typedParamsToC(TypedParams{{"x", []int{}}}); err == nil {
		t.Fatal("bad type accepted")
	}
}

func TestEvents(t *testing.T) {
	if err := EventRegisterDefaultImpl(); err != nil {
		t.Fatal(err)
	}
	c := open(t)
	type ev struct {
		name          string
		event, detail int
	}
	got := make(chan ev, 16)
	cb := ConnectDomainEventCallback(func(conn *Connect, d *Domain, event, detail int) {
		n, _ := d.GetName()
		got <- ev{n, event, detail}
	})
	if _, err := c.DomainEventRegisterAny(nil, int(DOMAIN_EVENT_ID_REBOOT), cb); err == nil {
		t.Fatal("wrong callback type accepted")
	}
	id, err := c.DomainEventRegisterAny(nil, int(DOMAIN_EVENT_ID_LIFECYCLE), cb)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				EventRunDefaultImpl()
			}
		}
	}()
	d, err := c.DomainDefineXML(testXML)
	if err != nil {
		t.Fatal(err)
	}
	d.Create()
	d.Destroy()
	d.Undefine()
	d.Free()
	var seen []ev
	timeout := time.After(10 * time.Second)
	for len(seen) < 4 {
		select {
		case e := <-got:
			seen = append(seen, e)
		case <-timeout:
			t.Fatalf("events: %v", seen)
		}
	}
	want := []ev{{"gotest", int(DOMAIN_EVENT_DEFINED), 0}, {"gotest", int(DOMAIN_EVENT_STARTED), 0},
		{"gotest", int(DOMAIN_EVENT_STOPPED), 1}, {"gotest", int(DOMAIN_EVENT_UNDEFINED), 0}}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("events %v, want %v", seen, want)
		}
	}
	if err := c.DomainEventDeregisterAny(id); err != nil {
		t.Fatal(err)
	}
	close(stop)
	// Wake the loop once so that the goroutine sees stop.
	EventAddTimeout(0, EventTimeoutCallback(func(timer int) { EventRemoveTimeout(timer) }))
}

package libvirt

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// testLoop is an application's own event loop, as small as can be: it keeps
// libvirt's handles and timers and, on each iteration, fires the timers that
// are enabled (it has no clock: a timer's period does not matter here) and
// frees what was removed (after the removal, as libvirt wants).
type testLoop struct {
	mu       sync.Mutex
	next     int
	timers   map[int]*testTimer
	handles  map[int]func()
	removed  []func()
	freed    int
	added    int
	disabled int
}

type testTimer struct {
	timeout int
	cb      EventTimeoutCallback
	ff      func()
}

func (l *testLoop) register() {
	EventRegisterImpl(
		func(fd, event int, cb EventHandleCallback, ff func()) int {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.next++
			l.handles[l.next] = ff
			return l.next
		},
		func(watch, event int) {},
		func(watch int) int {
			l.mu.Lock()
			defer l.mu.Unlock()
			ff, ok := l.handles[watch]
			if !ok {
				return -1
			}
			delete(l.handles, watch)
			l.removed = append(l.removed, ff)
			return 0
		},
		func(timeout int, cb EventTimeoutCallback, ff func()) int {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.next++
			l.added++
			l.timers[l.next] = &testTimer{timeout, cb, ff}
			return l.next
		},
		func(timer, timeout int) {
			l.mu.Lock()
			defer l.mu.Unlock()
			if t, ok := l.timers[timer]; ok {
				t.timeout = timeout
			}
		},
		func(timer int) int {
			l.mu.Lock()
			defer l.mu.Unlock()
			t, ok := l.timers[timer]
			if !ok {
				return -1
			}
			delete(l.timers, timer)
			l.removed = append(l.removed, t.ff)
			return 0
		},
	)
}

func (l *testLoop) runOnce() {
	l.mu.Lock()
	var due []func()
	for id, t := range l.timers {
		if t.timeout >= 0 {
			id, cb := id, t.cb
			due = append(due, func() { cb(id) })
		}
	}
	removed := l.removed
	l.removed = nil
	l.mu.Unlock()
	for _, f := range due {
		f()
	}
	for _, ff := range removed {
		ff()
		l.mu.Lock()
		l.freed++
		l.mu.Unlock()
	}
}

// The application's loop is the process's: the test runs in a child process.
func TestEventRegisterImpl(t *testing.T) {
	if os.Getenv("PYVIRT_EVENTIMPL_CHILD") != "" {
		eventImplChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestEventRegisterImpl$", "-test.v")
	cmd.Env = append(os.Environ(), "PYVIRT_EVENTIMPL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func eventImplChild(t *testing.T) {
	l := &testLoop{timers: map[int]*testTimer{}, handles: map[int]func(){}}
	l.register()
	c, err := ConnectOpen("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	var events []int
	cb := ConnectDomainEventCallback(func(_ *Connect, _ *Domain, event, detail int) {
		events = append(events, event)
	})
	id, err := c.DomainEventRegisterAny(nil, int(DOMAIN_EVENT_ID_LIFECYCLE), cb)
	if err != nil {
		t.Fatal(err)
	}
	if l.added == 0 {
		t.Fatal("libvirt added no timer to the application's loop")
	}
	d, err := c.DomainLookupByName("test")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Suspend(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100 && len(events) == 0; i++ {
		l.runOnce()
	}
	if len(events) != 1 || events[0] != int(DOMAIN_EVENT_SUSPENDED) {
		t.Fatalf("events through the application's loop: %v", events)
	}
	d.Free()
	if err := c.DomainEventDeregisterAny(id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && l.freed == 0; i++ {
		l.runOnce()
	}
	if l.freed == 0 {
		t.Fatal("nothing removed from the loop was freed")
	}
}

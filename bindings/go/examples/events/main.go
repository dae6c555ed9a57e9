// events: watch lifecycle events with the default event loop (shared example).
package main

import (
	"fmt"
	"os"
	"time"

	"pyvirt/libvirt"
)

const domainXML = `<domain type='test'><name>watched</name><memory>524288</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`

func main() {
	if err := libvirt.EventRegisterDefaultImpl(); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	conn, err := libvirt.ConnectOpen("test:///default")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer conn.Close()
	lines := make(chan string, 16)
	id, err := conn.DomainEventRegisterAny(nil, int(libvirt.DOMAIN_EVENT_ID_LIFECYCLE),
		libvirt.ConnectDomainEventCallback(func(c *libvirt.Connect, d *libvirt.Domain, event, detail int) {
			name, _ := d.GetName()
			lines <- fmt.Sprintf("event: domain=%s event=%d detail=%d", name, event, detail)
		}))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	go func() {
		for {
			libvirt.EventRunDefaultImpl()
		}
	}()
	d, err := conn.DomainDefineXML(domainXML)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	d.Create()
	d.Suspend()
	d.Resume()
	d.Destroy()
	d.Undefine()
	d.Free()
	for i := 0; i < 6; i++ {
		select {
		case l := <-lines:
			fmt.Println(l)
		case <-time.After(10 * time.Second):
			fmt.Println("timeout")
			os.Exit(1)
		}
	}
	if err := conn.DomainEventDeregisterAny(id); err != nil {
		fmt.Println("error:", err)
	}
	fmt.Println("done")
}

// lifecycle: define, start, suspend, resume, stop and undefine a domain (shared example).
package main

import (
	"fmt"
	"os"

	"pyvirt/libvirt"
)

const domainXML = `<domain type='test'>
  <name>example</name>
  <memory>524288</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>`

func state(d *libvirt.Domain) int {
	s, _, err := d.GetState(0)
	if err != nil {
		return -1
	}
	return s
}

func check(what string, err error) {
	if err != nil {
		fmt.Printf("%s: error: %v\n", what, err)
		os.Exit(1)
	}
}

func main() {
	conn, err := libvirt.ConnectOpen("test:///default")
	check("open", err)
	defer conn.Close()
	d, err := conn.DomainDefineXML(domainXML)
	check("define", err)
	active, _ := d.IsActive()
	persistent, _ := d.IsPersistent()
	fmt.Printf("defined: state=%d active=%v persistent=%v\n", state(d), active, persistent)
	check("start", d.Create())
	fmt.Printf("started: state=%d\n", state(d))
	check("suspend", d.Suspend())
	fmt.Printf("suspended: state=%d\n", state(d))
	check("resume", d.Resume())
	fmt.Printf("resumed: state=%d\n", state(d))
	check("stop", d.Destroy())
	fmt.Printf("stopped: state=%d\n", state(d))
	err = d.Destroy()
	e := err.(libvirt.Error)
	fmt.Printf("stop again: code=%d domain=%d message=%s\n", e.Code, e.Domain, e.Message)
	check("undefine", d.Undefine())
	d.Free()
	_, err = conn.DomainLookupByName("example")
	e = err.(libvirt.Error)
	fmt.Printf("lookup after undefine: code=%d domain=%d message=%s\n", e.Code, e.Domain, e.Message)
}

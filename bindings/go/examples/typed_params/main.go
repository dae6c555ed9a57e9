// typed_params: read a domain's typed parameters (shared example).
package main

import (
	"fmt"
	"os"
	"sort"

	"pyvirt/libvirt"
)

func show(what string, ps libvirt.TypedParams, err error) {
	if err != nil {
		e := err.(libvirt.Error)
		fmt.Printf("%s: error code=%d message=%s\n", what, e.Code, e.Message)
		return
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Field < ps[j].Field })
	fmt.Printf("%s: %d parameter(s)\n", what, len(ps))
	for _, p := range ps {
		fmt.Printf("  %s = %v (%T)\n", p.Field, p.Value, p.Value)
	}
}

func main() {
	conn, err := libvirt.ConnectOpen("test:///default")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer conn.Close()
	d, err := conn.DomainLookupByName("test")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer d.Free()
	kind, n, err := d.GetSchedulerType()
	if err != nil {
		fmt.Printf("scheduler: error code=%d message=%s\n", err.(libvirt.Error).Code, err.(libvirt.Error).Message)
	} else {
		fmt.Printf("scheduler: %s with %d parameter(s)\n", kind, n)
	}
	ps, err := d.GetSchedulerParameters()
	show("scheduler parameters", ps, err)
	ps, err = d.GetMemoryParameters(0)
	show("memory parameters", ps, err)
}

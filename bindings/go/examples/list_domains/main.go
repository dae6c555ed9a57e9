// list_domains: every domain of test:///default with its state (shared example).
package main

import (
	"fmt"
	"os"
	"sort"

	"pyvirt/libvirt"
)

var stateNames = map[int]string{
	int(libvirt.DOMAIN_NOSTATE): "no state", int(libvirt.DOMAIN_RUNNING): "running",
	int(libvirt.DOMAIN_BLOCKED): "blocked", int(libvirt.DOMAIN_PAUSED): "paused",
	int(libvirt.DOMAIN_SHUTDOWN): "shutting down", int(libvirt.DOMAIN_SHUTOFF): "shut off",
	int(libvirt.DOMAIN_CRASHED): "crashed", int(libvirt.DOMAIN_PMSUSPENDED): "suspended",
}

func main() {
	conn, err := libvirt.ConnectOpen("test:///default")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer conn.Close()
	doms, err := conn.ListAllDomains(0)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var lines []string
	for _, d := range doms {
		name, _ := d.GetName()
		state, _, _ := d.GetState(0)
		info, _ := d.GetInfo()
		lines = append(lines, fmt.Sprintf("%-10s %-10s vcpus=%d memory=%dKiB", name, stateNames[state],
			info.NrVirtCpu, info.MaxMem))
		d.Free()
	}
	sort.Strings(lines)
	fmt.Printf("%d domain(s)\n", len(lines))
	for _, l := range lines {
		fmt.Println(l)
	}
}

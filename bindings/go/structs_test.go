package libvirt

import (
	"fmt"
	"os"
	"testing"
)

// TestStructOutputs prints the struct-array outputs of a guest-info host file
// (PYVIRT_GUEST_URI) as OUT lines; tests/bindings compares them across libraries.
func TestStructOutputs(t *testing.T) {
	uri := os.Getenv("PYVIRT_GUEST_URI")
	if uri == "" {
		uri = "test:///default"
	}
	c, err := ConnectOpen(uri)
	if err != nil {
		t.Fatalf("ConnectOpen: %v", err)
	}
	defer c.Close()
	name := "test"
	if uri != "test:///default" {
		name = "g1"
	}
	d, err := c.DomainLookupByName(name)
	if err != nil {
		t.Fatalf("lookup: %v", err)
	}
	stats, err := d.MemoryStats(uint(DOMAIN_MEMORY_STAT_NR), 0)
	if err != nil {
		t.Fatalf("MemoryStats: %v", err)
	}
	for _, s := range stats {
		fmt.Printf("OUT memstat %d %d\n", s.Tag, s.Val)
	}
	errs, err := d.GetDiskErrors(8, 0)
	if err != nil {
		t.Fatalf("GetDiskErrors: %v", err)
	}
	for _, e := range errs {
		fmt.Printf("OUT diskerror %s %d\n", e.Disk, e.Error)
	}
	if fs, err := d.GetFSInfo(0); err == nil {
		for _, f := range fs {
			fmt.Printf("OUT fs %s %s %s %v\n", f.Mountpoint, f.Name, f.Fstype, f.DevAlias)
		}
	} else {
		fmt.Printf("OUT fs error %d\n", err.(Error).Code)
	}
	if _, err := d.GetSecurityLabelList(); err != nil {
		fmt.Printf("OUT seclabels error %d\n", err.(Error).Code)
	}
	n, err := c.NetworkLookupByName("default")
	if err != nil {
		t.Fatalf("network: %v", err)
	}
	if leases, err := n.GetDHCPLeases("", 0); err == nil {
		for _, l := range leases {
			fmt.Printf("OUT lease %s %d %s %s %d %s\n", l.Iface, l.Type, l.Mac, l.Ipaddr, l.Prefix, l.Hostname)
		}
	} else {
		fmt.Printf("OUT leases error %d\n", err.(Error).Code)
	}
}

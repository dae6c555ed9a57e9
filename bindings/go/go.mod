module pyvirt/libvirt

go 1.19

"""Python side of the C shim: handles, errors and callbacks for the cffi externs.

Loaded inside libvirt.so.0 (and libvirt-qemu/-lxc.so.0) by the embedding init
code; the generated module ``externs`` defines one extern per exported function.
"""

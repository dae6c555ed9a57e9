"""CPU models and CPU data in libvirt's vocabulary, shared by the drivers."""

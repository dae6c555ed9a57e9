"""pyvirt: libvirt's behaviour with a Python core.

Front ends (the C shim, the generated Python module) call pyvirt.api;
below it sit the drivers (pyvirt.drivers), the XML formats (pyvirt.conf),
events, the event loop and the error model.
"""

__version__ = "9.0.0"

"""What every scenario script shares (scenarios.py, object_scenarios.py): the
results printed as one JSON object, a decorator recording each scenario's
result or exception, and a libvirtError as a comparable list.  The scripts run
by path, so this folder is on their sys.path."""

import traceback

import libvirt

results = {}


def scenario(fn):
    try:
        results[fn.__name__] = fn()
    except Exception as e:   # recorded, so that one failure names its scenario
        results[fn.__name__] = {"exception": type(e).__name__, "text": str(e),
                                "trace": traceback.format_exc()}
    return fn


def err(e):
    return [e.get_error_code(), e.get_error_domain(), e.get_error_message(),
            e.get_error_level(), e.get_str1(), e.get_str2(), e.get_str3(),
            e.get_int1(), e.get_int2(), str(e)]


def expect_error(call, *args):
    try:
        call(*args)
    except libvirt.libvirtError as e:
        return err(e)
    return "no error"

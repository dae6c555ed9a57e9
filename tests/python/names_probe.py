"""Print the public names of the `libvirt` module that runs this script, as JSON:
{"module": [...], "classes": {cls: [...]}, "signatures": {qualname: [[param, default], ...]}}.

Run by test_names.py under both implementations (never imported by pytest)."""

import inspect
import json

import libvirt

module = sorted(n for n in dir(libvirt) if not n.startswith("_"))
classes = {}
signatures = {}
for n in module:
    v = getattr(libvirt, n)
    if inspect.isclass(v) and getattr(v, "__module__", "") == "libvirt":
        classes[n] = sorted(m for m in dir(v) if not m.startswith("_") and m not in dir(object))
        for m in classes[n]:
            f = getattr(v, m)
            if callable(f):
                try:
                    ps = list(inspect.signature(f).parameters.values())
                except (TypeError, ValueError):
                    continue
                signatures[f"{n}.{m}"] = [[p.name, repr(p.default) if p.default is not p.empty
                                           else None] for p in ps]
    elif inspect.isfunction(v):
        ps = list(inspect.signature(v).parameters.values())
        signatures[n] = [[p.name, repr(p.default) if p.default is not p.empty else None]
                         for p in ps]
print(json.dumps({"module": module, "classes": classes, "signatures": signatures}))

"""pyvirt's generator: apispec/*.xml -> headers, the C shim, bindings.

Phases are pure: ``load(path) -> Api``, ``render(api, target) -> {path: text}``,
then ``write``. See ``python -m generator --help``.
"""

"""The generator's Python naming rules and their tables (generator/python)."""

from __future__ import annotations

import pytest

from generator import spec
from generator.python import names, render
from generator.python.plan import methods
from pymodule_runner import ROOT


@pytest.fixture(scope="module")
def api():
    return spec.load(str(ROOT / "apispec" / "libvirt.xml"))


@pytest.mark.parametrize("c_name, cls, method", [
    ("virDomainGetInfo", "virDomain", "info"), ("virDomainGetXMLDesc", "virDomain", "XMLDesc"),
    ("virDomainLookupByName", "virConnect", "lookupByName"),
    ("virNetworkLookupByName", "virConnect", "networkLookupByName"),
    ("virNodeGetInfo", "virConnect", "getInfo"), ("virConnectGetURI", "virConnect", "getURI"),
    ("virDomainGetIOThreadInfo", "virDomain", "ioThreadInfo"),
    ("virStorageVolLookupByName", "virStoragePool", "storageVolLookupByName"),
    ("virDomainSnapshotGetName", "virDomainSnapshot", "getName"),
    ("virConnectListDomains", "virConnect", "listDomainsID"),
    ("virConnectOpen", "", "open"),
])
def test_names(api, c_name, cls, method):
    fn = api.by_name[c_name]
    conv = names.Conventions()
    assert (conv.class_of(fn), conv.method_name(fn)) == (cls, method)


def test_every_table_entry_names_a_spec_function_and_gives_a_reason():
    fns = set()
    for n in ("libvirt", "libvirt-qemu", "libvirt-lxc"):
        fns |= {f.name for f in spec.load(str(ROOT / "apispec" / f"{n}.xml")).functions}
    unknown = [k for table in (names.OVERRIDES, names.DEFAULTS, names.RENAMES, names.MAXIMA,
                               names.RESULT_HELPERS, names.FIXED, names.USER_MAXIMA) for k in table if k not in fns]
    assert unknown == []
    assert all(o.reason for o in names.OVERRIDES.values())


def test_length_expressions_name_arguments():
    """Every argument a length annotation names exists (virNodeGetFreePages'
    'npages*cellCount' names none: the C argument is 'cellcount')."""
    from generator.python.plan import names_in
    bad = []
    for n in ("libvirt", "libvirt-qemu", "libvirt-lxc"):
        for f in spec.load(str(ROOT / "apispec" / f"{n}.xml")).functions:
            have = {a.name for a in f.args}
            bad += [f"{f.name}.{a.name}: {a.length}" for a in f.args
                    if names_in(a.length) - have]
    assert bad == []


def test_method_names_are_unique_per_class(api):
    seen = {}
    for m in methods(api, names.Conventions(), {}):
        key = (m.cls, m.name)
        assert key not in seen, f"{m.fn.name} and {seen[key]} are both {key}"
        seen[key] = m.fn.name


def test_render_is_deterministic_and_compiles(api):
    apis = [spec.load(str(ROOT / "apispec" / f"{n}.xml"))
            for n in ("libvirt", "libvirt-qemu", "libvirt-lxc")]
    c = {"errors.c": 'static const char *const domain_names[] = { "", "Xen Driver" };'}
    a, b = render(apis, c), render(apis, c)
    modules = {"python/libvirt.py", "python/libvirt_qemu.py", "python/libvirt_lxc.py",
               "python/libvirtaio.py", "python/libvirt_asyncio.py"}
    assert a == b and set(a) == modules | {m + "i" for m in modules}   # with their .pyi
    for path, text in a.items():
        compile(text, path, "exec")
        assert "do not edit" in text.splitlines()[0] + text.splitlines()[1]

"""Loading a test:///PATH.xml host: a <node> document with optional <cpu>
and <memory> facts, then <domain>, <network>, <interface>, <pool> (with
<volume> children), <device> and <auth> elements; each object element is
inline or names a file (file='...', relative to the host file's folder).

As in libvirt: domains start running unless <test:runstate> says otherwise
(<test:transient/> and <test:hasmanagedsave/> also apply, and each
<test:domainsnapshot> is a snapshot, as redefined, <active>1</active> marking
the current one); networks, pools
and interfaces are active, and networks and pools persistent; a volume's
path defaults to the pool's target path plus its name and its key to its
path, and a pool's allocation is the sum of its volumes'.  A pool's volumes
are the <volume> children of its own element: of the file's root when the
pool is given by file='...' (the children in the host file are ignored)."""

from __future__ import annotations

import os
from typing import Optional

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...conf.domain import parse_domain_xml
from ...conf.snapshot import SnapshotDef, SnapshotDisk
from ...conf.interface import parse_interface_xml
from ...conf.network import parse_network_xml
from ...conf.nodedev import parse_nodedev_xml
from ...conf.storage_pool import parse_pool_xml
from ...conf.storage_vol import parse_vol_xml
from ...domainobj import DomainObj
from ...domainstate import DomainRunningReason, DomainState
from ...errors import ErrorDomain, ErrorNumber
from . import defaults
from .auth import AuthUser
from .defaults import NodeInfo
from .driver import TestDriver
from ..snapshots import snapshots_of
from .storage import PoolObj

_CPU_FIELDS = ("mhz", "nodes", "sockets", "cores", "threads")
TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def _xml_error(path: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_TEST,
                         f"failed to parse xml document '{path}'")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        raise _xml_error(path) from None


def _element_xml(elem: etree._Element, base: str) -> str:
    """The text of an object element, or of the file it names."""
    source = elem.get("file")
    if source is not None:
        return _read(os.path.join(base, source))
    return etree.tostring(elem, encoding="unicode")


def _element_root(elem: etree._Element, base: str) -> etree._Element:
    if elem.get("file") is None:
        return elem
    return etree.fromstring(_read(os.path.join(base, elem.get("file", ""))).encode())


def _node_info(root: etree._Element) -> NodeInfo:
    info = NodeInfo(**vars(defaults.DEFAULT_NODE_INFO))
    cpu = root.find("cpu")
    if cpu is not None:
        for field in _CPU_FIELDS:
            value = cpu.findtext(field)
            if value is not None and value.strip().isdigit():
                setattr(info, field, int(value))
        active = cpu.findtext("active")
        info.cpus = int(active) if active and active.strip().isdigit() else (
            info.nodes * info.sockets * info.cores * info.threads)
        model = cpu.findtext("model")
        if model:
            info.model = model.strip()
    memory = root.findtext("memory")
    if memory is not None and memory.strip().isdigit():
        info.memory = int(memory)
    return info


def _load_domains(driver: TestDriver, root: etree._Element, base: str) -> None:
    for elem in root.findall("domain"):
        xml = _element_xml(elem, base)
        dom_root = etree.fromstring(xml.encode())
        runstate_text = dom_root.findtext(f"{{{TEST_NS}}}runstate")
        runstate = (int(runstate_text) if runstate_text and runstate_text.strip().isdigit()
                    else int(DomainState.VIR_DOMAIN_RUNNING))
        transient = dom_root.find(f"{{{TEST_NS}}}transient") is not None
        managed_save = dom_root.find(f"{{{TEST_NS}}}hasmanagedsave") is not None
        new = parse_domain_xml(xml)
        if transient:
            obj = driver.domains.add_live(new)
        else:
            obj = driver.domains.add_persistent(new).obj
        if runstate != DomainState.VIR_DOMAIN_SHUTOFF:
            driver.start_domain(obj, DomainRunningReason.VIR_DOMAIN_RUNNING_UNKNOWN)
            obj.set_state(DomainState(runstate), 0)
        obj.has_managed_save = managed_save
        _load_snapshots(obj, dom_root, base)


def _snapshot_error(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                         ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT, detail)


def _load_snapshots(obj: DomainObj, dom_root: etree._Element, base: str) -> None:
    """<test:domainsnapshot> children, each a <domainsnapshot> as redefined
    (name, state, creationTime and active required), as testParseDomainSnapshots."""
    snaps = snapshots_of(obj)
    for elem in dom_root.findall(f"{{{TEST_NS}}}domainsnapshot"):
        root = _element_root(elem, base)
        name = (root.findtext("name") or "").strip()
        if not name:
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR,
                                ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT,
                                "a redefined snapshot must have a name")
        state = (root.findtext("state") or "").strip()
        if not state:
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR,
                                ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT,
                                f"missing state from existing snapshot '{name}'")
        created = (root.findtext("creationTime") or "").strip()
        if not created.isdigit():
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR,
                                ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT,
                                f"missing creationTime from existing snapshot '{name}'")
        active = root.findtext("active")
        if active is None:
            raise _snapshot_error("Could not find 'active' element")
        dom_elem = root.find("domain")
        snap_def = (parse_domain_xml(etree.tostring(dom_elem, encoding="unicode"),
                                     keep_interfaces=True)
                    if dom_elem is not None else obj.def_.copy())
        parent = root.findtext("parent/name")
        snaps.defs[name] = SnapshotDef(
            name=name, description=root.findtext("description"), creation_time=int(created),
            state=state, domain=snap_def, memory="no" if state == "shutoff" else "internal",
            disks=[SnapshotDisk(d.get("name", ""), "internal")
                   for d in root.findall("disks/disk")],
            parent=parent.strip() if parent is not None else None)
        if active.strip() == "1":
            if snaps.current is not None:
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                    ErrorDomain.VIR_FROM_TEST,
                                    "more than one snapshot claims to be active")
            snaps.current = name


def _load_volumes(pool: PoolObj, elem: etree._Element, base: str) -> None:
    d = pool.def_
    for vol_elem in elem.findall("volume"):
        vol_root = _element_root(vol_elem, base)
        vol = parse_vol_xml(etree.tostring(vol_root, encoding="unicode"))
        vol.path = (vol_root.findtext("target/path") or "").strip() or \
            f"{d.target_path or ''}/{vol.name}"
        vol.key = (vol_root.findtext("key") or "").strip() or vol.path
        d.allocation += vol.allocation
        d.available = d.capacity - d.allocation
        pool.volumes.append(vol)


def _load_objects(driver: TestDriver, root: etree._Element, base: str) -> None:
    for elem in root.findall("network"):
        driver.add_network(parse_network_xml(_element_xml(elem, base)), active=True,
                           persistent=True)
    for elem in root.findall("interface"):
        driver.add_interface(parse_interface_xml(_element_xml(elem, base)), active=True)
    for elem in root.findall("pool"):
        pool_root = _element_root(elem, base)  # volumes are children of this one
        pool = driver.add_pool(parse_pool_xml(etree.tostring(pool_root, encoding="unicode")),
                               active=True, persistent=True)
        _load_volumes(pool, pool_root, base)
    for elem in root.findall("device"):
        driver.devices.append(parse_nodedev_xml(_element_xml(elem, base)))


def _auth_users(root: etree._Element) -> list[AuthUser]:
    users = []
    for user in root.findall("auth/user"):
        password: Optional[str] = user.get("password")
        users.append(AuthUser((user.text or "").strip(), password))
    return users


def load_file(path: str) -> TestDriver:
    root = xmlutil.parse_document(_read(path), path, "node", domain=ErrorDomain.VIR_FROM_TEST)
    driver = TestDriver(_node_info(root), defaults.capabilities_xml())
    base = os.path.dirname(path)
    _load_domains(driver, root, base)
    _load_objects(driver, root, base)
    driver.auth_users = _auth_users(root)
    return driver

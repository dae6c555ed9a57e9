"""Domain snapshots of the QEMU driver (internal ones, in qcow2 images),
compared live with real libvirt 9.0's embed driver: the same scenario, on
images of its own made alike, run by both (`c` the connection, `libvirt`
the module: pyvirt's generated one here, python3-libvirt there), lifecycle
events, states, snapshot XML and metadata files, what qemu-img sees in the
images, and the errors.  Then what only pyvirt is asked: the metadata read
back by a driver opened anew on the root, and proof that a revert brings
back the disk contents and the guest's memory."""

from __future__ import annotations

import re
import struct
import subprocess
from pathlib import Path
from typing import Any

import guest
import reallibvirt
from support import pyvirt_module
from pyvirt import api
from qemutest import VIRT_TYPE, conn, ensure_event_loop, kernels, root, until  # noqa: F401

libvirt = pyvirt_module()
SECURE = 1
HALT, DISK_ONLY, QUIESCE, LIVE, VALIDATE = 8, 16, 64, 256, 512
REDEFINE, CURRENT, NO_METADATA, ATOMIC = 1, 2, 4, 128
RUNNING, PAUSED, FORCE = 1, 2, 4
CHILDREN, METADATA_ONLY, CHILDREN_ONLY = 1, 2, 4


def images(folder: Path) -> Path:
    """Two qcow2 images and a raw one for each domain, alike in every run."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, fmt in (("a.qcow2", "qcow2"), ("b.qcow2", "qcow2"), ("t.qcow2", "qcow2"),
                      ("e.qcow2", "qcow2"), ("r.raw", "raw")):
        subprocess.run(["qemu-img", "create", "-f", fmt, str(folder / name), "16M"],
                       check=True, stdout=subprocess.DEVNULL)
    return folder


def xml(name: str, kernel: Path, disks: list[tuple[str, Path, str]], cdrom: bool = False,
        mem_mib: int = 64) -> str:
    devs = "".join(f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
                   f"<source file='{path}'/><target dev='{dev}' bus='virtio'/></disk>"
                   for dev, path, fmt in disks)
    if cdrom:
        devs += ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                 "<target dev='sda' bus='sata'/><readonly/></disk>")
    return (f"<domain type='{VIRT_TYPE}'><name>{name}</name><memory unit='MiB'>{mem_mib}</memory>"
            f"<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
            f"<kernel>{kernel}</kernel></os><devices>{devs}</devices></domain>")


def questions(kernel: Path, folder: Path) -> dict[str, str]:
    """snA (persistent: two qcow2 disks and an empty CD-ROM) through the
    whole life of its snapshots; snR (a raw disk), snN (no disk) and snT
    (transient) for what differs; the events seen after each step."""
    qs: dict[str, str] = {}
    n = 0

    def q(expr: str) -> None:
        nonlocal n
        n += 1
        qs[f"q{n:03d}"] = expr

    A, T = "c.lookupByName('snA')", "c.lookupByName('snT')"
    S = lambda name, dom=A: f"{dom}.snapshotLookupByName({name!r})"   # noqa: E731
    create = lambda body, flags=0, dom=A: (   # noqa: E731
        f"{dom}.snapshotCreateXML({body!r}, {flags}).getName()")
    named = lambda name, extra="": f"<domainsnapshot><name>{name}</name>{extra}</domainsnapshot>"
    events = ("(__import__('time').sleep(0.4), "
              "[libvirt.sn_ev.pop(0) for _ in list(libvirt.sn_ev)])[1]")
    state = f"[{A}.state(), {A}.isActive()]"
    names = f"sorted(s.getName() for s in {A}.listAllSnapshots(0))"
    img = lambda path: (   # noqa: E731
        f"[line.split()[1] for line in __import__('subprocess').run(['qemu-img', 'snapshot', "
        f"'-l', '-U', {str(path)!r}], capture_output=True, text=True).stdout.splitlines()[2:]]")
    meta = lambda dom, snap: (   # noqa: E731
        f"(lambda p: open(p).read() if __import__('os').path.exists(p) else None)"
        f"(root + '/lib/qemu/snapshot/{dom}/{snap}.xml')")
    qcow = [("vda", folder / "a.qcow2", "qcow2"), ("vdb", folder / "b.qcow2", "qcow2")]

    q("[setattr(libvirt, 'sn_ev', []), c.domainEventRegisterAny(None, "
      "libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda cn, d, e, dt, o: "
      "libvirt.sn_ev.append((d.name(), e, dt)) if d.name().startswith('sn') else None, None), "
      "0][2]")
    q(f"c.defineXML({xml('snA', kernel, qcow, cdrom=True)!r}).name()")
    q(f"c.defineXML({xml('snR', kernel, [qcow[0], ('vdb', folder / 'r.raw', 'raw')])!r}).name()")
    q(f"c.defineXML({xml('snN', kernel, [])!r}).name()")
    pflash = xml("snP", kernel, [("vda", folder / "t.qcow2", "qcow2")]).replace(
        "</os>", "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>"
        f"<nvram>{folder}/nv.fd</nvram></os><features><acpi/></features>")
    q(f"c.defineXML({pflash!r}).name()")
    q(create("<domainsnapshot/>", 0, "c.lookupByName('snP')"))
    q("c.lookupByName('snP').undefineFlags(6)")
    q(events)
    # -- a shut-off domain
    q(f"[{A}.snapshotNum(0), {A}.hasCurrentSnapshot(0)]")
    q(f"{A}.snapshotCurrent(0)")
    q(create(named("off1", "<description>first</description>")))
    q(f"[{names}, {A}.snapshotNum(0), {A}.hasCurrentSnapshot(0), "
      f"{A}.snapshotCurrent(0).getName()]")
    q(f"{S('off1')}.getXMLDesc(0)")
    q(f"{S('off1')}.getXMLDesc({SECURE})")
    q(meta("snA", "off1"))
    q(img(folder / "a.qcow2"))
    q(create(named("off2")))
    q(meta("snA", "off1"))
    q(f"[{S('off2')}.getParent().getName(), {S('off2')}.isCurrent(0), "
      f"{S('off1')}.isCurrent(0), {S('off2')}.hasMetadata(0)]")
    q(create("<domainsnapshot/>") + ".isdigit()")   # named after its creation time
    q(f"(lambda s: s.getName() == re.search(r'<creationTime>(\\d+)<', s.getXMLDesc(0))"
      f".group(1))({A}.snapshotCurrent(0))".replace("re.search", "__import__('re').search"))
    q(f"{A}.snapshotCurrent(0).delete(0)")
    q(f"[{A}.snapshotCurrent(0).getName(), {names}]")
    for body, flags, dom in (
            (named("off1"), 0, A), ("<domainsnapshot/>", 0, "c.lookupByName('snR')"),
            ("<domainsnapshot/>", 0, "c.lookupByName('snN')"),
            ("<domainsnapshot><name>x</name>", 0, A), ("<domain/>", 0, A), ("", 0, A),
            (named("a/b"), 0, A), (named(".ab"), 0, A), (named("x"), 1 << 12, A),
            (named("x"), CURRENT, A), (named("x"), REDEFINE | HALT, A),
            (named("x"), REDEFINE | NO_METADATA, A), (named("x"), QUIESCE, A),
            (named("x"), LIVE, A), (named("x"), LIVE | REDEFINE, A),
            (named("x", "<memory snapshot='internal'/>"), 0, A),
            (named("x", "<disks><disk name='vda' snapshot='no'/></disks>"), 0, A),
            (named("x", "<disks><disk name='vdz'/></disks>"), 0, A),
            (named("x", "<disks><disk name='vda'/><disk name='vda'/></disks>"), 0, A),
            (named("x", "<disks><disk name='vda' snapshot='external'/></disks>"), 0, A),
            (named("x", "<bogus/>"), VALIDATE, A)):
        q(create(body, flags, dom))
    q(create(named("val", "<disks><disk name='vdb'/></disks>"), VALIDATE))
    q(f"{S('val')}.getXMLDesc(0)")
    q(create(named("nm"), NO_METADATA))
    q(f"[{names}, {img(folder / 'b.qcow2')}]")
    # -- redefinitions
    q(f"{A}.snapshotCreateXML({S('off2')}.getXMLDesc(0), {REDEFINE}).getName()")
    q(f"{A}.snapshotCreateXML({S('off2')}.getXMLDesc(0).replace('<name>off2<', '<name>re1<', 1),"
      f" {REDEFINE | CURRENT}).getName()")
    q(f"[{A}.snapshotCurrent(0).getName(), {S('re1')}.getParent().getName()]")
    q(meta("snA", "re1"))
    q(meta("snA", "val"))
    for body in (named("m1"), "<domainsnapshot/>",
                 named("m2", "<state>running</state><creationTime>5</creationTime>"),
                 named("m3", "<state>shutoff</state><creationTime>5</creationTime>"
                             "<parent><name>zz</name></parent>"),
                 named("off1", "<state>shutoff</state><creationTime>5</creationTime>"
                               "<parent><name>off2</name></parent>"),
                 named("m4", "<state>bogus</state><creationTime>5</creationTime>")):
        q(create(body, REDEFINE))
    # -- the tree, listed every way
    for f in (0, 1, 2, 4, 8, 12, 16, 18, 32, 64, 96, 128, 224, 256, 512, 768, 1024, 1 << 11):
        q(f"[{A}.snapshotNum({f}), sorted(s.getName() for s in {A}.listAllSnapshots({f}))]")
    for f in (0, 1, 4, 8, 32, 64, 1025, 1 << 11):
        q(f"[{S('off1')}.numChildren({f}), "
          f"sorted(s.getName() for s in {S('off1')}.listAllChildren({f}))]")
    q(f"sorted({S('off1')}.listChildrenNames(1))")
    q(f"{S('off1')}.getParent(0)")
    q(f"{A}.snapshotLookupByName('nope', 0)")
    q(f"{A}.snapshotLookupByName('off1', 1)")
    q(f"{S('off1')}.getXMLDesc(2)")
    q(f"[{S('off1')}.isCurrent(1)]")
    # -- revert while shut off
    q(f"{A}.revertToSnapshot({S('off1')}, {RUNNING | PAUSED})")
    q(f"{A}.revertToSnapshot({S('off1')}, 16)")
    q(f"[{A}.revertToSnapshot({S('off1')}, 0), {state}, {A}.snapshotCurrent(0).getName()]")
    q(events)
    q(meta("snA", "off1"))
    # -- running
    q(f"{A}.create()")
    q(events)
    q(create(named("x", "<memory snapshot='no'/>")))
    q(create(named("x"), LIVE))
    q(create(named("x"), QUIESCE | DISK_ONLY))
    q(create(named("run1"), ATOMIC))
    q(f"[{state}, {events}]")
    q(create(named("run1")))
    q(f"{S('run1')}.getXMLDesc(0)")
    q(meta("snA", "run1"))
    q(f"[{A}.suspend(), {events}]")
    q(create(named("pau1")))
    q(f"[{state}, {events}]")
    q(f"{A}.resume()")
    q(create(named("halt1"), HALT))
    q(f"[{state}, {events}]")
    q(f"{S('pau1')}.getXMLDesc(0)")
    # -- reverts between every kind of state
    for snap, flags in (("run1", 0), ("pau1", 0), ("run1", 0), ("off1", 0), ("off1", RUNNING),
                        ("off1", PAUSED), ("run1", RUNNING), ("pau1", RUNNING), ("run1", PAUSED)):
        q(f"[{A}.revertToSnapshot({S(snap)}, {flags}), {state}, {events}, "
          f"{A}.snapshotCurrent(0).getName()]")
    q(f"{A}.XMLDesc(2)")
    q(f"[{S('halt1')}.delete(0), {names}, {img(folder / 'a.qcow2')}, {events}]")
    q(f"[{S('pau1')}.delete({METADATA_ONLY}), {names}, {img(folder / 'a.qcow2')}]")
    q(f"[{S('run1')}.delete({CHILDREN | CHILDREN_ONLY})]")
    q(f"[{A}.destroy(), {events}]")
    # -- deletions while shut off
    q(create(named("c1")))
    q(create(named("c2")))
    q(f"{A}.revertToSnapshot({S('c1')}, 0)")
    q(create(named("c3")))
    q(f"[{S('off2')}.delete({CHILDREN_ONLY}), {names}, {A}.snapshotCurrent(0).getName()]")
    q(f"[{S('off1')}.delete(0), {names}, {A}.snapshotCurrent(0).getName(), "
      f"{S('run1')}.getParent(0)]")
    q(meta("snA", "run1"))
    listing = "sorted(__import__('os').listdir(root + '/lib/qemu/snapshot/{}'))"
    q(f"[{A}.rename('snB', 0), {listing.format('snB')}, "
      f"__import__('os').path.exists(root + '/lib/qemu/snapshot/snA'), "
      f"c.lookupByName('snB').rename('snA', 0), {listing.format('snA')}, {events}]")
    q(f"[{S('c1')}.delete({CHILDREN}), {names}, {A}.hasCurrentSnapshot(0), "
      f"{img(folder / 'b.qcow2')}]")
    q("[line.split(': ', 1)[1] for line in open(root + '/log/qemu/snA.log') "
      "if 'shutting down' in line]")
    q(f"{A}.undefine()")
    q(f"[{A}.undefineFlags(2), __import__('os').path.exists(root + '/lib/qemu/snapshot/snA')]")
    q(events)
    # -- external (disk-only) snapshots of a shut-off domain: qcow2 overlays
    E = "c.lookupByName('snE')"
    ext_disks = [("vda", folder / "e.qcow2", "qcow2"), ("vdb", folder / "r.raw", "raw")]
    q(f"c.defineXML({xml('snE', kernel, ext_disks)!r}).name()")
    q(create(named("ext1"), DISK_ONLY, E))
    q(f"[{S('ext1', E)}.getXMLDesc(0), {E}.XMLDesc(0), {meta('snE', 'ext1')}]")
    q(f"[(lambda i: [i.get('backing-filename'), i.get('backing-filename-format'), "
      f"i['format']])(__import__('json').loads(__import__('subprocess').run(['qemu-img', "
      f"'info', '-U', '--output=json', {str(folder)!r} + '/' + n], capture_output=True, "
      f"text=True).stdout)) for n in ('e.ext1', 'r.ext1')]")
    q(f"[sorted(s.getName() for s in {E}.listAllSnapshots(f)) for f in (32, 64, 128, 256, 512)]")
    q(create(named("ext2", "<disks><disk name='vdb' snapshot='no'/></disks>"), DISK_ONLY, E))
    q(f"{S('ext2', E)}.getXMLDesc(0)")
    for body, flags in (
            (named("ext3", f"<disks><disk name='vda'><source file='{folder}/x.qcow2'/></disk>"
                           "<disk name='vdb' snapshot='no'/></disks>"), DISK_ONLY),
            (named("ext4", f"<disks><disk name='vda'><source file='{folder}/a.qcow2'/></disk>"
                           "<disk name='vdb' snapshot='no'/></disks>"), DISK_ONLY),
            (named("ext5", f"<disks><disk name='vda'><source file='{folder}/y.qcow2'/></disk>"
                           "<disk name='vdb' snapshot='no'/></disks>"), DISK_ONLY | 32),
            (named("ext6", "<disks><disk name='vda'><driver type='raw'/></disk>"
                           "<disk name='vdb' snapshot='no'/></disks>"), DISK_ONLY),
            (named("ext7", f"<disks><disk name='vda' snapshot='internal'><source "
                           f"file='{folder}/z.qcow2'/></disk></disks>"), DISK_ONLY),
            (named("ext8", "<memory snapshot='external' file='/tmp/m'/>"), DISK_ONLY)):
        q(create(body, flags, E))
    q(f"{E}.revertToSnapshot({S('ext1', E)}, 0)")
    q(f"{S('ext1', E)}.delete({CHILDREN})")
    q(f"[{S('ext2', E)}.delete({METADATA_ONLY}), "
      f"sorted(s.getName() for s in {E}.listAllSnapshots(0)), {E}.snapshotCurrent(0).getName()]")
    q(f"[{S('ext3', E)}.getXMLDesc(0), {E}.XMLDesc(2)]")
    # -- a transient domain
    q(f"c.createXML({xml('snT', kernel, [('vda', folder / 't.qcow2', 'qcow2')])!r}).name()")
    q(create(named("t0"), HALT, T))
    q(create(named("t1"), 0, T))
    q(f"[{T}.revertToSnapshot({S('t1', T)}, 0), {T}.state(), {events}]")
    q(f"[{T}.destroy(), __import__('os').path.exists(root + '/lib/qemu/snapshot/snT'), "
      f"{events}]")
    q("[d.undefineFlags(2) for d in c.listAllDomains() if d.name().startswith('sn')]")
    return qs


def _norm(answer: Any, folder: Path) -> str:
    """What differs between the two runs goes: paths, uuids, creation times."""
    import json
    text = json.dumps(list(answer)).replace(str(folder), "DIR")
    text = re.sub(r"<uuid>[0-9a-f-]+</uuid>", "<uuid/>", text)
    text = re.sub(r"<creationTime>\d+</creationTime>", "<creationTime/>", text)
    return re.sub(r"object at 0x[0-9a-f]+", "object", text)


def test_snapshots_as_real_libvirt(root: Path, kernels: dict[str, Path],
                                   tmp_path: Path) -> None:
    theirs, mine = images(tmp_path / "real"), images(tmp_path / "ours")
    real = reallibvirt.ask(questions(kernels["idle"], theirs))
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "qemu.conf").write_text(reallibvirt.QEMU_CONF)
    qs = questions(kernels["idle"], mine)
    ours = reallibvirt.ask_pyvirt(libvirt, root, qs)
    diffs = [(k, qs[k][:200], _norm(ours.get(k, ()), mine), _norm(real[k], theirs))
             for k in sorted(real) if _norm(ours.get(k, ()), mine) != _norm(real[k], theirs)]
    for k, q, a, b in diffs:
        print(k, q, "ours: " + a, "real: " + b, sep="\n  ")
    assert not diffs


def _names(d: Any) -> list[str]:
    return sorted(api.virDomainSnapshotListNames(d, 100, 0))


def _image_snapshots(path: Path) -> list[str]:
    out = subprocess.run(["qemu-img", "snapshot", "-l", "-U", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return [line.split()[1] for line in out.splitlines()[2:]]


def test_metadata_read_back_by_a_new_driver(root: Path, kernels: dict[str, Path],
                                            tmp_path: Path) -> None:
    """The files under lib/qemu/snapshot/NAME/ (written atomically: no temp
    file stays) hold the tree and the current snapshot for a driver opened
    anew on the root, which then reverts to and deletes them."""
    folder = images(tmp_path / "img")
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainDefineXML(c, xml("rb", kernels["idle"],
                                          [("vda", folder / "a.qcow2", "qcow2")]))
        api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>s1</name></domainsnapshot>", 0)
        api.virDomainCreate(d)
        api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>s2</name></domainsnapshot>", 0)
        api.virDomainDestroy(d)
        s1 = api.virDomainSnapshotLookupByName(d, "s1", 0)
        api.virDomainRevertToSnapshot(s1, 0)   # current: s1 again
        api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>s3</name></domainsnapshot>", 0)
        api.virDomainRevertToSnapshot(s1, 0)
        before = {n: api.virDomainSnapshotGetXMLDesc(api.virDomainSnapshotLookupByName(d, n, 0),
                                                     0) for n in _names(d)}
    finally:
        api.virConnectClose(c)
    folder_meta = root / "lib" / "qemu" / "snapshot" / "rb"
    assert sorted(p.name for p in folder_meta.iterdir()) == ["s1.xml", "s2.xml", "s3.xml"]
    assert [p.name for p in folder_meta.iterdir()
            if "<active>1</active>" in p.read_text()] == ["s1.xml"]
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainLookupByName(c, "rb")
        after = {n: api.virDomainSnapshotGetXMLDesc(api.virDomainSnapshotLookupByName(d, n, 0),
                                                    0) for n in _names(d)}
        assert after == before
        assert api.virDomainSnapshotGetName(api.virDomainSnapshotCurrent(d, 0)) == "s1"
        s1 = api.virDomainSnapshotLookupByName(d, "s1", 0)
        assert sorted(api.virDomainSnapshotListChildrenNames(s1, 10, 0)) == ["s2", "s3"]
        assert api.virDomainSnapshotNum(d, 1) == 1   # LIST_ROOTS
        api.virDomainRevertToSnapshot(api.virDomainSnapshotLookupByName(d, "s2", 0), 0)
        assert api.virDomainGetState(d, 0) == (1, 4)   # RUNNING/FROM_SNAPSHOT
        api.virDomainDestroy(d)
        api.virDomainSnapshotDelete(s1, 0)
        assert _image_snapshots(folder / "a.qcow2") == ["s2", "s3"]
        assert api.virDomainSnapshotGetXMLDesc(api.virDomainSnapshotCurrent(d, 0), 0) \
            .count("<parent>") == 0   # s2 became a root, and the current one
        assert sorted(p.name for p in folder_meta.iterdir()) == ["s2.xml", "s3.xml"]
        api.virDomainUndefineFlags(d, 2)   # SNAPSHOTS_METADATA
        assert not folder_meta.exists()
    finally:
        api.virConnectClose(c)


def _word(d: Any, addr: int) -> int:
    return int(struct.unpack("<I", api.virDomainMemoryPeek(d, addr, 4, 2))[0])   # PHYSICAL


def _pattern(path: Path, byte: int) -> bool:
    """The image's first 64 KiB are all `byte` (qemu-io's pattern check)."""
    return subprocess.run(["qemu-io", "-f", "qcow2", "-r", "-U", "-c", f"read -P {byte} 0 64k",
                           str(path)], capture_output=True).returncode == 0


def test_revert_brings_back_disk_and_memory(conn: Any, kernels: dict[str, Path],
                                            tmp_path: Path) -> None:
    """A marker written into the image after an offline snapshot is gone
    after the revert; the memory of a guest that went on writing is, after
    a revert to a paused snapshot, what it was when the snapshot was taken,
    and the guest goes on from there."""
    folder = images(tmp_path / "img")
    disk = folder / "a.qcow2"
    d = api.virDomainDefineXML(conn, xml("gs", kernels["dirty"],
                                         [("vda", disk, "qcow2")], mem_mib=64))
    clean = api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>clean</name>"
                                              "</domainsnapshot>", 0)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 64k", str(disk)],
                   check=True, stdout=subprocess.DEVNULL)
    assert _pattern(disk, 0xab)
    api.virDomainRevertToSnapshot(clean, 0)
    assert _pattern(disk, 0) and not _pattern(disk, 0xab)

    api.virDomainCreate(d)
    first = guest.DIRTY_START
    assert until(lambda: guest.past_first_pass(_word(d, first)), 60, 0.05)   # SeaBIOS first
    api.virDomainSuspend(d)
    taken = [_word(d, first + i * (1 << 20)) for i in range(40)]
    assert guest.check_dirty(taken)
    mem = api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>mem</name>"
                                            "</domainsnapshot>", 0)
    api.virDomainResume(d)
    assert until(lambda: _word(d, first) > taken[0] + 2)
    api.virDomainRevertToSnapshot(mem, 0)
    assert api.virDomainGetState(d, 0) == (3, 7)   # PAUSED/FROM_SNAPSHOT: taken paused
    assert [_word(d, first + i * (1 << 20)) for i in range(40)] == taken
    api.virDomainResume(d)
    assert until(lambda: _word(d, first) > taken[0])
    api.virDomainDestroy(d)
    assert _image_snapshots(disk) == ["clean", "mem"]

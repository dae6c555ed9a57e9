"""QEMU's answers about itself are kept under the root (cache/qemu), as
libvirt's capabilities cache is: a later process on the same root gets
them without running QEMU, unless the binary, /dev/kvm, the kernel or the
CPU changed."""

from __future__ import annotations

import json

import pytest

from pyvirt.drivers.qemu import capabilities, qmpprobe

QEMU = capabilities.emulator_path("x86_64")


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """An empty in-process cache and only `tmp_path` to keep answers in."""
    monkeypatch.setattr(qmpprobe, "_KEPT_IN", [])
    qmpprobe._probe.cache_clear()
    qmpprobe.keep_in(str(tmp_path))
    yield tmp_path
    qmpprobe._probe.cache_clear()


@pytest.mark.skipif(QEMU is None, reason="no qemu-system-x86_64")
def test_answers_come_back_from_the_root_without_qemu(fresh, monkeypatch):
    first = qmpprobe.probe(QEMU, "tcg")
    kept = list((fresh / "capabilities").glob("*.json"))
    assert len(kept) == 1
    qmpprobe._probe.cache_clear()   # as a new process would start

    def no_qemu(path, accel):
        raise AssertionError("QEMU ran again")
    monkeypatch.setattr(qmpprobe, "_run", no_qemu)
    assert qmpprobe.probe(QEMU, "tcg") == first


@pytest.mark.skipif(QEMU is None, reason="no qemu-system-x86_64")
def test_answers_for_another_binary_or_host_are_not_used(fresh, monkeypatch):
    qmpprobe.probe(QEMU, "tcg")
    kept, = (fresh / "capabilities").glob("*.json")
    stale = json.loads(kept.read_text())
    stale["key"][2][0] = "another kernel"
    kept.write_text(json.dumps(stale))
    qmpprobe._probe.cache_clear()
    ran = []
    real_run = qmpprobe._run
    monkeypatch.setattr(qmpprobe, "_run", lambda p, a: ran.append(a) or real_run(p, a))
    qmpprobe.probe(QEMU, "tcg")
    assert ran == ["tcg"]
    assert json.loads(kept.read_text())["key"] != stale["key"]   # kept anew

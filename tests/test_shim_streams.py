"""Streams through the drop-in libvirt.so.0: a C program (tests/c/stream_test.c)
and Debian's python3-libvirt read virDomainScreenshot's stream in every way
(Recv, RecvAll, the sparse and send helpers, a non-blocking stream driven by
the default event loop) and hit the same errors; the output must be real
libvirt's, byte for byte."""

from __future__ import annotations

from support import (ROOT, compile_c, needs_build, needs_system_libvirt, on_pyvirt, run,
                     system_libvirt_flags)

pytestmark = [needs_build, needs_system_libvirt]


def test_streams_from_c(tmp_path):
    exe = compile_c(ROOT / "tests" / "c" / "stream_test.c", tmp_path / "streams",
                    *system_libvirt_flags())
    real, ours = run([str(exe)]), run([str(exe)], env=on_pyvirt(), timeout=60)
    assert real.returncode == 0, real.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == real.stdout
    assert "bytes 33443" in ours.stdout


PYTHON_PEER = r"""
import hashlib, threading
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")

def err(f):
    try:
        return f()
    except libvirt.libvirtError as e:
        return ("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())

# blocking: recvAll through the binding's loop over virStreamRecv
st = conn.newStream(0)
print("mime", dom.screenshot(st, 0, 0))
chunks = []
st.recvAll(lambda s, data, acc: acc.append(data) or 0, chunks)
data = b"".join(chunks)
print("recvAll", len(data), hashlib.sha256(data).hexdigest())
print("finish", st.finish())
print("recv after finish", err(lambda: st.recv(10)))

# non-blocking: read from the event callback, on the loop's thread
st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
print("mime", dom.screenshot(st, 0, 0))
got, done = [], []
main = threading.current_thread()
def on_event(stream, events, opaque):
    assert threading.current_thread() is main
    b = stream.recv(4096)
    if b == -2:
        return
    if not b:
        stream.eventRemoveCallback()
        stream.finish()
        done.append(events & libvirt.VIR_STREAM_EVENT_READABLE)  # HANGUP: a pipe in libvirt
        return
    opaque.append(b)
st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, on_event, got)
print("add twice", err(lambda: st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, on_event, got)))
while not done:
    libvirt.virEventRunDefaultImpl()
data = b"".join(got)
print("events", done, len(data), hashlib.sha256(data).hexdigest())
print("update after finish", err(lambda: st.eventUpdateCallback(1)))

# a stream no driver took, and stream arguments of screenshot
st = conn.newStream(0)
print("unused recv", err(lambda: st.recv(10)))
print("unused update", err(lambda: st.eventUpdateCallback(1)))
print("unused abort", st.abort())
other = libvirt.open("test:///default")
print("other conn", err(lambda: dom.screenshot(other.newStream(0), 0, 0)))
print("flags", err(lambda: dom.screenshot(conn.newStream(0), 0, 4)))
st = conn.newStream(0)
dom.screenshot(st, 0, 0)
print("update without callback", err(lambda: st.eventUpdateCallback(1)))
print("remove without callback", err(lambda: st.eventRemoveCallback()))
print("send to read-only", err(lambda: st.send(b"x")))
st.abort()
ro = libvirt.openReadOnly("test:///default")
print("read-only", err(lambda: ro.lookupByName("test").screenshot(ro.newStream(0), 0, 0)))
vol = conn.storagePoolLookupByName("default-pool").createXML(
    "<volume><name>streamvol</name><capacity>1024</capacity></volume>", 0)
print("upload", err(lambda: vol.upload(conn.newStream(0), 0, 10, 0)))
print("download", err(lambda: vol.download(conn.newStream(0), 0, 10, 0)))
print("console", err(lambda: dom.openConsole(None, conn.newStream(0), 0)))
vol.delete(0)
"""


def test_streams_from_python3_libvirt(tmp_path):
    script = tmp_path / "peer.py"
    script.write_text(PYTHON_PEER)
    real = run(["/usr/bin/python3", str(script)])
    ours = run(["/usr/bin/python3", str(script)], env=on_pyvirt(), timeout=60)
    assert real.returncode == 0, real.stderr
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == real.stdout
    assert "recvAll 33443" in ours.stdout

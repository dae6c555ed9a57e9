"""The demo in Python: the same steps as demo.c, with libvirt-python's API."""

import threading

import libvirt

EVENTS = ["defined", "undefined", "started", "suspended", "resumed", "stopped",
          "shutdown", "pmsuspended", "crashed"]
STATES = ["no state", "running", "blocked", "paused", "shutdown", "shut off", "crashed",
          "pmsuspended"]
NEW_DOMAIN = """<domain type='test'>
  <name>demo</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>"""

arrived = threading.Condition()
seen = 0


def on_lifecycle(conn, dom, event, detail, opaque):
    global seen
    print(f"  event: {dom.name()} {EVENTS[event]} (detail {detail})", flush=True)
    with arrived:
        seen += 1
        arrived.notify_all()


def wait_events(want):
    with arrived:
        arrived.wait_for(lambda: seen >= want, timeout=2)


def main():
    libvirt.virEventRegisterDefaultImpl()
    conn = libvirt.open("test:///default")
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()

    print(f"domains on {conn.getURI()}:")
    for i, dom in enumerate(conn.listAllDomains()):
        state, _, memory, vcpus, _ = dom.info()
        print(f"  {dom.name():<10} {STATES[state]:<8} {memory} KiB, {vcpus} vCPU")
        if i == 0:
            print(f"XML of {dom.name()}:\n{dom.XMLDesc()}", end="")

    print("define, start, suspend, resume, destroy 'demo':")
    dom = conn.defineXML(NEW_DOMAIN)
    wait_events(1)
    for want, step in enumerate([dom.create, dom.suspend, dom.resume, dom.destroy,
                                 dom.undefine], start=2):
        step()
        wait_events(want)
    conn.close()
    print(f"{seen} lifecycle events")


if __name__ == "__main__":
    main()

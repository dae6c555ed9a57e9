/* Events and the default event loop from C, run on both libraries: the output
 * must be the same. Old and Any registration, deregistration by function
 * pointer, free callbacks, timers and fd watches driven by virEventRunDefaultImpl. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int timer_fired, watch_fired, freed;
static pthread_t loop_thread;

static void run_until(int *counter, int want)
{
    for (int i = 0; i < 200 && *counter < want; i++)
        virEventRunDefaultImpl();
}

static int old_cb(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
    (void)c;
    printf("old: %s %d/%d opaque=%s same-thread=%d\n", virDomainGetName(d), event, detail,
           (char *)opaque, pthread_equal(pthread_self(), loop_thread) != 0);
    return 0;
}

static int events_seen;

static void any_cb(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
    (void)c; (void)opaque;
    printf("any: %s %d/%d\n", virDomainGetName(d), event, detail);
    events_seen++;
}

static void free_opaque(void *opaque)
{
    printf("freed %s\n", (char *)opaque);
    freed++;
}

static void on_timer(int timer, void *opaque)
{
    (void)timer; (void)opaque;
    timer_fired++;
}

static void on_watch(int watch, int fd, int events, void *opaque)
{
    char buf[16];
    (void)watch; (void)opaque;
    printf("watch: events=%d read=%zd\n", events, read(fd, buf, sizeof(buf)));
    watch_fired++;
}

static void show(const char *what, int r)
{
    virErrorPtr e = virGetLastError();
    printf("%s -> %d%s%s\n", what, r, e ? ": " : "", e ? e->message : "");
    virResetLastError();
}

int main(void)
{
    static char tag[] = "old-tag", tag2[] = "any-tag";
    const char xml[] = "<domain type='test'><name>ev</name><memory>1024</memory>"
                       "<os><type>hvm</type></os></domain>";
    int fds[2];

    virSetErrorFunc(NULL, NULL);
    loop_thread = pthread_self();
    show("virEventRegisterDefaultImpl", virEventRegisterDefaultImpl());

    int timer = virEventAddTimeout(1, on_timer, NULL, NULL);
    printf("timer id > 0: %d\n", timer > 0);
    run_until(&timer_fired, 3);
    printf("timer fired 3 times: %d\n", timer_fired >= 3);
    show("virEventRemoveTimeout", virEventRemoveTimeout(timer));

    if (pipe(fds) < 0)
        return 1;
    int watch = virEventAddHandle(fds[0], VIR_EVENT_HANDLE_READABLE, on_watch, NULL, NULL);
    printf("watch id > 0: %d\n", watch > 0);
    if (write(fds[1], "abc", 3) != 3)
        return 1;
    run_until(&watch_fired, 1);
    show("virEventRemoveHandle", virEventRemoveHandle(watch));
    show("virEventRemoveHandle again", virEventRemoveHandle(watch));

    virConnectPtr conn = virConnectOpen("test:///default");
    show("virConnectDomainEventRegister",
         virConnectDomainEventRegister(conn, old_cb, tag, free_opaque));
    show("virConnectDomainEventRegister twice",
         virConnectDomainEventRegister(conn, old_cb, tag, free_opaque));
    int id = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(any_cb), tag2,
                                              free_opaque);
    printf("any id >= 0: %d\n", id >= 0);

    virDomainPtr dom = virDomainDefineXML(conn, xml);
    run_until(&events_seen, 1);
    virDomainCreate(dom);
    run_until(&events_seen, 2);
    virDomainDestroy(dom);
    run_until(&events_seen, 3);

    show("virConnectDomainEventDeregister", virConnectDomainEventDeregister(conn, old_cb));
    show("virConnectDomainEventDeregister again", virConnectDomainEventDeregister(conn, old_cb));
    virDomainUndefine(dom);
    run_until(&events_seen, 4);
    show("virConnectDomainEventDeregisterAny", virConnectDomainEventDeregisterAny(conn, id));
    show("virConnectDomainEventDeregisterAny again", virConnectDomainEventDeregisterAny(conn, id));
    for (int i = 0; i < 5; i++)
        virEventAddTimeout(0, on_timer, NULL, NULL), virEventRunDefaultImpl();
    printf("free callbacks run: %d\n", freed);
    virDomainFree(dom);
    virConnectClose(conn);
    return 0;
}

/* The demo in C: built against <libvirt/libvirt.h>, it runs the same on real
 * libvirt and on pyvirt's libvirt.so.0. Lists the domains of test:///default,
 * shows one, then defines, starts, suspends, resumes and destroys a new domain,
 * printing each lifecycle event as the event loop delivers it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static const char *const event_names[] = {
    "defined", "undefined", "started", "suspended", "resumed", "stopped",
    "shutdown", "pmsuspended", "crashed",
};
static const char *const state_names[] = {
    "no state", "running", "blocked", "paused", "shutdown", "shut off", "crashed",
    "pmsuspended",
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static int events_seen;
static volatile int quit;

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                        void *opaque)
{
    (void)conn; (void)opaque;
    printf("  event: %s %s (detail %d)\n", virDomainGetName(dom),
           event >= 0 && event < 9 ? event_names[event] : "?", detail);
    pthread_mutex_lock(&lock);
    events_seen++;
    pthread_cond_broadcast(&arrived);
    pthread_mutex_unlock(&lock);
    return 0;
}

static void *run_loop(void *arg)
{
    (void)arg;
    while (!quit)
        if (virEventRunDefaultImpl() < 0)
            break;
    return NULL;
}

/* Wait until `want` events have arrived in all (at most two seconds). */
static void wait_events(int want)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    pthread_mutex_lock(&lock);
    while (events_seen < want && pthread_cond_timedwait(&arrived, &lock, &until) == 0)
        ;
    pthread_mutex_unlock(&lock);
}

static void die(const char *what)
{
    fprintf(stderr, "%s failed: %s\n", what, virGetLastErrorMessage());
    exit(1);
}

static const char new_domain[] =
    "<domain type='test'>"
    "  <name>demo</name>"
    "  <memory unit='MiB'>128</memory>"
    "  <vcpu>1</vcpu>"
    "  <os><type arch='x86_64'>hvm</type></os>"
    "</domain>";

int main(void)
{
    pthread_t loop;
    virDomainPtr *doms;
    virDomainInfo info;
    int want = 0;

    if (virEventRegisterDefaultImpl() < 0)
        die("virEventRegisterDefaultImpl");
    virConnectPtr conn = virConnectOpen("test:///default");
    if (!conn)
        die("virConnectOpen");
    if (virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                                         NULL, NULL) < 0)
        die("virConnectDomainEventRegisterAny");
    pthread_create(&loop, NULL, run_loop, NULL);

    int n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0)
        die("virConnectListAllDomains");
    printf("domains on %s:\n", virConnectGetURI(conn));
    for (int i = 0; i < n; i++) {
        if (virDomainGetInfo(doms[i], &info) < 0)
            die("virDomainGetInfo");
        printf("  %-10s %-8s %lu KiB, %u vCPU\n", virDomainGetName(doms[i]),
               state_names[info.state], info.memory, info.nrVirtCpu);
        if (i == 0) {
            char *xml = virDomainGetXMLDesc(doms[i], 0);
            printf("XML of %s:\n%s", virDomainGetName(doms[i]), xml);
            free(xml);
        }
        virDomainFree(doms[i]);
    }
    free(doms);

    printf("define, start, suspend, resume, destroy 'demo':\n");
    virDomainPtr dom = virDomainDefineXML(conn, new_domain);
    if (!dom)
        die("virDomainDefineXML");
    wait_events(++want);
    if (virDomainCreate(dom) < 0)
        die("virDomainCreate");
    wait_events(++want);
    if (virDomainSuspend(dom) < 0)
        die("virDomainSuspend");
    wait_events(++want);
    if (virDomainResume(dom) < 0)
        die("virDomainResume");
    wait_events(++want);
    if (virDomainDestroy(dom) < 0)
        die("virDomainDestroy");
    wait_events(++want);
    if (virDomainUndefine(dom) < 0)
        die("virDomainUndefine");
    wait_events(++want);
    virDomainFree(dom);

    quit = 1;
    virConnectClose(conn);
    printf("%d lifecycle events\n", events_seen);
    return 0;
}

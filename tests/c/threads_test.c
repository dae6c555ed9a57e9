/* Many C threads calling the library at once, on one shared connection and on
 * one connection each, while another thread runs the event loop. Prints totals
 * only, so both libraries must print the same. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define THREADS 8
#define ROUNDS 100

static virConnectPtr shared;
static volatile int quit;
static int events;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void quiet(void *data, virErrorPtr err) { (void)data; (void)err; }

static int on_event(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
    (void)c; (void)d; (void)event; (void)detail; (void)opaque;
    pthread_mutex_lock(&lock);
    events++;
    pthread_mutex_unlock(&lock);
    return 0;
}

static void *loop(void *arg)
{
    (void)arg;
    while (!quit)
        virEventRunDefaultImpl();
    return NULL;
}

static void *work(void *arg)
{
    long n = (long)arg;
    int failures = 0;
    virConnectPtr conn = shared ? shared : virConnectOpen("test:///default");
    char xml[256], name[32];

    for (int i = 0; i < ROUNDS; i++) {
        virDomainInfo info;
        virDomainPtr t = virDomainLookupByName(conn, "test");
        if (!t || virDomainGetInfo(t, &info) < 0 || info.nrVirtCpu != 2)
            failures++;
        if (t)
            virDomainFree(t);
        snprintf(name, sizeof(name), "t%ld-%d-%d", n, i, shared != NULL);
        snprintf(xml, sizeof(xml), "<domain type='test'><name>%s</name><memory>1024</memory>"
                 "<os><type>hvm</type></os></domain>", name);
        virDomainPtr d = virDomainDefineXML(conn, xml);
        if (!d || virDomainCreate(d) < 0 || virDomainDestroy(d) < 0 || virDomainUndefine(d) < 0)
            failures++;
        if (d)
            virDomainFree(d);
        if (virDomainLookupByName(conn, name) != NULL || virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
            failures++;
    }
    if (!shared)
        virConnectClose(conn);
    return (void *)(long)failures;
}

static int run(int use_shared)
{
    pthread_t t[THREADS];
    long failures = 0;
    shared = use_shared ? virConnectOpen("test:///default") : NULL;
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, (void *)i);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        failures += (long)r;
    }
    if (shared)
        virConnectClose(shared);
    return (int)failures;
}

int main(void)
{
    pthread_t lt;
    virSetErrorFunc(NULL, quiet);
    virEventRegisterDefaultImpl();
    virConnectPtr watcher = virConnectOpen("test:///default");
    virConnectDomainEventRegisterAny(watcher, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                     VIR_DOMAIN_EVENT_CALLBACK(on_event), NULL, NULL);
    pthread_create(&lt, NULL, loop, NULL);
    printf("shared connection: %d failures\n", run(1));
    printf("one connection per thread: %d failures\n", run(0));
    int n = 0;
    virConnectPtr conn = virConnectOpen("test:///default");
    n = virConnectNumOfDefinedDomains(conn);
    printf("defined domains left: %d\n", n);
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&lock);
        int seen = events;
        pthread_mutex_unlock(&lock);
        if (seen >= 2 * THREADS * ROUNDS * 4)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("lifecycle events: %d\n", events);
    quit = 1;
    virConnectClose(conn);
    virConnectClose(watcher);
    return 0;
}

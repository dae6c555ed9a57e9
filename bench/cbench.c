/* pyvirt's C benchmark: one program, compiled once against the system's libvirt
 * headers, run on the real libvirt.so.0 and on pyvirt's (LD_LIBRARY_PATH).
 *
 *   cbench ops SECONDS            the single-thread calls, suspend/resume with
 *                                 event delivery, the same calls from 8 threads
 *   cbench scale N SECONDS LIMIT  define domains up to N (stop after LIMIT s), then
 *                                 lookups, GetInfo and ListAllDomains at that size;
 *                                 the RSS before and after the defines
 *   cbench events K SECONDS       suspend/resume with K lifecycle callbacks
 *
 * Each measurement prints one JSON line: {"op": ..., "ns": per call, "n": calls}.
 * An operation runs in batches until SECONDS have passed, so a slow library does
 * fewer calls, not a longer run.  Every failure exits 1 with libvirt's message.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define URI "test:///default"
#define NTHREADS 8

static double seconds = 0.2;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)   /* setup failed: nothing to measure */
{
    virErrorPtr e = virGetLastError();
    fprintf(stderr, "cbench: %s failed: %s\n", what, e && e->message ? e->message : "?");
    exit(1);
}

static char failure[512];   /* why the operation being measured failed */

static int fail(const char *what)
{
    virErrorPtr e = virGetLastError();
    snprintf(failure, sizeof(failure), "%s: %s", what, e && e->message ? e->message : "?");
    return -1;
}

static void emit_error(const char *op)
{
    printf("{\"op\": \"%s\", \"error\": \"", op);
    for (const char *c = failure; *c; c++)     /* a JSON string: escape what needs it */
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if ((unsigned char)*c >= 0x20)
            putchar(*c);
    printf("\"}\n");
    fflush(stdout);
}

static void emit(const char *op, double ns, long n)
{
    printf("{\"op\": \"%s\", \"ns\": %.1f, \"n\": %ld}\n", op, ns, n);
    fflush(stdout);
}

static long status_kb(const char *key)   /* VmRSS, VmHWM from /proc/self/status */
{
    char line[256];
    long kb = -1;
    size_t len = strlen(key);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, len) == 0 && line[len] == ':')
            kb = atol(line + len + 1);
    fclose(f);
    return kb;
}

/* -- timing: call fn(ctx, i) in doubling batches until `seconds` have passed */

typedef int (*op_fn)(void *ctx, long i);   /* 0, or -1 after fail() */

static void measure(const char *name, op_fn fn, void *ctx)
{
    long n = 0, batch = 1;
    if (fn(ctx, 0) < 0) {                         /* warm-up */
        emit_error(name);
        return;
    }
    double t0 = now(), t = t0;
    while (t - t0 < seconds) {
        for (long i = 0; i < batch; i++)
            if (fn(ctx, n + 1 + i) < 0) {
                emit_error(name);
                return;
            }
        n += batch;
        if (batch < 1 << 16)
            batch *= 2;
        t = now();
    }
    emit(name, (t - t0) * 1e9 / n, n);
}

/* -- the operations */

struct ctx {
    virConnectPtr conn;
    virDomainPtr dom;                             /* the default host's "test" */
    unsigned char uuid[VIR_UUID_BUFLEN];
    int tid;
    char **names;                                 /* scale: the defined domains */
    unsigned char (*uuids)[VIR_UUID_BUFLEN];
    long ndefined;
    volatile long events;
};

static int op_open_close(void *p, long i)
{
    (void)p; (void)i;
    virConnectPtr c = virConnectOpen(URI);
    if (!c)
        return fail("virConnectOpen");
    virConnectClose(c);
    return 0;
}

static int op_get_info(void *p, long i)
{
    struct ctx *x = p;
    virDomainInfo info;
    (void)i;
    return virDomainGetInfo(x->dom, &info) < 0 ? fail("virDomainGetInfo") : 0;
}

static int op_lookup_name(void *p, long i)
{
    struct ctx *x = p;
    virDomainPtr d = virDomainLookupByName(x->conn, x->names ? x->names[i % x->ndefined] : "test");
    if (!d)
        return fail("virDomainLookupByName");
    virDomainFree(d);
    return 0;
}

static int op_lookup_uuid(void *p, long i)
{
    struct ctx *x = p;
    virDomainPtr d = virDomainLookupByUUID(x->conn, x->uuids ? x->uuids[i % x->ndefined] : x->uuid);
    if (!d)
        return fail("virDomainLookupByUUID");
    virDomainFree(d);
    return 0;
}

static int op_get_xml(void *p, long i)
{
    struct ctx *x = p;
    (void)i;
    char *xml = virDomainGetXMLDesc(x->dom, 0);
    if (!xml)
        return fail("virDomainGetXMLDesc");
    free(xml);
    return 0;
}

static int op_define_undefine(void *p, long i)
{
    struct ctx *x = p;
    char xml[256];
    snprintf(xml, sizeof(xml), "<domain type='test'><name>bench-t%d-%ld</name>"
             "<memory>1024</memory><os><type>hvm</type></os></domain>", x->tid, i);
    virDomainPtr d = virDomainDefineXML(x->conn, xml);
    if (!d)
        return fail("virDomainDefineXML");
    int r = virDomainUndefine(d);
    virDomainFree(d);
    return r < 0 ? fail("virDomainUndefine") : 0;
}

static int op_list_all(void *p, long i)
{
    struct ctx *x = p;
    virDomainPtr *doms = NULL;
    (void)i;
    int n = virConnectListAllDomains(x->conn, &doms, 0);
    if (n < 0)
        return fail("virConnectListAllDomains");
    for (int k = 0; k < n; k++)
        virDomainFree(doms[k]);
    free(doms);
    return 0;
}

static void on_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *opaque)
{
    (void)c; (void)d; (void)event; (void)detail;
    ((struct ctx *)opaque)->events++;
}

static int wait_events(struct ctx *x, long want)
{
    for (int spins = 0; x->events < want; spins++) {
        if (spins > 100000) {
            snprintf(failure, sizeof(failure), "event delivery: timed out");
            return -1;
        }
        if (virEventRunDefaultImpl() < 0)
            return fail("virEventRunDefaultImpl");
    }
    return 0;
}

static int ncallbacks = 1;

/* libvirt refuses a second registration of the same function for the same
 * connection, event and domain ("event callback already tracked"), so K
 * callbacks need K functions: 4^5 = 1,024 of them, made by the preprocessor. */
#define MAX_CALLBACKS 1024
#define CB_DEFINE(id) static void cb_##id(virConnectPtr c, virDomainPtr d, int e, int t, \
                                          void *o) { on_lifecycle(c, d, e, t, o); }
#define CB_ENTRY(id) cb_##id,
#define L1(F, p) F(p##0) F(p##1) F(p##2) F(p##3)
#define L2(F, p) L1(F, p##0) L1(F, p##1) L1(F, p##2) L1(F, p##3)
#define L3(F, p) L2(F, p##0) L2(F, p##1) L2(F, p##2) L2(F, p##3)
#define L4(F, p) L3(F, p##0) L3(F, p##1) L3(F, p##2) L3(F, p##3)
#define L5(F, p) L4(F, p##0) L4(F, p##1) L4(F, p##2) L4(F, p##3)
L5(CB_DEFINE, x)
typedef void (*lifecycle_fn)(virConnectPtr, virDomainPtr, int, int, void *);
static lifecycle_fn callbacks[MAX_CALLBACKS] = { L5(CB_ENTRY, x) };

/* Suspend, wait until every callback saw the event, resume, wait again. */
static int op_suspend_resume(void *p, long i)
{
    struct ctx *x = p;
    (void)i;
    long want = x->events + ncallbacks;
    if (virDomainSuspend(x->dom) < 0)
        return fail("virDomainSuspend");
    if (wait_events(x, want) < 0)
        return -1;
    if (virDomainResume(x->dom) < 0)
        return fail("virDomainResume");
    return wait_events(x, want + ncallbacks);
}

/* -- setup */

static struct ctx open_default(void)
{
    struct ctx x = {0};
    x.conn = virConnectOpen(URI);
    if (!x.conn)
        die("virConnectOpen");
    x.dom = virDomainLookupByName(x.conn, "test");
    if (!x.dom || virDomainGetUUID(x.dom, x.uuid) < 0)
        die("virDomainLookupByName(test)");
    return x;
}

/* Define "scale-I" domains until the host has `total` (the default "test"
 * counts) or `limit` seconds have passed; returns the seconds spent.  Keeps
 * every domain's name and UUID (test's first) for the lookups. */
static double define_up_to(struct ctx *x, long total, double limit)
{
    char xml[256];
    double t0 = now();
    x->names = malloc(total * sizeof(char *));
    x->uuids = malloc(total * sizeof(*x->uuids));
    x->names[0] = "test";
    memcpy(x->uuids[0], x->uuid, VIR_UUID_BUFLEN);
    x->ndefined = 1;
    for (long i = 1; i < total; i++) {
        if ((i & 255) == 0 && now() - t0 > limit)
            break;
        snprintf(xml, sizeof(xml), "<domain type='test'><name>scale-%ld</name>"
                 "<memory>1024</memory><os><type>hvm</type></os></domain>", i);
        virDomainPtr d = virDomainDefineXML(x->conn, xml);
        if (!d)
            die("virDomainDefineXML");
        x->names[i] = strdup(virDomainGetName(d));
        virDomainGetUUID(d, x->uuids[i]);
        virDomainFree(d);
        x->ndefined = i + 1;
    }
    return now() - t0;
}

/* -- 8 threads at once: the aggregate cost per call (wall time / all calls) */

struct thread_arg {
    struct ctx ctx;
    op_fn fn;
    long n;
    int failed;
    double *stop_at;
    pthread_barrier_t *barrier;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    a->failed = a->fn(&a->ctx, 0) < 0;
    pthread_barrier_wait(a->barrier);
    for (long i = 1; !a->failed && now() < *a->stop_at; i++) {
        a->failed = a->fn(&a->ctx, i) < 0;
        a->n++;
    }
    return NULL;
}

static void measure_threads(const char *name, op_fn fn, struct ctx *base)
{
    pthread_t th[NTHREADS];
    struct thread_arg args[NTHREADS];
    pthread_barrier_t barrier;
    double stop_at = 1e300;
    long total = 0;
    int failed = 0;

    pthread_barrier_init(&barrier, NULL, NTHREADS + 1);
    for (int t = 0; t < NTHREADS; t++) {
        args[t] = (struct thread_arg){ .ctx = *base, .fn = fn, .stop_at = &stop_at,
                                       .barrier = &barrier };
        args[t].ctx.tid = t + 1;
        pthread_create(&th[t], NULL, thread_main, &args[t]);
    }
    pthread_barrier_wait(&barrier);
    double t0 = now();
    stop_at = t0 + seconds;
    for (int t = 0; t < NTHREADS; t++) {
        pthread_join(th[t], NULL);
        total += args[t].n;
        failed |= args[t].failed;
    }
    double t1 = now();
    pthread_barrier_destroy(&barrier);
    if (failed)
        emit_error(name);   /* `failure` holds one thread's reason */
    else
        emit(name, (t1 - t0) * 1e9 / (total ? total : 1), total);
}

/* -- modes */

static int run_ops(void)
{
    /* open/close with no other connection open: the whole default host each time */
    measure("open_close", op_open_close, NULL);

    struct ctx x = open_default();
    measure("get_info", op_get_info, &x);
    measure("lookup_name", op_lookup_name, &x);
    measure("lookup_uuid", op_lookup_uuid, &x);
    measure("get_xml", op_get_xml, &x);
    measure("define_undefine", op_define_undefine, &x);

    if (virEventRegisterDefaultImpl() < 0)
        die("virEventRegisterDefaultImpl");
    int cb = virConnectDomainEventRegisterAny(x.conn, x.dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                              VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), &x, NULL);
    if (cb < 0)
        die("virConnectDomainEventRegisterAny");
    measure("suspend_resume_event", op_suspend_resume, &x);
    virConnectDomainEventDeregisterAny(x.conn, cb);

    measure_threads("threads8_get_info", op_get_info, &x);
    measure_threads("threads8_lookup_name", op_lookup_name, &x);
    measure_threads("threads8_get_xml", op_get_xml, &x);
    measure_threads("threads8_define_undefine", op_define_undefine, &x);

    virDomainFree(x.dom);
    virConnectClose(x.conn);
    return 0;
}

static int run_scale(long n, double limit)
{
    struct ctx x = open_default();
    long rss0 = status_kb("VmRSS");
    double spent = define_up_to(&x, n, limit);
    long hwm = status_kb("VmHWM"), rss1 = status_kb("VmRSS");
    /* The size reached: all of n, or what `limit` allowed (then the lookups
     * below run at that size, which the harness reports). */
    printf("{\"op\": \"size\", \"domains\": %ld, \"wanted\": %ld, \"rss_before_kb\": %ld, "
           "\"rss_after_kb\": %ld, \"hwm_kb\": %ld}\n", x.ndefined, n, rss0, rss1, hwm);
    if (x.ndefined > 1)
        emit("define", spent * 1e9 / (x.ndefined - 1), x.ndefined - 1);
    measure("lookup_name", op_lookup_name, &x);
    measure("lookup_uuid", op_lookup_uuid, &x);
    virDomainFree(x.dom);
    x.dom = virDomainLookupByName(x.conn, x.names[x.ndefined / 2]);
    if (!x.dom)
        die("virDomainLookupByName");
    measure("get_info", op_get_info, &x);
    measure("list_all", op_list_all, &x);
    return 0;
}

static int run_events(int k)
{
    struct ctx x = open_default();
    if (virEventRegisterDefaultImpl() < 0)
        die("virEventRegisterDefaultImpl");
    if (k < 1 || k > MAX_CALLBACKS) {
        fprintf(stderr, "cbench: 1 to %d callbacks\n", MAX_CALLBACKS);
        return 2;
    }
    ncallbacks = k;
    for (int i = 0; i < k; i++)
        if (virConnectDomainEventRegisterAny(x.conn, x.dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(callbacks[i]), &x,
                                             NULL) < 0)
            die("virConnectDomainEventRegisterAny");
    measure("suspend_resume_event", op_suspend_resume, &x);
    return 0;
}

static void quiet(void *data, virErrorPtr err)
{
    (void)data; (void)err;
}

int main(int argc, char **argv)
{
    virSetErrorFunc(NULL, quiet);
    if (argc >= 3 && strcmp(argv[1], "ops") == 0) {
        seconds = atof(argv[2]);
        return run_ops();
    }
    if (argc >= 5 && strcmp(argv[1], "scale") == 0) {
        seconds = atof(argv[3]);
        return run_scale(atol(argv[2]), atof(argv[4]));
    }
    if (argc >= 4 && strcmp(argv[1], "events") == 0) {
        seconds = atof(argv[3]);
        return run_events(atoi(argv[2]));
    }
    fprintf(stderr, "usage: cbench ops SECONDS | scale N SECONDS LIMIT | events K SECONDS\n");
    return 2;
}

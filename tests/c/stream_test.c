/* Streams on test:///default: screenshot data through virStreamRecv,
 * virStreamRecvAll and the sparse/send variants, and the errors of streams
 * that have no driver behind them or are used after finishing.
 * Prints what it sees; the test compares the output with real libvirt's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static void report(const char *what, long long ret)
{
    virErrorPtr e = virGetLastError();
    if (ret < 0 && e)
        printf("%s: %lld error %d %d %s\n", what, ret, e->code, e->domain, e->message);
    else
        printf("%s: %lld\n", what, ret);
}

static unsigned long sum;
static size_t total, chunks;

static int sink(virStreamPtr st, const char *data, size_t n, void *opaque)
{
    size_t i;
    (void)st;
    for (i = 0; i < n; i++)
        sum = sum * 31 + (unsigned char)data[i];
    total += n;
    chunks++;
    return *(int *)opaque < 0 ? -1 : (int)n;
}

static int hole_sink(virStreamPtr st, long long length, void *opaque)
{
    (void)st; (void)opaque;
    printf("hole %lld\n", length);
    return 0;
}

static int source(virStreamPtr st, char *data, size_t n, void *opaque)
{
    int *left = opaque;
    (void)st;
    if (*left < 0)
        return -1;
    if (*left == 0)
        return 0;
    memset(data, 'x', n < 100 ? n : 100);
    *left = 0;
    return n < 100 ? (int)n : 100;
}

static int hole_source(virStreamPtr st, int *inData, long long *len, void *opaque)
{
    (void)st; (void)opaque;
    *inData = 1;
    *len = 100;
    return 0;
}

static int skip_source(virStreamPtr st, long long len, void *opaque)
{
    (void)st; (void)len; (void)opaque;
    return 0;
}

static virStreamPtr shot(virConnectPtr conn, virDomainPtr dom, unsigned int flags)
{
    virStreamPtr st = virStreamNew(conn, flags);
    char *mime = virDomainScreenshot(dom, st, 0, 0);
    printf("mime %s\n", mime ? mime : "(null)");
    free(mime);
    return st;
}

int main(void)
{
    virConnectPtr conn = virConnectOpen("test:///default");
    virConnectPtr other = virConnectOpen("test:///default");
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    virStreamPtr st;
    char buf[1000];
    long long hole = 0;
    int ok = 0, bad = -1, one = 1;
    int n;

    /* virStreamRecv until the end */
    st = shot(conn, dom, 0);
    total = 0, sum = 0;
    while ((n = virStreamRecv(st, buf, sizeof(buf))) > 0)
        sink(st, buf, n, &ok);
    report("recv end", n);
    printf("bytes %zu sum %lu\n", total, sum);
    report("recv at end", virStreamRecv(st, buf, sizeof(buf)));
    report("finish", virStreamFinish(st));
    report("finish again", virStreamFinish(st));
    report("recv after finish", virStreamRecv(st, buf, sizeof(buf)));
    report("send after finish", virStreamSend(st, "x", 1));
    report("abort after finish", virStreamAbort(st));
    report("free", virStreamFree(st));

    /* virStreamRecvAll */
    st = shot(conn, dom, 0);
    total = 0, sum = 0, chunks = 0;
    report("recvall", virStreamRecvAll(st, sink, &ok));
    printf("bytes %zu sum %lu chunks %zu\n", total, sum, chunks);
    report("finish", virStreamFinish(st));
    virStreamFree(st);

    /* a sink that fails aborts the stream */
    st = shot(conn, dom, 0);
    report("recvall failing sink", virStreamRecvAll(st, sink, &bad));
    report("recv after abort", virStreamRecv(st, buf, sizeof(buf)));
    virStreamFree(st);

    /* the sparse reader and the writers on a read-only screenshot stream */
    st = shot(conn, dom, 0);
    report("sparse recvall", virStreamSparseRecvAll(st, sink, hole_sink, &ok));
    report("recv after sparse recvall", virStreamRecv(st, buf, 10));
    report("recvflags", virStreamRecvFlags(st, buf, 10, 0));
    report("recvhole", virStreamRecvHole(st, &hole, 0));
    virStreamFree(st);
    st = shot(conn, dom, 0);
    report("sendall", virStreamSendAll(st, source, &one));
    one = 1;
    report("sparse sendall", virStreamSparseSendAll(st, source, hole_source, skip_source, &one));
    report("abort", virStreamAbort(st));
    virStreamFree(st);

    /* a stream no driver has taken yet */
    st = virStreamNew(conn, 0);
    report("unused send", virStreamSend(st, "x", 1));
    report("unused send null", virStreamSend(st, NULL, 1));
    report("unused recv", virStreamRecv(st, buf, sizeof(buf)));
    report("unused recvhole null", virStreamRecvHole(st, NULL, 0));
    report("unused finish", virStreamFinish(st));
    one = 1;
    report("unused sendall", virStreamSendAll(st, source, &one));
    report("unused sendall null", virStreamSendAll(st, NULL, &one));
    report("unused recvall", virStreamRecvAll(st, sink, &ok));
    report("unused sendall failing source", virStreamSendAll(st, source, &bad));
    report("unused event add", virStreamEventAddCallback(st, 1, NULL, NULL, NULL));
    report("unused event update", virStreamEventUpdateCallback(st, 1));
    report("unused event remove", virStreamEventRemoveCallback(st));
    report("unused abort", virStreamAbort(st));
    report("ref", virStreamRef(st));
    report("free", virStreamFree(st));
    report("free", virStreamFree(st));
    report("null send", virStreamSend(NULL, "x", 1));
    report("null finish", virStreamFinish(NULL));
    report("null free", virStreamFree(NULL));

    /* non-blocking streams refuse the all-at-once helpers */
    st = shot(conn, dom, VIR_STREAM_NONBLOCK);
    report("nonblock recvall", virStreamRecvAll(st, sink, &ok));
    report("nonblock sendall", virStreamSendAll(st, source, &one));
    report("nonblock sparse recvall", virStreamSparseRecvAll(st, sink, hole_sink, &ok));
    virStreamAbort(st);
    virStreamFree(st);

    /* screenshot arguments */
    st = virStreamNew(other, 0);
    printf("other conn %s\n", virDomainScreenshot(dom, st, 0, 0) ? "ok" : virGetLastErrorMessage());
    virStreamFree(st);
    st = virStreamNew(conn, 0);
    printf("flags %s\n", virDomainScreenshot(dom, st, 0, 1) ? "ok" : virGetLastErrorMessage());
    printf("null stream %s\n", virDomainScreenshot(dom, NULL, 0, 0) ? "ok" : virGetLastErrorMessage());
    virStreamFree(shot(conn, dom, 0));
    st = shot(conn, dom, 0);
    printf("reused %s\n", virDomainScreenshot(dom, st, 0, 0) ? "ok" : virGetLastErrorMessage());
    virStreamAbort(st);
    virStreamFree(st);

    virDomainFree(dom);
    virConnectClose(other);
    virConnectClose(conn);
    return 0;
}

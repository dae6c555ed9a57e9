/* 8 threads failing at once on one shared connection: each failure is also
 * recorded as the connection's last error, which must never be freed twice.
 * Prints totals only, so both libraries must print the same. */
#include <pthread.h>
#include <stdio.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define THREADS 8
#define ROUNDS 2000

static virConnectPtr shared;

static void quiet(void *data, virErrorPtr err) { (void)data; (void)err; }

static void *work(void *arg)
{
    long wrong = 0;
    virError copy = {0};
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (virDomainLookupByName(shared, "no-such-domain") != NULL
            || virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
            wrong++;
        if (i % 16 == 0 && virConnCopyLastError(shared, &copy) != VIR_ERR_NO_DOMAIN)
            wrong++;
        virResetError(&copy);
    }
    return (void *)wrong;
}

int main(void)
{
    pthread_t t[THREADS];
    long wrong = 0;
    virSetErrorFunc(NULL, quiet);
    shared = virConnectOpen("test:///default");
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, NULL);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        wrong += (long)r;
    }
    printf("wrong results: %ld\n", wrong);
    virConnResetLastError(shared);
    virErrorPtr left = virConnGetLastError(shared);
    printf("after reset: %d\n", left == NULL || left->code == VIR_ERR_OK);
    virConnectClose(shared);
    return 0;
}

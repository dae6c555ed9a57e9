/* Built against the system's libvirt headers and run on both libraries: the
 * output must be the same. Covers what the shim itself answers (errors, handle
 * checks, the default auth object) and a first round trip through the core. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int handled;

static void show(const char *what, long r)
{
    virErrorPtr e = virGetLastError();
    if (e)
        printf("%s -> %ld: code=%d domain=%d level=%d message=%s\n", what, r, e->code,
               e->domain, e->level, e->message);
    else
        printf("%s -> %ld: no error\n", what, r);
}

static void count_errors(void *data, virErrorPtr err)
{
    (void)data; (void)err;
    handled++;
}

int main(void)
{
    virDomainInfo info;
    virError copy;
    unsigned long ver = 0;

    virSetErrorFunc(NULL, count_errors);
    show("virGetVersion", virGetVersion(&ver, NULL, NULL));
    printf("version %lu\n", ver);
    show("virDomainGetInfo(NULL)", virDomainGetInfo(NULL, &info));
    show("virConnectNumOfDomains(NULL)", virConnectNumOfDomains(NULL));
    show("virNetworkGetName(NULL)", virNetworkGetName(NULL) != NULL);
    show("virStoragePoolFree(NULL)", virStoragePoolFree(NULL));
    printf("handler ran %d times\n", handled);

    memset(&copy, 0, sizeof(copy));
    int code = virCopyLastError(&copy);
    printf("virCopyLastError -> %d (%s)\n", code, copy.message);
    virErrorPtr saved = virSaveLastError();
    printf("virSaveLastError -> code=%d\n", saved->code);
    virFreeError(saved);
    virResetError(&copy);
    virResetLastError();
    printf("after reset: %p %s code=%d\n", (void *)virGetLastError(), virGetLastErrorMessage(),
           virGetLastErrorCode());

    printf("auth default: %d types, first %d, callback %s\n", virConnectAuthPtrDefault->ncredtype,
           virConnectAuthPtrDefault->credtype[0], virConnectAuthPtrDefault->cb ? "set" : "unset");

    virConnectPtr conn = virConnectOpen("test:///default");
    show("virConnectOpen", conn != NULL);
    if (!conn)
        return 1;
    virDomainPtr dom = virDomainLookupByName(conn, "test");
    show("virDomainLookupByName(test)", dom != NULL);
    show("virDomainGetInfo", virDomainGetInfo(dom, &info));
    printf("virDomainGetConnect is the connection: %d\n", virDomainGetConnect(dom) == conn);
    printf("info: state=%d maxMem=%lu memory=%lu vcpus=%d\n", info.state, info.maxMem,
           info.memory, info.nrVirtCpu);
    show("virDomainGetInfo(info=NULL)", virDomainGetInfo(dom, NULL));
    show("virDomainLookupByName(nope)", virDomainLookupByName(conn, "nope") != NULL);
    show("virDomainMigrateSetMaxDowntime", virDomainMigrateSetMaxDowntime(dom, 1, 0));
    printf("virDomainRef -> %d\n", virDomainRef(dom));
    printf("virDomainFree -> %d\n", virDomainFree(dom));
    printf("virDomainFree -> %d\n", virDomainFree(dom));
    printf("virConnectRef -> %d\n", virConnectRef(conn));
    printf("virConnectClose -> %d\n", virConnectClose(conn));
    printf("virConnectClose -> %d\n", virConnectClose(conn));
    printf("handler ran %d times\n", handled);
    return 0;
}

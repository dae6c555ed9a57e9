/* Free functions for the structs the shim allocates and hands to C callers;
 * they must be C so that freeing never needs Python. */
#include <stdlib.h>

#include "pyvirt_shim.h"

#define PUBLIC __attribute__((visibility("default")))

PUBLIC void
virDomainFSInfoFree(virDomainFSInfoPtr info)
{
    if (!info)
        return;
    free(info->mountpoint);
    free(info->name);
    free(info->fstype);
    for (size_t i = 0; i < info->ndevAlias; i++)
        free(info->devAlias[i]);
    free(info->devAlias);
    free(info);
}

PUBLIC void
virDomainIOThreadInfoFree(virDomainIOThreadInfoPtr info)
{
    if (!info)
        return;
    free(info->cpumap);
    free(info);
}

PUBLIC void
virDomainInterfaceFree(virDomainInterfacePtr iface)
{
    if (!iface)
        return;
    free(iface->name);
    free(iface->hwaddr);
    for (size_t i = 0; i < iface->naddrs; i++)
        free(iface->addrs[i].addr);
    free(iface->addrs);
    free(iface);
}

PUBLIC void
virNetworkDHCPLeaseFree(virNetworkDHCPLeasePtr lease)
{
    if (!lease)
        return;
    free(lease->iface);
    free(lease->mac);
    free(lease->iaid);
    free(lease->ipaddr);
    free(lease->hostname);
    free(lease->clientid);
    free(lease);
}

PUBLIC void
virDomainStatsRecordListFree(virDomainStatsRecordPtr *stats)
{
    if (!stats)
        return;
    for (virDomainStatsRecordPtr *next = stats; *next; next++) {
        virTypedParamsFree((*next)->params, (*next)->nparams);
        virDomainFree((*next)->dom);
        free(*next);
    }
    free(stats);
}

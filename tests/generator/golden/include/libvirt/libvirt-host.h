/* libvirt-host.h: generated from apispec/libvirt.xml by pyvirt's generator; do not edit. */

#ifndef LIBVIRT_HOST_H
# define LIBVIRT_HOST_H

# ifndef __VIR_LIBVIRT_H_INCLUDES__
#  error "Include <libvirt/libvirt.h> instead of this file"
# endif

# ifdef __cplusplus
extern "C" {
# endif

typedef struct _virConnect virConnect;

typedef virConnect *virConnectPtr;

typedef enum {
    VIR_STATE_OFF = 0,
    VIR_STATE_ON = 1,
# ifdef VIR_ENUM_SENTINELS
    VIR_STATE_LAST = 2,
# endif
} virState;

typedef struct _virInfo virInfo;

struct _virInfo {
    unsigned char state;
    char name[16];
    union {
        int i;
        char *s;
    } value;
};

typedef virInfo *virInfoPtr;

typedef void (*virTickCallback)(virConnectPtr conn, void *opaque);

/* Opens a connection. */
virConnectPtr virOpen(const char *name);

int virGetInfo(virConnectPtr conn, virInfoPtr info);

char *virGetName(virConnectPtr conn, unsigned int flags);

VIR_EXPORT_VAR virConnectPtr virDefaultThing;

# ifdef __cplusplus
}
# endif

#endif /* LIBVIRT_HOST_H */

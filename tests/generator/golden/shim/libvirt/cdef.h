/* cffi declarations for libvirt's shim: generated from apispec/; do not edit. */
typedef struct _virConnect virConnect;
typedef virConnect *virConnectPtr;
typedef enum {
    VIR_STATE_OFF = 0,
    VIR_STATE_ON = 1,
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

/* libc, for memory handed to C callers */
void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void free(void *ptr);
char *strdup(const char *s);

/* shim/pyvirt_shim.h */
void pyvirt_set_error(int code, int domain, int level, const char *message,
                      const char *str1, const char *str2, const char *str3,
                      int int1, int int2, virErrorFunc conn_handler, void *conn_data);
void pyvirt_reset_error(void);
void pyvirt_copy_error(virErrorPtr to, const virError *from);

/* Trampolines handed to an application's event loop (shim/pyvirt_shim/eventimpl.py) */
extern "Python" void pyvirt_handle_cb(int watch, int fd, int events, void *opaque);
extern "Python" void pyvirt_timeout_cb(int timer, void *opaque);
extern "Python" void pyvirt_free_cb(void *opaque);

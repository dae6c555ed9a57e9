virConnectPtr virOpen(const char *name);
int virGetInfo(virConnectPtr conn, virInfoPtr info);
char *virGetName(virConnectPtr conn, unsigned int flags);

virConnectPtr pyvirt_py_virOpen(const char *name);
int pyvirt_py_virGetInfo(virConnectPtr conn, virInfoPtr info);
char *pyvirt_py_virGetName(virConnectPtr conn, unsigned int flags);

/* Hand-written helpers of the generated pyvirt_stubs.c: errors as the OCaml
 * exception Pyvirt.Error, typed parameters as (string * typed_value) lists,
 * callbacks as closures kept alive by a global root.  Included by the generated
 * stubs after the OCaml and libvirt headers.
 *
 * The stubs never release the OCaml runtime lock: libvirt calls a callback in the
 * thread that runs the event loop (virEventRunDefaultImpl, called from OCaml),
 * where the runtime is ready to run OCaml code. */
#ifndef PYVIRT_OCAML_H
#define PYVIRT_OCAML_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libvirt prints every error on stderr unless a handler is set; OCaml callers
 * get the error as an exception instead. */
static void pv_quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

CAMLprim value pv_init(value unit)
{
    (void)unit;
    virSetErrorFunc(NULL, pv_quiet);
    return Val_unit;
}

/* Raise Pyvirt.Error { code; domain; level; message }. */
static void pv_raise(int code, int domain, int level, const char *message)
{
    CAMLparam0();
    CAMLlocal2(rec, msg);
    const value *exn = caml_named_value("pyvirt.error");
    msg = caml_copy_string(message ? message : "");
    if (exn == NULL)
        caml_failwith(message ? message : "libvirt error");
    rec = caml_alloc_tuple(4);
    Store_field(rec, 0, Val_int(code));
    Store_field(rec, 1, Val_int(domain));
    Store_field(rec, 2, Val_int(level));
    Store_field(rec, 3, msg);
    caml_raise_with_arg(*exn, rec);
    CAMLnoreturn;
}

/* Raise the calling thread's last libvirt error. */
static void pv_fail(void)
{
    virErrorPtr e = virGetLastError();
    if (e && e->code != VIR_ERR_OK)
        pv_raise(e->code, e->domain, e->level, e->message);
    pv_raise(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, VIR_ERR_ERROR,
             "an error occurred, but the cause is unknown");
}

/* Raise VIR_ERR_INVALID_ARG, worded as libvirt words it. */
static void pv_invalid_arg(const char *fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "invalid argument: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    va_end(ap);
    pv_raise(VIR_ERR_INVALID_ARG, VIR_FROM_NONE, VIR_ERR_ERROR, buf);
}

/* An object is a custom block holding the C pointer; NULL once freed. */
static void *pv_pointer(value v, const char *what)
{
    void *p = *(void **)Data_custom_val(v);
    if (p == NULL)
        pv_invalid_arg("the %s has been freed", what);
    return p;
}

static const unsigned char *pv_uuid(value v)
{
    if (caml_string_length(v) != VIR_UUID_BUFLEN)
        pv_invalid_arg("a UUID must hold %d bytes", VIR_UUID_BUFLEN);
    return (const unsigned char *)String_val(v);
}

/* Typed parameters: a list of (field, typed_value), the constructors of
 * typed_value in VIR_TYPED_PARAM_* order (Int is tag 0). */
/* An OCaml string array of n C strings (a struct field such as devAlias). */
static value pv_strings_value(char **strs, size_t n)
{
    CAMLparam0();
    CAMLlocal2(r, v);
    size_t i;
    r = caml_alloc(strs ? n : 0, 0);
    for (i = 0; strs && i < n; i++) {
        v = caml_copy_string(strs[i] ? strs[i] : "");
        Store_field(r, i, v);
    }
    CAMLreturn(r);
}

static value pv_typed_to_value(virTypedParameterPtr params, int n)
{
    CAMLparam0();
    CAMLlocal5(list, cell, pair, v, payload);
    CAMLlocal1(name);
    int i;
    list = Val_emptylist;
    for (i = (params ? n : 0) - 1; i >= 0; i--) {
        virTypedParameterPtr p = &params[i];
        switch (p->type) {
        case VIR_TYPED_PARAM_INT: payload = Val_long(p->value.i); break;
        case VIR_TYPED_PARAM_UINT: payload = Val_long(p->value.ui); break;
        case VIR_TYPED_PARAM_LLONG: payload = caml_copy_int64(p->value.l); break;
        case VIR_TYPED_PARAM_ULLONG: payload = caml_copy_int64((int64_t)p->value.ul); break;
        case VIR_TYPED_PARAM_DOUBLE: payload = caml_copy_double(p->value.d); break;
        case VIR_TYPED_PARAM_BOOLEAN: payload = Val_bool(p->value.b); break;
        case VIR_TYPED_PARAM_STRING: payload = caml_copy_string(p->value.s ? p->value.s : ""); break;
        default: continue;
        }
        v = caml_alloc(1, p->type - 1);
        Store_field(v, 0, payload);
        name = caml_copy_string(p->field);
        pair = caml_alloc_tuple(2);
        Store_field(pair, 0, name);
        Store_field(pair, 1, v);
        cell = caml_alloc(2, 0);
        Store_field(cell, 0, pair);
        Store_field(cell, 1, list);
        list = cell;
    }
    CAMLreturn(list);
}

/* A C array from a typed_params list; -1 (libvirt's error set, nothing left
 * allocated) on failure.  Allocates nothing on the OCaml heap. */
static int pv_typed_from_value(value list, virTypedParameterPtr *params, int *n)
{
    int max = 0;
    *params = NULL;
    *n = 0;
    for (; Is_block(list); list = Field(list, 1)) {
        value pair = Field(list, 0), v = Field(pair, 1), x = Field(v, 0);
        const char *field = String_val(Field(pair, 0));
        int rc = -1;
        switch (Tag_val(v) + 1) {
        case VIR_TYPED_PARAM_INT: rc = virTypedParamsAddInt(params, n, &max, field, Long_val(x)); break;
        case VIR_TYPED_PARAM_UINT: rc = virTypedParamsAddUInt(params, n, &max, field, Long_val(x)); break;
        case VIR_TYPED_PARAM_LLONG: rc = virTypedParamsAddLLong(params, n, &max, field, Int64_val(x)); break;
        case VIR_TYPED_PARAM_ULLONG:
            rc = virTypedParamsAddULLong(params, n, &max, field, (unsigned long long)Int64_val(x));
            break;
        case VIR_TYPED_PARAM_DOUBLE: rc = virTypedParamsAddDouble(params, n, &max, field, Double_val(x)); break;
        case VIR_TYPED_PARAM_BOOLEAN: rc = virTypedParamsAddBoolean(params, n, &max, field, Bool_val(x)); break;
        case VIR_TYPED_PARAM_STRING: rc = virTypedParamsAddString(params, n, &max, field, String_val(x)); break;
        }
        if (rc < 0) {
            virTypedParamsFree(*params, *n);
            *params = NULL;
            *n = 0;
            return -1;
        }
    }
    return 0;
}

/* A callback's user data: a global root holding the closure, released by the
 * free callback libvirt calls when it forgets the callback. */
static value *pv_callback_new(value closure)
{
    value *root = malloc(sizeof(*root));
    if (root == NULL)
        caml_raise_out_of_memory();
    *root = closure;
    caml_register_generational_global_root(root);
    return root;
}

static void pv_callback_free(void *opaque)
{
    value *root = opaque;
    if (root) {
        caml_remove_generational_global_root(root);
        free(root);
    }
}

/* Call a callback's closure; an exception inside it is reported on stderr, as it
 * cannot cross libvirt's C frames. */
static void pv_call(value *root, int n, value *args)
{
    value r = caml_callbackN_exn(*root, n, args);
    if (Is_exception_result(r)) {
        char *s = caml_format_exception(Extract_exception(r));
        fprintf(stderr, "pyvirt: callback raised %s\n", s);
        caml_stat_free(s);
    }
}

/* Callbacks without user data (virConnectDomainEventDeregister) are matched by
 * libvirt on their C pointer, one trampoline per callback type: remember which
 * closure each object registered per type (physical equality), and pass the
 * trampoline back only for that one (any other gets pv_unregistered, which
 * libvirt never saw). */
struct pv_keyed {
    void *obj;
    const char *type;
    value *closure;
    struct pv_keyed *next;
};
static struct pv_keyed *pv_keyed_list;

static void pv_unregistered(void)
{
}

static struct pv_keyed **pv_keyed_find(void *obj, const char *type)
{
    struct pv_keyed **p = &pv_keyed_list;
    while (*p && !((*p)->obj == obj && strcmp((*p)->type, type) == 0))
        p = &(*p)->next;
    return p;
}

static void pv_keyed_drop(void *obj, const char *type)
{
    struct pv_keyed **p = pv_keyed_find(obj, type), *n = *p;
    if (n) {
        *p = n->next;
        pv_callback_free(n->closure);
        free(n);
    }
}

static void pv_keyed_keep(void *obj, const char *type, value closure)
{
    struct pv_keyed *n;
    pv_keyed_drop(obj, type);
    n = malloc(sizeof(*n));
    if (!n)
        return;
    n->obj = obj;
    n->type = type;
    n->closure = pv_callback_new(closure);
    n->next = pv_keyed_list;
    pv_keyed_list = n;
}

static int pv_keyed_is(void *obj, const char *type, value closure)
{
    struct pv_keyed *n = *pv_keyed_find(obj, type);
    return n && *n->closure == closure;
}

/* virConnectAuth from a Pyvirt.auth record {credtype; callback}: the callback is
 * called during the open with the credentials asked and answers each (string
 * option list, in order); an exception refuses (the callback returns -1).
 * pv_auth_free releases what pv_auth_from_value allocated. */
static int pv_auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
    CAMLparam0();
    CAMLlocal4(list, item, rec, answers);
    int i;
    list = Val_emptylist;
    for (i = (int)ncred - 1; i >= 0; i--) {
        rec = caml_alloc_tuple(4);
        Store_field(rec, 0, Val_int(cred[i].type));
        Store_field(rec, 1, caml_copy_string(cred[i].prompt ? cred[i].prompt : ""));
        Store_field(rec, 2, caml_copy_string(cred[i].challenge ? cred[i].challenge : ""));
        Store_field(rec, 3, caml_copy_string(cred[i].defresult ? cred[i].defresult : ""));
        item = caml_alloc(2, 0);
        Store_field(item, 0, rec);
        Store_field(item, 1, list);
        list = item;
    }
    answers = caml_callback_exn(*(value *)cbdata, list);
    if (Is_exception_result(answers))
        CAMLreturnT(int, -1);
    for (i = 0; i < (int)ncred && Is_block(answers); i++, answers = Field(answers, 1)) {
        value a = Field(answers, 0);
        if (Is_block(a)) {
            mlsize_t n = caml_string_length(Field(a, 0));
            cred[i].result = malloc(n + 1);   /* libvirt frees it */
            if (!cred[i].result)
                CAMLreturnT(int, -1);
            memcpy(cred[i].result, String_val(Field(a, 0)), n + 1);
            cred[i].resultlen = n;
        }
    }
    CAMLreturnT(int, 0);
}

static void pv_auth_from_value(value v, virConnectAuthPtr auth)
{
    value l;
    int n = 0;
    memset(auth, 0, sizeof(*auth));
    for (l = Field(v, 0); Is_block(l); l = Field(l, 1))
        n++;
    auth->credtype = calloc(n + 1, sizeof(int));
    auth->cbdata = malloc(sizeof(value));
    if (!auth->credtype || !auth->cbdata) {
        free(auth->credtype);
        free(auth->cbdata);
        caml_raise_out_of_memory();
    }
    for (n = 0, l = Field(v, 0); Is_block(l); l = Field(l, 1))
        auth->credtype[n++] = Int_val(Field(l, 0));
    auth->ncredtype = n;
    *(value *)auth->cbdata = Field(v, 1);
    caml_register_generational_global_root((value *)auth->cbdata);
    auth->cb = pv_auth_cb;
}

static void pv_auth_free(virConnectAuthPtr auth)
{
    if (!auth)
        return;
    caml_remove_generational_global_root((value *)auth->cbdata);
    free(auth->cbdata);
    free(auth->credtype);
}

/* Callbacks run during the call they are given to (the stream handlers) share
 * one user data: their closures by callback type, rooted for the call. */
#define PV_CBS_MAX 4
struct pv_cbs {
    int n;
    const char *type[PV_CBS_MAX];
    value closure[PV_CBS_MAX];
};

static void pv_cbs_add(struct pv_cbs *c, const char *type, value closure)
{
    c->type[c->n] = type;
    c->closure[c->n] = closure;
    caml_register_generational_global_root(&c->closure[c->n]);
    c->n++;
}

static void pv_cbs_release(struct pv_cbs *c)
{
    while (c->n > 0)
        caml_remove_generational_global_root(&c->closure[--c->n]);
}

static value *pv_cbs_find(struct pv_cbs *c, const char *type)
{
    int i;
    for (i = 0; i < c->n; i++)
        if (strcmp(c->type[i], type) == 0)
            return &c->closure[i];
    return NULL;
}

/* Copy the bytes of an OCaml string into buf of n bytes: how many, or -1 when
 * they do not fit (more than was asked for is refused, not cut). */
static int pv_bytes_into(value s, char *buf, size_t n)
{
    size_t len = caml_string_length(s);
    if (len > n)
        return -1;
    memcpy(buf, String_val(s), len);
    return (int)len;
}

/* Hooks without user data (virEventRegisterImpl's): one set for the process. */
static struct pv_cbs pv_globals;

/* A C function and its user data, in a custom block; pv_cfn_closure makes the
 * OCaml closure over it that Pyvirt registered under `maker` (a callback a hook
 * is given, or its free function). */
struct pv_cfn {
    void (*fn)(void);
    void *opaque;
};

static struct custom_operations pv_cfn_ops = {
    "pyvirt.cfn", custom_finalize_default, custom_compare_default, custom_hash_default,
    custom_serialize_default, custom_deserialize_default, custom_compare_ext_default,
    custom_fixed_length_default
};

static value pv_cfn_closure(const char *maker, void (*fn)(void), void *opaque)
{
    CAMLparam0();
    CAMLlocal1(blk);
    const value *mk = caml_named_value(maker);
    struct pv_cfn *d;
    blk = caml_alloc_custom(&pv_cfn_ops, sizeof(struct pv_cfn), 0, 1);
    d = Data_custom_val(blk);
    d->fn = fn;
    d->opaque = opaque;
    CAMLreturn(caml_callback(*mk, blk));
}

/* The free function given with a callback: called at most once. */
CAMLprim value pv_call_free(value v_fn, value v_unit)
{
    struct pv_cfn *d = Data_custom_val(v_fn);
    (void)v_unit;
    if (d->fn) {
        virFreeCallback f = (virFreeCallback)d->fn;
        d->fn = NULL;
        f(d->opaque);
    }
    return Val_unit;
}

#endif

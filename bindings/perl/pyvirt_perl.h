/* Hand-written helpers of the generated PyVirt.xs: errors as PyVirt::Error
 * objects, object handles, typed parameters as hashes, callbacks as code refs.
 * Included by the generated XS after perl.h and libvirt's headers. */
#ifndef PYVIRT_PERL_H
#define PYVIRT_PERL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* libvirt prints every error on stderr unless a handler is set; Perl callers
 * get the error as an exception instead. */
static void pv_quiet(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

static SV *pv_error_sv(pTHX_ int code, int domain, int level, const char *message)
{
    HV *hv = newHV();
    hv_stores(hv, "code", newSViv(code));
    hv_stores(hv, "domain", newSViv(domain));
    hv_stores(hv, "level", newSViv(level));
    hv_stores(hv, "message", message ? newSVpv(message, 0) : newSVpvs(""));
    return sv_bless(newRV_noinc((SV *)hv), gv_stashpvs("PyVirt::Error", GV_ADD));
}

/* Die with the calling thread's last libvirt error. */
static void pv_fail(pTHX)
{
    virErrorPtr e = virGetLastError();
    SV *err;
    if (e && e->code != VIR_ERR_OK)
        err = pv_error_sv(aTHX_ e->code, e->domain, e->level, e->message);
    else
        err = pv_error_sv(aTHX_ VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, VIR_ERR_ERROR,
                          "an error occurred, but the cause is unknown");
    croak_sv(sv_2mortal(err));
}

/* Die with VIR_ERR_INVALID_ARG, worded as libvirt words it. */
static void pv_invalid_arg(pTHX_ const char *fmt, ...)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "invalid argument: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    va_end(ap);
    croak_sv(sv_2mortal(pv_error_sv(aTHX_ VIR_ERR_INVALID_ARG, VIR_FROM_NONE, VIR_ERR_ERROR, buf)));
}

/* An object is a blessed reference to an integer holding the C pointer; 0 once freed. */
static SV *pv_wrap(pTHX_ void *ptr, const char *klass)
{
    return sv_setref_pv(newSV(0), klass, ptr);
}

static void *pv_object(pTHX_ SV *sv, const char *klass, int nullable, int index)
{
    if (!SvOK(sv)) {
        if (nullable)
            return NULL;
        pv_invalid_arg(aTHX_ "argument %d must be a %s, not undef", index, klass);
    }
    if (!sv_isobject(sv) || !sv_derived_from(sv, klass))
        pv_invalid_arg(aTHX_ "argument %d must be a %s", index, klass);
    return INT2PTR(void *, SvIV(SvRV(sv)));
}

static const unsigned char *pv_uuid(pTHX_ SV *sv, int index)
{
    STRLEN len;
    const char *p = SvOK(sv) ? SvPV(sv, len) : NULL;
    if (p && len != VIR_UUID_BUFLEN)
        pv_invalid_arg(aTHX_ "argument %d must hold %d bytes", index, VIR_UUID_BUFLEN);
    return (const unsigned char *)p;
}

static AV *pv_array(pTHX_ SV *sv, int index)
{
    if (!SvROK(sv) || SvTYPE(SvRV(sv)) != SVt_PVAV)
        pv_invalid_arg(aTHX_ "argument %d must be an array reference", index);
    return (AV *)SvRV(sv);
}

/* Typed parameters: a PyVirt::TypedParams hash (field => value); each field's
 * VIR_TYPED_PARAM_* type is kept beside it (PyVirt::TypedParams->type_of). */
/* A reference to an array of n C strings (a struct field such as devAlias). */
static SV *pv_strings_sv(pTHX_ char **strs, size_t n)
{
    AV *av = newAV();
    size_t i;
    for (i = 0; strs && i < n; i++)
        av_push(av, strs[i] ? newSVpv(strs[i], 0) : newSV(0));
    return newRV_noinc((SV *)av);
}

static SV *pv_typed_to_sv(pTHX_ virTypedParameterPtr params, int n)
{
    HV *hv = newHV(), *types = newHV(), *registry;
    SV *rv;
    char key[48];
    int i;
    for (i = 0; params && i < n; i++) {
        virTypedParameterPtr p = &params[i];
        SV *v;
        switch (p->type) {
        case VIR_TYPED_PARAM_INT: v = newSViv(p->value.i); break;
        case VIR_TYPED_PARAM_UINT: v = newSVuv(p->value.ui); break;
        case VIR_TYPED_PARAM_LLONG: v = newSViv(p->value.l); break;
        case VIR_TYPED_PARAM_ULLONG: v = newSVuv(p->value.ul); break;
        case VIR_TYPED_PARAM_DOUBLE: v = newSVnv(p->value.d); break;
        case VIR_TYPED_PARAM_BOOLEAN: v = newSViv(p->value.b ? 1 : 0); break;
        case VIR_TYPED_PARAM_STRING:
            v = p->value.s ? newSVpv(p->value.s, 0) : newSVpvs("");
            break;
        default:
            continue;
        }
        hv_store(hv, p->field, strlen(p->field), v, 0);
        hv_store(types, p->field, strlen(p->field), newSViv(p->type), 0);
    }
    rv = sv_bless(newRV_noinc((SV *)hv), gv_stashpvs("PyVirt::TypedParams", GV_ADD));
    registry = get_hv("PyVirt::TypedParams::TYPES", GV_ADD);
    snprintf(key, sizeof(key), "%" UVuf, PTR2UV(hv));
    hv_store(registry, key, strlen(key), newRV_noinc((SV *)types), 0);
    return rv;
}

/* A hash reference to a C array (released by the caller with virTypedParamsFree).
 * A value's type is, in order: [TYPE, value], the type a PyVirt::TypedParams read
 * from libvirt recorded, else guessed (integer >= 0: ULLONG, < 0: LLONG, other
 * number: DOUBLE, anything else: STRING). undef is an empty array. */
static void pv_typed_from_sv(pTHX_ SV *sv, int index, virTypedParameterPtr *params, int *n)
{
    HV *hv, *types = NULL;
    HE *he;
    int max = 0;
    *params = NULL;
    *n = 0;
    if (!SvOK(sv))
        return;
    if (!SvROK(sv) || SvTYPE(SvRV(sv)) != SVt_PVHV)
        pv_invalid_arg(aTHX_ "argument %d must be a hash reference of typed parameters", index);
    hv = (HV *)SvRV(sv);
    if (sv_isobject(sv)) {
        char key[48];
        SV **t;
        snprintf(key, sizeof(key), "%" UVuf, PTR2UV(hv));
        t = hv_fetch(get_hv("PyVirt::TypedParams::TYPES", GV_ADD), key, strlen(key), 0);
        if (t && SvROK(*t))
            types = (HV *)SvRV(*t);
    }
    hv_iterinit(hv);
    while ((he = hv_iternext(hv))) {
        I32 klen;
        const char *field = hv_iterkey(he, &klen);
        SV *val = hv_iterval(hv, he);
        int type = -1, rc;
        if (SvROK(val) && SvTYPE(SvRV(val)) == SVt_PVAV) {
            SV **t = av_fetch((AV *)SvRV(val), 0, 0), **v = av_fetch((AV *)SvRV(val), 1, 0);
            if (!t || !v) {
                virTypedParamsFree(*params, *n);
                pv_invalid_arg(aTHX_ "typed parameter '%s' must be [TYPE, value]", field);
            }
            type = SvIV(*t);
            val = *v;
        } else if (types) {
            SV **t = hv_fetch(types, field, klen, 0);
            if (t)
                type = SvIV(*t);
        }
        if (type < 0) {
            if (SvIOK(val))
                type = SvIsUV(val) || SvIV(val) >= 0 ? VIR_TYPED_PARAM_ULLONG : VIR_TYPED_PARAM_LLONG;
            else if (SvNOK(val))
                type = VIR_TYPED_PARAM_DOUBLE;
            else
                type = VIR_TYPED_PARAM_STRING;
        }
        switch (type) {
        case VIR_TYPED_PARAM_INT: rc = virTypedParamsAddInt(params, n, &max, field, SvIV(val)); break;
        case VIR_TYPED_PARAM_UINT: rc = virTypedParamsAddUInt(params, n, &max, field, SvUV(val)); break;
        case VIR_TYPED_PARAM_LLONG: rc = virTypedParamsAddLLong(params, n, &max, field, SvIV(val)); break;
        case VIR_TYPED_PARAM_ULLONG: rc = virTypedParamsAddULLong(params, n, &max, field, SvUV(val)); break;
        case VIR_TYPED_PARAM_DOUBLE: rc = virTypedParamsAddDouble(params, n, &max, field, SvNV(val)); break;
        case VIR_TYPED_PARAM_BOOLEAN:
            rc = virTypedParamsAddBoolean(params, n, &max, field, SvTRUE(val));
            break;
        case VIR_TYPED_PARAM_STRING:
            rc = virTypedParamsAddString(params, n, &max, field, SvPV_nolen(val));
            break;
        default:
            virTypedParamsFree(*params, *n);
            pv_invalid_arg(aTHX_ "typed parameter '%s' has an unknown type %d", field, type);
            return;
        }
        if (rc < 0) {
            virTypedParamsFree(*params, *n);
            pv_fail(aTHX);
        }
    }
}

/* A callback's user data is a new reference to the code ref, dropped by the
 * free callback libvirt calls when it forgets the callback. */
static SV *pv_callback_new(pTHX_ SV *sv, int index)
{
    if (!SvROK(sv) || SvTYPE(SvRV(sv)) != SVt_PVCV)
        pv_invalid_arg(aTHX_ "argument %d must be a code reference", index);
    return newSVsv(sv);
}

static void pv_callback_free(void *opaque)
{
#ifdef PERL_IMPLICIT_CONTEXT
    /* A thread that runs no Perl (a driver's own) cannot touch Perl values: leak. */
    if (!PERL_GET_THX)
        return;
#endif
    {
        dTHX;
        if (opaque)
            SvREFCNT_dec((SV *)opaque);
    }
}

/* Call a callback's code ref with the SVs already pushed since PUSHMARK; a die
 * inside it becomes a warning, as an exception cannot cross libvirt's C frames. */
static void pv_call(pTHX_ SV *code)
{
    call_sv(code, G_DISCARD | G_EVAL);
    if (SvTRUE(ERRSV))
        warn("PyVirt: callback died: %" SVf, SVfARG(ERRSV));
}

/* Callbacks without user data (virConnectDomainEventDeregister) are matched by
 * libvirt on their C pointer, one trampoline per callback type: remember which
 * code ref each object registered per type, and pass the trampoline back only
 * for that one (any other gets pv_unregistered, which libvirt never saw). */
struct pv_keyed {
    void *obj;
    const char *type;
    SV *cv;
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

static void pv_keyed_drop(pTHX_ void *obj, const char *type)
{
    struct pv_keyed **p = pv_keyed_find(obj, type), *n = *p;
    if (n) {
        *p = n->next;
        SvREFCNT_dec(n->cv);
        free(n);
    }
}

static void pv_keyed_keep(pTHX_ void *obj, const char *type, SV *code)
{
    struct pv_keyed *n = malloc(sizeof(*n));
    pv_keyed_drop(aTHX_ obj, type);
    if (!n)
        return;
    n->obj = obj;
    n->type = type;
    n->cv = SvREFCNT_inc(SvRV(code));
    n->next = pv_keyed_list;
    pv_keyed_list = n;
}

static int pv_keyed_is(pTHX_ void *obj, const char *type, SV *code)
{
    struct pv_keyed *n = *pv_keyed_find(obj, type);
    return n && SvROK(code) && SvRV(code) == n->cv;
}

/* virConnectAuth: a hash reference {credtype => [VIR_CRED_*...], callback => sub}.
 * libvirt calls the code ref during the open with one hash per credential asked
 * ({type, prompt, challenge, defresult}); it sets {result} in each, or dies to
 * refuse.  The struct lives until the calling XS function returns. */
static int pv_auth_cb(virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
    int failed;
    unsigned int i;
#ifdef PERL_IMPLICIT_CONTEXT
    if (!PERL_GET_THX)
        return -1;
#endif
    {
        dTHX;
        dSP;
        HV **asked;
        Newxz(asked, ncred + 1, HV *);
        ENTER;
        SAVETMPS;
        SAVEFREEPV(asked);
        PUSHMARK(SP);
        for (i = 0; i < ncred; i++) {
            HV *hv = newHV();
            hv_stores(hv, "type", newSViv(cred[i].type));
            hv_stores(hv, "prompt", cred[i].prompt ? newSVpv(cred[i].prompt, 0) : newSV(0));
            hv_stores(hv, "challenge", cred[i].challenge ? newSVpv(cred[i].challenge, 0) : newSV(0));
            hv_stores(hv, "defresult", cred[i].defresult ? newSVpv(cred[i].defresult, 0) : newSV(0));
            asked[i] = hv;
            XPUSHs(sv_2mortal(newRV_noinc((SV *)hv)));
        }
        PUTBACK;
        call_sv((SV *)cbdata, G_DISCARD | G_EVAL);
        failed = SvTRUE(ERRSV);
        for (i = 0; !failed && i < ncred; i++) {
            SV **r = hv_fetchs(asked[i], "result", 0);
            if (r && SvOK(*r)) {
                STRLEN n;
                const char *p = SvPV(*r, n);
                cred[i].result = malloc(n + 1);   /* libvirt frees it */
                if (!cred[i].result) {
                    failed = 1;
                    break;
                }
                memcpy(cred[i].result, p, n + 1);
                cred[i].resultlen = n;
            }
        }
        FREETMPS;
        LEAVE;
    }
    return failed ? -1 : 0;
}

static virConnectAuthPtr pv_auth(pTHX_ SV *sv, int index)
{
    virConnectAuthPtr auth;
    HV *hv;
    SV **types, **code;
    AV *av;
    SSize_t i, n;
    if (!SvOK(sv))
        return NULL;
    if (!SvROK(sv) || SvTYPE(SvRV(sv)) != SVt_PVHV)
        pv_invalid_arg(aTHX_ "argument %d must be a hash reference {credtype, callback}", index);
    hv = (HV *)SvRV(sv);
    types = hv_fetchs(hv, "credtype", 0);
    code = hv_fetchs(hv, "callback", 0);
    if (!types || !SvROK(*types) || SvTYPE(SvRV(*types)) != SVt_PVAV)
        pv_invalid_arg(aTHX_ "argument %d: credtype must be an array reference", index);
    if (!code || !SvROK(*code) || SvTYPE(SvRV(*code)) != SVt_PVCV)
        pv_invalid_arg(aTHX_ "argument %d: callback must be a code reference", index);
    av = (AV *)SvRV(*types);
    n = av_len(av) + 1;
    Newxz(auth, 1, virConnectAuth);
    SAVEFREEPV(auth);
    Newxz(auth->credtype, n + 1, int);
    SAVEFREEPV(auth->credtype);
    for (i = 0; i < n; i++) {
        SV **v = av_fetch(av, i, 0);
        auth->credtype[i] = v ? (int)SvIV(*v) : 0;
    }
    auth->ncredtype = n;
    auth->cb = pv_auth_cb;
    auth->cbdata = *code;
    return auth;
}

#ifndef G_LIST
#define G_LIST G_ARRAY   /* perl before 5.36 */
#endif

/* Callbacks run during the call they are given to (the stream handlers) share
 * one user data: a hash of their code refs by callback type. */
static SV *pv_callback_in(pTHX_ HV *cbs, const char *type)
{
    SV **code = hv_fetch(cbs, type, strlen(type), 0);
    return code ? *code : &PL_sv_undef;
}

/* Copy the bytes of sv into buf of n bytes: how many, or -1 when they do not
 * fit (more than was asked for is refused, not cut). */
static int pv_bytes_into(pTHX_ SV *sv, char *buf, size_t n)
{
    STRLEN len = 0;
    const char *p = SvOK(sv) ? SvPV(sv, len) : "";
    if (len > n)
        return -1;
    memcpy(buf, p, len);
    return (int)len;
}

/* Hooks without user data (virEventRegisterImpl's): one hash of code refs by
 * callback type for the process. */
static HV *pv_globals;

static void pv_globals_set(pTHX_ HV *hooks)
{
    HV *old = pv_globals;
    pv_globals = (HV *)SvREFCNT_inc((SV *)hooks);
    if (old)
        SvREFCNT_dec((SV *)old);
}

/* A C function and its user data as a Perl code ref (a callback a hook is
 * given, or its free function); the anonymous XSUB owns the pair. */
struct pv_cfn {
    void (*fn)(void);
    void *opaque;
};

static SV *pv_cfn_new(pTHX_ XSUBADDR_t xsub, void (*fn)(void), void *opaque)
{
    struct pv_cfn d;
    SV *data;
    CV *cv = newXS(NULL, xsub, __FILE__);
    d.fn = fn;
    d.opaque = opaque;
    data = newSVpvn((const char *)&d, sizeof(d));
    CvXSUBANY(cv).any_ptr = data;
    sv_magicext((SV *)cv, data, PERL_MAGIC_ext, NULL, NULL, 0);   /* the CV keeps it */
    SvREFCNT_dec(data);
    return newRV_noinc((SV *)cv);
}

static struct pv_cfn *pv_cfn_of(CV *cv)
{
    return (struct pv_cfn *)SvPVX((SV *)CvXSUBANY(cv).any_ptr);
}

/* The free function given with a callback: called at most once. */
XS_INTERNAL(pv_xs_free)
{
    dXSARGS;
    struct pv_cfn *d = pv_cfn_of(cv);
    (void)items;
    if (d->fn) {
        virFreeCallback f = (virFreeCallback)d->fn;
        d->fn = NULL;
        f(d->opaque);
    }
    XSRETURN_EMPTY;
}

#endif

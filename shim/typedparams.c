/*
 * typedparams.c: libvirt's public virTypedParams* helpers.
 *
 * These only touch memory owned by the caller, so they are plain C in the
 * shim rather than a trip into the Python core.  Behaviour follows libvirt
 * 9.0 as observed by running it: same return values, error codes, messages,
 * and the same array capacities, so callers that rely on *maxparams see
 * identical numbers.  Where libvirt crashes on bad pointers or counts, we
 * report VIR_ERR_INVALID_ARG instead.
 */
#define _GNU_SOURCE /* strtod_l, strtoll_l, strtoull_l, strcasecmp_l */

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "pyvirt_shim.h"

#define PUBLIC __attribute__((visibility("default")))

/* libvirt raises these from a file without an error domain of its own. */
#define ERR_DOMAIN VIR_FROM_NONE

/* The message is passed as final text: libvirt prefixes most messages with
 * the description of their code, but not its argument-check messages. */
#define INVALID_ARG_PREFIX "invalid argument: "
#define INTERNAL_ERROR_PREFIX "internal error: "
#define NO_MEMORY_MESSAGE "out of memory"


/* ---- small helpers ---------------------------------------------------- */

static const char *
or_null(const char *str)
{
    return str ? str : "(null)";
}

/* Names as libvirt prints them in errors; it prints a type outside the enum
 * as "(null)" because its lookup returns NULL. */
static const char *
type_name(int type)
{
    static const char *const names[] = {
        "unknown", "int", "uint", "llong", "ullong", "double", "boolean", "string",
    };

    if (type < 0 || type >= (int)(sizeof(names) / sizeof(names[0])))
        return "(null)";
    return names[type];
}

static int
report_null_arg(const char *arg, const char *func)
{
    pyvirt_report_error(VIR_ERR_INVALID_ARG, ERR_DOMAIN,
                        "%s in %s must not be NULL", arg, func);
    return -1;
}

static int
report_negative_arg(const char *arg, const char *func)
{
    pyvirt_report_error(VIR_ERR_INVALID_ARG, ERR_DOMAIN,
                        "%s in %s must be zero or greater", arg, func);
    return -1;
}

static int
report_oom(void)
{
    pyvirt_report_error(VIR_ERR_NO_MEMORY, ERR_DOMAIN, NO_MEMORY_MESSAGE);
    return -1;
}

/* A field that fills all VIR_TYPED_PARAM_FIELD_LENGTH bytes has no
 * terminator and so never matches, rather than being read past its end. */
static bool
field_is(const virTypedParameter *param, const char *name)
{
    return strnlen(param->field, VIR_TYPED_PARAM_FIELD_LENGTH) < VIR_TYPED_PARAM_FIELD_LENGTH &&
           strcmp(param->field, name) == 0;
}


/* ---- string parsing for virTypedParamsAddFromString ------------------- */

static locale_t c_locale;

static void
init_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Parsing must not depend on the application's setlocale(): "1.5" is a
 * double even under a locale whose decimal point is ','. */
static locale_t
get_c_locale(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, init_c_locale);
    return c_locale;
}

/* Like libvirt: what strto* accepts in base 10 (leading blanks, a sign),
 * with nothing after the number and no overflow. */
static bool
parsed_whole(const char *str, const char *end)
{
    return errno == 0 && end != str && *end == '\0';
}

static bool
parse_llong(const char *str, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll_l(str, &end, 10, get_c_locale());
    return parsed_whole(str, end);
}

static bool
parse_int(const char *str, int *out)
{
    long long val;

    if (!parse_llong(str, &val) || val < INT_MIN || val > INT_MAX)
        return false;
    *out = (int)val;
    return true;
}

/* A leading '-' wraps around, as strtoull does: "-1" is ULLONG_MAX. */
static bool
parse_unsigned(const char *str, unsigned long long *out, bool *negative)
{
    char *end;

    errno = 0;
    *out = strtoull_l(str, &end, 10, get_c_locale());
    *negative = memchr(str, '-', end - str) != NULL;
    return parsed_whole(str, end);
}

static bool
parse_ullong(const char *str, unsigned long long *out)
{
    bool negative;

    return parse_unsigned(str, out, &negative);
}

/* libvirt wraps negative numbers modulo 2^32 ("-1" is UINT_MAX) as long as
 * their magnitude fits in 32 bits. */
static bool
parse_uint(const char *str, unsigned int *out)
{
    unsigned long long val;
    bool negative;

    if (!parse_unsigned(str, &val, &negative))
        return false;
    if (negative) {
        if (-val > UINT_MAX)
            return false;
        val &= UINT_MAX;
    }
    if (val > UINT_MAX)
        return false;
    *out = (unsigned int)val;
    return true;
}

/* Overflow and underflow (ERANGE) are rejected; "inf", "nan" and hex
 * floats are accepted, as strtod accepts them. */
static bool
parse_double(const char *str, double *out)
{
    char *end;

    errno = 0;
    *out = strtod_l(str, &end, get_c_locale());
    return parsed_whole(str, end);
}

static bool
parse_boolean(const char *str, char *out)
{
    if (strcasecmp_l(str, "true", get_c_locale()) == 0 || strcmp(str, "1") == 0) {
        *out = 1;
        return true;
    }
    if (strcasecmp_l(str, "false", get_c_locale()) == 0 || strcmp(str, "0") == 0) {
        *out = 0;
        return true;
    }
    return false;
}

static int
report_bad_value(const char *name, const char *expected)
{
    pyvirt_report_error(VIR_ERR_INVALID_ARG, ERR_DOMAIN,
                        INVALID_ARG_PREFIX "Invalid value for field '%s': expected %s",
                        name, expected);
    return -1;
}

static int
assign_from_string(virTypedParameterPtr param, const char *name,
                   int type, const char *value)
{
    param->type = type;
    switch (type) {
    case VIR_TYPED_PARAM_INT:
        if (!parse_int(value, &param->value.i))
            return report_bad_value(name, "int");
        return 0;
    case VIR_TYPED_PARAM_UINT:
        if (!parse_uint(value, &param->value.ui))
            return report_bad_value(name, "unsigned int");
        return 0;
    case VIR_TYPED_PARAM_LLONG:
        if (!parse_llong(value, &param->value.l))
            return report_bad_value(name, "long long");
        return 0;
    case VIR_TYPED_PARAM_ULLONG:
        if (!parse_ullong(value, &param->value.ul))
            return report_bad_value(name, "unsigned long long");
        return 0;
    case VIR_TYPED_PARAM_DOUBLE:
        if (!parse_double(value, &param->value.d))
            return report_bad_value(name, "double");
        return 0;
    case VIR_TYPED_PARAM_BOOLEAN:
        if (!parse_boolean(value, &param->value.b)) {
            pyvirt_report_error(VIR_ERR_INVALID_ARG, ERR_DOMAIN,
                                INVALID_ARG_PREFIX "Invalid boolean value for field '%s'",
                                name);
            return -1;
        }
        return 0;
    case VIR_TYPED_PARAM_STRING:
        if (!(param->value.s = strdup(value)))
            return report_oom();
        return 0;
    default:
        pyvirt_report_error(VIR_ERR_INTERNAL_ERROR, ERR_DOMAIN,
                            INTERNAL_ERROR_PREFIX "unexpected type %d for field %s",
                            type, name);
        return -1;
    }
}


/* ---- growing the array ------------------------------------------------ */

static int
check_array_args(virTypedParameterPtr *params, int *nparams, int *maxparams,
                 const char *func)
{
    if (!params)
        return report_null_arg("params", func);
    if (!nparams)
        return report_null_arg("nparams", func);
    if (!maxparams)
        return report_null_arg("maxparams", func);
    if (*nparams < 0)
        return report_negative_arg("*nparams", func);
    if (*maxparams < 0)
        return report_negative_arg("*maxparams", func);
    return 0;
}

/* Makes room for one more parameter with libvirt's growth rule (grow by
 * what is missing, but by at least half the current capacity; new slots
 * zeroed), so *maxparams takes the same values as with libvirt.  A NULL
 * array has no room, whatever *maxparams claims. */
static int
reserve_one(virTypedParameterPtr *params, int *nparams, int *maxparams)
{
    size_t alloc = *params ? (size_t)*maxparams : 0;
    size_t needed = (size_t)*nparams + 1;
    size_t grow;
    size_t new_alloc;
    virTypedParameterPtr grown;

    if (needed <= alloc)
        return 0;
    if (needed > INT_MAX) /* the count would no longer fit in an int */
        return report_oom();

    grow = needed - alloc;
    if (grow < alloc / 2)
        grow = alloc / 2;
    new_alloc = alloc + grow;
    if (new_alloc > INT_MAX)
        new_alloc = INT_MAX;
    if (new_alloc > SIZE_MAX / sizeof(virTypedParameter))
        return report_oom();

    if (!(grown = realloc(*params, new_alloc * sizeof(virTypedParameter))))
        return report_oom();
    memset(grown + alloc, 0, (new_alloc - alloc) * sizeof(virTypedParameter));

    *params = grown;
    *maxparams = (int)new_alloc;
    return 0;
}

/* Returns the slot the new parameter goes to.  Like libvirt, the array is
 * grown before the name and value are checked, so a failed call may still
 * have changed *params and *maxparams (but never *nparams). */
static virTypedParameterPtr
add_begin(virTypedParameterPtr *params, int *nparams, int *maxparams,
          const char *func)
{
    if (check_array_args(params, nparams, maxparams, func) < 0 ||
        reserve_one(params, nparams, maxparams) < 0)
        return NULL;
    return *params + *nparams;
}

static int
set_name(virTypedParameterPtr param, const char *name, const char *func)
{
    size_t len;

    if (!name)
        return report_null_arg("name", func);

    len = strlen(name);
    if (len >= VIR_TYPED_PARAM_FIELD_LENGTH) {
        pyvirt_report_error(VIR_ERR_INTERNAL_ERROR, ERR_DOMAIN,
                            INTERNAL_ERROR_PREFIX "Field name '%s' too long", name);
        return -1;
    }
    memset(param->field, 0, sizeof(param->field));
    memcpy(param->field, name, len);
    return 0;
}

/* Starts a virTypedParamsAdd<Type>: the slot with its name and type set,
 * or NULL after an error.  The caller stores the value and counts it. */
static virTypedParameterPtr
add_named(virTypedParameterPtr *params, int *nparams, int *maxparams,
          const char *name, int type, const char *func)
{
    virTypedParameterPtr param;

    if (!(param = add_begin(params, nparams, maxparams, func)) ||
        set_name(param, name, func) < 0)
        return NULL;
    param->type = type;
    return param;
}

/* libvirt stores NULL as an empty string, since a string value may not be NULL. */
static int
add_string(virTypedParameterPtr *params, int *nparams, int *maxparams,
           const char *name, const char *value, const char *func)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_STRING, func)))
        return -1;
    if (!(param->value.s = strdup(value ? value : "")))
        return report_oom();
    (*nparams)++;
    return 0;
}


/* ---- lookup ----------------------------------------------------------- */

/* Common part of virTypedParamsGet<Type>: 1 and *found when @name exists
 * with @type, 0 when absent, -1 after an error on a type mismatch. */
static int
lookup(virTypedParameterPtr params, int nparams, const char *name,
       int type, virTypedParameterPtr *found)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = virTypedParamsGet(params, nparams, name)))
        return 0;
    if (param->type != type) {
        pyvirt_report_error(VIR_ERR_INVALID_ARG, ERR_DOMAIN,
                            INVALID_ARG_PREFIX "Invalid type '%s' requested for parameter '%s', "
                            "actual type is '%s'",
                            type_name(type), param->field, type_name(param->type));
        return -1;
    }
    *found = param;
    return 1;
}


/* ---- public API ------------------------------------------------------- */

/* Reports no error, so it leaves the last error alone, as libvirt does. */
PUBLIC virTypedParameterPtr
virTypedParamsGet(virTypedParameterPtr params, int nparams, const char *name)
{
    int i;

    if (!params || !name)
        return NULL;
    for (i = 0; i < nparams; i++) {
        if (field_is(&params[i], name))
            return &params[i];
    }
    return NULL;
}

PUBLIC int
virTypedParamsGetInt(virTypedParameterPtr params, int nparams,
                     const char *name, int *value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_INT, &param);

    if (rc == 1 && value)
        *value = param->value.i;
    return rc;
}

PUBLIC int
virTypedParamsGetUInt(virTypedParameterPtr params, int nparams,
                      const char *name, unsigned int *value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_UINT, &param);

    if (rc == 1 && value)
        *value = param->value.ui;
    return rc;
}

PUBLIC int
virTypedParamsGetLLong(virTypedParameterPtr params, int nparams,
                       const char *name, long long *value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_LLONG, &param);

    if (rc == 1 && value)
        *value = param->value.l;
    return rc;
}

PUBLIC int
virTypedParamsGetULLong(virTypedParameterPtr params, int nparams,
                        const char *name, unsigned long long *value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_ULLONG, &param);

    if (rc == 1 && value)
        *value = param->value.ul;
    return rc;
}

PUBLIC int
virTypedParamsGetDouble(virTypedParameterPtr params, int nparams,
                        const char *name, double *value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_DOUBLE, &param);

    if (rc == 1 && value)
        *value = param->value.d;
    return rc;
}

PUBLIC int
virTypedParamsGetBoolean(virTypedParameterPtr params, int nparams,
                         const char *name, int *value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_BOOLEAN, &param);

    if (rc == 1 && value)
        *value = param->value.b != 0;
    return rc;
}

/* The string stays owned by @params. */
PUBLIC int
virTypedParamsGetString(virTypedParameterPtr params, int nparams,
                        const char *name, const char **value)
{
    virTypedParameterPtr param;
    int rc = lookup(params, nparams, name, VIR_TYPED_PARAM_STRING, &param);

    if (rc == 1 && value)
        *value = param->value.s;
    return rc;
}

PUBLIC int
virTypedParamsAddInt(virTypedParameterPtr *params, int *nparams,
                     int *maxparams, const char *name, int value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_INT, __func__)))
        return -1;
    param->value.i = value;
    (*nparams)++;
    return 0;
}

PUBLIC int
virTypedParamsAddUInt(virTypedParameterPtr *params, int *nparams,
                      int *maxparams, const char *name, unsigned int value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_UINT, __func__)))
        return -1;
    param->value.ui = value;
    (*nparams)++;
    return 0;
}

PUBLIC int
virTypedParamsAddLLong(virTypedParameterPtr *params, int *nparams,
                       int *maxparams, const char *name, long long value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_LLONG, __func__)))
        return -1;
    param->value.l = value;
    (*nparams)++;
    return 0;
}

PUBLIC int
virTypedParamsAddULLong(virTypedParameterPtr *params, int *nparams,
                        int *maxparams, const char *name,
                        unsigned long long value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_ULLONG, __func__)))
        return -1;
    param->value.ul = value;
    (*nparams)++;
    return 0;
}

PUBLIC int
virTypedParamsAddDouble(virTypedParameterPtr *params, int *nparams,
                        int *maxparams, const char *name, double value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_DOUBLE, __func__)))
        return -1;
    param->value.d = value;
    (*nparams)++;
    return 0;
}

PUBLIC int
virTypedParamsAddBoolean(virTypedParameterPtr *params, int *nparams,
                         int *maxparams, const char *name, int value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_named(params, nparams, maxparams, name,
                            VIR_TYPED_PARAM_BOOLEAN, __func__)))
        return -1;
    param->value.b = value != 0;
    (*nparams)++;
    return 0;
}

PUBLIC int
virTypedParamsAddString(virTypedParameterPtr *params, int *nparams,
                        int *maxparams, const char *name, const char *value)
{
    return add_string(params, nparams, maxparams, name, value, __func__);
}

/* Adds one string parameter per element, all under @name.  Like libvirt,
 * a NULL list succeeds and an empty list fails, both without touching the
 * last error. */
PUBLIC int
virTypedParamsAddStringList(virTypedParameterPtr *params, int *nparams,
                            int *maxparams, const char *name,
                            const char **values)
{
    int rc = -1;
    size_t i;

    if (!values)
        return 0;
    for (i = 0; values[i]; i++) {
        rc = add_string(params, nparams, maxparams, name, values[i], __func__);
        if (rc < 0)
            break;
    }
    return rc;
}

PUBLIC int
virTypedParamsAddFromString(virTypedParameterPtr *params, int *nparams,
                            int *maxparams, const char *name, int type,
                            const char *value)
{
    virTypedParameterPtr param;

    pyvirt_reset_error();
    if (!(param = add_begin(params, nparams, maxparams, __func__)))
        return -1;
    /* libvirt checks the value before the name, so a NULL name here
     * still gets this message, with "(null)" in it. */
    if (!value) {
        pyvirt_report_error(VIR_ERR_INVALID_ARG, ERR_DOMAIN,
                            INVALID_ARG_PREFIX "NULL value for field '%s'",
                            or_null(name));
        return -1;
    }
    if (set_name(param, name, __func__) < 0 ||
        assign_from_string(param, name, type, value) < 0)
        return -1;
    (*nparams)++;
    return 0;
}

/* Frees the strings but not the array; neither this nor
 * virTypedParamsFree resets the last error, as in libvirt. */
PUBLIC void
virTypedParamsClear(virTypedParameterPtr params, int nparams)
{
    int i;

    if (!params)
        return;
    for (i = 0; i < nparams; i++) {
        if (params[i].type == VIR_TYPED_PARAM_STRING) {
            free(params[i].value.s);
            params[i].value.s = NULL;
        }
    }
}

PUBLIC void
virTypedParamsFree(virTypedParameterPtr params, int nparams)
{
    virTypedParamsClear(params, nparams);
    free(params);
}

/*
 * typedparams_test.c: exercises libvirt's virTypedParams* helpers and prints
 * what they do, without pointers, so that two builds can be compared:
 * against the real libvirt, and with shim/typedparams.c + error_stub.c
 * (tests/test_typedparams.py).
 *
 * With --extra it also feeds the inputs on which libvirt itself crashes
 * (NULL pointers, negative counts); only the shim build survives those.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

typedef struct {
    virTypedParameterPtr params;
    int n;
    int max;
} Params;

/* Keeps libvirt's default handler from printing every error to stderr. */
static void
quiet(void *opaque, virErrorPtr err)
{
    (void)opaque, (void)err;
}

static void
show_error(void)
{
    virErrorPtr err = virGetLastError();

    if (!err) {
        printf("  error: none\n");
        return;
    }
    printf("  error: code=%d domain=%d level=%d message=%s\n",
           err->code, err->domain, err->level,
           err->message ? err->message : "(null)");
}

static void
show_rc(const char *what, int rc, const Params *p)
{
    printf("%s -> %d (n=%d max=%d)\n", what, rc, p->n, p->max);
    show_error();
}

/* Leaves an error behind, to see which functions reset it. */
static void
plant_error(void)
{
    Params p = { NULL, 0, 0 };

    virTypedParamsAddFromString(&p.params, &p.n, &p.max, "planted", 99, "1");
    virTypedParamsFree(p.params, p.n);
}

static void
show_param(const virTypedParameter *param)
{
    printf("  [%s] type=%d ", param->field, param->type);
    switch (param->type) {
    case VIR_TYPED_PARAM_INT: printf("%d", param->value.i); break;
    case VIR_TYPED_PARAM_UINT: printf("%u", param->value.ui); break;
    case VIR_TYPED_PARAM_LLONG: printf("%lld", param->value.l); break;
    case VIR_TYPED_PARAM_ULLONG: printf("%llu", param->value.ul); break;
    case VIR_TYPED_PARAM_DOUBLE: printf("%.17g", param->value.d); break;
    case VIR_TYPED_PARAM_BOOLEAN: printf("%d", param->value.b); break;
    case VIR_TYPED_PARAM_STRING:
        printf("'%s'", param->value.s ? param->value.s : "(NULL)");
        break;
    }
    printf("\n");
}

static void
show_all(const Params *p)
{
    int i;

    printf("  n=%d max=%d\n", p->n, p->max);
    for (i = 0; i < p->n; i++)
        show_param(&p->params[i]);
}

/* Calls one virTypedParamsGet<Type> and prints what it returns; the output
 * variables start with sentinels, to show they are untouched on failure. */
#define GET_AND_SHOW(func, var, fmt) \
    do { \
        rc = func(p->params, p->n, name, &var); \
        printf(#func "(%s) -> %d value=" fmt "\n", label, rc, var); \
    } while (0)

static void
get_as(const Params *p, const char *name, int type)
{
    int i = -7, rc;
    unsigned int ui = 7;
    long long l = -7;
    unsigned long long ul = 7;
    double d = -7.5;
    const char *s = "untouched";
    const char *label = name ? name : "(NULL)";

    switch (type) {
    case VIR_TYPED_PARAM_INT: GET_AND_SHOW(virTypedParamsGetInt, i, "%d"); break;
    case VIR_TYPED_PARAM_UINT: GET_AND_SHOW(virTypedParamsGetUInt, ui, "%u"); break;
    case VIR_TYPED_PARAM_LLONG: GET_AND_SHOW(virTypedParamsGetLLong, l, "%lld"); break;
    case VIR_TYPED_PARAM_ULLONG: GET_AND_SHOW(virTypedParamsGetULLong, ul, "%llu"); break;
    case VIR_TYPED_PARAM_DOUBLE: GET_AND_SHOW(virTypedParamsGetDouble, d, "%.17g"); break;
    case VIR_TYPED_PARAM_BOOLEAN: GET_AND_SHOW(virTypedParamsGetBoolean, i, "%d"); break;
    case VIR_TYPED_PARAM_STRING: GET_AND_SHOW(virTypedParamsGetString, s, "'%s'"); break;
    }
    show_error();
}

static void
test_growth(void)
{
    Params p = { NULL, 0, 0 };
    virTypedParameterPtr before;
    int i, value, sum = 0, last_max = 0;
    char name[32];

    printf("== growth to 100 params\n");
    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        if (virTypedParamsAddInt(&p.params, &p.n, &p.max, name, i * 3) < 0)
            show_rc(name, -1, &p);
        if (p.max != last_max)
            printf("  n=%d max=%d\n", p.n, p.max);
        last_max = p.max;
    }
    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        if (virTypedParamsGetInt(p.params, p.n, name, &value) == 1)
            sum += value;
    }
    printf("  n=%d sum=%d\n", p.n, sum);

    before = p.params;
    virTypedParamsAddInt(&p.params, &p.n, &p.max, "one-more", 1);
    printf("  with room left: n=%d max=%d same array=%s\n", p.n, p.max,
           p.params == before ? "yes" : "no");
    virTypedParamsFree(p.params, p.n);
}

/* An array the caller allocated itself, with its own capacity. */
static void
test_caller_array(void)
{
    Params p = { calloc(2, sizeof(virTypedParameter)), 0, 2 };
    virTypedParameterPtr before = p.params;

    printf("== caller-allocated array\n");
    virTypedParamsAddInt(&p.params, &p.n, &p.max, "a", 1);
    virTypedParamsAddString(&p.params, &p.n, &p.max, "b", "bee");
    printf("  full: n=%d max=%d same array=%s\n", p.n, p.max,
           p.params == before ? "yes" : "no");
    virTypedParamsAddInt(&p.params, &p.n, &p.max, "c", 3);
    show_all(&p);
    virTypedParamsFree(p.params, p.n);

    /* More params claimed than room: libvirt grows and zeroes the gap. */
    p = (Params){ NULL, 3, 0 };
    show_rc("AddInt(n=3, max=0)", virTypedParamsAddInt(&p.params, &p.n, &p.max, "d", 4), &p);
    show_all(&p);
    virTypedParamsFree(p.params, p.n);
}

static const char *const type_names[] = {
    "unknown", "int", "uint", "llong", "ullong", "double", "boolean", "string",
};

static void
test_each_type(void)
{
    Params p = { NULL, 0, 0 };
    const char *str = NULL;
    int i;

    printf("== one of each type\n");
    virTypedParamsAddInt(&p.params, &p.n, &p.max, "int", INT_MIN);
    virTypedParamsAddUInt(&p.params, &p.n, &p.max, "uint", UINT_MAX);
    virTypedParamsAddLLong(&p.params, &p.n, &p.max, "llong", LLONG_MIN);
    virTypedParamsAddULLong(&p.params, &p.n, &p.max, "ullong", ULLONG_MAX);
    virTypedParamsAddDouble(&p.params, &p.n, &p.max, "double", 0.1);
    virTypedParamsAddBoolean(&p.params, &p.n, &p.max, "boolean", 42);
    virTypedParamsAddBoolean(&p.params, &p.n, &p.max, "false", 0);
    virTypedParamsAddString(&p.params, &p.n, &p.max, "string", "text");
    show_rc("AddString(NULL value)",
            virTypedParamsAddString(&p.params, &p.n, &p.max, "empty", NULL), &p);
    show_all(&p);

    /* Each param above is named after its type. */
    for (i = VIR_TYPED_PARAM_INT; i <= VIR_TYPED_PARAM_STRING; i++)
        get_as(&p, type_names[i], i);
    get_as(&p, "false", VIR_TYPED_PARAM_BOOLEAN);
    get_as(&p, "empty", VIR_TYPED_PARAM_STRING);

    printf("== Get with NULL value pointer\n");
    printf("GetInt -> %d\n", virTypedParamsGetInt(p.params, p.n, "int", NULL));
    printf("GetString -> %d\n", virTypedParamsGetString(p.params, p.n, "string", NULL));
    virTypedParamsGetString(p.params, p.n, "string", &str);
    printf("GetString returns the stored string: %s\n", str == p.params[7].value.s ? "yes" : "no");

    printf("== type mismatch\n");
    for (i = VIR_TYPED_PARAM_INT; i < VIR_TYPED_PARAM_STRING; i++)
        get_as(&p, "string", i);
    get_as(&p, "int", VIR_TYPED_PARAM_STRING);
    get_as(&p, "double", VIR_TYPED_PARAM_ULLONG);

    printf("== corrupt types\n");
    p.params[0].type = 0;
    get_as(&p, "int", VIR_TYPED_PARAM_INT);
    p.params[0].type = 8;
    get_as(&p, "int", VIR_TYPED_PARAM_INT);
    p.params[0].type = -1;
    get_as(&p, "int", VIR_TYPED_PARAM_LLONG);
    p.params[0].type = VIR_TYPED_PARAM_INT;

    /* A stored boolean other than 0/1 still reads back as 1. */
    p.params[5].value.b = 7;
    get_as(&p, "boolean", VIR_TYPED_PARAM_BOOLEAN);
    virTypedParamsFree(p.params, p.n);
}

static void
test_lookup(void)
{
    Params p = { NULL, 0, 0 };
    virTypedParameterPtr found;
    Params none = { NULL, 0, 0 };

    printf("== lookup\n");
    virTypedParamsAddInt(&p.params, &p.n, &p.max, "x", 1);
    show_rc("AddInt(x) again", virTypedParamsAddInt(&p.params, &p.n, &p.max, "x", 2), &p);
    found = virTypedParamsGet(p.params, p.n, "x");
    printf("Get(x) finds index %d\n", found ? (int)(found - p.params) : -1);
    printf("Get(absent) -> %s\n", virTypedParamsGet(p.params, p.n, "y") ? "found" : "NULL");
    printf("Get(NULL name) -> %s\n", virTypedParamsGet(p.params, p.n, NULL) ? "found" : "NULL");
    printf("Get(NULL params) -> %s\n", virTypedParamsGet(NULL, 2, "x") ? "found" : "NULL");
    printf("Get(nparams=0) -> %s\n", virTypedParamsGet(p.params, 0, "x") ? "found" : "NULL");
    get_as(&p, "y", VIR_TYPED_PARAM_INT);
    get_as(&p, NULL, VIR_TYPED_PARAM_INT);
    get_as(&none, "x", VIR_TYPED_PARAM_STRING);

    printf("== which functions reset the last error\n");
    plant_error();
    virTypedParamsGet(p.params, p.n, "x");
    printf("after Get:");
    show_error();
    plant_error();
    get_as(&p, "x", VIR_TYPED_PARAM_INT);
    plant_error();
    get_as(&p, "absent", VIR_TYPED_PARAM_INT);
    plant_error();
    virTypedParamsClear(p.params, p.n);
    printf("after Clear:");
    show_error();
    plant_error();
    virTypedParamsFree(NULL, 0);
    printf("after Free(NULL):");
    show_error();
    plant_error();
    show_rc("AddDouble", virTypedParamsAddDouble(&p.params, &p.n, &p.max, "d", 1.5), &p);
    virTypedParamsFree(p.params, p.n);
}

static void
test_add_errors(void)
{
    Params p = { NULL, 0, 0 };
    char name[VIR_TYPED_PARAM_FIELD_LENGTH + 2];

    printf("== add errors\n");
    show_rc("AddInt('')", virTypedParamsAddInt(&p.params, &p.n, &p.max, "", 1), &p);
    memset(name, 'a', sizeof(name));
    name[VIR_TYPED_PARAM_FIELD_LENGTH - 1] = '\0';
    show_rc("AddInt(79 chars)", virTypedParamsAddInt(&p.params, &p.n, &p.max, name, 2), &p);
    get_as(&p, name, VIR_TYPED_PARAM_INT);
    memset(name, 'b', sizeof(name));
    name[VIR_TYPED_PARAM_FIELD_LENGTH] = '\0';
    /* The array is full (n == max), so even this failed call grows it. */
    show_rc("AddInt(80 chars)", virTypedParamsAddInt(&p.params, &p.n, &p.max, name, 3), &p);
    show_rc("AddUInt(80 chars)", virTypedParamsAddUInt(&p.params, &p.n, &p.max, name, 3), &p);
    show_rc("AddLLong(80 chars)", virTypedParamsAddLLong(&p.params, &p.n, &p.max, name, 3), &p);
    show_rc("AddULLong(80 chars)", virTypedParamsAddULLong(&p.params, &p.n, &p.max, name, 3), &p);
    show_rc("AddDouble(80 chars)", virTypedParamsAddDouble(&p.params, &p.n, &p.max, name, 3), &p);
    show_rc("AddBoolean(80 chars)", virTypedParamsAddBoolean(&p.params, &p.n, &p.max, name, 1), &p);
    show_rc("AddString(80 chars)", virTypedParamsAddString(&p.params, &p.n, &p.max, name, "s"), &p);
    show_rc("AddFromString(80 chars, bad type)",
            virTypedParamsAddFromString(&p.params, &p.n, &p.max, name, 99, "1"), &p);
    show_rc("AddFromString(NULL value)",
            virTypedParamsAddFromString(&p.params, &p.n, &p.max, "v", VIR_TYPED_PARAM_INT, NULL), &p);
    show_rc("AddFromString(NULL name, NULL value)",
            virTypedParamsAddFromString(&p.params, &p.n, &p.max, NULL, VIR_TYPED_PARAM_INT, NULL), &p);
    show_rc("AddFromString(type 0)",
            virTypedParamsAddFromString(&p.params, &p.n, &p.max, "t", 0, "1"), &p);
    show_rc("AddFromString(type 8)",
            virTypedParamsAddFromString(&p.params, &p.n, &p.max, "t", 8, "1"), &p);
    show_all(&p);
    virTypedParamsFree(p.params, p.n);
}

static void
test_from_string(void)
{
    static const struct { int type; const char *text; } cases[] = {
        { 1, "42" }, { 1, " -7" }, { 1, "+5" }, { 1, "010" }, { 1, "5 " }, { 1, "" },
        { 1, "0x10" }, { 1, "2147483647" }, { 1, "2147483648" }, { 1, "-2147483649" },
        { 1, "1.5" }, { 2, "4294967295" }, { 2, "4294967296" }, { 2, "-1" },
        { 2, "-2147483649" }, { 2, "-4294967295" }, { 2, "-4294967296" },
        { 2, "-18446744073709551615" }, { 3, "-9223372036854775808" },
        { 3, "9223372036854775808" }, { 3, "\t12" }, { 4, "18446744073709551615" },
        { 4, "18446744073709551616" }, { 4, "-1" }, { 4, "-9223372036854775809" },
        { 4, "abc" }, { 5, "1.5" }, { 5, "1,5" }, { 5, "-2.5e3" }, { 5, "0x1p3" },
        { 5, "inf" }, { 5, "-Infinity" }, { 5, "nan" }, { 5, "1e400" }, { 5, "1e-400" },
        { 5, "1e-310" }, { 5, " 2.5" }, { 5, "2.5 " }, { 6, "true" }, { 6, "TRUE" },
        { 6, "False" }, { 6, "1" }, { 6, "0" }, { 6, "yes" }, { 6, "01" }, { 6, " 1" },
        { 6, "" }, { 7, "" }, { 7, " any text " },
    };
    Params p = { NULL, 0, 0 };
    size_t i;
    char label[80];

    printf("== AddFromString\n");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = p.n;
        int rc = virTypedParamsAddFromString(&p.params, &p.n, &p.max, "f",
                                             cases[i].type, cases[i].text);

        snprintf(label, sizeof(label), "type %d '%s'", cases[i].type, cases[i].text);
        show_rc(label, rc, &p);
        if (p.n > before)
            show_param(&p.params[p.n - 1]);
    }
    virTypedParamsFree(p.params, p.n);
}

static void
test_string_list(void)
{
    Params p = { NULL, 0, 0 };
    const char *empty[] = { NULL };
    const char *abc[] = { "a", "b", "c", NULL };
    char name[VIR_TYPED_PARAM_FIELD_LENGTH + 1];

    printf("== AddStringList\n");
    show_rc("AddStringList(NULL)", virTypedParamsAddStringList(&p.params, &p.n, &p.max, "l", NULL), &p);
    plant_error();
    show_rc("AddStringList(NULL) after an error",
            virTypedParamsAddStringList(&p.params, &p.n, &p.max, "l", NULL), &p);
    virResetLastError();
    show_rc("AddStringList({})", virTypedParamsAddStringList(&p.params, &p.n, &p.max, "l", empty), &p);
    plant_error();
    show_rc("AddStringList({}) after an error",
            virTypedParamsAddStringList(&p.params, &p.n, &p.max, "l", empty), &p);
    plant_error();
    show_rc("AddStringList(a,b,c)", virTypedParamsAddStringList(&p.params, &p.n, &p.max, "l", abc), &p);
    memset(name, 'c', sizeof(name));
    name[VIR_TYPED_PARAM_FIELD_LENGTH] = '\0';
    show_rc("AddStringList(80 chars)", virTypedParamsAddStringList(&p.params, &p.n, &p.max, name, abc), &p);
    virTypedParamsAddInt(&p.params, &p.n, &p.max, "i", 5);
    virTypedParamsAddFromString(&p.params, &p.n, &p.max, "s", VIR_TYPED_PARAM_STRING, "two");
    show_all(&p);
    get_as(&p, "l", VIR_TYPED_PARAM_STRING);

    printf("== Clear and Free\n");
    virTypedParamsClear(p.params, p.n);
    show_all(&p);
    virTypedParamsClear(p.params, p.n);
    virTypedParamsClear(NULL, 3);
    virTypedParamsFree(NULL, 3);
    virTypedParamsFree(p.params, p.n);
}

/* Inputs that crash libvirt 9.0; the shim reports an error instead. */
static void
test_extra(void)
{
    Params p = { NULL, 0, 0 };
    const char *abc[] = { "a", NULL };

    printf("== extra: arguments libvirt does not check\n");
    show_rc("AddInt(params=NULL)", virTypedParamsAddInt(NULL, &p.n, &p.max, "a", 1), &p);
    show_rc("AddInt(nparams=NULL)", virTypedParamsAddInt(&p.params, NULL, &p.max, "a", 1), &p);
    show_rc("AddString(maxparams=NULL)", virTypedParamsAddString(&p.params, &p.n, NULL, "a", "x"), &p);
    show_rc("AddInt(name=NULL)", virTypedParamsAddInt(&p.params, &p.n, &p.max, NULL, 1), &p);
    show_rc("AddFromString(name=NULL)",
            virTypedParamsAddFromString(&p.params, &p.n, &p.max, NULL, VIR_TYPED_PARAM_INT, "1"), &p);
    show_rc("AddStringList(name=NULL)",
            virTypedParamsAddStringList(&p.params, &p.n, &p.max, NULL, abc), &p);
    p.n = -1;
    show_rc("AddInt(*nparams=-1)", virTypedParamsAddInt(&p.params, &p.n, &p.max, "a", 1), &p);
    p.n = 0;
    p.max = -1;
    show_rc("AddInt(*maxparams=-1)", virTypedParamsAddInt(&p.params, &p.n, &p.max, "a", 1), &p);
    virTypedParamsFree(p.params, p.n);

    p = (Params){ NULL, 0, 5 };
    show_rc("AddInt(*params=NULL, *maxparams=5)",
            virTypedParamsAddInt(&p.params, &p.n, &p.max, "a", 1), &p);
    printf("GetInt(nparams=-1) -> %d\n", virTypedParamsGetInt(p.params, -1, "a", NULL));
    virTypedParamsClear(p.params, -1);
    virTypedParamsFree(p.params, p.n);
}

int
main(int argc, char **argv)
{
    if (virInitialize() < 0)
        return 1;
    virSetErrorFunc(NULL, quiet);

    test_growth();
    test_caller_array();
    test_each_type();
    test_lookup();
    test_add_errors();
    test_from_string();
    test_string_list();
    if (argc > 1 && strcmp(argv[1], "--extra") == 0)
        test_extra();
    return 0;
}

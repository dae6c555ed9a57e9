"""Handles, error reporting and C conversions shared by every generated extern.

A C handle (virConnectPtr, virDomainPtr, ...) is the address of a ``Box`` kept
in ``_boxes`` until its last reference is released; the box holds the core
object. Addresses are looked up, never dereferenced, so a stale or foreign
pointer gives libvirt's "invalid ... pointer" error instead of a crash.
``_boxes`` is keyed by the pointer cdata itself: cffi pointers compare and hash
by address whatever their type or ffi, which spares a conversion per call.
"""

from __future__ import annotations

import threading
import traceback

# virErrorNumber values the shim itself raises (facts from virterror.h).
VIR_ERR_INTERNAL_ERROR, VIR_ERR_NO_SUPPORT, VIR_ERR_INVALID_ARG = 1, 3, 8
VIR_FROM_DOMAIN = 20

ffi = lib = None   # libvirt.so.0's cffi module, bound by its externs at start-up

_boxes: dict = {}   # handle (a void * cdata) -> Box
HANDLES = _boxes     # the same dict, read directly by the generated externs
_lock = threading.Lock()
# Held while a connection's last error (Box.error) is written or copied: the
# copy runs in C with the GIL released, and threads failing on one shared
# connection at once would otherwise free each other's strings.
CONN_ERROR_LOCK = threading.Lock()
_borrowed: dict[str, object] = {}   # interned C copies of library-owned strings


class Box:
    """One handle's object. conn_addr: the connection handle an object's
    handle holds a reference on. error, handler, handler_data: a connection's
    last error and error handler (virConnGetLastError, virConnSetErrorFunc),
    set only on connections' boxes and read only through them."""
    __slots__ = ("obj", "ctype", "refs", "error", "handler", "handler_data", "conn_addr",
                 "__weakref__")

    def __init__(self, obj, ctype: str, conn_addr=None):
        self.obj, self.ctype, self.refs, self.conn_addr = obj, ctype, 1, conn_addr
        if ctype == "virConnectPtr":
            self.error = self.handler = self.handler_data = None


def bind(cffi_ffi, cffi_lib, close) -> None:
    """Called once by libvirt.so.0's externs: its cffi module, and the core's
    virConnectClose for when a connection's last reference goes."""
    global ffi, lib, _close, _cast, _VOIDP
    ffi, lib, _close = cffi_ffi, cffi_lib, close
    _cast, _VOIDP = ffi.cast, ffi.typeof("void *")   # no type string parsed per handle


class Fn:
    """What an extern knows of itself, for error messages: its name and the
    error domain of its source file."""
    __slots__ = ("name", "domain")

    def __init__(self, name: str, domain: int):
        self.name, self.domain = name, domain


class ShimError(Exception):
    """An error the shim raises itself. Any exception with these attributes (the
    core's VirtError has them) is reported as that virError."""

    def __init__(self, code: int, domain: int, message: str, str1=None, str2=None,
                 str3=None, int1: int = -1, int2: int = -1, level: int = 2):
        super().__init__(message)
        self.code, self.domain, self.message, self.level = code, domain, message, level
        self.str1, self.str2, self.str3, self.int1, self.int2 = str1, str2, str3, int1, int2


class Unavailable:
    """Stands in for pyvirt.api when the core cannot be imported (a missing
    dependency): every function fails with the reason instead of the process."""

    def __init__(self, exc: BaseException):
        self.reason = f"pyvirt could not start: {type(exc).__name__}: {exc}"

    def __getattr__(self, name):
        def fail(*args):
            raise RuntimeError(self.reason)
        return fail


# -- handles --------------------------------------------------------------------

_conn_handles: dict = {}   # id(core connection) -> its handle
_close = None   # pyvirt.api.virConnectClose, see bind()


_cast = _VOIDP = None   # ffi.cast and the void * type, see bind()


def new_handle(obj, ctype: str):
    """A new handle with one reference. As in libvirt, a domain (network, ...)
    handle keeps its connection open until the handle is freed."""
    # _register, inlined: every lookup makes a handle
    if ctype == "virConnectPtr":
        box = Box(obj, ctype)
        key = _cast(_VOIDP, id(box))
        with _lock:
            _register(box, key)
        return key
    box = Box(obj, ctype)   # made outside the lock: allocating may run the collector
    key = _cast(_VOIDP, id(box))
    conn = id(getattr(obj, "conn", None))
    with _lock:
        conn_key = _conn_handles.get(conn)
        _boxes[key] = box
        if conn_key is not None:
            _boxes[conn_key].refs += 1
            box.conn_addr = conn_key
    return key


def _register(box: Box, key) -> None:
    """Make `key` the handle of `box`; called with _lock held."""
    _boxes[key] = box
    if box.ctype == "virConnectPtr":
        _conn_handles[id(box.obj)] = key
    else:
        conn_key = _conn_handles.get(id(getattr(box.obj, "conn", None)))
        if conn_key is not None:
            _boxes[conn_key].refs += 1
            box.conn_addr = conn_key


def handle_array(objs: list, ctype: str):
    """A NULL-terminated malloc'ed array of new handles, one per object
    (virConnectListAllDomains' result): as new_handle for each, but under one
    hold of the lock and with no cast per element."""
    arr = ffi.cast("void **", lib.calloc(len(objs) + 1, ffi.sizeof("void *")))
    boxes = [Box(o, ctype) for o in objs]
    keys = [_cast(_VOIDP, id(box)) for box in boxes]
    if ctype == "virConnectPtr":
        with _lock:
            for box, key in zip(boxes, keys):
                _register(box, key)
    else:   # _register, inlined
        conns = [id(getattr(o, "conn", None)) for o in objs]
        with _lock:
            for box, key, conn in zip(boxes, keys, conns):
                _boxes[key] = box
                conn_key = _conn_handles.get(conn)
                if conn_key is not None:
                    _boxes[conn_key].refs += 1
                    box.conn_addr = conn_key
    for i, key in enumerate(keys):
        arr[i] = key
    return ffi.cast(ctype + " *", arr)


_borrowed_handles: dict = {}   # (ctype, id(obj)) -> handle, for parents with no handle yet


def borrowed_handle(obj, ctype: str):
    """The handle of an object's parent, without a new reference (virDomainGetConnect):
    the connection's own handle when it has one, so C sees the same pointer."""
    with _lock:
        key = _conn_handles.get(id(obj)) if ctype == "virConnectPtr" else None
        if key is not None and key in _boxes:
            return key
        key = _borrowed_handles.get((ctype, id(obj)))
        if key is not None and key in _boxes and _boxes[key].obj is obj:
            return key
    key = new_handle(obj, ctype)
    _borrowed_handles[(ctype, id(obj))] = key
    return key


def _unref(addr) -> int:
    """Drop one reference of a live handle; at the last, forget it and let go of
    what it holds (its connection's reference, dropped under the same lock
    hold). Returns the references left."""
    closing = None
    with _lock:
        b = _boxes[addr]
        b.refs -= 1
        if b.refs:
            return b.refs
        del _boxes[addr]
        if b.ctype == "virConnectPtr":
            closing = b
        elif b.conn_addr is not None:
            c = _boxes.get(b.conn_addr)
            if c is not None:
                c.refs -= 1
                if not c.refs:
                    del _boxes[b.conn_addr]
                    closing = c
        if closing is not None:
            _conn_handles.pop(id(closing.obj), None)
    if closing is not None and _close is not None:
        _close(closing.obj)   # outside the lock: it may call back into the shim
    return 0


OBJECT_ERRORS = {}   # filled by the generated externs: ctype -> (code, domain|None, noun)


def invalid(ctype: str, fn: Fn) -> ShimError:
    code, domain, noun = OBJECT_ERRORS[ctype]
    fmt = f"invalid {noun} pointer in %s"
    return ShimError(code, fn.domain if domain is None else domain, fmt % fn.name,
                     str1=fmt, str2=fn.name)


def box(addr, ctype: str, fn: Fn) -> Box:
    b = _boxes.get(addr)
    if b is None or b.ctype != ctype:
        raise invalid(ctype, fn)
    return b


def obj(addr, ctype: str, fn: Fn):
    b = _boxes.get(addr)
    if b is None or b.ctype != ctype:
        raise invalid(ctype, fn)
    return b.obj


def ref(addr, ctype: str, fn: Fn) -> int:
    b = box(addr, ctype, fn)
    with _lock:
        b.refs += 1
    return 0


def free(addr, ctype: str, fn: Fn) -> int:
    """virXxxFree / virConnectClose: returns the references left for a
    connection (virConnectClose's result), 0 for other objects."""
    b = _boxes.get(addr)   # box(), inlined: every lookup's handle is freed here
    if b is None or b.ctype != ctype:
        raise invalid(ctype, fn)
    if ctype == "virConnectPtr":
        return _unref(addr)
    # _unref, inlined for an object's handle: every lookup's handle is freed here
    closing = None
    with _lock:
        if _boxes.get(addr) is not b:   # freed meanwhile by another thread
            raise invalid(ctype, fn)
        b.refs -= 1
        if b.refs:
            return 0
        del _boxes[addr]
        if b.conn_addr is not None:
            c = _boxes.get(b.conn_addr)
            if c is not None:
                c.refs -= 1
                if not c.refs:
                    del _boxes[b.conn_addr]
                    _conn_handles.pop(id(c.obj), None)
                    closing = c
    if closing is not None and _close is not None:
        _close(closing.obj)   # outside the lock: it may call back into the shim
    return 0


# -- errors ---------------------------------------------------------------------

def enter() -> None:
    lib.pyvirt_reset_error()


def _s(text):
    return ffi.NULL if text is None else str(text).encode()


def fail(exc: BaseException, fn: Fn, conn_addr=None) -> None:
    """Record exc as the thread's (and the connection's) last error."""
    if not hasattr(exc, "code") or not hasattr(exc, "str1"):
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        exc = ShimError(VIR_ERR_INTERNAL_ERROR, fn.domain, f"internal error: {detail}",
                        str1="internal error: %s", str2=detail)
    conn = _boxes.get(conn_addr) if conn_addr is not None else None
    if conn is not None and conn.ctype != "virConnectPtr":
        conn = None   # another object's handle passed as a connection
    handler = conn.handler if conn is not None and conn.handler is not None else ffi.NULL
    data = conn.handler_data if conn is not None and conn.handler is not None else ffi.NULL
    lib.pyvirt_set_error(int(exc.code), int(exc.domain), int(exc.level), _s(exc.message),
                         _s(exc.str1), _s(exc.str2), _s(exc.str3), exc.int1, exc.int2,
                         handler, data)
    if conn is not None:
        with CONN_ERROR_LOCK:
            if conn.error is None:
                conn.error = ffi.new("virError *")
            lib.pyvirt_copy_error(conn.error, lib.virGetLastError())


def unsupported(fn: Fn) -> ShimError:
    fmt = "this function is not supported by the connection driver: %s"
    return ShimError(VIR_ERR_NO_SUPPORT, fn.domain, fmt % fn.name, str1=fmt, str2=fn.name)


def null_arg(name: str, fn: Fn) -> ShimError:
    return ShimError(VIR_ERR_INVALID_ARG, fn.domain, f"{name} in {fn.name} must not be NULL",
                     str1=fn.name, str2=name, int1=0, int2=0)


# -- values ---------------------------------------------------------------------

def string(p) -> str | None:
    return None if p == ffi.NULL else ffi.string(p).decode()


def cstring(text: str | None):
    """A malloc'ed copy the C caller frees with free()."""
    if text is None:
        return ffi.NULL
    return lib.strdup(text.encode())


def borrowed(text: str | None):
    """A library-owned string (const char *): interned, valid for the process."""
    if text is None:
        return ffi.NULL
    c = _borrowed.get(text)
    if c is None:
        c = _borrowed.setdefault(text, ffi.new("char[]", text.encode()))
    return c


def fill(dst, fields, value) -> None:
    """Copy a core record's attributes into a C struct, field by field."""
    for name, ctype, array in fields:
        v = getattr(value, name)
        if array is not None:
            data = v.encode() if isinstance(v, str) else bytes(v)
            ffi.memmove(getattr(dst, name), data[:array - 1] + b"\0", min(len(data) + 1, array))
        else:
            setattr(dst, name, v)


# -- callbacks into C -------------------------------------------------------------

FUNCTYPES: dict[str, list[str]] = {}   # filled by the generated externs
FUNCTYPE_FFI: dict = {}   # a companion library's callback type -> the cffi module declaring it


def add_functypes(cffi_ffi, types: dict[str, list[str]]) -> None:
    """A companion library's own callback types (QEMU monitor events), which
    only its cffi module can call."""
    FUNCTYPES.update(types)
    FUNCTYPE_FFI.update(dict.fromkeys(types, cffi_ffi))


def to_c(value, ctype: str, temps: list):
    return _converter(ctype)(value, temps)


def _handle_to_c(ctype: str):
    def convert(value, temps: list):
        if value is None:
            return ffi.NULL
        key = new_handle(value, ctype)
        temps.append((key, ctype))
        return ffi.cast(ctype, key)
    return convert


def _string_to_c(value, temps: list):
    if value is None:
        return ffi.NULL
    c = ffi.new("char[]", value.encode())
    temps.append(c)
    return c


def _as_is(value, temps: list):
    return value


def _typed_params_to_c(params, temps: list):
    """A callback's typed parameters, valid for the call (libvirt frees them after)."""
    arr = ffi.new("virTypedParameter[]", max(len(params), 1))
    temps.append(arr)
    for p, (name, t, v) in zip(arr, params):
        if t == VIR_TYPED_PARAM_STRING:
            text = ffi.new("char[]", str(v).encode())
            temps.append(text)
            set_param(p, name, VIR_TYPED_PARAM_INT, 0)
            p.type, p.value.s = t, text
        else:
            set_param(p, name, t, v)
    return arr


def _converter(ctype: str):
    """The function converting a core value to C type `ctype`."""
    if ctype in OBJECT_ERRORS:
        return _handle_to_c(ctype)
    if ctype in ("const char *", "char *"):
        return _string_to_c
    return _as_is


class CCallback:
    """A C function pointer as a Python callable: converts the core's Python
    arguments to C, appends the opaque pointer and calls it. Equal to another
    wrapper of the same C function (what the old deregistration APIs match on)."""

    __slots__ = ("func", "argtypes", "opaque", "conn_addr", "c_address", "converters",
                 "typed_at", "handles", "strings", "conn_ptr", "with_opaque")

    def __init__(self, ctype: str, cb, opaque, conn_addr):
        own_ffi = FUNCTYPE_FFI.get(ctype, ffi)
        self.func = own_ffi.cast(ctype, cb)
        self.argtypes = FUNCTYPES[ctype]
        self.opaque = opaque
        self.conn_addr = conn_addr
        self.c_address = int(ffi.cast("uintptr_t", cb))
        # Chosen once here rather than per argument on every call: events
        # deliver through this on the loop's hot path.
        self.converters = [_converter(t) for t in self.argtypes]
        # Typed parameters (JOB_COMPLETED, TUNABLE): one list from the core, an
        # array and its count in C.
        self.typed_at = next((i for i, t in enumerate(self.argtypes[:-1])
                              if t == "virTypedParameterPtr" and self.argtypes[i + 1] == "int"),
                             None)
        if self.typed_at is not None:
            self.converters[self.typed_at] = _typed_params_to_c
        self.conn_ptr = None
        if conn_addr is not None and self.argtypes[:1] == ["virConnectPtr"]:
            # the registering connection's own handle, not a new one
            conn_ptr = self.conn_ptr = own_ffi.cast("virConnectPtr", conn_addr)
            self.converters[0] = lambda value, temps: conn_ptr
        # What the fast path of __call__ (no typed parameters) converts, by
        # position: handles made for the call, strings copied for it; any
        # other argument goes to C as it is.
        start = 1 if self.conn_ptr is not None else 0
        self.handles = tuple((i, t) for i, t in enumerate(self.argtypes)
                             if i >= start and t in OBJECT_ERRORS)
        self.strings = tuple(i for i, t in enumerate(self.argtypes)
                             if t in ("const char *", "char *"))
        self.with_opaque = len(self.argtypes)

    def __eq__(self, other) -> bool:
        return isinstance(other, CCallback) and other.c_address == self.c_address

    def __hash__(self) -> int:
        return self.c_address

    def __call__(self, *args):
        if self.typed_at is None:
            return self._call(args)
        i = self.typed_at
        params = list(args[i] or [])
        args = args[:i] + (params, len(params)) + args[i + 1:]
        temps: list = []
        cargs = [convert(value, temps) for value, convert in zip(args, self.converters)]
        if len(self.argtypes) > len(args):
            cargs.append(self.opaque)
        try:
            return self.func(*cargs)
        finally:
            if temps:
                _release_temps(temps)


    def _call(self, args):
        """__call__ without typed parameters: events' hot path."""
        cargs = list(args[:self.with_opaque])
        if self.conn_ptr is not None:
            cargs[0] = self.conn_ptr
        made = []
        try:
            for i, ctype in self.handles:
                if i < len(cargs):
                    v = cargs[i]
                    if v is None:
                        cargs[i] = ffi.NULL
                    else:   # a void * handle: cffi passes it as any pointer
                        cargs[i] = key = new_handle(v, ctype)
                        made.append(key)
            for i in self.strings:
                if i < len(cargs):
                    v = cargs[i]
                    cargs[i] = ffi.NULL if v is None else ffi.new("char[]", v.encode())
            if self.with_opaque > len(args):
                cargs.append(self.opaque)
            return self.func(*cargs)
        finally:
            for key in made:
                if key in _boxes:
                    _unref(key)


def _release_temps(temps: list) -> None:
    """Drop the handles made for one callback call (libvirt frees them after it)."""
    for t in temps:
        if isinstance(t, tuple) and t[0] in _boxes:
            _unref(t[0])


def c_callback(ctype: str, cb, opaque, freecb, conn_addr=None):
    """The core's view of a C callback: a CCallback (or None for NULL), and a
    callable that runs freecb(opaque) (or None)."""
    if cb == ffi.NULL:
        return None, None
    release = None
    if freecb != ffi.NULL:
        def release():
            freecb(opaque)
    return CCallback(ctype, cb, opaque, conn_addr), release


EVENT_CALLBACKS: dict[str, tuple] = {}   # register function -> callback type per event ID


def event_type(register: str, event_id: int) -> str:
    """The C type of the callback given to register for event_id."""
    types = EVENT_CALLBACKS[register]
    if not 0 <= event_id < len(types):
        # any type will do: the core refuses the event ID, after the checks
        # libvirt makes before it (the callback's own, for one)
        return types[0]
    return types[event_id]


class Auth:
    """A C virConnectAuth as the core sees it: the credential types the caller
    can answer, and ask() to have its callback fill them in."""

    def __init__(self, cauth):
        self._c = cauth
        self.credtype = [cauth.credtype[i] for i in range(cauth.ncredtype)]

    @classmethod
    def of(cls, cauth):
        return None if cauth == ffi.NULL else cls(cauth)

    def ask(self, creds: list[dict]) -> list[str | None] | None:
        """creds: [{type, prompt, challenge, defresult}] -> answers, or None if refused."""
        if self._c.cb == ffi.NULL:
            return None
        arr = ffi.new("virConnectCredential[]", len(creds))
        keep = []
        for c, want in zip(arr, creds):
            c.type = want["type"]
            for key in ("prompt", "challenge", "defresult"):
                if want.get(key) is not None:
                    keep.append(ffi.new("char[]", want[key].encode()))
                    setattr(c, key, keep[-1])
        if self._c.cb(arr, len(creds), self._c.cbdata) < 0:
            return None
        answers = []
        for c in arr:
            answers.append(None if c.result == ffi.NULL
                           else ffi.string(c.result, c.resultlen).decode())
            if c.result != ffi.NULL:
                lib.free(c.result)
        return answers


# -- typed parameters: lists of (name, type, value) on the Python side -------------

VIR_TYPED_PARAM_INT, VIR_TYPED_PARAM_UINT, VIR_TYPED_PARAM_LLONG = 1, 2, 3
VIR_TYPED_PARAM_ULLONG, VIR_TYPED_PARAM_DOUBLE = 4, 5
VIR_TYPED_PARAM_BOOLEAN, VIR_TYPED_PARAM_STRING = 6, 7
_UNION = {1: "i", 2: "ui", 3: "l", 4: "ul", 5: "d", 6: "b"}


def typed_params_in(arr, n: int, name: str, fn: Fn, unchecked: bool = False,
                    count: str | None = None) -> list[tuple] | None:
    """NULL with a count of 0 is None: the core checks it as libvirt does;
    `unchecked`: NULL is None whatever the count (libvirt lets the driver
    decide); `count`: the count argument's name, when libvirt refuses a
    negative one (the core never sees it)."""
    if arr == ffi.NULL:
        if n and not unchecked:
            raise null_arg(name, fn)
        return None
    if count is not None and n < 0:
        msg = f"{count} in {fn.name} must be zero or greater"
        raise ShimError(VIR_ERR_INVALID_ARG, fn.domain, msg, str1=fn.name, str2=count,
                        int1=0, int2=0)
    out = []
    for i in range(n):
        p = arr[i]
        t = p.type
        if t == VIR_TYPED_PARAM_STRING:
            v = None if p.value.s == ffi.NULL else ffi.string(p.value.s).decode()
        elif t == VIR_TYPED_PARAM_BOOLEAN:
            v = p.value.b != b"\x00"
        elif t in _UNION:
            v = getattr(p.value, _UNION[t])
        else:
            msg = f"unexpected parameter type {t}"
            raise ShimError(VIR_ERR_INVALID_ARG, fn.domain, f"invalid argument: {msg}",
                            str1="invalid argument: %s", str2=msg)
        out.append((ffi.string(p.field).decode(), t, v))
    return out


def set_param(p, name: str, t: int, v) -> None:
    data = name.encode()[:79]
    ffi.memmove(p.field, data + b"\0", len(data) + 1)
    p.type = t
    if t == VIR_TYPED_PARAM_STRING:
        p.value.s = lib.strdup(v.encode())
    elif t == VIR_TYPED_PARAM_BOOLEAN:
        p.value.b = b"\x01" if v else b"\x00"   # a C char: cffi takes one byte
    else:
        setattr(p.value, _UNION[t], v)


def typed_params_fill(arr, count, params: list[tuple]) -> None:
    """Caller-allocated array: *count 0 asks how many; otherwise fill up to *count."""
    if count[0] == 0:
        count[0] = len(params)
        return
    n = min(count[0], len(params))
    for i in range(n):
        set_param(arr[i], *params[i])
    count[0] = n


def typed_params_alloc(out, count, params: list[tuple]) -> None:
    """Callee-allocated array, freed by the caller with virTypedParamsFree."""
    arr = ffi.cast("virTypedParameterPtr",
                   lib.calloc(max(len(params), 1), ffi.sizeof("virTypedParameter")))
    for i, p in enumerate(params):
        set_param(arr[i], *p)
    out[0] = arr
    count[0] = len(params)


# -- arrays -----------------------------------------------------------------------

def strings_in(arr, n: int, name: str, fn: Fn, unchecked: bool = False) -> list[str] | None:
    """NULL with a count of 0 (or any count, `unchecked`) is None, as for
    typed parameters."""
    if arr == ffi.NULL:
        if n and not unchecked:
            raise null_arg(name, fn)
        return None
    return [ffi.string(arr[i]).decode() for i in range(n)]


def objects_in(arr, ctype: str, fn: Fn) -> list:
    """A NULL-terminated array of handles (virDomainListGetStats' domains)."""
    if arr == ffi.NULL:
        raise null_arg("doms", fn)
    out, i = [], 0
    while arr[i] != ffi.NULL:
        out.append(obj(arr[i], ctype, fn))
        i += 1
    return out


def ints_in(arr, n: int, name: str, fn: Fn) -> list[int]:
    if n and arr == ffi.NULL:
        raise null_arg(name, fn)
    return [arr[i] for i in range(n)]


def bytes_in(buf, n: int, name: str, fn: Fn) -> bytes:
    if n and buf == ffi.NULL:
        raise null_arg(name, fn)
    return bytes(ffi.buffer(buf, n)) if n > 0 else b""


def string_array(items: list[str]):
    """A NULL-terminated malloc'ed array of malloc'ed strings (the caller frees all)."""
    arr = ffi.cast("char **", lib.calloc(len(items) + 1, ffi.sizeof("char *")))
    for i, s in enumerate(items):
        arr[i] = lib.strdup(s.encode())
    return arr


# -- structs the library allocates for the caller ----------------------------------

STRUCTS: dict[str, list] = {}      # "_virDomainFSInfo" -> [(field, type, array size)]
STRUCT_PTRS: dict[str, str] = {}   # "virDomainFSInfoPtr" -> "_virDomainFSInfo"


def _field(value, name):
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _counter(fields: set, name: str) -> str | None:
    """The field counting a list field: ndevAlias, naddrs, cpumaplen, nparams."""
    for c in ("n" + name, name + "len", "nparams" if name == "params" else ""):
        if c in fields:
            return c
    return None


def fill_struct(dst, sname: str, value) -> None:
    """Fill one C struct (caller's or ours) from a core record or dict."""
    fields = STRUCTS[sname]
    names = {f[0] for f in fields}
    counters = {_counter(names, f) for f in names} - {None}
    for fname, ftype, array in fields:
        v = _field(value, fname)
        count = _counter(names, fname)
        if fname in counters:
            continue   # set with the list it counts
        if array is not None:
            fill(dst, [(fname, ftype, array)], value)
        elif ftype == "char *":
            setattr(dst, fname, ffi.NULL if v is None else lib.strdup(str(v).encode()))
        elif ftype == "char **" and count:
            items = list(v or [])
            setattr(dst, fname, string_array(items))
            setattr(dst, count, len(items))
        elif ftype == "unsigned char *" and count:
            data = bytes(v or b"")
            buf = ffi.cast("unsigned char *", lib.calloc(max(len(data), 1), 1))
            ffi.memmove(buf, data, len(data))
            setattr(dst, fname, buf)
            setattr(dst, count, len(data))
        elif ftype == "virTypedParameterPtr" and count:
            out, n = ffi.new("virTypedParameterPtr *"), ffi.new("int *")
            typed_params_alloc(out, n, list(v or []))
            setattr(dst, fname, out[0])
            setattr(dst, count, n[0])
        elif ftype in STRUCT_PTRS and count:
            items = list(v or [])
            inner = STRUCT_PTRS[ftype]
            arr = ffi.cast(ftype, lib.calloc(max(len(items), 1), ffi.sizeof("struct " + inner)))
            for i, item in enumerate(items):
                fill_struct(arr[i], inner, item)
            setattr(dst, fname, arr)
            setattr(dst, count, len(items))
        elif ftype in OBJECT_ERRORS:
            setattr(dst, fname, ffi.NULL if v is None else ffi.cast(ftype, new_handle(v, ftype)))
        elif v is not None:
            setattr(dst, fname, v)


def structs_counted(arr, count, sname: str, items: list) -> None:
    """A caller's struct array with its count in *count: 0 asks how many
    (virNodeGetCPUStats); otherwise fill up to *count and say how many."""
    if count[0] == 0:
        count[0] = len(items)
        return
    n = min(count[0], len(items))
    for i in range(n):
        fill_struct(arr[i], sname, items[i])
    count[0] = n


def struct_block(sname: str, items: list):
    """One malloc'ed block of structs (virDomainGetSecurityLabelList's labels)."""
    arr = ffi.cast("struct " + sname + " *",
                   lib.calloc(max(len(items), 1), ffi.sizeof("struct " + sname)))
    for i, item in enumerate(items):
        fill_struct(arr[i], sname, item)
    return arr


def malloc_bytes(data: bytes):
    """A malloc'ed copy of data that the caller frees (virNodeGetCPUMap's map)."""
    buf = ffi.cast("unsigned char *", lib.calloc(max(len(data), 1), 1))
    ffi.memmove(buf, bytes(data), len(data))
    return buf


def struct_array(sname: str, items: list):
    """A NULL-terminated array of malloc'ed structs, freed by the caller with the
    struct's own free function (virDomainFSInfoFree, ...) and free()."""
    ptr = "struct " + sname + " *"
    arr = ffi.cast(ptr + "*", lib.calloc(len(items) + 1, ffi.sizeof("void *")))
    for i, item in enumerate(items):
        one = ffi.cast(ptr, lib.calloc(1, ffi.sizeof("struct " + sname)))
        fill_struct(one, sname, item)
        arr[i] = one
    return arr

"""QMP JSON as libvirt 9.0 reads and writes it (its yajl-based virJSON), for
the monitor pass-through of libvirt-qemu: a command given as text, a reply
and an event's data handed back as text.

Written compactly (no spaces), keys in QEMU's order, numbers exactly as QEMU
wrote them (libvirt keeps a number's text; Python's float would not), strings
with yajl's escapes (\\" \\\\ \\b \\f \\n \\r \\t, other control characters as
\\u00XX, '/' and non-ASCII as they are).  A command that does not parse
fails with yajl's verbose message: its error, then the text around the
place with an arrow under it.
"""

from __future__ import annotations

import json
from typing import Any

from ... import errors
from ...errors import ErrorDomain, ErrorNumber


class Number(str):
    """A JSON number, kept as its text."""


class _Constant(ValueError):
    """NaN, Infinity: Python's json reads them, yajl (and JSON) does not."""


def _not_json(name: str) -> Any:
    raise _Constant(name)


def _loads(text: str | bytes) -> Any:
    return json.loads(text, parse_int=Number, parse_float=Number, parse_constant=_not_json)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
            "\t": "\\t"}
_ESCAPES.update({chr(c): f"\\u{c:04X}" for c in range(0x20) if chr(c) not in _ESCAPES})
_NEEDS_ESCAPE = str.maketrans(_ESCAPES)


def dumps(value: Any) -> str:
    """`value` (as loads() returns it) in virJSONValueToString's compact text."""
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return '"' + value.translate(_NEEDS_ESCAPE) + '"'
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "{" + ",".join(dumps(k) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return str(value)   # an int or float built here rather than parsed


def loads(raw: bytes) -> Any:
    """A message QEMU sent, numbers kept as text."""
    return _loads(raw)


def parse_command(text: str) -> Any:
    """A command's text, or libvirt's "cannot parse json" error."""
    try:
        return _loads(text)
    except json.JSONDecodeError as exc:
        detail = _yajl_error(text, exc.msg, exc.pos)
    except _Constant as exc:
        detail = _yajl_error(text, "Expecting value", max(text.find(str(exc)), 0))
    except RecursionError:
        detail = "parse error: nested too deep\n"
    raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NONE,
                        f"cannot parse json {text}: {detail}")


_LITERALS = ("true", "false", "null")
# what yajl says for what Python's json finds wrong, past the place json names
_PARSE_ERRORS = {
    "Expecting property name enclosed in double quotes":
        "parse error: invalid object key (must be a string)",
    "Expecting ':' delimiter":
        "parse error: object key and value must be separated by a colon (':')",
}


def _yajl_error(text: str, msg: str, pos: int) -> str:
    """yajl's verbose message for the mistake json found at `pos`: its
    wording, and the text around where yajl stopped (after the offending
    character; at 1 for a premature end, yajl's last buffer being one space)."""
    rest = text[pos:]
    literal = next((lit for lit in _LITERALS if rest[:1] == lit[0]), None)
    if msg == "Extra data":
        kind, offset = "parse error: trailing garbage", len(text)
    elif msg.startswith("Invalid control character"):
        kind, offset = "lexical error: invalid character inside string.", pos
    elif msg == "Expecting value" and literal is not None:
        # yajl stops at the first character that is not the literal's
        fits = next((i for i, (a, b) in enumerate(zip(rest, literal)) if a != b),
                    min(len(rest), len(literal)))
        kind, offset = "lexical error: invalid string in json text.", pos + fits
        if pos + fits == len(text):
            offset = 0   # cut short at the end: seen again in yajl's last buffer
    elif not rest.strip() or msg.startswith("Unterminated string"):
        kind, offset = "parse error: premature EOF", 1
    elif msg == "Expecting value" and rest[0] == "-":
        kind = "lexical error: malformed number, a digit is required after the minus sign."
        offset = pos + 1
    elif msg == "Expecting value" and rest[0] in "}],:":
        kind, offset = "parse error: unallowed token at this point in JSON text", pos + 1
    elif msg == "Expecting value":
        kind, offset = "lexical error: invalid char in json text.", pos + 1
    elif msg == "Expecting ',' delimiter":
        kind = ("parse error: after key and value, inside map, I expect ',' or '}'"
                if _innermost(text, pos) == "{" else
                "parse error: after array element, I expect ',' or ']'")
        offset = pos + _token_len(rest)
    else:
        kind = _PARSE_ERRORS.get(msg, f"parse error: {msg.lower()}")
        offset = pos + _token_len(rest)
    # the text from 30 characters before the place to 30 after, placed so
    # that the place falls under the arrow (column 41)
    start = max(offset - 30, 0)
    shown = text[start:offset + 30].replace("\n", " ").replace("\r", " ")
    pad = " " * (40 - offset if offset < 30 else 10)
    return f"{kind}\n{pad}{shown}\n                     (right here) ------^\n"


def _token_len(rest: str) -> int:
    """How far into `rest` yajl has read its first token (a string: up to
    its closing quote, not past it)."""
    if rest[:1] == '"':
        try:
            return json.JSONDecoder().raw_decode(rest)[1] - 1
        except ValueError:
            return len(rest)
    number = len(rest) - len(rest.lstrip("-+.0123456789eE"))
    return number or 1


def _innermost(text: str, pos: int) -> str:
    """The bracket left open at `pos` ("{" or "["), strings skipped."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""

"""<auth> users of a test:///PATH.xml host, checked at open time through
the application's auth callback, as libvirt's testConnectAuthenticate does
(virAuthGetUsername/virAuthGetPassword with the 'localhost' host name)."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber, VirtError

VIR_CRED_AUTHNAME, VIR_CRED_PASSPHRASE, VIR_CRED_NOECHOPROMPT = 2, 5, 7
_HOST = "localhost"


@dataclasses.dataclass(frozen=True)
class AuthUser:
    """<auth><user password='...'>name</user>; password None: none asked of him."""
    username: str
    password: Optional[str]


def _auth_error(detail: str, domain: int = ErrorDomain.VIR_FROM_AUTH) -> VirtError:
    return errors.report(ErrorNumber.VIR_ERR_AUTH_FAILED, domain, detail)


def _unknown() -> VirtError:
    # libvirt returns failure with no error set when the callback answers nothing.
    return VirtError(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NONE,
                     "An error occurred, but the cause is unknown")


def _ask(auth: Any, credtype: int, prompt: str, what: str) -> str:
    answers = auth.ask([{"type": credtype, "prompt": prompt, "challenge": _HOST,
                         "defresult": None}])
    if answers is None:
        raise _auth_error(f"{what} request failed")
    if answers[0] is None:
        raise _unknown()
    return answers[0]


def authenticate(users: list[AuthUser], auth: Any) -> None:
    """Ask for a user name, then (unless that user has no password) a password."""
    if not users:
        return
    if auth is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_AUTH,
                            "Missing authentication credentials")
    if VIR_CRED_AUTHNAME not in auth.credtype:
        raise _auth_error("Missing VIR_CRED_AUTHNAME credential type")
    username = _ask(auth, VIR_CRED_AUTHNAME, f"Enter username for {_HOST}", "Username")
    user = next((u for u in users if u.username == username), None)
    password = None
    if user is None or user.password is not None:
        kind = next((t for t in auth.credtype
                     if t in (VIR_CRED_PASSPHRASE, VIR_CRED_NOECHOPROMPT)), None)
        if kind is None:
            raise _auth_error("Missing VIR_CRED_PASSPHRASE or VIR_CRED_NOECHOPROMPT "
                              "credential type")
        password = _ask(auth, kind, f"Enter {username}'s password for {_HOST}", "Password")
    if user is None or (password is not None and password != user.password):
        raise _auth_error("authentication failed, see test XML for the correct "
                          "username/password", ErrorDomain.VIR_FROM_TEST)

"""Tokens in cookies, for browser apps, with double-submit CSRF protection.

With ``"cookies"`` in ``JWT_TOKEN_LOCATION``, a login (and a refresh) also
sets the tokens as ``HttpOnly`` cookies, which page scripts cannot read,
and, beside each, a CSRF value in a cookie they can read. Every token set in
a cookie carries its CSRF value as the ``csrf`` claim: a state-changing
request authenticated by the cookie must send the value back in a header
(or a form field), which another site cannot do (OWASP's double submit,
bound to the token).
"""

from __future__ import annotations

import hmac
import logging
import typing as t
from dataclasses import dataclass

from flask import Request
from flask import request
from werkzeug import Response

from .exceptions import CSRFError
from .exceptions import InvalidHeaderError

#: The claim that binds a cookie token to its CSRF value.
CSRF_CLAIM = "csrf"
#: The largest cookie browsers keep (RFC 6265 section 6.1 asks for 4096
#: bytes with its name and attributes).
MAX_COOKIE_SIZE = 4000

logger = logging.getLogger("jwt_blueprint")


@dataclass(frozen=True)
class CookieSettings:
    """How tokens travel in cookies (``JWT_*COOKIE*`` and ``JWT_CSRF_*``)."""

    access_name: str
    refresh_name: str
    access_csrf_name: str
    refresh_csrf_name: str
    secure: bool
    samesite: str | None
    domain: str | None
    access_path: str
    csrf_protect: bool
    csrf_methods: frozenset[str]
    csrf_header: str
    csrf_field: str


def read_cookie(request: Request, name: str, max_size: int) -> str | None:
    """The token in cookie ``name``; ``None`` if there is none.

    :raises InvalidHeaderError: if it is not a compact token, or too large:
        a malformed token is refused, never skipped for another place.
    """
    value = request.cookies.get(name)
    if value is None:
        return None
    if not value:
        raise InvalidHeaderError("Token cookie is empty", "invalid_request")
    if len(value) > max_size:
        raise InvalidHeaderError("Token is too large", "invalid_token")
    if not value.isascii() or value.count(".") != 2:
        raise InvalidHeaderError("Token cookie is not a token", "invalid_request")
    return value


def check_csrf(
    claims: t.Mapping[str, t.Any], request: Request, cookies: CookieSettings
) -> None:
    """Refuse a state-changing request authenticated by a cookie whose
    token's CSRF value it does not send back, in the header or a form field.

    :raises CSRFError: ``Missing CSRF token`` or ``CSRF token mismatch``.
    """
    if not cookies.csrf_protect or request.method not in cookies.csrf_methods:
        return
    sent = request.headers.get(cookies.csrf_header)
    if sent is None and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sent = request.form.get(cookies.csrf_field)
    if not sent:
        raise CSRFError("Missing CSRF token")
    expected = claims.get(CSRF_CLAIM)
    if not isinstance(expected, str) or not hmac.compare_digest(
        sent.encode("utf-8", "surrogateescape"), expected.encode()
    ):
        raise CSRFError("CSRF token mismatch")


def set_token_cookies(
    response: Response,
    cookies: CookieSettings,
    access_token: t.Any,
    access_max_age: float,
    refresh_path: str | None,
    refresh_max_age: float,
) -> None:
    """Set the access token (and its refresh token, on ``refresh_path``)
    and their CSRF values as cookies on ``response``."""
    _set_pair(
        response,
        cookies,
        cookies.access_name,
        cookies.access_csrf_name,
        access_token,
        cookies.access_path,
        access_max_age,
    )
    refresh_token = getattr(access_token, "refresh_token", None)
    if refresh_token is not None and refresh_path is not None:
        _set_pair(
            response,
            cookies,
            cookies.refresh_name,
            cookies.refresh_csrf_name,
            refresh_token,
            refresh_path,
            refresh_max_age,
        )


def _set_pair(
    response: Response,
    cookies: CookieSettings,
    name: str,
    csrf_name: str,
    token: t.Any,
    path: str,
    max_age: float,
) -> None:
    options: dict[str, t.Any] = {
        "max_age": max(0, int(max_age)),
        "path": path,
        "domain": cookies.domain,
        "secure": cookies.secure,
        "samesite": cookies.samesite,
    }
    if len(str(token)) > MAX_COOKIE_SIZE:
        # Browsers drop it: the login would succeed, and log nobody in.
        logger.error(
            "jwt_blueprint: the %s cookie is %d bytes; browsers keep at most"
            " %d: put fewer claims in the token",
            name,
            len(str(token)),
            MAX_COOKIE_SIZE,
        )
    response.set_cookie(name, str(token), httponly=True, **options)
    csrf = getattr(token, "csrf_token", None)
    if csrf is not None:
        # Readable by the page's scripts, which send it back in a header:
        # on every page of the app, wherever they run, not the token's path.
        options["path"] = request.script_root + "/"
        response.set_cookie(csrf_name, csrf, httponly=False, **options)


def clear_token_cookies(
    response: Response, cookies: CookieSettings, refresh_path: str | None
) -> None:
    """Delete every token and CSRF cookie, as a logout does."""
    csrf_path = request.script_root + "/"
    paths = [(cookies.access_name, cookies.access_path)]
    paths.append((cookies.access_csrf_name, csrf_path))
    if refresh_path is not None:
        paths.append((cookies.refresh_name, refresh_path))
        paths.append((cookies.refresh_csrf_name, csrf_path))
    for name, path in paths:
        response.delete_cookie(
            name,
            path=path,
            domain=cookies.domain,
            secure=cookies.secure,
            samesite=cookies.samesite,
            httponly=name in (cookies.access_name, cookies.refresh_name),
        )

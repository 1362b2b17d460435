"""Where a request carries its token, and how each place is read.

Each reader takes the WSGI environ and the app's settings, and returns the
token, ``None`` when the place holds none, or raises
:class:`~.exceptions.InvalidHeaderError` when it holds something malformed:
a malformed token is refused, never skipped.
"""

from __future__ import annotations

import string
import typing as t

from .exceptions import InvalidHeaderError

if t.TYPE_CHECKING:  # pragma: no cover
    from .config import Settings

#: The location of a token read from the ``Authorization`` header.
HEADERS = "headers"
#: The location of a token supplied by a custom ``request_handler``.
REQUEST_HANDLER = "request_handler"
#: The location of a refresh token read from a lifecycle endpoint's body.
JSON = "json"
#: The location of a token read from a cookie.
COOKIES = "cookies"
#: The location of a token read from the query string.
QUERY_STRING = "query_string"


#: The characters of a compact JWS: base64url segments joined by dots.
_TOKEN_BYTES = (string.ascii_letters + string.digits + "-_.").encode("ascii")


def read_header(environ: t.Mapping[str, t.Any], settings: Settings) -> str | None:
    """Read ``Authorization: <JWT_AUTH_HEADER_PREFIX> <token>``.

    The header is parsed strictly: one ASCII space, the scheme matched
    case-insensitively, nothing but base64url and dots in the token, at most
    ``JWT_MAX_TOKEN_SIZE`` characters. Anything else is refused, never
    guessed at.
    """
    value: str | None = environ.get("HTTP_AUTHORIZATION")
    if not value:
        return None
    prefix = settings.header_prefix_space
    if value.startswith(prefix):
        # The scheme as configured, as nearly every client sends it.
        token = value[len(prefix) :]
    else:
        scheme, _, token = value.partition(" ")
        if not scheme.isascii() or scheme.lower() != settings.header_prefix_lower:
            # Another scheme's credentials: for us, no token at all.
            raise InvalidHeaderError("Unsupported authorization type", None)
    if not token:
        raise InvalidHeaderError("Token missing", "invalid_request")
    if len(token) > settings.max_token_size:
        raise InvalidHeaderError("Token is too large", "invalid_token")
    # Deleting every allowed byte leaves nothing: twice as fast as a regex.
    if not token.isascii() or token.encode("ascii").translate(None, _TOKEN_BYTES):
        raise InvalidHeaderError(
            "Token contains spaces"
            if " " in token
            else "Token contains invalid characters",
            "invalid_request",
        )
    return token

"""Type aliases for the callables a :class:`~jwt_blueprint.JWTStrategy` holds."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:  # pragma: no cover
    from flask.typing import ResponseReturnValue

    from .exceptions import JWTError

#: A JSON object: a token's claims or headers.
Claims = dict[str, t.Any]

#: ``authenticate(username, password) -> identity | None``
AuthenticationCallback = t.Callable[[t.Any, t.Any], t.Any]
#: ``identity(payload) -> identity | None``
IdentityCallback = t.Callable[[Claims], t.Any]
#: ``make_payload(identity) -> claims``
PayloadCallback = t.Callable[[t.Any], Claims]
#: ``make_headers(identity) -> extra JOSE headers | None``
HeadersCallback = t.Callable[[t.Any], "Claims | None"]
#: ``encode(identity) -> token``
EncodeCallback = t.Callable[[t.Any], "str | bytes"]
#: ``decode(token) -> claims``
DecodeCallback = t.Callable[[str], Claims]
#: ``request_token() -> token | None``
RequestCallback = t.Callable[[], "str | None"]
#: ``auth_response(access_token, identity) -> response``
AuthResponseCallback = t.Callable[[str, t.Any], "ResponseReturnValue"]
#: ``auth_request() -> response``: the deprecated replacement auth view.
AuthRequestCallback = t.Callable[..., "ResponseReturnValue"]
#: ``error_handler(error) -> response``
ErrorCallback = t.Callable[["JWTError"], "ResponseReturnValue"]

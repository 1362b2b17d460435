"""Type aliases for the callables a :class:`~jwt_blueprint.JWTStrategy` holds.

Each decorator of the strategy is typed with a ``TypeVar`` bound to its
alias, so a type checker checks the handler and the decorator returns it
unchanged. Any handler may be an ``async def`` function.
"""

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
PayloadCallback = t.Callable[[t.Any], "Claims | t.Awaitable[Claims]"]
#: ``make_headers(identity) -> extra JOSE headers | None``
HeadersCallback = t.Callable[[t.Any], "Claims | None | t.Awaitable[Claims | None]"]
#: ``encode(identity) -> token``
EncodeCallback = t.Callable[[t.Any], "str | bytes | t.Awaitable[str | bytes]"]
#: ``decode(token) -> claims``
DecodeCallback = t.Callable[
    [str], "t.Mapping[str, t.Any] | t.Awaitable[t.Mapping[str, t.Any]]"
]
#: ``request_token() -> token | None``
RequestCallback = t.Callable[[], "str | None | t.Awaitable[str | None]"]
#: ``is_revoked(claims) -> bool``
RevocationCallback = t.Callable[[Claims], "bool | t.Awaitable[bool]"]
#: ``auth_response(access_token, identity) -> response``
AuthResponseCallback = t.Callable[[str, t.Any], t.Any]
#: ``auth_request() -> response``: the deprecated replacement auth view.
AuthRequestCallback = t.Callable[..., "ResponseReturnValue"]
#: ``error_handler(error) -> response``
ErrorCallback = t.Callable[["JWTError"], t.Any]

T_authentication = t.TypeVar("T_authentication", bound=AuthenticationCallback)
T_identity = t.TypeVar("T_identity", bound=IdentityCallback)
T_payload = t.TypeVar("T_payload", bound=PayloadCallback)
T_headers = t.TypeVar("T_headers", bound=HeadersCallback)
T_encode = t.TypeVar("T_encode", bound=EncodeCallback)
T_decode = t.TypeVar("T_decode", bound=DecodeCallback)
T_request = t.TypeVar("T_request", bound=RequestCallback)
T_revocation = t.TypeVar("T_revocation", bound=RevocationCallback)
T_auth_response = t.TypeVar("T_auth_response", bound=AuthResponseCallback)
T_auth_request = t.TypeVar("T_auth_request", bound=AuthRequestCallback)
T_error = t.TypeVar("T_error", bound=ErrorCallback)

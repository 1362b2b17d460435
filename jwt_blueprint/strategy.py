"""The strategy object: every handler in one place.

Each ``*_handler`` decorator stores the callable and returns it unchanged, as
in Flask-JWT. The defaults are methods, so a subclass can override them too.
"""

from __future__ import annotations

import re
import secrets
import time
import typing as t
import warnings
from collections.abc import Mapping

from flask import current_app
from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import Headers

from .config import Settings
from .exceptions import InvalidHeaderError
from .exceptions import JWTError
from .exceptions import make_challenge
from .schemas import TokenSchema
from .state import get_state
from .tokens import AccessToken
from .typing import AuthenticationCallback
from .typing import AuthRequestCallback
from .typing import AuthResponseCallback
from .typing import Claims
from .typing import DecodeCallback
from .typing import EncodeCallback
from .typing import ErrorCallback
from .typing import HeadersCallback
from .typing import IdentityCallback
from .typing import PayloadCallback
from .typing import RequestCallback

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

#: A compact JWS: base64url segments joined by dots. A regex scans a long
#: token several times faster than a set comparison.
_TOKEN = re.compile(r"[A-Za-z0-9_.\-]+")


class JWTStrategy:
    """Holds the handlers that decide how tokens are made and checked.

    :param authentication_handler: ``authenticate(username, password)``,
        returning the identity or ``None``. Required by the built-in auth
        endpoint.
    :param identity_handler: ``identity(payload)``, returning the identity
        for a verified token or ``None``.
    """

    def __init__(
        self,
        authentication_handler: AuthenticationCallback | None = None,
        identity_handler: IdentityCallback | None = None,
    ) -> None:
        self.authentication_callback: AuthenticationCallback | None = (
            authentication_handler
        )
        self.identity_callback: IdentityCallback | None = identity_handler
        self.jwt_payload_callback: PayloadCallback = self.make_payload
        self.jwt_headers_callback: HeadersCallback = self.make_headers
        self.jwt_encode_callback: EncodeCallback = self.encode_token
        self.jwt_decode_callback: DecodeCallback = self.decode_token
        self.request_callback: RequestCallback = self.request_token
        self.jwt_error_callback: ErrorCallback = self.error_response
        self.auth_response_callback: AuthResponseCallback = self.auth_response
        #: Deprecated: a view that replaces the built-in auth endpoint.
        self.auth_request_callback: AuthRequestCallback | None = None

    # -- decorators ------------------------------------------------------

    def authentication_handler(self, callback: F) -> F:
        """Set ``authenticate(username, password) -> identity | None``."""
        self.authentication_callback = callback
        return callback

    def identity_handler(self, callback: F) -> F:
        """Set ``identity(payload) -> identity | None``."""
        self.identity_callback = callback
        return callback

    def jwt_payload_handler(self, callback: F) -> F:
        """Set ``make_payload(identity) -> dict`` of claims to sign."""
        self.jwt_payload_callback = callback
        return callback

    def jwt_headers_handler(self, callback: F) -> F:
        """Set ``make_headers(identity) -> dict | None`` of extra JOSE headers."""
        self.jwt_headers_callback = callback
        return callback

    def jwt_encode_handler(self, callback: F) -> F:
        """Set ``encode(identity) -> str``, which makes the access token."""
        self.jwt_encode_callback = callback
        return callback

    def jwt_decode_handler(self, callback: F) -> F:
        """Set ``decode(token) -> dict``, which verifies a token."""
        self.jwt_decode_callback = callback
        return callback

    def request_handler(self, callback: F) -> F:
        """Set ``request_token() -> str | None``, which finds the token."""
        self.request_callback = callback
        return callback

    def auth_response_handler(self, callback: F) -> F:
        """Set ``auth_response(access_token, identity) -> response``."""
        self.auth_response_callback = callback
        return callback

    def jwt_error_handler(self, callback: F) -> F:
        """Set ``error_handler(error) -> response`` for every :class:`JWTError`."""
        self.jwt_error_callback = callback
        return callback

    def auth_request_handler(self, callback: F) -> F:
        """Replace the whole auth endpoint with ``callback``.

        .. deprecated:: 0.1
            Set ``JWT_AUTH_URL_RULE = None`` and register your own view, or
            subclass :class:`~jwt_blueprint.AuthView`.
        """
        warnings.warn(
            "auth_request_handler is deprecated. Subclass AuthView, or set"
            " JWT_AUTH_URL_RULE = None and register your own authentication view.",
            DeprecationWarning,
            stacklevel=2,
        )
        self.auth_request_callback = callback
        return callback

    # -- defaults --------------------------------------------------------

    def make_payload(self, identity: t.Any) -> Claims:
        """The default claims: ``identity``, ``sub``, ``iat``, ``nbf``,
        ``exp`` and a random ``jti``.

        ``identity`` is the identity's ``id`` attribute or ``["id"]`` key;
        ``sub`` is the same value as a string (RFC 7519 section 4.1.2).
        """
        settings = get_state().settings()
        identity_id = identity_id_of(identity)
        now = int(time.time())
        return {
            "identity": identity_id,
            "sub": str(identity_id),
            "iat": now,
            "nbf": now + settings.not_before_delta,
            "exp": now + settings.expiration_delta,
            "jti": secrets.token_urlsafe(16),
        }

    def make_headers(self, identity: t.Any) -> Claims | None:
        """No extra JOSE headers by default."""
        return None

    def encode_token(self, identity: t.Any) -> AccessToken:
        """Sign the payload handler's claims for ``identity``."""
        codec = get_state().settings().codec
        return AccessToken(
            codec.encode(
                self.jwt_payload_callback(identity), self.jwt_headers_callback(identity)
            )
        )

    def decode_token(self, token: str) -> Claims:
        """Verify ``token`` with the configured key and algorithm (and the
        verification cache, ``JWT_VERIFY_CACHE_SIZE``)."""
        return get_state().settings().codec.decode(token)

    def request_token(self) -> str | None:
        """Read ``Authorization: <JWT_AUTH_HEADER_PREFIX> <token>``."""
        return self.read_token(get_state().settings())

    def read_token(self, settings: Settings, realm: str | None = None) -> str | None:
        """The default :meth:`request_token`, given the app's settings.

        :param realm: the realm of the challenge, ``JWT_DEFAULT_REALM`` by
            default.

        The header is parsed strictly: one ASCII space, the scheme matched
        case-insensitively, nothing but base64url and dots in the token, at
        most ``JWT_MAX_TOKEN_SIZE`` characters. Anything else is refused,
        never guessed at.
        """
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
        value: str | None = environ.get("HTTP_AUTHORIZATION")
        if not value:
            return None
        scheme, _, token = value.partition(" ")
        if not scheme.isascii() or scheme.lower() != settings.header_prefix_lower:
            # Another scheme's credentials: for us, no token at all.
            error, description = None, "Unsupported authorization type"
        elif not token:
            error, description = "invalid_request", "Token missing"
        elif len(token) > settings.max_token_size:
            error, description = "invalid_token", "Token is too large"
        elif _TOKEN.fullmatch(token) is None:
            error = "invalid_request"
            description = (
                "Token contains spaces"
                if " " in token
                else "Token contains invalid characters"
            )
        else:
            return token
        challenge = make_challenge(
            settings.header_prefix, realm or settings.default_realm, error, description
        )
        raise InvalidHeaderError(description, challenge)

    def auth_response(self, access_token: str, identity: t.Any) -> ResponseReturnValue:
        """``{"access_token": "<token>"}``, dumped by :class:`TokenSchema`.

        While this default is in use, :class:`~jwt_blueprint.AuthView` dumps
        its own ``token_schema`` instead, so a subclass can swap it.
        """
        return jsonify(
            TokenSchema().dump(
                {"access_token": str(access_token), "identity": identity}
            )
        )

    def error_response(self, error: JWTError) -> ResponseReturnValue:
        """Render ``error`` as JSON with its status and headers."""
        headers = Headers(error.headers)
        if error.status_code == 401 and "WWW-Authenticate" not in headers:
            settings = get_state().settings()
            headers["WWW-Authenticate"] = make_challenge(
                settings.header_prefix, settings.default_realm
            )
        current_app.logger.debug("jwt_blueprint: %r", error)
        return jsonify(error.to_dict()), error.status_code, headers


def is_default_handler(callback: t.Callable[..., t.Any], default: t.Any) -> bool:
    """Whether ``callback`` is a strategy's own ``default`` method, not
    overridden by a subclass nor replaced by a decorator."""
    return getattr(callback, "__func__", None) is default


def identity_id_of(identity: t.Any) -> t.Any:
    """The identity's ``id`` attribute, else its ``["id"]`` item."""
    if isinstance(identity, Mapping):
        if "id" in identity:
            return identity["id"]
    elif hasattr(identity, "id"):
        return identity.id
    raise TypeError(
        f"the identity {type(identity).__name__!r} has no 'id' attribute or key;"
        " set a jwt_payload_handler that says how to put it in a token"
    )

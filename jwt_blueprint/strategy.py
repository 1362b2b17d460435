"""The strategy object: every handler in one place, and the steps that use them.

A handler is set with a decorator (``@jwt.identity_handler``), which stores
it in :attr:`JWTStrategy.handlers` and returns it unchanged, as in Flask-JWT.
An unset handler is ``None`` and means the default, so a handler that calls
the default (``jwt.decode_token``, ``super().make_payload``) behaves exactly
like it.

The steps that verify a request are in :mod:`.pipeline`; the steps that
issue a token (which run the default methods :meth:`~JWTStrategy.make_payload`,
:meth:`~JWTStrategy.make_headers` and :meth:`~JWTStrategy.encode_token`, for
a subclass to override) are here.
"""

from __future__ import annotations

import contextvars
import copy
import math
import secrets
import time
import typing as t
import warnings
from calendar import timegm
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask import jsonify
from flask.typing import ResponseReturnValue

from . import typing as ht
from .claims import ACCESS
from .claims import AUTH_TIME_CLAIM
from .claims import FAMILY_CLAIM
from .claims import FRESH_CLAIM
from .claims import identity_id_of
from .claims import REFRESH
from .claims import REFRESH_TYP
from .claims import RESERVED_CLAIMS
from .claims import TYPE_CLAIM
from .cookies import CSRF_CLAIM
from .exceptions import JWTError
from .globals import get_realm
from .globals import get_token_schema
from .handlers import HandlerAttribute
from .handlers import Handlers
from .handlers import resolve
from .lifecycle import family_expiry
from .lifecycle import latest_exp
from .lifecycle import TokenLifecycle
from .schemas import ErrorSchema
from .schemas import TokenSchema
from .state import get_state
from .tokens import AccessToken
from .typing import Claims

if t.TYPE_CHECKING:  # pragma: no cover
    from .config import Settings

_ERROR_SCHEMA = ErrorSchema()
_TOKEN_SCHEMA = TokenSchema()


@dataclass
class _Stamp:
    """What the strategy writes over the payload handler's claims (and the
    headers handler's headers) for the token being issued."""

    #: The lifetime :meth:`JWTStrategy.create_access_token` was given.
    expires_delta: float | None
    #: Claims added by the caller, or replaced.
    claims: Mapping[str, t.Any] | None
    #: The lifecycle claims (``type``, ``fresh``, ``fam``, ``auth_time``, a
    #: refresh token's ``exp`` and ``jti``), which win over the caller's and
    #: the handler's; ``None`` when there are none to write.
    lifecycle: dict[str, t.Any] | None = None
    #: JOSE headers to add: a refresh token's ``typ``.
    headers: Claims | None = None
    #: Whether the token cannot be issued without them.
    required: bool = False
    #: With a token store, the latest ``exp`` allowed: a revocation is kept
    #: only as long as the longest lifetime configured.
    latest_exp: float | None = None
    #: ``iss`` and ``aud``, from ``JWT_ENCODE_ISSUER`` and
    #: ``JWT_ENCODE_AUDIENCE``.
    addressed: dict[str, t.Any] | None = None
    #: Whether the payload step applied them.
    applied: bool = False

    def apply(self, payload: Claims) -> Claims:
        payload = dict(payload)
        if self.claims:
            payload.update(self.claims)
        if self.expires_delta is not None:
            # As Flask-JWT and PyJWT computed it: whole seconds, truncated.
            payload["exp"] = math.floor(time.time() + self.expires_delta)
        if self.lifecycle is not None:
            for claim in RESERVED_CLAIMS:
                payload.pop(claim, None)
            payload.update(self.lifecycle)
            if "jti" not in payload:
                # Every token can be revoked, whatever the handler wrote.
                payload["jti"] = new_token_id()
        if self.addressed:
            payload.update(self.addressed)
        if self.latest_exp is not None:
            _check_lifetime(payload.get("exp"), self.latest_exp)
        self.applied = True
        return payload


def _check_lifetime(exp: t.Any, latest: float) -> None:
    if isinstance(exp, datetime):
        exp = timegm(exp.utctimetuple())
    if isinstance(exp, bool) or not isinstance(exp, (int, float)) or exp > latest:
        raise ValueError(
            "with a token store, a token's exp cannot exceed the longest of"
            " JWT_EXPIRATION_DELTA and JWT_REFRESH_EXPIRATION_DELTA from now,"
            f" as revocations are kept that long; not {exp!r}"
        )


#: The stamp of the token being issued: the payload and encode handlers
#: take only the identity.
_stamp: contextvars.ContextVar[_Stamp | None] = contextvars.ContextVar(
    "jwt_blueprint_stamp", default=None
)


def new_token_id() -> str:
    """A random ``jti`` or family id: 128 bits, base64url."""
    return secrets.token_urlsafe(16)


class JWTStrategy(TokenLifecycle):
    """Holds the handlers that decide how tokens are made and checked.

    :param authentication_handler: ``authenticate(username, password)``,
        returning the identity or ``None``. Required by the built-in auth
        endpoint.
    :param identity_handler: ``identity(payload)``, returning the identity
        for a verified token or ``None``.
    """

    authentication_callback = HandlerAttribute[ht.AuthenticationCallback | None](
        "authentication"
    )
    identity_callback = HandlerAttribute[ht.IdentityCallback | None]("identity")
    # The issuing steps: Flask-JWT's default encode handler built its claims
    # with jwt.jwt_payload_callback(identity), and apps copied it.
    jwt_payload_callback = HandlerAttribute[ht.PayloadCallback](
        "payload", step="build_payload"
    )
    jwt_headers_callback = HandlerAttribute[ht.HeadersCallback](
        "headers", step="build_headers"
    )
    jwt_encode_callback = HandlerAttribute[ht.EncodeCallback](
        "encode", step="issue_token"
    )
    jwt_decode_callback = HandlerAttribute[ht.DecodeCallback]("decode", "decode_token")
    request_callback = HandlerAttribute[ht.RequestCallback]("request", "request_token")
    revocation_callback = HandlerAttribute[ht.RevocationCallback](
        "revocation", "is_revoked"
    )
    auth_response_callback = HandlerAttribute[ht.AuthResponseCallback](
        "auth_response", "auth_response"
    )
    jwt_error_callback = HandlerAttribute[ht.ErrorCallback]("error", "error_response")
    auth_request_callback = HandlerAttribute[ht.AuthRequestCallback | None](
        "auth_request"
    )

    def __init__(
        self,
        authentication_handler: ht.AuthenticationCallback | None = None,
        identity_handler: ht.IdentityCallback | None = None,
    ) -> None:
        #: The handlers set on this strategy; ``None`` means the default.
        self.handlers = Handlers(
            authentication=authentication_handler, identity=identity_handler
        )

    # -- decorators ------------------------------------------------------

    def authentication_handler(
        self, callback: ht.T_authentication
    ) -> ht.T_authentication:
        """Set ``authenticate(username, password) -> identity | None``."""
        self.handlers.authentication = callback
        return callback

    def identity_handler(self, callback: ht.T_identity) -> ht.T_identity:
        """Set ``identity(payload) -> identity | None``."""
        self.handlers.identity = callback
        return callback

    def jwt_payload_handler(self, callback: ht.T_payload) -> ht.T_payload:
        """Set ``make_payload(identity) -> dict`` of claims to sign."""
        self.handlers.payload = callback
        return callback

    def jwt_headers_handler(self, callback: ht.T_headers) -> ht.T_headers:
        """Set ``make_headers(identity) -> dict | None`` of extra JOSE headers."""
        self.handlers.headers = callback
        return callback

    def jwt_encode_handler(self, callback: ht.T_encode) -> ht.T_encode:
        """Set ``encode(identity) -> str``, which makes the access token."""
        self.handlers.encode = callback
        return callback

    def jwt_decode_handler(self, callback: ht.T_decode) -> ht.T_decode:
        """Set ``decode(token) -> dict``, which verifies a token."""
        self.handlers.decode = callback
        return callback

    def request_handler(self, callback: ht.T_request) -> ht.T_request:
        """Set ``request_token() -> str | None``, which finds the token."""
        self.handlers.request = callback
        return callback

    def revocation_handler(self, callback: ht.T_revocation) -> ht.T_revocation:
        """Set ``is_revoked(claims) -> bool``, asked for every verified token."""
        self.handlers.revocation = callback
        return callback

    def auth_response_handler(self, callback: ht.T_auth_response) -> ht.T_auth_response:
        """Set ``auth_response(access_token, identity) -> response``."""
        self.handlers.auth_response = callback
        return callback

    def jwt_error_handler(self, callback: ht.T_error) -> ht.T_error:
        """Set ``error_handler(error) -> response`` for every :class:`JWTError`."""
        self.handlers.error = callback
        return callback

    def auth_request_handler(self, callback: ht.T_auth_request) -> ht.T_auth_request:
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
        self.handlers.auth_request = callback
        return callback

    # -- defaults --------------------------------------------------------

    def make_payload(self, identity: t.Any) -> Claims:
        """The default claims: ``identity``, ``sub``, ``iat``, ``nbf``,
        ``exp`` and a random ``jti``.

        ``identity`` is the identity's ``id`` attribute or ``["id"]`` key;
        ``sub`` is the same value as a string (RFC 7519 section 4.1.2). The
        times are whole seconds, truncated as Flask-JWT and PyJWT did.
        """
        settings = get_state().settings()
        identity_id = identity_id_of(identity)
        now = time.time()
        return {
            "identity": identity_id,
            "sub": str(identity_id),
            "iat": math.floor(now),
            "nbf": math.floor(now + settings.not_before_delta),
            "exp": math.floor(now + settings.expiration_delta),
            "jti": secrets.token_urlsafe(16),
        }

    def make_headers(self, identity: t.Any) -> Claims | None:
        """No extra JOSE headers by default."""
        return None

    def encode_token(self, identity: t.Any) -> AccessToken:
        """Sign the payload handler's claims for ``identity``, with the
        headers handler's headers."""
        codec = get_state().settings().codec
        payload = self.build_payload(identity)
        return AccessToken(codec.encode(payload, self.build_headers(identity)))

    def auth_response(self, access_token: str, identity: t.Any) -> ResponseReturnValue:
        """``{"access_token": "<token>"}``, and ``"refresh_token"`` when
        ``access_token.refresh_token`` is set: the serving view's
        ``token_schema`` (:class:`TokenSchema` by default) dumped as JSON."""
        schema = get_token_schema() or _TOKEN_SCHEMA
        tokens = {"access_token": str(access_token), "identity": identity}
        refresh_token = getattr(access_token, "refresh_token", None)
        if refresh_token is not None:
            tokens["refresh_token"] = refresh_token
        return jsonify(schema.dump(tokens))

    def error_response(self, error: JWTError) -> ResponseReturnValue:
        """Render ``error`` as JSON (:class:`~.schemas.ErrorSchema`) with its
        status and headers (:meth:`render_error` adds the challenge)."""
        current_app.logger.debug("jwt_blueprint: %r", error)
        return jsonify(_ERROR_SCHEMA.dump(error)), error.status_code, error.headers

    # -- issuing ---------------------------------------------------------

    def create_access_token(
        self,
        identity: t.Any,
        *,
        expires_delta: timedelta | float | None = None,
        claims: Mapping[str, t.Any] | None = None,
        fresh: bool = True,
    ) -> AccessToken:
        """Make an access token for ``identity``, as ``POST /auth`` does:
        through the app's payload, headers and encode handlers. For custom
        login views and for tests; it needs an app context.

        :param expires_delta: the lifetime, instead of
            ``JWT_EXPIRATION_DELTA``: ``exp`` is now plus this, in whole
            seconds. A negative one makes an expired token.
        :param claims: claims to add to the payload handler's, or to replace.
            With a token store, ``type``, ``fresh``, ``fam`` and
            ``auth_time`` are the strategy's own.
        :param fresh: whether the token counts as minted by a login, for
            ``jwt_required(fresh=True)``.
        :raises TypeError: if both set ``exp``, or ``expires_delta`` is not a
            duration.
        :raises ValueError: if ``expires_delta`` is not finite, or, with a
            token store, if the token's ``exp`` (however set) is further
            than the longest configured lifetime (``JWT_EXPIRATION_DELTA``
            or ``JWT_REFRESH_EXPIRATION_DELTA``, plus ``JWT_LEEWAY``), as
            revocations are kept that long.
        :raises RuntimeError: if ``expires_delta`` or ``claims`` were given,
            or a token store is configured, and the encode handler built its
            claims another way (without ``jwt_payload_callback`` or the
            default :meth:`encode_token`).
        """
        if expires_delta is not None:
            if claims and "exp" in claims:
                raise TypeError("pass expires_delta or an 'exp' claim, not both")
            expires_delta = _seconds(expires_delta)
        settings = get_state().settings()
        lifecycle: dict[str, t.Any] | None = None
        if settings.store is not None:
            lifecycle = {
                TYPE_CLAIM: ACCESS,
                FRESH_CLAIM: bool(fresh),
                AUTH_TIME_CLAIM: time.time(),
            }
        elif not fresh:
            # Without a store, a token without the claim counts as fresh;
            # nothing else is the strategy's to write.
            claims = {**(claims or {}), FRESH_CLAIM: False}
        stamp = _Stamp(
            expires_delta,
            claims,
            lifecycle,
            required=expires_delta is not None or bool(claims) or bool(lifecycle),
        )
        return self._issue(identity, stamp, settings)

    def create_tokens(self, identity: t.Any) -> AccessToken:
        """What ``POST /auth`` issues for ``identity``: a fresh access token
        and, with ``JWT_REFRESH_ENABLED``, a refresh token of a new login
        family, recorded in the store, as the access token's
        :attr:`~AccessToken.refresh_token`.

        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        if not settings.refresh_enabled or settings.store is None:
            return self.create_access_token(identity)
        family = new_token_id()
        deadline = math.floor(time.time() + settings.refresh_expiration_delta)
        access, refresh_jti = self._issue_pair(
            identity, family, deadline, time.time(), True, settings
        )
        settings.store.start_family(
            family, refresh_jti, family_expiry(deadline, settings)
        )
        return access

    def _issue_pair(
        self,
        identity: t.Any,
        family: str,
        deadline: float,
        auth_time: float,
        fresh: bool,
        settings: Settings,
    ) -> tuple[AccessToken, str]:
        """An access token and a refresh token of ``family``, the refresh
        token expiring at the family's ``deadline`` (or sooner, if
        ``JWT_REFRESH_EXPIRATION_DELTA`` was shortened since); and its
        ``jti``."""
        deadline = min(
            deadline, math.floor(time.time() + settings.refresh_expiration_delta)
        )
        access = self._issue(
            identity,
            _Stamp(
                None,
                None,
                {
                    TYPE_CLAIM: ACCESS,
                    FRESH_CLAIM: fresh,
                    FAMILY_CLAIM: family,
                    AUTH_TIME_CLAIM: auth_time,
                },
                required=True,
            ),
            settings,
        )
        refresh_jti = new_token_id()
        access.refresh_token = self._issue(
            identity,
            _Stamp(
                None,
                None,
                {
                    TYPE_CLAIM: REFRESH,
                    FAMILY_CLAIM: family,
                    AUTH_TIME_CLAIM: auth_time,
                    "exp": deadline,
                    "jti": refresh_jti,
                },
                {"typ": REFRESH_TYP},
                required=True,
            ),
            settings,
        )
        return access, refresh_jti

    def _issue(self, identity: t.Any, stamp: _Stamp, settings: Settings) -> AccessToken:
        if settings.store is not None:
            stamp.required = True
            stamp.latest_exp = latest_exp(settings)
        addressed = {
            claim: value
            for claim, value in (
                ("iss", settings.encode_issuer),
                ("aud", settings.encode_audience),
            )
            if value is not None
        }
        csrf = None
        if settings.cookies is not None:
            # Binds the token to the CSRF value set beside it in a cookie.
            csrf = addressed[CSRF_CLAIM] = secrets.token_urlsafe(16)
        if addressed:
            stamp.addressed = addressed
            stamp.required = True
        # Set even without overrides, so a token minted while minting another
        # one (from a payload handler, say) does not get that one's.
        reset = _stamp.set(stamp)
        try:
            token = self.issue_token(identity)
        finally:
            _stamp.reset(reset)
        if stamp.required and not stamp.applied:
            raise RuntimeError(
                "expires_delta, claims, or the lifecycle claims a token store"
                " needs did not reach the token: the encode handler builds its"
                " claims without the payload step; have it call"
                " jwt.jwt_payload_callback(identity) or jwt.encode_token"
            )
        token.csrf_token = csrf
        return token

    def issue_token(self, identity: t.Any) -> AccessToken:
        """Run the encode handler (or :meth:`encode_token`) for ``identity``."""
        handler = self.handlers.encode
        if handler is None:
            token: t.Any = self.encode_token(identity)
        else:
            token = resolve(handler(identity))
        if isinstance(token, AccessToken):
            return token
        if isinstance(token, bytes):
            token = token.decode("ascii")
        if not isinstance(token, str):
            raise TypeError(
                "the encode handler must return the token as str or bytes,"
                f" not {type(token).__name__}"
            )
        return AccessToken(token)

    def build_payload(self, identity: t.Any) -> Claims:
        """Run the payload handler (or :meth:`make_payload`) for
        ``identity``, and write over it what the strategy sets for the token
        being issued: the arguments of :meth:`create_access_token`, the
        token type and freshness, the login family, a ``jti``."""
        handler = self.handlers.payload
        if handler is None:
            payload = self.make_payload(identity)
        else:
            payload = resolve(handler(identity))
        stamp = _stamp.get()
        if stamp is not None:
            payload = stamp.apply(payload)
        return payload

    def build_headers(self, identity: t.Any) -> Claims | None:
        """Run the headers handler (or :meth:`make_headers`) for
        ``identity``, plus a refresh token's ``typ``."""
        handler = self.handlers.headers
        headers: Claims | None
        if handler is None:
            headers = self.make_headers(identity)
        else:
            headers = resolve(handler(identity))
        stamp = _stamp.get()
        if stamp is not None and stamp.headers:
            headers = {**(headers or {}), **stamp.headers}
        return headers

    # -- errors ------------------------------------------------------------

    def render_error(self, error: JWTError) -> ResponseReturnValue:
        """Run the error handler (or :meth:`error_response`) for a copy of
        ``error``, with the challenge added to its
        :attr:`~JWTError.headers`.

        The challenge is built now, in the realm of the error, else of the
        view that refused the request, else ``JWT_DEFAULT_REALM``. The
        raised error itself is left as it was, so one instance can be raised
        again, by another view or under another config.
        """
        settings = get_state().settings()
        rendered = copy.copy(error)
        rendered.headers = error.get_headers(
            settings.header_prefix, get_realm() or settings.default_realm
        )
        handler = self.handlers.error
        if handler is None:
            return self.error_response(rendered)
        response: ResponseReturnValue = resolve(handler(rendered))
        return response


def _seconds(delta: timedelta | float) -> float:
    if isinstance(delta, timedelta):
        return delta.total_seconds()
    if isinstance(delta, bool) or not isinstance(delta, (int, float)):
        raise TypeError(
            f"expires_delta must be a timedelta or a number of seconds, not {delta!r}"
        )
    if not math.isfinite(delta):
        raise ValueError(f"expires_delta must be finite, not {delta!r}")
    return float(delta)

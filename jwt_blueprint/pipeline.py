"""The verification pipeline: what :func:`~jwt_blueprint.jwt_required` runs.

:meth:`VerificationPipeline.verify_request` runs these steps in order, each a
method that a subclass of :class:`~jwt_blueprint.JWTStrategy` can override:

1. :meth:`~VerificationPipeline.locate_token`: the request handler, by
   default the ``Authorization`` header;
2. :meth:`~VerificationPipeline.decode`: the decode handler, by default the
   signature and the registered claims;
3. :meth:`~VerificationPipeline.check_token_type`: an allow-list of token
   types, and freshness where the view asks for it;
4. :meth:`~VerificationPipeline.check_revocation`: the token store, then
   the revocation handler;
5. :meth:`~VerificationPipeline.check_claims`: claims the app relies on;
6. :meth:`~VerificationPipeline.load_identity`: the identity handler.

Steps 2 to 6 are :meth:`~VerificationPipeline.verify_token`, which the
refresh endpoint runs on the token in its body.

A handler replaces exactly the default of its own step (the strategy's
default method, which a subclass can override too), but for the revocation
handler, which adds to the store's check. Every step raises a
:class:`~jwt_blueprint.JWTError`, and nothing is kept on the request unless
all of them pass. What a view asks of its token is a :class:`Requirements`.
"""

from __future__ import annotations

import inspect
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from flask import request

from .claims import ACCESS
from .claims import FRESH_CLAIM
from .claims import REFRESH
from .claims import revocation_keys
from .claims import TokenClaims
from .claims import TYPE_CLAIM
from .claims import VerifiedToken
from .cookies import check_csrf
from .cookies import read_cookie
from .exceptions import AuthorizationRequiredError
from .exceptions import ExpiredTokenError
from .exceptions import FreshTokenRequiredError
from .exceptions import InsufficientScopeError
from .exceptions import InvalidHeaderError
from .exceptions import InvalidTokenError
from .exceptions import IssuerUnavailableError
from .exceptions import JWTError
from .exceptions import MissingClaimError
from .exceptions import RevokedTokenError
from .exceptions import UnknownIdentityError
from .exceptions import WrongTokenTypeError
from .handlers import PLAIN_TYPES
from .handlers import resolve
from .locations import COOKIES
from .locations import HEADERS
from .locations import QUERY_STRING
from .locations import read_header
from .locations import REQUEST_HANDLER
from .remote_keys import KeySetUnavailableError
from .state import get_state
from .typing import Claims

if t.TYPE_CHECKING:  # pragma: no cover
    from .config import Settings
    from .handlers import Handlers


@dataclass(frozen=True)
class Requirements:
    """What a protected view asks of a token: made once, when the view is
    decorated, and passed to every step that needs it."""

    #: The token types accepted, an allow-list: ``("access",)`` for views.
    token_types: tuple[str, ...] = (ACCESS,)
    #: The realm of the challenges; ``None`` means ``JWT_DEFAULT_REALM``.
    realm: str | None = None
    #: Only a token minted by a login (claim ``fresh: true``) passes.
    fresh: bool = False
    #: A request without a token passes, with no identity; a token that is
    #: there must still be valid.
    optional: bool = False
    #: Roles the token's ``roles`` claim must all have.
    roles: tuple[str, ...] = ()
    #: Roles of which the token's ``roles`` claim must have one.
    any_roles: tuple[str, ...] = ()
    #: Scopes the token's ``scope`` claim must all grant.
    scopes: tuple[str, ...] = ()


#: What :func:`~jwt_blueprint.jwt_required` asks by default.
DEFAULT_REQUIREMENTS = Requirements()
#: What the refresh endpoint asks of the token in its body.
REFRESH_REQUIREMENTS = Requirements(token_types=(REFRESH,))


def invalid_token(exc: Exception) -> JWTError:
    """The :class:`JWTError` for a PyJWT (or parsing) failure: an
    :class:`InvalidTokenError`, or a 503 when another issuer's keys could
    not be fetched."""
    if isinstance(exc, KeySetUnavailableError):
        return IssuerUnavailableError(exc.retry_after)
    if isinstance(exc, jwt.ExpiredSignatureError):
        return ExpiredTokenError(str(exc), exc)
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return MissingClaimError(exc.claim, exc)
    return InvalidTokenError(str(exc) or type(exc).__name__, exc)


def _names(value: t.Any) -> frozenset[str]:
    """The names in a ``roles`` or ``scope`` claim: a list of strings, or
    one space-separated string; anything else holds none."""
    if isinstance(value, str):
        # Separated by spaces only (RFC 6749 section 3.3), not by any of the
        # characters str.split() would take for whitespace.
        return frozenset(name for name in value.split(" ") if name)
    if isinstance(value, list):
        return frozenset(name for name in value if isinstance(name, str))
    return frozenset()


def _accepts(cls: type[t.Any], name: str, arguments: tuple[t.Any, ...]) -> bool:
    """Whether an instance of ``cls`` can call its ``name`` with
    ``arguments``, as far as its signature tells; ``True`` when it does not
    tell (a builtin, a partial)."""
    attribute = inspect.getattr_static(cls, name)
    try:
        # Bound as on an instance: a plain, static or class method alike.
        bound = attribute.__get__(object.__new__(cls), cls)
        signature = inspect.signature(bound, follow_wrapped=False)
    except (AttributeError, TypeError, ValueError):
        return True
    try:
        signature.bind(*arguments)
    except TypeError:
        return False
    return True


class VerificationPipeline:
    """The steps that verify a request, mixed into
    :class:`~jwt_blueprint.JWTStrategy`."""

    handlers: Handlers

    #: The defaults the steps call with the settings as a last argument, and
    #: the arguments before it.
    _DEFAULTS_TAKING_SETTINGS = {
        "request_token": (),
        "decode_token": ("token",),
        "is_revoked": ({},),
    }

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        # Refuse, when the class is made, an override the steps could not
        # call, rather than fail every request with a TypeError.
        for name, arguments in cls._DEFAULTS_TAKING_SETTINGS.items():
            if not _accepts(cls, name, (*arguments, None)):
                raise TypeError(
                    f"{cls.__name__}.{name} must accept the settings as its last"
                    f" argument, settings=None, and pass them on to"
                    f" super().{name}()"
                )

    def verify_request(
        self, settings: Settings, requirements: Requirements = DEFAULT_REQUIREMENTS
    ) -> VerifiedToken | None:
        """Verify the current request's token, step by step.

        :param settings: the app's settings.
        :param requirements: what the view asks of the token.
        :return: the verified token; ``None`` if there is none and the view
            does not require one (:attr:`Requirements.optional`).
        :raises JWTError: at the first step that refuses the request.
        """
        try:
            located = self.locate_token(settings)
        except InvalidHeaderError as exc:
            # Another scheme's credentials are no token of ours: an
            # optional view runs without one.
            if exc.error_code is None and requirements.optional:
                return None
            raise
        if located is None:
            if requirements.optional:
                return None
            raise AuthorizationRequiredError()
        return self.verify_token(*located, settings, requirements)

    def verify_token(
        self,
        token: str,
        location: str,
        settings: Settings,
        requirements: Requirements = DEFAULT_REQUIREMENTS,
    ) -> VerifiedToken:
        """Verify ``token``, found at ``location``: every step but the first.

        :raises JWTError: at the first step that refuses it.
        """
        claims = self.decode(token, settings)
        if location == COOKIES and settings.cookies is not None:
            check_csrf(claims, request, settings.cookies)
        self.check_token_type(claims, requirements)
        self.check_revocation(claims, settings)
        self.check_claims(claims, settings)
        if requirements.roles or requirements.any_roles or requirements.scopes:
            self.check_authorization(claims, requirements)
        identity = self.load_identity(claims, settings)
        return VerifiedToken(token, claims, location, identity)

    # -- the steps -------------------------------------------------------

    def locate_token(self, settings: Settings) -> tuple[str, str] | None:
        """Find the token: ``(token, location)``, or ``None`` if the request
        carries none.

        Runs the request handler (location ``"request_handler"``), else
        looks in each of ``JWT_TOKEN_LOCATION`` in order: ``"headers"``
        (:meth:`request_token`), ``"cookies"``, ``"query_string"``. The
        first place that holds a token wins, and a malformed one there is
        refused, not skipped. To look elsewhere and say where, override
        this step.
        """
        handler = self.handlers.request
        if handler is not None:
            token = resolve(handler())
            return None if token is None else (token, REQUEST_HANDLER)
        for location in settings.token_locations:
            if location == HEADERS:
                try:
                    token = self.request_token(settings)
                except InvalidHeaderError as exc:
                    # Another scheme's credentials (a proxy's Basic auth,
                    # say) are no token of ours: look in the next place.
                    if exc.error_code is not None or len(settings.token_locations) == 1:
                        raise
                    continue
            elif location == COOKIES:
                assert settings.cookies is not None
                token = read_cookie(
                    request, settings.cookies.access_name, settings.max_token_size
                )
            elif location == QUERY_STRING:
                token = request.args.get(settings.query_string_name)
            else:  # "json" carries refresh tokens, to their endpoints
                continue
            if token is not None:
                return token, location
        return None

    def decode(self, token: str, settings: Settings) -> TokenClaims:
        """Verify ``token`` and return its claims.

        Runs the decode handler, else :meth:`decode_token`.

        :raises InvalidTokenError: for a :class:`jwt.PyJWTError` from either.
        """
        handler = self.handlers.decode
        claims: Mapping[str, t.Any]
        try:
            if handler is None:
                claims = self.decode_token(token, settings)
            else:
                claims = resolve(handler(token))
        except (jwt.PyJWTError, RecursionError) as exc:
            raise invalid_token(exc) from exc
        if type(claims) is TokenClaims:  # what the codec returns
            return claims
        if not isinstance(claims, Mapping):
            raise TypeError(
                "the decode handler must return the token's claims as a dict,"
                f" not {type(claims).__name__}"
            )
        return TokenClaims(claims)

    def check_token_type(self, claims: Claims, requirements: Requirements) -> None:
        """Refuse a token whose ``type`` claim is not one of the types the
        view accepts (no claim means ``"access"``), or that is not fresh
        when the view asks for a fresh one.

        :raises WrongTokenTypeError: if it is not accepted here.
        :raises FreshTokenRequiredError: if it is not fresh.
        """
        kind = claims.get(TYPE_CLAIM, ACCESS)
        if kind not in requirements.token_types:
            if not isinstance(kind, str):
                raise InvalidTokenError("Token type (type) must be a string")
            article = "An" if kind[:1].lower() in "aeiou" else "A"
            raise WrongTokenTypeError(f"{article} {kind} token is not accepted here")
        # Only a refresh writes "fresh": false; a token without the claim
        # was minted by a login (or before there were refresh tokens).
        if requirements.fresh and claims.get(FRESH_CLAIM, True) is not True:
            raise FreshTokenRequiredError()

    def check_revocation(self, claims: Claims, settings: Settings) -> None:
        """Refuse a revoked token: :meth:`is_revoked` (the token store),
        then the revocation handler, which adds its own reasons and cannot
        take the store's away.

        :raises RevokedTokenError: if it was revoked.
        """
        revoked = self.is_revoked(claims, settings)
        handler = self.handlers.revocation
        if not revoked and handler is not None:
            revoked = resolve(handler(claims))
        if revoked:
            raise RevokedTokenError()

    def check_authorization(self, claims: Claims, requirements: Requirements) -> None:
        """Refuse a valid token that lacks the roles or scopes the view
        asks for: a 403, as RFC 6750 section 3.1 has it, not a 401.

        Roles are the ``roles`` claim, scopes the ``scope`` claim (RFC 8693,
        RFC 9068): each a list of strings, or one space-separated string.

        :raises InsufficientScopeError: naming what is missing.
        """
        if requirements.roles or requirements.any_roles:
            roles = _names(claims.get("roles"))
            missing = [role for role in requirements.roles if role not in roles]
            if requirements.any_roles and roles.isdisjoint(requirements.any_roles):
                missing.append(" or ".join(requirements.any_roles))
            if missing:
                raise InsufficientScopeError("role", missing)
        if requirements.scopes:
            scopes = _names(claims.get("scope"))
            missing = [scope for scope in requirements.scopes if scope not in scopes]
            if missing:
                raise InsufficientScopeError("scope", missing)

    def check_claims(self, claims: Claims, settings: Settings) -> None:
        """Refuse claims the app cannot use.

        An app that signs tokens refuses an ``identity`` claim that is
        neither a string nor an integer, as the default payload writes it:
        no identity handler written for that payload could look it up. A
        token without the claim passes (a custom payload handler uses claims
        of its own), and so does any layout on a service that only verifies
        another issuer's tokens.

        :raises InvalidTokenError: naming the claim.
        """
        if settings.codec.signing_key is None or "identity" not in claims:
            return
        value = claims["identity"]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise InvalidTokenError(
                "Identity claim (identity) must be a string or an integer"
            )

    def load_identity(self, claims: Claims, settings: Settings) -> t.Any:
        """Run the identity handler on the verified claims; without one, the
        identity is the claims themselves.

        :raises UnknownIdentityError: if it returns ``None``.
        """
        handler = self.handlers.identity
        if handler is None:
            # A resource server often has no user table: the claims are who.
            return claims
        identity = handler(claims)
        if type(identity) not in PLAIN_TYPES:
            identity = resolve(identity)
        if identity is None:
            raise UnknownIdentityError()
        return identity

    # -- the defaults of the handlers the steps run --------------------------
    #
    # Each keeps its Flask-JWT handler's signature, plus the settings the
    # steps pass in; a handler that wraps one calls it without them.

    def request_token(self, settings: Settings | None = None) -> str | None:
        """The default request handler: read
        ``Authorization: <JWT_AUTH_HEADER_PREFIX> <token>``, strictly.

        :raises InvalidHeaderError: if the header is malformed.
        """
        environ = request._get_current_object().environ  # type: ignore[attr-defined]
        return read_header(environ, settings or get_state().settings())

    def decode_token(self, token: str, settings: Settings | None = None) -> Claims:
        """The default decode handler: verify ``token`` with the configured key
        and algorithm (and the verification cache, ``JWT_VERIFY_CACHE_SIZE``).

        :raises jwt.PyJWTError: if it is not valid.
        """
        return (settings or get_state().settings()).codec.decode(token)

    def is_revoked(self, claims: Claims, settings: Settings | None = None) -> bool:
        """The store's revocation check, which every token passes before the
        revocation handler: ask the token store
        (``JWT_TOKEN_STORE``), in one round trip, whether the token, its
        login or all of its identity's tokens were revoked. Without a store,
        no token is revoked.

        :raises MissingClaimError: with a store, for a token without ``jti``.
        :raises StoreUnavailableError: if the store does not answer.
        """
        store = (settings or get_state().settings()).store
        if store is None:
            return False
        return store.is_revoked(*revocation_keys(claims))

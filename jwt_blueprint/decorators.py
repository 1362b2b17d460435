"""``jwt_required``: protect a view with a token."""

from __future__ import annotations

import functools
import inspect
import typing as t
from collections.abc import Mapping

import jwt
from flask import current_app

from .config import Settings
from .exceptions import AuthorizationRequired
from .exceptions import InvalidTokenError
from .exceptions import make_challenge
from .exceptions import quote_header_value
from .exceptions import UnknownIdentityError
from .globals import set_current_identity
from .state import get_state
from .strategy import is_default_handler
from .strategy import JWTStrategy
from .typing import Claims

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _issues_default_tokens(strategy: JWTStrategy, settings: Settings) -> bool:
    # Only then do we know what the identity claim must look like; a service
    # that verifies another's tokens may receive any layout.
    return (
        settings.codec.signing_key is not None
        and is_default_handler(strategy.jwt_payload_callback, JWTStrategy.make_payload)
        and is_default_handler(strategy.jwt_encode_callback, JWTStrategy.encode_token)
    )


def check_identity_claim(payload: Claims) -> None:
    """Refuse a token whose ``identity`` claim the default payload handler
    could not have written, before an identity handler trips over it.

    :raises jwt.InvalidTokenError: if it is missing or not a string or an
        integer.
    """
    if not isinstance(payload, Mapping):
        return
    value = payload.get("identity")
    if value is None:
        raise jwt.MissingRequiredClaimError("identity")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise jwt.InvalidTokenError(
            "Identity claim (identity) must be a string or an integer"
        )


def verify_jwt_in_request(realm: str | None = None) -> t.Any:
    """Check the request's token and set :data:`~jwt_blueprint.current_identity`.

    :param realm: the realm of the 401 challenge; ``JWT_DEFAULT_REALM`` by
        default.
    :return: the identity.
    :raises JWTError: if there is no valid token for a known identity.
    :raises ValueError: if ``realm`` cannot go into a header.
    """
    if realm is not None:
        quote_header_value(realm)
    return _verify(realm)


def _verify(realm: str | None) -> t.Any:
    # verify_jwt_in_request without checking the realm, which jwt_required
    # has checked once, at decoration time.
    state = get_state()
    settings = state.settings()
    strategy = state.strategy
    realm = realm or settings.default_realm
    prefix = settings.header_prefix

    # The default handlers are called with the settings in hand, rather than
    # looking them up again: this runs on every protected request.
    if is_default_handler(strategy.request_callback, JWTStrategy.request_token):
        token = strategy.read_token(settings, realm)
    else:
        token = strategy.request_callback()
    if token is None:
        raise AuthorizationRequired(make_challenge(prefix, realm))
    try:
        if is_default_handler(strategy.jwt_decode_callback, JWTStrategy.decode_token):
            payload = settings.codec.decode(token)
        else:
            payload = strategy.jwt_decode_callback(token)
        if _issues_default_tokens(strategy, settings):
            check_identity_claim(payload)
    except (jwt.PyJWTError, RecursionError) as exc:
        description = str(exc) or type(exc).__name__
        raise InvalidTokenError(
            description,
            make_challenge(prefix, realm, "invalid_token", description),
            original_error=exc,
        ) from exc

    identity_callback = strategy.identity_callback
    if identity_callback is None:
        raise RuntimeError(
            "jwt_required needs an identity handler: pass identity_handler="
            " or decorate one with @jwt.identity_handler"
        )
    identity = identity_callback(payload)
    set_current_identity(identity)
    if identity is None:
        raise UnknownIdentityError(
            make_challenge(prefix, realm, "invalid_token", "User does not exist")
        )
    return identity


def jwt_required(realm: str | None = None) -> t.Callable[[F], F]:
    """Require a valid token for the decorated view (sync or async)::

        @app.get("/protected")
        @jwt_required()
        def protected():
            return str(current_identity)

    :param realm: the realm named in the 401 challenge; defaults to
        ``JWT_DEFAULT_REALM``.
    :raises ValueError: at decoration time, if ``realm`` cannot go into a header.
    """
    if callable(realm):
        raise TypeError("jwt_required takes parentheses: use @jwt_required()")
    if realm is not None:
        quote_header_value(realm)

    def decorator(fn: F) -> F:
        is_async = inspect.iscoroutinefunction(fn)

        @functools.wraps(fn)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            _verify(realm)
            if is_async:
                return current_app.ensure_sync(fn)(*args, **kwargs)
            return fn(*args, **kwargs)

        return t.cast(F, wrapper)

    return decorator

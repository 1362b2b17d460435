"""``jwt_required``: protect a view with a token."""

from __future__ import annotations

import functools
import inspect
import typing as t

from flask import current_app

from .claims import VerifiedToken
from .exceptions import JWTError
from .exceptions import quote_header_value
from .globals import set_verified_token
from .state import get_state

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def verify_jwt_in_request(realm: str | None = None) -> VerifiedToken:
    """Verify the request's token, and make it the request's
    :func:`~jwt_blueprint.get_verified_token` (so
    :data:`~jwt_blueprint.current_identity` and
    :data:`~jwt_blueprint.current_claims` are set).

    This is what :func:`jwt_required` runs; call it from a ``before_request``
    hook to protect a whole blueprint.

    :param realm: the realm of the challenge on a refusal;
        ``JWT_DEFAULT_REALM`` by default.
    :return: the verified token.
    :raises JWTError: if there is no valid token for a known identity.
    :raises ValueError: if ``realm`` cannot go into a header.
    """
    if realm is not None:
        quote_header_value(realm)
    return _verify(realm)


def _verify(realm: str | None) -> VerifiedToken:
    # verify_jwt_in_request without checking the realm, which jwt_required
    # has checked once, at decoration time.
    state = get_state()
    settings = state.settings()
    try:
        verified = state.strategy.verify_request(settings)
    except JWTError as error:
        # The challenge is built when the error is rendered, so whichever
        # step refused the request, the view's realm goes with it.
        if error.realm is None:
            error.realm = realm
        raise
    set_verified_token(verified)
    return verified


def jwt_required(realm: str | None = None) -> t.Callable[[F], F]:
    """Require a valid token for the decorated view (sync or async)::

        @app.get("/protected")
        @jwt_required()
        def protected():
            return str(current_identity)

    :param realm: the realm named in the challenge of a refusal; defaults to
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

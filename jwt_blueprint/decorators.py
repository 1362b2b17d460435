"""``jwt_required``: protect a view with a token."""

from __future__ import annotations

import functools
import inspect
import typing as t

from flask import current_app

from .claims import VerifiedToken
from .exceptions import quote_header_value
from .globals import set_realm
from .globals import set_verified_token
from .pipeline import DEFAULT_REQUIREMENTS
from .pipeline import Requirements
from .state import get_state

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def verify_jwt_in_request(realm: str | None = None) -> VerifiedToken:
    """Verify the request's token, and make it the request's
    :func:`~jwt_blueprint.get_verified_token` (so
    :data:`~jwt_blueprint.current_identity` and
    :data:`~jwt_blueprint.current_claims` are set).

    This is what :func:`jwt_required` runs; call it from a ``before_request``
    hook to protect a whole blueprint.

    :param realm: the realm of the challenges of this request's refusals;
        ``JWT_DEFAULT_REALM`` by default.
    :return: the verified token.
    :raises JWTError: if there is no valid token for a known identity.
    :raises ValueError: if ``realm`` cannot go into a header.
    """
    return _verify(_requirements(realm))


def _requirements(realm: str | None) -> Requirements:
    if realm is None:
        return DEFAULT_REQUIREMENTS
    quote_header_value(realm)
    return Requirements(realm=realm)


def _verify(requirements: Requirements) -> VerifiedToken:
    state = get_state()
    if requirements.realm is not None:
        # On the request, so the view's own refusals use it too.
        set_realm(requirements.realm)
    verified = state.strategy.verify_request(state.settings(), requirements)
    set_verified_token(verified)
    return verified


def jwt_required(realm: str | None = None) -> t.Callable[[F], F]:
    """Require a valid token for the decorated view (sync or async)::

        @app.get("/protected")
        @jwt_required()
        def protected():
            return str(current_identity)

    :param realm: the realm named in the challenge of every refusal of this
        view; defaults to ``JWT_DEFAULT_REALM``.
    :raises ValueError: at decoration time, if ``realm`` cannot go into a header.
    """
    if callable(realm):
        raise TypeError("jwt_required takes parentheses: use @jwt_required()")
    requirements = _requirements(realm)

    def decorator(fn: F) -> F:
        is_async = inspect.iscoroutinefunction(fn)

        @functools.wraps(fn)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            _verify(requirements)
            if is_async:
                return current_app.ensure_sync(fn)(*args, **kwargs)
            return fn(*args, **kwargs)

        return t.cast(F, wrapper)

    return decorator

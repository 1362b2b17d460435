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


@t.overload
def verify_jwt_in_request(
    realm: str | None = None, *, fresh: bool = False, optional: t.Literal[False] = False
) -> VerifiedToken: ...


@t.overload
def verify_jwt_in_request(
    realm: str | None = None, *, fresh: bool = False, optional: bool
) -> VerifiedToken | None: ...


def verify_jwt_in_request(
    realm: str | None = None, *, fresh: bool = False, optional: bool = False
) -> VerifiedToken | None:
    """Verify the request's token, and make it the request's
    :func:`~jwt_blueprint.get_verified_token` (so
    :data:`~jwt_blueprint.current_identity` and
    :data:`~jwt_blueprint.current_claims` are set).

    This is what :func:`jwt_required` runs; call it from a ``before_request``
    hook to protect a whole blueprint. The arguments are
    :func:`jwt_required`'s.

    :return: the verified token; ``None`` when ``optional`` and the request
        carries none.
    :raises JWTError: if there is no valid token for a known identity.
    :raises ValueError: if ``realm`` cannot go into a header.
    """
    return _verify(_requirements(realm, fresh, optional))


def _requirements(realm: str | None, fresh: bool, optional: bool) -> Requirements:
    if realm is None and not fresh and not optional:
        return DEFAULT_REQUIREMENTS
    if realm is not None:
        quote_header_value(realm)
    return Requirements(realm=realm, fresh=bool(fresh), optional=bool(optional))


def _verify(requirements: Requirements) -> VerifiedToken | None:
    state = get_state()
    if requirements.realm is not None:
        # On the request, so the view's own refusals use it too.
        set_realm(requirements.realm)
    verified = state.strategy.verify_request(state.settings(), requirements)
    if verified is not None:
        set_verified_token(verified)
    return verified


def jwt_required(
    realm: str | None = None, *, fresh: bool = False, optional: bool = False
) -> t.Callable[[F], F]:
    """Require a valid token for the decorated view (sync or async)::

        @app.get("/protected")
        @jwt_required()
        def protected():
            return str(current_identity)

    :param realm: the realm named in the challenge of every refusal of this
        view; defaults to ``JWT_DEFAULT_REALM``.
    :param fresh: accept only a token minted by a login, not by a refresh:
        for changing a password, say. Others get 401 ``Fresh token
        required``.
    :param optional: run the view without a token too, with
        :data:`~jwt_blueprint.current_identity` ``None``. A token that is
        there must still be valid: a bad, expired or revoked one gets 401.
    :raises ValueError: at decoration time, if ``realm`` cannot go into a header.
    """
    if callable(realm):
        raise TypeError("jwt_required takes parentheses: use @jwt_required()")
    requirements = _requirements(realm, fresh, optional)

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

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
    realm: str | None = None,
    *,
    fresh: bool = False,
    optional: t.Literal[False] = False,
    roles: t.Iterable[str] = (),
    scopes: t.Iterable[str] = (),
) -> VerifiedToken: ...


@t.overload
def verify_jwt_in_request(
    realm: str | None = None,
    *,
    fresh: bool = False,
    optional: bool,
    roles: t.Iterable[str] = (),
    scopes: t.Iterable[str] = (),
) -> VerifiedToken | None: ...


def verify_jwt_in_request(
    realm: str | None = None,
    *,
    fresh: bool = False,
    optional: bool = False,
    roles: t.Iterable[str] = (),
    scopes: t.Iterable[str] = (),
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
    return _verify(_requirements(realm, fresh, optional, roles, (), scopes))


def _requirements(
    realm: str | None,
    fresh: bool,
    optional: bool,
    roles: t.Iterable[str] = (),
    any_roles: t.Iterable[str] = (),
    scopes: t.Iterable[str] = (),
) -> Requirements:
    roles, any_roles, scopes = (_names(v) for v in (roles, any_roles, scopes))
    if optional and (roles or any_roles or scopes):
        # Anonymous requests would pass where signed-in ones are refused.
        raise ValueError("roles and scopes cannot be optional")
    if realm is None and not (fresh or optional or roles or any_roles or scopes):
        return DEFAULT_REQUIREMENTS
    if realm is not None:
        quote_header_value(realm)
    return Requirements(
        realm=realm,
        fresh=bool(fresh),
        optional=bool(optional),
        roles=roles,
        any_roles=any_roles,
        scopes=scopes,
    )


def _names(names: t.Iterable[str] | str) -> tuple[str, ...]:
    # Each a name that can go into a header, checked at decoration.
    values = (names,) if isinstance(names, str) else tuple(names)
    for name in values:
        if not isinstance(name, str) or not name or " " in name:
            raise ValueError(f"{name!r} is not a role or scope name")
        quote_header_value(name)
    return values


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
    realm: str | None = None,
    *,
    fresh: bool = False,
    optional: bool = False,
    roles: t.Iterable[str] = (),
    scopes: t.Iterable[str] = (),
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
    :param roles: roles the token's ``roles`` claim must all have; 403
        ``Forbidden`` otherwise.
    :param scopes: scopes the token's ``scope`` claim must all grant; 403
        ``Forbidden`` otherwise.
    :raises ValueError: at decoration time, if ``realm`` cannot go into a header.
    """
    if callable(realm):
        raise TypeError("jwt_required takes parentheses: use @jwt_required()")
    requirements = _requirements(realm, fresh, optional, roles, (), scopes)
    return _protect(requirements)


def roles_required(*roles: str, **options: t.Any) -> t.Callable[[F], F]:
    """Require a valid token whose ``roles`` claim has every one of
    ``roles``: ``@roles_required("admin")``. Takes :func:`jwt_required`'s
    other arguments; a token without them gets 403 ``Forbidden``."""
    _some(roles)
    return jwt_required(roles=roles, **options)


def roles_accepted(*roles: str, **options: t.Any) -> t.Callable[[F], F]:
    """Require a valid token whose ``roles`` claim has one of ``roles`` at
    least: ``@roles_accepted("editor", "admin")``."""
    _some(roles)
    realm = options.pop("realm", None)
    fresh = options.pop("fresh", False)
    optional = options.pop("optional", False)
    scopes = options.pop("scopes", ())
    if options:
        raise TypeError(f"unexpected arguments: {', '.join(options)}")
    return _protect(_requirements(realm, fresh, optional, (), roles, scopes))


def scopes_required(*scopes: str, **options: t.Any) -> t.Callable[[F], F]:
    """Require a valid token whose ``scope`` claim grants every one of
    ``scopes``: ``@scopes_required("orders:read")``."""
    _some(scopes)
    return jwt_required(scopes=scopes, **options)


def _some(names: tuple[str, ...]) -> None:
    # A decorator given no name would let any valid token through.
    if not names:
        raise ValueError("name at least one role or scope")


def _protect(requirements: Requirements) -> t.Callable[[F], F]:
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

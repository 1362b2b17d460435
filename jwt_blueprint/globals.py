"""What jwt_blueprint keeps on the current request: the verified token (and
the proxies to it), the realm of its challenges, the login view's schema."""

from __future__ import annotations

import typing as t

from flask import request
from werkzeug.local import LocalProxy

from .claims import VerifiedToken

if t.TYPE_CHECKING:  # pragma: no cover
    from marshmallow import Schema

# On the request, not on ``g``: ``g`` belongs to the app context, which Flask
# reuses for every request made inside a pushed one (tests, CLI commands), so
# a token kept there would outlive its request.
_ATTRIBUTE = "_jwt_blueprint_token"
_REALM = "_jwt_blueprint_realm"
_TOKEN_SCHEMA = "_jwt_blueprint_token_schema"


def _keep(name: str, value: t.Any) -> None:
    setattr(request._get_current_object(), name, value)  # type: ignore[attr-defined]


def _kept(name: str) -> t.Any:
    try:
        current_request = request._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # outside a request
        return None
    return getattr(current_request, name, None)


def set_verified_token(verified: VerifiedToken) -> None:
    """Make ``verified`` the token of this request."""
    # _keep(), inlined: this runs on every protected request.
    setattr(request._get_current_object(), _ATTRIBUTE, verified)  # type: ignore[attr-defined]


def get_verified_token() -> VerifiedToken | None:
    """The :class:`~jwt_blueprint.VerifiedToken` that authenticated this
    request, or ``None`` outside a request that
    :func:`~jwt_blueprint.jwt_required` let through."""
    verified: VerifiedToken | None = _kept(_ATTRIBUTE)
    return verified


def set_realm(realm: str) -> None:
    """Make ``realm`` the realm of this request's challenges, as
    ``jwt_required(realm=...)`` does."""
    _keep(_REALM, realm)


def get_realm() -> str | None:
    """The realm this request's challenges use, if its view chose one."""
    realm: str | None = _kept(_REALM)
    return realm


def set_token_schema(schema: Schema) -> None:
    """Make ``schema`` the one that dumps this request's login response, as
    the serving :class:`~jwt_blueprint.AuthView` does."""
    _keep(_TOKEN_SCHEMA, schema)


def get_token_schema() -> Schema | None:
    """The schema of the login view serving this request, if any."""
    schema: Schema | None = _kept(_TOKEN_SCHEMA)
    return schema


def get_current_identity() -> t.Any:
    """What the identity handler returned for this request's token; ``None``
    outside a request that :func:`~jwt_blueprint.jwt_required` let through,
    and in an optional view called without a token.

    :data:`current_identity` is a proxy to this, and a proxy is never
    ``None`` itself: test ``get_current_identity() is None``, not
    ``current_identity is None``.
    """
    return _current_identity()


def _current_identity() -> t.Any:
    # _kept(_ATTRIBUTE), inlined: views read this on every request.
    try:
        current_request = request._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:  # outside a request
        return None
    verified = getattr(current_request, _ATTRIBUTE, None)
    return None if verified is None else verified.identity


def _current_claims() -> t.Mapping[str, t.Any]:
    verified = get_verified_token()
    return {} if verified is None else verified.claims


#: What the identity handler returned for this request's token. ``None``
#: outside a request protected by :func:`~jwt_blueprint.jwt_required`.
current_identity: t.Any = LocalProxy(_current_identity)

#: The verified claims of this request's token, a dict. Reading a claim the
#: token lacks with ``current_claims["name"]`` refuses the request with a
#: 401; use ``.get`` for optional claims. Empty outside a protected request.
#: It is a proxy: pass ``dict(current_claims)`` to ``jsonify``.
current_claims: t.Mapping[str, t.Any] = t.cast(
    t.Mapping[str, t.Any], LocalProxy(_current_claims)
)

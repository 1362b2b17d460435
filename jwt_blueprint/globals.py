"""Request-scoped values."""

from __future__ import annotations

import typing as t

from flask import has_request_context
from flask import request
from werkzeug.local import LocalProxy

# On the request, not on ``g``: ``g`` belongs to the app context, which Flask
# reuses for every request made inside a pushed one (tests, CLI commands), so
# an identity kept there would outlive its request.
_ATTRIBUTE = "_jwt_blueprint_identity"


def set_current_identity(identity: t.Any) -> None:
    """Make ``identity`` the :data:`current_identity` of this request."""
    setattr(request._get_current_object(), _ATTRIBUTE, identity)  # type: ignore[attr-defined]


def _current_identity() -> t.Any:
    if not has_request_context():
        return None
    return getattr(request._get_current_object(), _ATTRIBUTE, None)  # type: ignore[attr-defined]


#: What the identity handler returned for this request's token. ``None``
#: outside a request protected by :func:`~jwt_blueprint.jwt_required`.
current_identity: t.Any = LocalProxy(_current_identity)

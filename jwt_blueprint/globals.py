"""Request-scoped values, kept on :data:`flask.g`."""

from __future__ import annotations

import typing as t

from flask import g
from flask import has_app_context
from werkzeug.local import LocalProxy


def _current_identity() -> t.Any:
    if not has_app_context():
        return None
    return g.get("_jwt_identity")


#: What the identity handler returned for this request's token. ``None``
#: outside a request protected by :func:`~jwt_blueprint.jwt_required`.
current_identity: t.Any = LocalProxy(_current_identity)

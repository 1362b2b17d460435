"""``JWT``: Flask-JWT's entry point, on top of the blueprint."""

from __future__ import annotations

import typing as t

from .blueprint import JWTBlueprint
from .strategy import JWTStrategy
from .typing import AuthenticationCallback
from .typing import IdentityCallback

if t.TYPE_CHECKING:  # pragma: no cover
    from flask import Flask


class JWT(JWTStrategy):
    """The Flask-JWT way in: a strategy that registers its own blueprint::

        jwt = JWT(app, authenticate, identity)

    or, in an app factory, ``jwt = JWT()`` then ``jwt.init_app(app)``. One
    object may serve several apps; each app keeps its own config and state.

    :param app: the app to set up now, if any.
    :param authentication_handler: ``authenticate(username, password)``.
    :param identity_handler: ``identity(payload)``.
    """

    def __init__(
        self,
        app: Flask | None = None,
        authentication_handler: AuthenticationCallback | None = None,
        identity_handler: IdentityCallback | None = None,
    ) -> None:
        super().__init__(authentication_handler, identity_handler)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Register a :class:`JWTBlueprint` for this strategy on ``app``."""
        app.register_blueprint(JWTBlueprint(self))

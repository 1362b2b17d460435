"""The blueprint that carries the auth endpoint and the error handler."""

from __future__ import annotations

import typing as t

from flask import Blueprint
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from .config import apply_defaults
from .exceptions import ConfigError
from .exceptions import JWTError
from .state import JWTState
from .state import STATE_KEY
from .strategy import is_default_handler
from .strategy import JWTStrategy
from .views import AuthView
from .views import OTHER_METHODS
from .views import other_methods

#: The ``app.extensions`` key of the strategy, as in Flask-JWT.
EXTENSION_KEY = "jwt"


class JWTBlueprint(Blueprint):
    """JWT authentication for an app::

        strategy = JWTStrategy(authenticate, identity)
        app.register_blueprint(JWTBlueprint(strategy), url_prefix="/api")

    Registering it applies the ``JWT_*`` config defaults, validates them,
    stores the strategy in ``app.extensions["jwt"]``, adds ``auth_view`` at
    ``JWT_AUTH_URL_RULE`` (no route when that is ``None``), and registers one
    app-wide handler that renders every :class:`JWTError`.

    :param strategy: the handlers.
    :param auth_view: the :class:`AuthView` subclass to serve.
    :param name: the blueprint's name.
    :param blueprint_options: passed on to :class:`flask.Blueprint`.
    """

    def __init__(
        self,
        strategy: JWTStrategy,
        *,
        auth_view: type[AuthView] = AuthView,
        name: str = "jwt",
        import_name: str = __name__,
        **blueprint_options: t.Any,
    ) -> None:
        super().__init__(name, import_name, **blueprint_options)
        self.strategy = strategy
        self.auth_view = auth_view
        self.record_once(self._setup)
        self.app_errorhandler(JWTError)(self._render_error)

    def _setup(self, state: BlueprintSetupState) -> None:
        app = state.app
        existing = app.extensions.get(EXTENSION_KEY)
        if existing is not None and existing is not self.strategy:
            raise RuntimeError(
                "this app already has a jwt_blueprint strategy; register one"
                " JWTBlueprint per app"
            )
        apply_defaults(app.config)
        jwt_state = JWTState(app.config, self.strategy)
        settings = jwt_state.settings()
        app.extensions[EXTENSION_KEY] = self.strategy
        app.extensions[STATE_KEY] = jwt_state

        rule = settings.auth_url_rule
        if rule is None:
            return
        view: t.Callable[..., t.Any]
        if self.strategy.auth_request_callback is not None:
            view = self.strategy.auth_request_callback
        else:
            if (
                self.strategy.authentication_callback is None
                and self.auth_view.authenticate is AuthView.authenticate
            ):
                raise RuntimeError(
                    "an authentication handler is required for the built-in auth"
                    " endpoint: pass JWT(app, authenticate, identity), decorate one"
                    " with @jwt.authentication_handler before init_app, or set"
                    " JWT_AUTH_URL_RULE = None"
                )
            if settings.codec.signing_key is None and is_default_handler(
                self.strategy.jwt_encode_callback, JWTStrategy.encode_token
            ):
                algorithm = settings.codec.algorithm
                raise ConfigError(
                    "JWT_PRIVATE_KEY",
                    f"the auth endpoint signs {algorithm} tokens and needs a"
                    " private key; set it, or set JWT_AUTH_URL_RULE = None",
                )
            view = self.auth_view.as_view(settings.auth_endpoint, self.strategy)
        state.add_url_rule(
            rule,
            endpoint=settings.auth_endpoint,
            view_func=view,
            methods=["POST"],
            provide_automatic_options=False,
        )
        state.add_url_rule(
            rule,
            endpoint=f"{settings.auth_endpoint}_other_methods",
            view_func=other_methods,
            methods=OTHER_METHODS,
            provide_automatic_options=False,
        )

    def _render_error(self, error: JWTError) -> ResponseReturnValue:
        return self.strategy.jwt_error_callback(error)

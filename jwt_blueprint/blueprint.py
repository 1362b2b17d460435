"""The blueprint that carries the endpoints and the error handler."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import Blueprint
from flask import current_app
from flask import request
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed

from .config import apply_defaults
from .config import Settings
from .exceptions import JWTError
from .exceptions import MethodNotAllowedError
from .state import JWTState
from .state import STATE_KEY
from .strategy import JWTStrategy
from .views import AuthView
from .views import EndpointView

#: The ``app.extensions`` key of the strategy, as in Flask-JWT.
EXTENSION_KEY = "jwt"


@dataclass(frozen=True)
class Endpoint:
    """An endpoint the blueprint serves, declared once in
    :attr:`JWTBlueprint.endpoints`."""

    #: The config key of its URL rule; the endpoint is left out where the
    #: rule is ``None``.
    rule_key: str
    #: The :class:`JWTBlueprint` attribute that holds its view class.
    view_attribute: str
    #: The HTTP methods it serves; the others get a JSON 405.
    methods: tuple[str, ...]
    #: The config key of its endpoint name.
    name_key: str

    def name(self, settings: Settings) -> str:
        return settings.endpoint_names[self.name_key]


#: ``POST /auth``: credentials for a token.
AUTH_ENDPOINT = Endpoint(
    "JWT_AUTH_URL_RULE", "auth_view", ("POST",), "JWT_AUTH_ENDPOINT"
)


class JWTBlueprint(Blueprint):
    """JWT authentication for an app::

        strategy = JWTStrategy(authenticate, identity)
        app.register_blueprint(JWTBlueprint(strategy), url_prefix="/api")

    Registering it applies the ``JWT_*`` config defaults, validates them,
    stores the strategy in ``app.extensions["jwt"]``, adds each of
    :attr:`endpoints` whose URL rule is set, and registers one app-wide
    handler that renders every :class:`JWTError`.

    :param strategy: the handlers.
    :param auth_view: the :class:`AuthView` subclass to serve.
    :param name: the blueprint's name.
    :param blueprint_options: passed on to :class:`flask.Blueprint`.
    """

    #: What the blueprint serves, in order.
    endpoints: tuple[Endpoint, ...] = (AUTH_ENDPOINT,)

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

        for endpoint in self.endpoints:
            rule = settings.url_rules[endpoint.rule_key]
            if rule is None:
                continue
            name = endpoint.name(settings)
            view_class: type[EndpointView] = getattr(self, endpoint.view_attribute)
            state.add_url_rule(
                rule,
                endpoint=name,
                view_func=view_class.make_view(name, self.strategy, settings),
                methods=list(endpoint.methods),
            )
            jwt_state.endpoints.add(f"{self.name}.{name}")
            jwt_state.endpoint_methods.update(endpoint.methods)
        self._answer_other_methods(app)

    def _answer_other_methods(self, app: App) -> None:
        # A 405 handler rather than a second URL rule, which would count
        # against Flask-JWT's one and could shadow the app's own route on the
        # same URL, or a before_request hook, which every request would pay
        # for. An app's own 405 handler, set before or after, wins.
        if MethodNotAllowed not in app.error_handler_spec[None][405]:
            app.register_error_handler(MethodNotAllowed, self._method_not_allowed)

    def _method_not_allowed(
        self, error: MethodNotAllowed
    ) -> ResponseReturnValue | HTTPException:
        if _serves(current_app.extensions[STATE_KEY], error):
            allowed = error.valid_methods or ()
            return self.strategy.render_error(
                MethodNotAllowedError(request.method, allowed)
            )
        return _handle_without_us(error)

    def _render_error(self, error: JWTError) -> ResponseReturnValue:
        return self.strategy.render_error(error)


def _serves(state: JWTState, error: MethodNotAllowed) -> bool:
    """Whether the URL that refused the method is one of the blueprint's:
    whether one of their methods would have reached one of them there."""
    adapter = current_app.create_url_adapter(request)
    if adapter is None:  # pragma: no cover - only outside a request
        return False
    for method in state.endpoint_methods:
        try:
            rule, _ = adapter.match(method=method, return_rule=True)
        except HTTPException:  # not served here, or by another rule
            continue
        if rule.endpoint in state.endpoints:
            return True
    return False


def _handle_without_us(error: MethodNotAllowed) -> ResponseReturnValue | HTTPException:
    """What Flask would answer had we not taken its 405s: the app's (or a
    blueprint's) handler for a base class of the error, else the error."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for name in (*request.blueprints, None):
        handlers = app.error_handler_spec[name][None]
        for cls in type(error).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return t.cast(ResponseReturnValue, app.ensure_sync(handler)(error))
    return error

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
from .config import endpoint_name
from .config import Settings
from .config import url_rule
from .exceptions import ConfigError
from .exceptions import JWTError
from .exceptions import MethodNotAllowedError
from .jwks import is_symmetric
from .state import JWTState
from .state import STATE_KEY
from .strategy import JWTStrategy
from .views import AuthView
from .views import EndpointView
from .views import JWKSView
from .views import OpenAPIView
from .views import RefreshView
from .views import RevokeView

#: The ``app.extensions`` key of the strategy, as in Flask-JWT.
EXTENSION_KEY = "jwt"


@dataclass(frozen=True)
class Endpoint:
    """An endpoint the blueprint serves, declared once, in
    :attr:`JWTBlueprint.endpoints`: everything registration needs to know.

    Its URL rule and name are config keys read once, at registration, with
    the defaults declared here.
    """

    #: The short name a :class:`JWTBlueprint` knows it by, e.g. ``"auth"``
    #: (``JWTBlueprint(..., auth_view=...)`` replaces its view).
    key: str
    #: The view class it serves by default.
    view: type[EndpointView]
    #: The HTTP methods it serves; the others get a JSON 405.
    methods: tuple[str, ...]
    #: The config key of its URL rule; ``None`` there leaves it out.
    rule_key: str
    #: The URL rule by default.
    rule: str | None
    #: The config key of its endpoint name.
    name_key: str
    #: The endpoint name by default.
    name: str
    #: Whether the app's settings call for it at all; its URL rule is only
    #: read if so.
    enabled: t.Callable[[Settings], bool] = lambda settings: True


#: ``POST /auth``: credentials for a token.
AUTH_ENDPOINT = Endpoint(
    key="auth",
    view=AuthView,
    methods=("POST",),
    rule_key="JWT_AUTH_URL_RULE",
    rule="/auth",
    name_key="JWT_AUTH_ENDPOINT",
    name="jwt",
)

#: ``POST /auth/refresh``: a refresh token for new tokens, with
#: ``JWT_REFRESH_ENABLED``.
REFRESH_ENDPOINT = Endpoint(
    key="refresh",
    view=RefreshView,
    methods=("POST",),
    rule_key="JWT_REFRESH_URL_RULE",
    rule="/auth/refresh",
    name_key="JWT_REFRESH_ENDPOINT",
    name="jwt_refresh",
    enabled=lambda settings: settings.refresh_enabled,
)

#: ``GET /.well-known/jwks.json``: the public keys, for asymmetric algorithms.
JWKS_ENDPOINT = Endpoint(
    key="jwks",
    view=JWKSView,
    methods=("GET",),
    rule_key="JWT_JWKS_URL_RULE",
    rule="/.well-known/jwks.json",
    name_key="JWT_JWKS_ENDPOINT",
    name="jwt_jwks",
    enabled=lambda settings: not is_symmetric(settings.codec),
)

#: ``POST /auth/revoke``: logout, whenever there is a token store.
REVOKE_ENDPOINT = Endpoint(
    key="revoke",
    view=RevokeView,
    methods=("POST",),
    rule_key="JWT_REVOKE_URL_RULE",
    rule="/auth/revoke",
    name_key="JWT_REVOKE_ENDPOINT",
    name="jwt_revoke",
    enabled=lambda settings: settings.store is not None,
)


#: ``GET`` the OpenAPI document of these endpoints, at
#: ``JWT_OPENAPI_URL_RULE`` when it is set.
OPENAPI_ENDPOINT = Endpoint(
    key="openapi",
    view=OpenAPIView,
    methods=("GET",),
    rule_key="JWT_OPENAPI_URL_RULE",
    rule=None,
    name_key="JWT_OPENAPI_ENDPOINT",
    name="jwt_openapi",
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
    :param auth_view: the :class:`AuthView` subclass to serve at
        ``JWT_AUTH_URL_RULE``, instead of :class:`AuthView`.
    :param views: view classes to serve instead of the defaults, by
        :attr:`Endpoint.key`: ``{"refresh": MyRefreshView}``.
    :param name: the blueprint's name.
    :param blueprint_options: passed on to :class:`flask.Blueprint`.
    """

    #: What the blueprint serves, in order.
    endpoints: tuple[Endpoint, ...] = (
        AUTH_ENDPOINT,
        REFRESH_ENDPOINT,
        REVOKE_ENDPOINT,
        JWKS_ENDPOINT,
        OPENAPI_ENDPOINT,
    )

    def __init__(
        self,
        strategy: JWTStrategy,
        *,
        auth_view: type[AuthView] | None = None,
        views: t.Mapping[str, type[EndpointView]] | None = None,
        name: str = "jwt",
        import_name: str = __name__,
        **blueprint_options: t.Any,
    ) -> None:
        super().__init__(name, import_name, **blueprint_options)
        self.strategy = strategy
        #: The view class of each endpoint, by its :attr:`Endpoint.key`.
        self.views: dict[str, type[EndpointView]] = {
            endpoint.key: endpoint.view for endpoint in self.endpoints
        }
        if auth_view is not None:
            self.views[AUTH_ENDPOINT.key] = auth_view
        for key, view in (views or {}).items():
            if key not in self.views:
                raise ValueError(
                    f"no endpoint {key!r}: the endpoints are {', '.join(self.views)}"
                )
            self.views[key] = view
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
        for endpoint in self.endpoints:
            app.config.setdefault(endpoint.rule_key, endpoint.rule)
            app.config.setdefault(endpoint.name_key, endpoint.name)
        jwt_state = JWTState(app.config, self.strategy, app.instance_path)
        settings = jwt_state.settings()
        app.extensions[EXTENSION_KEY] = self.strategy
        app.extensions[STATE_KEY] = jwt_state
        if "jwt" not in app.cli.commands:
            from .cli import jwt_cli

            app.cli.add_command(jwt_cli)
        taken: dict[str, str] = {}
        for endpoint in self.endpoints:
            self._add_endpoint(state, endpoint, settings, jwt_state, taken)
        self._answer_other_methods(app)

    def _add_endpoint(
        self,
        state: BlueprintSetupState,
        endpoint: Endpoint,
        settings: Settings,
        jwt_state: JWTState,
        taken: dict[str, str],
    ) -> None:
        if not endpoint.enabled(settings):
            return
        rule = url_rule(state.app.config, endpoint.rule_key)
        if rule is None:
            return
        if rule in taken:
            # Both would match; werkzeug would serve the first, silently.
            raise ConfigError(
                endpoint.rule_key, f"{rule!r} is already {taken[rule]}'s URL rule"
            )
        taken[rule] = endpoint.rule_key
        name = endpoint_name(state.app.config, endpoint.name_key)
        view = self.views[endpoint.key].make_view(name, self.strategy, settings)
        try:
            state.add_url_rule(
                rule, endpoint=name, view_func=view, methods=list(endpoint.methods)
            )
        except (ValueError, LookupError) as exc:  # what werkzeug refuses
            raise ConfigError(endpoint.rule_key, f"{rule!r}: {exc}") from None
        # The name Flask gives it, renamed or nested as the blueprint may be.
        full_name = f"{state.name_prefix}.{state.name}.{name}".lstrip(".")
        jwt_state.endpoints.add(full_name)
        jwt_state.paths[endpoint.key] = (state.url_prefix or "").rstrip("/") + rule
        jwt_state.views[endpoint.key] = self.views[endpoint.key]
        jwt_state.endpoint_names[endpoint.key] = full_name
        jwt_state.endpoint_methods.update(endpoint.methods)

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

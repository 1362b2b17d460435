"""The endpoints' views: ``POST /auth`` trades credentials for tokens,
``POST /auth/refresh`` a refresh token for new ones, ``POST /auth/revoke``
logs out."""

from __future__ import annotations

import functools
import hashlib
import json
import posixpath
import typing as t

from flask import abort
from flask import current_app
from flask import request
from flask.typing import ResponseReturnValue
from flask.typing import RouteCallable
from flask.views import MethodView
from marshmallow import Schema

from .body import load
from .body import read_json
from .config import Settings
from .cookies import clear_token_cookies
from .cookies import read_cookie
from .cookies import set_token_cookies
from .decorators import verify_jwt_in_request
from .exceptions import AuthorizationRequiredError
from .exceptions import ConfigError
from .exceptions import CSRFError
from .exceptions import InvalidCredentialsError
from .exceptions import InvalidTokenError
from .exceptions import JWTError
from .exceptions import StoreUnavailableError
from .globals import set_token_schema
from .handlers import resolve
from .jwks import is_symmetric
from .jwks import public_jwks
from .locations import COOKIES
from .locations import JSON
from .pipeline import REFRESH_REQUIREMENTS
from .schemas import CredentialsSchema
from .schemas import JWKSetSchema
from .schemas import RefreshSchema
from .schemas import RevokeSchema
from .schemas import TokenSchema
from .state import get_state
from .strategy import JWTStrategy
from .throttling import Throttle
from .tokens import AccessToken


def overrides(cls: type[t.Any], base: type[t.Any], name: str) -> bool:
    """Whether ``cls`` brings its own ``name`` rather than ``base``'s.

    Asked once, at registration, to refuse a setup that could not serve a
    request; what runs at request time never depends on it.
    """
    return bool(getattr(cls, name) is not getattr(base, name))


def refresh_cookie_path() -> str | None:
    """Where the refresh cookie is sent: the refresh endpoint and the revoke
    endpoint (so that an expired access token does not prevent a logout),
    under the app's mount point; ``None`` without a refresh endpoint."""
    paths = get_state().paths
    if "refresh" not in paths:
        return None
    served = [paths["refresh"]] + ([paths["revoke"]] if "revoke" in paths else [])
    return request.script_root + posixpath.commonpath(served)


def _require_store(settings: Settings) -> None:
    # The endpoint was registered with a store that the config, changed
    # since, no longer names: refuse, as when the store is down.
    if settings.store is None:
        raise StoreUnavailableError()


def _counted_per_address(view: RouteCallable) -> RouteCallable:
    """``view`` (a deprecated ``auth_request_handler``), behind
    ``JWT_AUTH_RATE_LIMIT_PER_ADDRESS``: it reads the credentials itself,
    so only the address can be counted."""

    @functools.wraps(view)
    def counted(*args: t.Any, **kwargs: t.Any) -> t.Any:
        throttle = get_state().settings().throttle
        if throttle is not None:
            throttle.count_request(AuthView.throttle_scope, request.remote_addr)
        return view(*args, **kwargs)

    return t.cast(RouteCallable, counted)


class EndpointView(MethodView):
    """The base of the views a :class:`~jwt_blueprint.JWTBlueprint` serves:
    each instance holds the strategy."""

    init_every_request = False

    def __init__(self, strategy: JWTStrategy) -> None:
        self.strategy = strategy

    @classmethod
    def make_view(
        cls, name: str, strategy: JWTStrategy, settings: Settings
    ) -> RouteCallable:
        """The view function the blueprint registers as ``name``.

        A subclass refuses here, at registration, a setup it cannot serve.
        """
        return cls.as_view(name, strategy)


class TokenView(EndpointView):
    """The base of the endpoints that answer with tokens: ``POST`` a JSON
    body of at most :attr:`max_body_size` bytes, get a response dumped with
    :attr:`token_schema`."""

    methods = ["POST"]

    #: Dumps ``{"access_token": ..., "refresh_token": ..., "identity": ...}``
    #: into the response (``refresh_token`` only when there is one).
    token_schema: type[Schema] = TokenSchema
    #: Largest request body accepted, in bytes.
    max_body_size = 64 * 1024
    #: What ``JWT_AUTH_RATE_LIMIT_PER_ADDRESS`` counts this endpoint's
    #: requests under: each endpoint has its own count.
    throttle_scope = "auth"

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        self._token_schema = self.token_schema()

    @classmethod
    def make_view(
        cls, name: str, strategy: JWTStrategy, settings: Settings
    ) -> RouteCallable:
        """The view, if tokens can be signed.

        :raises ConfigError: if there is no key to sign tokens with.
        """
        if (
            settings.codec.signing_key is None
            and strategy.handlers.encode is None
            and not overrides(type(strategy), JWTStrategy, "encode_token")
        ):
            raise ConfigError(
                "JWT_PRIVATE_KEY",
                f"the {name!r} endpoint signs {settings.codec.algorithm} tokens"
                " and needs a private key; set it, or set its URL rule to None",
            )
        return super().make_view(name, strategy, settings)

    def make_response(self, access_token: str, identity: t.Any) -> ResponseReturnValue:
        """The 200 response: the strategy's ``auth_response_handler``, else
        its default, which dumps :attr:`token_schema` as JSON. The refresh
        token, if any, is ``access_token.refresh_token``."""
        set_token_schema(self._token_schema)
        handler = self.strategy.handlers.auth_response
        if handler is None:
            rv = self.strategy.auth_response(access_token, identity)
        else:
            rv = resolve(handler(access_token, identity))
        settings = get_state().settings()
        if settings.cookies is None:
            return rv
        response = current_app.make_response(rv)
        if response.status_code < 300:  # a handler may withhold the tokens
            set_token_cookies(
                response,
                settings.cookies,
                access_token,
                settings.expiration_delta,
                refresh_cookie_path(),
                settings.refresh_expiration_delta,
            )
        return response


class AuthView(TokenView):
    """``POST`` credentials, get an access token (and a refresh token, with
    ``JWT_REFRESH_ENABLED``).

    :meth:`post` runs load → authenticate → encode → respond; each step is a
    method to override. Swap the schemas with the class attributes::

        class EmailAuthView(AuthView):
            credentials_schema = EmailCredentialsSchema

            def authenticate(self, credentials):
                return find_user(credentials["email"], credentials["password"])
    """

    #: Loads and validates the request body.
    credentials_schema: type[Schema] = CredentialsSchema

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        self._schemas: dict[tuple[str, str], Schema] = {}

    @classmethod
    def make_view(
        cls, name: str, strategy: JWTStrategy, settings: Settings
    ) -> RouteCallable:
        """The login view, or the deprecated ``auth_request_handler`` in its
        place.

        :raises RuntimeError: if nothing can authenticate a login.
        :raises ConfigError: if there is no key to sign tokens with.
        """
        replacement = strategy.handlers.auth_request
        if replacement is not None:
            return _counted_per_address(replacement)
        if not overrides(cls, AuthView, "authenticate"):
            if strategy.handlers.authentication is None:
                raise RuntimeError(
                    "an authentication handler is required for the built-in auth"
                    " endpoint: pass JWT(app, authenticate, identity), decorate one"
                    " with @jwt.authentication_handler before init_app, or set"
                    " JWT_AUTH_URL_RULE = None"
                )
            if not issubclass(cls.credentials_schema, CredentialsSchema):
                raise RuntimeError(
                    f"{cls.__name__}.credentials_schema is not a CredentialsSchema,"
                    " so its fields are not 'username' and 'password': override"
                    f" {cls.__name__}.authenticate(credentials) to read them"
                )
        if (
            settings.throttle is not None
            and settings.throttle.per_username
            and not issubclass(cls.credentials_schema, CredentialsSchema)
            and not overrides(cls, AuthView, "throttle_key")
        ):
            raise ConfigError(
                "JWT_AUTH_RATE_LIMIT_PER_USERNAME",
                f"{cls.__name__}.credentials_schema has no 'username' to count"
                f" failed logins under: override {cls.__name__}.throttle_key"
                "(credentials), or set this key to None",
            )
        return super().make_view(name, strategy, settings)

    def post(self) -> ResponseReturnValue:
        settings = get_state().settings()
        throttle = settings.throttle
        if throttle is not None:
            throttle.count_request(self.throttle_scope, request.remote_addr)
        credentials = self.load_credentials(settings)
        if throttle is None or not throttle.per_username:
            identity = self.authenticate(credentials)
        else:
            identity = self._authenticate_counted(throttle, credentials)
        # Falsy, not just None: Flask-JWT tested ``if identity``, and handlers
        # written for it may return False.
        if not identity:
            raise InvalidCredentialsError()
        access_token = self.encode_token(identity)
        return self.make_response(access_token, identity)

    def _authenticate_counted(
        self, throttle: Throttle, credentials: dict[str, t.Any]
    ) -> t.Any:
        key = self.throttle_key(credentials)
        if not isinstance(key, str):
            # An optional field left out: those attempts share one count.
            key = "" if key is None else str(key)
        throttle.begin_login(key)
        failed = True
        try:
            identity = self.authenticate(credentials)
            failed = not identity
        finally:
            throttle.end_login(key, failed=failed)
        return identity

    def throttle_key(self, credentials: dict[str, t.Any]) -> str:
        """What failed logins are counted under, for
        ``JWT_AUTH_RATE_LIMIT_PER_USERNAME``: the ``username`` credential.

        Return what :meth:`authenticate` finds the account by. The throttle
        folds it further (case, Unicode form, spaces), which only makes
        more names share a count. Override it along with a
        :attr:`credentials_schema` without a ``username``::

            def throttle_key(self, credentials):
                return credentials["email"]
        """
        try:
            return t.cast(str, credentials["username"])
        except KeyError:
            # Only when the limit was turned on after registration.
            raise ConfigError(
                "JWT_AUTH_RATE_LIMIT_PER_USERNAME",
                f"{type(self).__name__}'s credentials have no 'username':"
                f" override {type(self).__name__}.throttle_key(credentials)",
            ) from None

    def get_credentials_schema(self, settings: Settings) -> Schema:
        """An instance of :attr:`credentials_schema`, made once per set of
        field names."""
        names = (settings.username_key, settings.password_key)
        schema = self._schemas.get(names)
        if schema is None:
            if issubclass(self.credentials_schema, CredentialsSchema):
                schema = self.credentials_schema(
                    username_key=names[0], password_key=names[1]
                )
            else:
                schema = self.credentials_schema()
            self._schemas[names] = schema
        return schema

    def load_credentials(self, settings: Settings) -> dict[str, t.Any]:
        """Parse the JSON body and load it with the credentials schema.

        :raises BadRequestError: 400 for anything but a valid JSON object,
            413 for a body over :attr:`max_body_size`.
        """
        data = read_json(self.max_body_size)
        return load(self.get_credentials_schema(settings), data, "Invalid credentials")

    def authenticate(self, credentials: dict[str, t.Any]) -> t.Any:
        """Return the identity for ``credentials``, or ``None``.

        The default passes the username and password to the strategy's
        authentication handler.
        """
        handler = self.strategy.handlers.authentication
        if handler is None:
            raise RuntimeError("the auth endpoint needs an authentication handler")
        return resolve(handler(credentials["username"], credentials["password"]))

    def encode_token(self, identity: t.Any) -> AccessToken:
        """Make the tokens for ``identity`` with the strategy's
        :meth:`~jwt_blueprint.JWTStrategy.create_tokens`: through its encode
        handler (or its default), and a refresh token when enabled."""
        return self.strategy.create_tokens(identity)


class RefreshView(TokenView):
    """``POST {"refresh_token": "..."}``, get a new access token (not fresh)
    and a new refresh token; the one presented is spent.

    Served at ``JWT_REFRESH_URL_RULE`` when ``JWT_REFRESH_ENABLED``. The
    response is the login's, for the identity the refresh token is of.
    """

    #: Loads and validates the request body.
    refresh_schema: type[Schema] = RefreshSchema
    throttle_scope = "refresh"

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        self._refresh_schema = self.refresh_schema()

    def post(self) -> ResponseReturnValue:
        settings = get_state().settings()
        _require_store(settings)
        if settings.throttle is not None:
            settings.throttle.count_request(self.throttle_scope, request.remote_addr)
        token, location = self.refresh_token(settings)
        verified = self.strategy.verify_token(
            token, location, settings, REFRESH_REQUIREMENTS
        )
        access_token = self.strategy.rotate(verified)
        response = self.make_response(access_token, verified.identity)
        if location != COOKIES:
            return response
        # Asked by cookie, answered by cookie: a body would hand the new
        # tokens to the page's scripts, which HttpOnly keeps them from.
        response = current_app.make_response(response)
        if response.status_code < 300:
            response.status_code = 204
            response.set_data(b"")
            del response.headers["Content-Type"]
        return response

    def refresh_token(self, settings: Settings) -> tuple[str, str]:
        """The refresh token, and where it came from: the JSON body, else,
        with cookies on and an empty body, the refresh cookie.

        :raises BadRequestError: for a body that is not a refresh request.
        :raises AuthorizationRequiredError: for neither.
        """
        cookies = settings.cookies
        form = request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        )
        # A form carries the CSRF value of the refresh cookie, not a token.
        data = (
            None
            if cookies is not None and form
            else read_json(self.max_body_size, optional=cookies is not None)
        )
        if data is None and cookies is not None:
            token = read_cookie(request, cookies.refresh_name, settings.max_token_size)
            if token is None:
                raise AuthorizationRequiredError()
            return token, COOKIES
        body = load(self._refresh_schema, data, "Invalid refresh request")
        return body["refresh_token"], JSON


class RevokeView(EndpointView):
    """Log out: ``POST`` with the access token in ``Authorization``, and
    optionally ``{"refresh_token": "..."}``; answers 204. The access token,
    the tokens of its login, and those of the refresh token's login are
    refused from then on.

    Served at ``JWT_REVOKE_URL_RULE`` when a token store is configured.
    """

    methods = ["POST"]

    #: Loads and validates the request body, which may be empty.
    revoke_schema: type[Schema] = RevokeSchema
    #: Largest request body accepted, in bytes.
    max_body_size = 64 * 1024

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        self._revoke_schema = self.revoke_schema()

    def post(self) -> ResponseReturnValue:
        settings = get_state().settings()
        _require_store(settings)
        cookies = settings.cookies
        try:
            claims: t.Mapping[str, t.Any] = verify_jwt_in_request().claims
        except JWTError as exc:
            # An expired access cookie must not keep a browser logged in:
            # its refresh cookie (with its CSRF value) ends the login too.
            if (
                cookies is None
                or isinstance(exc, CSRFError)
                or cookies.refresh_name not in request.cookies
            ):
                raise
            token = read_cookie(request, cookies.refresh_name, settings.max_token_size)
            assert token is not None
            claims = self.strategy.verify_token(
                token, COOKIES, settings, REFRESH_REQUIREMENTS
            ).claims
        data = read_json(self.max_body_size, optional=True)
        refresh_token = None
        if data is not None:
            body = load(self._revoke_schema, data, "Invalid revoke request")
            refresh_token = body.get("refresh_token")
        if refresh_token is not None or cookies is None:
            self.strategy.revoke(claims, refresh_token)
        else:
            # The browser's refresh cookie ends its login too, but one that
            # is unreadable must not keep the browser from logging out.
            cookie = request.cookies.get(cookies.refresh_name) or None
            try:
                self.strategy.revoke(claims, cookie)
            except InvalidTokenError:
                self.strategy.revoke(claims)
        response = current_app.response_class(status=204)
        del response.headers["Content-Type"]  # there is no content
        if cookies is not None:
            clear_token_cookies(response, cookies, refresh_cookie_path())
        return response


class JWKSView(EndpointView):
    """``GET`` the public keys that verify this app's tokens, as a JSON Web
    Key Set, for other services to verify them with.

    Served at ``JWT_JWKS_URL_RULE`` for asymmetric algorithms. Cacheable:
    ``Cache-Control: public, max-age=JWT_JWKS_MAX_AGE`` and an ``ETag``;
    ``If-None-Match`` gets a 304.
    """

    methods = ["GET"]

    #: Dumps the document, ``{"keys": [...]}``.
    jwks_schema: type[Schema] = JWKSetSchema

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        self._jwks_schema = self.jwks_schema()
        # The document of the last key set served, rebuilt when it changes.
        self._document: tuple[t.Any, bytes, str] | None = None

    def get(self) -> ResponseReturnValue:
        settings = get_state().settings()
        if is_symmetric(settings.codec):
            # The config changed to secrets since: there is nothing to show.
            abort(404)
        body, etag = self._render(settings)
        response = current_app.response_class(body, mimetype="application/json")
        response.set_etag(etag)
        response.cache_control.public = True
        response.cache_control.max_age = settings.jwks_max_age
        return response.make_conditional(request)

    def _render(self, settings: Settings) -> tuple[bytes, str]:
        document = self._document
        if document is None or document[0] is not settings.codec:
            jwks = self._jwks_schema.dump(public_jwks(settings.codec))
            body = json.dumps(jwks, sort_keys=True).encode()
            etag = hashlib.sha256(body).hexdigest()[:32]
            self._document = document = (settings.codec, body, etag)
        return document[1], document[2]


class OpenAPIView(EndpointView):
    """``GET`` the OpenAPI 3.1 document of the blueprint's endpoints, built
    by :func:`jwt_blueprint.openapi.openapi_document`.

    Served at ``JWT_OPENAPI_URL_RULE`` when it is set (it is ``None`` by
    default); needs apispec (``pip install "jwt_blueprint[openapi]"``).
    """

    methods = ["GET"]

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        # The document of the last settings and mount point served, rebuilt
        # when they change.
        self._document: tuple[Settings, str, t.Any] | None = None

    @classmethod
    def make_view(
        cls, name: str, strategy: JWTStrategy, settings: Settings
    ) -> RouteCallable:
        """The view, if apispec is installed.

        :raises ConfigError: if it is not.
        """
        try:
            import apispec  # noqa: F401
        except ImportError:
            raise ConfigError(
                "JWT_OPENAPI_URL_RULE",
                "serving the OpenAPI document needs apispec: pip install"
                ' "jwt_blueprint[openapi]", or set this key to None',
            ) from None
        return super().make_view(name, strategy, settings)

    def get(self) -> ResponseReturnValue:
        from .openapi import openapi_document

        settings = get_state().settings()
        # Paths are relative to where the app is mounted: say where.
        mount = request.script_root
        document = self._document
        if document is None or document[:2] != (settings, mount):
            self._document = document = (settings, mount, openapi_document(mount))
        return document[2]

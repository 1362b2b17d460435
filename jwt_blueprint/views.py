"""The endpoints' views: ``POST /auth`` trades credentials for a token."""

from __future__ import annotations

import json
import typing as t

from flask import request
from flask.typing import ResponseReturnValue
from flask.typing import RouteCallable
from flask.views import MethodView
from marshmallow import Schema
from marshmallow import ValidationError
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestEntityTooLarge

from .config import Settings
from .exceptions import BadRequestError
from .exceptions import ConfigError
from .exceptions import InvalidCredentialsError
from .globals import set_token_schema
from .handlers import resolve
from .schemas import CredentialsSchema
from .schemas import TokenSchema
from .state import get_state
from .strategy import JWTStrategy
from .tokens import AccessToken


def _refuse_duplicate_keys(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    # Two parsers could pick different values for a repeated key; refuse it.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _is_json(content_type: str) -> bool:
    # werkzeug's Request.is_json, without parsing the parameters it ignores.
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _refuse_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def overrides(cls: type[t.Any], base: type[t.Any], name: str) -> bool:
    """Whether ``cls`` brings its own ``name`` rather than ``base``'s.

    Asked once, at registration, to refuse a setup that could not serve a
    request; what runs at request time never depends on it.
    """
    return bool(getattr(cls, name) is not getattr(base, name))


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


class AuthView(EndpointView):
    """``POST`` credentials, get an access token.

    :meth:`post` runs load → authenticate → encode → respond; each step is a
    method to override. Swap the schemas with the class attributes::

        class EmailAuthView(AuthView):
            credentials_schema = EmailCredentialsSchema

            def authenticate(self, credentials):
                return find_user(credentials["email"], credentials["password"])
    """

    methods = ["POST"]

    #: Loads and validates the request body.
    credentials_schema: type[Schema] = CredentialsSchema
    #: Dumps ``{"access_token": ..., "identity": ...}`` into the response.
    token_schema: type[Schema] = TokenSchema
    #: Largest request body accepted, in bytes.
    max_body_size = 64 * 1024

    def __init__(self, strategy: JWTStrategy) -> None:
        super().__init__(strategy)
        self._schemas: dict[tuple[str, str], Schema] = {}
        self._token_schema = self.token_schema()

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
            return replacement
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
            settings.codec.signing_key is None
            and strategy.handlers.encode is None
            and not overrides(type(strategy), JWTStrategy, "encode_token")
        ):
            raise ConfigError(
                "JWT_PRIVATE_KEY",
                f"the auth endpoint signs {settings.codec.algorithm} tokens and"
                " needs a private key; set it, or set JWT_AUTH_URL_RULE = None",
            )
        return super().make_view(name, strategy, settings)

    def post(self) -> ResponseReturnValue:
        settings = get_state().settings()
        credentials = self.load_credentials(settings)
        identity = self.authenticate(credentials)
        # Falsy, not just None: Flask-JWT tested ``if identity``, and handlers
        # written for it may return False.
        if not identity:
            raise InvalidCredentialsError()
        access_token = self.encode_token(identity)
        return self.make_response(access_token, identity)

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
        if not _is_json(request.environ.get("CONTENT_TYPE", "")):
            raise BadRequestError(
                "Request body must be JSON",
                {"_body": ["Content-Type must be application/json."]},
            )
        app_limit = request.max_content_length
        limit = (
            self.max_body_size
            if app_limit is None
            else min(app_limit, self.max_body_size)
        )
        # One byte over the limit: a body of unknown length (chunked) is cut
        # at the limit without an error, so reading one more tells.
        request.max_content_length = limit + 1
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            body = None
        except ClientDisconnected:
            raise BadRequestError(
                "Request body is incomplete",
                {"_body": ["The body is shorter than its Content-Length."]},
            ) from None
        if body is None or len(body) > limit:
            raise BadRequestError(
                "Request body is too large",
                {"_body": [f"Must be at most {limit} bytes."]},
                status_code=413,
            )
        try:
            # RFC 8259 section 8.1: UTF-8 only, where json.loads would also
            # guess UTF-16 and UTF-32 from bytes; NaN and Infinity are not JSON.
            data = json.loads(
                body.decode("utf-8"),
                object_pairs_hook=_refuse_duplicate_keys,
                parse_constant=_refuse_constant,
            )
        except (ValueError, RecursionError) as exc:
            raise BadRequestError(
                "Request body is not valid JSON", {"_body": [str(exc)[:200]]}
            ) from None
        try:
            credentials: dict[str, t.Any] = self.get_credentials_schema(settings).load(
                data
            )
        except ValidationError as exc:
            messages = (
                exc.messages
                if isinstance(exc.messages, dict)
                else {"_schema": exc.messages}
            )
            raise BadRequestError("Invalid credentials", messages) from None
        return credentials

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
        """Make the access token for ``identity`` with the strategy's encode
        handler (or its default)."""
        return self.strategy.issue_token(identity)

    def make_response(self, access_token: str, identity: t.Any) -> ResponseReturnValue:
        """The 200 response: the strategy's ``auth_response_handler``, else
        its default, which dumps :attr:`token_schema` as JSON."""
        set_token_schema(self._token_schema)
        handler = self.strategy.handlers.auth_response
        if handler is None:
            return self.strategy.auth_response(access_token, identity)
        response: ResponseReturnValue = resolve(handler(access_token, identity))
        return response

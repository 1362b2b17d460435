"""The auth endpoint: ``POST /auth`` trades credentials for a token."""

from __future__ import annotations

import json
import typing as t

from flask import jsonify
from flask import request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from marshmallow import Schema
from marshmallow import ValidationError
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestEntityTooLarge

from .config import Settings
from .exceptions import BadRequestError
from .exceptions import InvalidCredentialsError
from .exceptions import JWTError
from .exceptions import make_challenge
from .schemas import CredentialsSchema
from .schemas import TokenSchema
from .state import get_state
from .strategy import is_default_handler
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


#: The RFC 9110 methods other than POST (and HEAD, served as GET).
OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE", "CONNECT", "TRACE", "OPTIONS"]
_ALLOW = {"Allow": "POST, OPTIONS"}


def other_methods() -> ResponseReturnValue:
    """Answer OPTIONS, and every other method with a JSON 405 rather than
    Flask's HTML, on the auth URL."""
    if request.method == "OPTIONS":
        return "", 200, _ALLOW
    raise JWTError(
        "Method Not Allowed",
        f"The auth endpoint accepts POST, not {request.method}",
        status_code=405,
        headers=_ALLOW,
    )


def _is_json(content_type: str) -> bool:
    # werkzeug's Request.is_json, without parsing the parameters it ignores.
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _refuse_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not valid JSON")


class AuthView(MethodView):
    """``POST`` credentials, get an access token.

    :meth:`post` runs load → authenticate → encode → respond; each step is a
    method to override. Swap the schemas with the class attributes::

        class EmailAuthView(AuthView):
            credentials_schema = EmailCredentialsSchema

            def authenticate(self, credentials):
                return find_user(credentials["email"], credentials["password"])
    """

    methods = ["POST"]
    init_every_request = False

    #: Loads and validates the request body.
    credentials_schema: type[Schema] = CredentialsSchema
    #: Dumps ``{"access_token": ..., "identity": ...}`` into the response.
    token_schema: type[Schema] = TokenSchema
    #: Largest request body accepted, in bytes.
    max_body_size = 64 * 1024

    def __init__(self, strategy: JWTStrategy) -> None:
        self.strategy = strategy
        self._schemas: dict[tuple[str, str], Schema] = {}
        self._token_schema = self.token_schema()

    def post(self) -> ResponseReturnValue:
        settings = get_state().settings()
        credentials = self.load_credentials(settings)
        identity = self.authenticate(credentials)
        # Falsy, not just None: Flask-JWT tested ``if identity``, and handlers
        # written for it may return False.
        if not identity:
            raise InvalidCredentialsError(
                make_challenge(settings.header_prefix, settings.default_realm)
            )
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
        callback = self.strategy.authentication_callback
        if callback is None:
            raise RuntimeError("the auth endpoint needs an authentication handler")
        return callback(credentials["username"], credentials["password"])

    def encode_token(self, identity: t.Any) -> AccessToken:
        """Make the access token for ``identity``."""
        token = self.strategy.jwt_encode_callback(identity)
        if isinstance(token, bytes):
            token = token.decode("ascii")
        return AccessToken(token)

    def make_response(self, access_token: str, identity: t.Any) -> ResponseReturnValue:
        """The 200 response: the strategy's ``auth_response_handler`` if one
        is set, else :attr:`token_schema` dumped as JSON (which is what the
        default handler does with :class:`~.schemas.TokenSchema`)."""
        callback = self.strategy.auth_response_callback
        if not is_default_handler(callback, JWTStrategy.auth_response):
            return callback(access_token, identity)
        return jsonify(
            self._token_schema.dump(
                {"access_token": str(access_token), "identity": identity}
            )
        )

"""The OpenAPI description of the endpoints a :class:`~.JWTBlueprint` serves.

Built with apispec's ``MarshmallowPlugin`` from the schemas the views
themselves load and dump, so a subclass of :class:`~.AuthView` with schemas
of its own is described with its own fields. Two ways to use it::

    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin
    from jwt_blueprint.openapi import register_openapi, security_requirement

    spec = APISpec("My API", "1.0", "3.1.0", plugins=[MarshmallowPlugin()])
    with app.app_context():
        register_openapi(spec)  # the login, refresh, logout and JWKS paths
        spec.path("/me", operations={"get": {"security": security_requirement()}})

or set ``JWT_OPENAPI_URL_RULE`` and the blueprint serves a document of its
own endpoints. Needs apispec: ``pip install "jwt_blueprint[openapi]"``.
"""

from __future__ import annotations

import typing as t
from importlib import metadata

from flask import current_app
from limits.storage import MemoryStorage
from marshmallow import Schema

from .config import Settings
from .schemas import CredentialsSchema
from .schemas import ErrorSchema
from .schemas import JWKSchema
from .state import get_state

if t.TYPE_CHECKING:  # pragma: no cover
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

#: The names of the security schemes :func:`register_openapi` adds, by the
#: place the token travels in.
SECURITY_SCHEMES = {
    "headers": "JWT",
    "cookies": "JWTCookie",
    "query_string": "JWTQuery",
}
#: The scheme of the CSRF header that goes with the cookie on the
#: state-changing requests, and of the refresh cookie.
CSRF_SCHEME = "JWTCSRF"
REFRESH_COOKIE_SCHEME = "JWTRefreshCookie"

#: The prefix of every schema name we add, so that they stand apart from the
#: app's own (a name taken already gets a number).
COMPONENT_PREFIX = "JWT"


def security_requirement() -> list[dict[str, list[str]]]:
    """The ``security`` of an operation that needs a token, for the current
    app: any one of the places ``JWT_TOKEN_LOCATION`` names."""
    return _security(get_state().settings())


def _security(settings: Settings) -> list[dict[str, list[str]]]:
    return [
        {SECURITY_SCHEMES[location]: []}
        for location in settings.token_locations
        if location in SECURITY_SCHEMES
    ]


def security_schemes(settings: Settings) -> dict[str, dict[str, t.Any]]:
    """The security schemes of the token locations of ``settings``."""
    schemes: dict[str, dict[str, t.Any]] = {}
    for location in settings.token_locations:
        if location == "headers":
            if settings.header_prefix_lower == "bearer":
                schemes["JWT"] = {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                }
            else:
                schemes["JWT"] = {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        f"`Authorization: {settings.header_prefix} <token>`"
                    ),
                }
        elif location == "cookies" and settings.cookies is not None:
            cookies = settings.cookies
            schemes["JWTCookie"] = {
                "type": "apiKey",
                "in": "cookie",
                "name": cookies.access_name,
                "description": (
                    "The access token cookie a login sets; requests of"
                    f" {', '.join(sorted(cookies.csrf_methods))} send the CSRF"
                    f" value back in `{cookies.csrf_header}` (the"
                    f" `{cookies.access_csrf_name}` cookie's)."
                ),
            }
            schemes[REFRESH_COOKIE_SCHEME] = {
                "type": "apiKey",
                "in": "cookie",
                "name": cookies.refresh_name,
                "description": "The refresh token cookie a login sets.",
            }
            if cookies.csrf_protect:
                schemes[CSRF_SCHEME] = {
                    "type": "apiKey",
                    "in": "header",
                    "name": cookies.csrf_header,
                    "description": (
                        "The CSRF value of the cookie's token: the"
                        f" `{cookies.access_csrf_name}` cookie's for the access"
                        f" token, the `{cookies.refresh_csrf_name}` cookie's for"
                        " the refresh token."
                    ),
                }
        elif location == "query_string":
            schemes["JWTQuery"] = {
                "type": "apiKey",
                "in": "query",
                "name": settings.query_string_name,
            }
    return schemes


def register_openapi(
    spec: APISpec,
    *,
    links_to: t.Sequence[str] = (),
    login_example: t.Mapping[str, t.Any] | None = None,
) -> APISpec:
    """Add the current app's endpoints, their schemas and its security
    schemes to ``spec`` (flask-smorest's ``Api.spec`` too), and return it.

    Call it in an app context, after the blueprint is registered. Calling it
    again, for the same app or another one of the same config, adds nothing
    twice. An app's own operations refer to the error schema as
    ``ErrorSchema`` (``"schema": ErrorSchema``), which the plugin resolves to
    the name it was given.

    :param links_to: the ``operationId`` of operations that take the access
        token: the login and refresh responses get an OpenAPI link to each,
        passing the token in the ``Authorization`` header, for tools that
        follow links (schemathesis's stateful tests, say).
    :param login_example: an example login body, shown by Swagger UI and
        tried by tools that generate requests: a demo user's, never a real
        one's.
    :raises ValueError: if ``spec`` has no ``MarshmallowPlugin``, or
        already has one of our security schemes, different.
    """
    from apispec.ext.marshmallow import MarshmallowPlugin

    plugin = next((p for p in spec.plugins if isinstance(p, MarshmallowPlugin)), None)
    if plugin is None:
        raise ValueError(
            "register_openapi needs an APISpec with"
            " apispec.ext.marshmallow.MarshmallowPlugin in its plugins"
        )
    state = get_state()
    settings = state.settings()
    taken = spec.components.security_schemes
    for name, scheme in security_schemes(settings).items():
        if name not in taken:
            spec.components.security_scheme(name, scheme)
        elif taken[name] != scheme:
            raise ValueError(
                f"the spec has a security scheme {name!r} already, another"
                " than this app's"
            )
    names = _register_schemas(spec, plugin, state.views, settings)
    links = _links(settings, links_to, served=state.paths)
    described = spec.to_dict().get("paths", {})
    for key, path in state.paths.items():
        operations = _OPERATIONS[key](settings, names)
        if key in ("auth", "refresh") and links:
            operations["post"]["responses"]["200"]["links"] = links
        if key == "auth" and login_example is not None:
            body = operations["post"]["requestBody"]["content"]["application/json"]
            body["example"] = dict(login_example)
        # The rule too, for flask-smorest's plugin, which makes the path
        # from it. Not the view: apispec-webframeworks' would replace the
        # operations with the YAML of its docstring.
        name = state.endpoint_names[key]
        if path in described:  # by an earlier call
            continue
        spec.path(
            path=path,
            operations=operations,
            rule=next(current_app.url_map.iter_rules(name)),
        )
    return spec


def _links(
    settings: Settings, operation_ids: t.Sequence[str], served: t.Mapping[str, str]
) -> dict[str, t.Any]:
    """The links of a response with tokens: to ``operation_ids`` with the
    access token, and to the refresh and logout endpoints with the refresh
    token."""
    if "headers" not in settings.token_locations:
        return {}
    authorization = f"{settings.header_prefix} {{$response.body#/access_token}}"
    links: dict[str, t.Any] = {
        operation_id: {
            "operationId": operation_id,
            "parameters": {"header.Authorization": authorization},
        }
        for operation_id in operation_ids
    }
    refresh_token = {"refresh_token": "$response.body#/refresh_token"}
    if "refresh" in served:
        links["jwtRefresh"] = {
            "operationId": "jwtRefresh",
            "requestBody": refresh_token,
        }
    if "revoke" in served:
        links["jwtLogout"] = {
            "operationId": "jwtLogout",
            "parameters": {"header.Authorization": authorization},
            "requestBody": refresh_token,
        }
    return links


def openapi_document(server: str | None = None) -> dict[str, t.Any]:
    """The OpenAPI 3.1 document of the current app's JWT endpoints alone.

    :param server: the URL the paths are under, where the app is mounted
        below the root (its ``request.script_root``), for ``servers``.
    """
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    try:
        version = metadata.version("jwt_blueprint")
    except metadata.PackageNotFoundError:  # vendored, not installed
        version = "0"
    options: dict[str, t.Any] = {"servers": [{"url": server}]} if server else {}
    spec = APISpec(
        title=f"{current_app.name} authentication",
        version=version,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        **options,
    )
    return register_openapi(spec).to_dict()


def _register_schemas(
    spec: APISpec,
    plugin: MarshmallowPlugin,
    views: t.Mapping[str, t.Any],
    settings: Settings,
) -> dict[str, str]:
    """Register each schema a served view uses, unless the spec has it
    already; its component name by role (``"credentials"``, ...)."""
    candidates: dict[str, Schema] = {"error": ErrorSchema()}
    auth = views.get("auth")
    if auth is not None:
        credentials = auth.credentials_schema
        candidates["credentials"] = (
            credentials(
                username_key=settings.username_key,
                password_key=settings.password_key,
            )
            if issubclass(credentials, CredentialsSchema)
            else credentials()
        )
        candidates["token"] = auth.token_schema()
    refresh = views.get("refresh")
    if refresh is not None:
        candidates["refresh"] = refresh.refresh_schema()
        candidates["refresh_token"] = refresh.token_schema()
    revoke = views.get("revoke")
    if revoke is not None:
        candidates["revoke"] = revoke.revoke_schema()
    jwks = views.get("jwks")
    if jwks is not None:
        # Its nested key schema first, under our prefix too.
        candidates["jwk"] = JWKSchema()
        candidates["jwks"] = jwks.jwks_schema()
    from apispec.ext.marshmallow.common import make_schema_key

    names: dict[str, str] = {}
    refs = plugin.converter.refs if plugin.converter is not None else {}
    for role, schema in candidates.items():
        registered = refs.get(make_schema_key(schema))
        if registered is not None:  # this class, by the app or an earlier call
            names[role] = registered
            continue
        base = COMPONENT_PREFIX + type(schema).__name__.removesuffix("Schema")
        name, number = base, 2
        while name in spec.components.schemas:
            name, number = f"{base}{number}", number + 1
        spec.components.schema(name, schema=schema)
        names[role] = name
    return names


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str) -> dict[str, t.Any]:
    return {"content": {"application/json": {"schema": _ref(name)}}}


def _error(description: str, names: dict[str, str], **headers: str) -> dict[str, t.Any]:
    response = {"description": description, **_json(names["error"])}
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


_CHALLENGE = "The challenge: the scheme, the realm and, for a refused token, error"
_RETRY_AFTER = "Seconds to wait before trying again"


def _common_errors(
    settings: Settings, names: dict[str, str], *, endpoint: str, body: bool
) -> dict[str, t.Any]:
    """The error responses ``endpoint`` can give with ``settings``."""
    responses: dict[str, t.Any] = {}
    if body:
        responses["400"] = _error(
            "The body is not JSON, or not what this endpoint accepts: `errors`"
            " says why, field by field",
            names,
        )
    responses["401"] = _error(
        "Refused: wrong credentials, or a token missing, invalid, expired or revoked",
        names,
        **{"WWW-Authenticate": _CHALLENGE},
    )
    if body:
        responses["413"] = _error("The body is too large", names)
    throttle = settings.throttle if endpoint in ("auth", "refresh") else None
    counted = throttle is not None and (
        throttle.per_address or (endpoint == "auth" and throttle.per_username)
    )
    if counted:
        responses["429"] = _error(
            "Too many failed logins for the username, or too many requests from"
            " the address"
            if endpoint == "auth"
            else "Too many requests from the address",
            names,
            **{"Retry-After": _RETRY_AFTER},
        )
    # What is kept in memory always answers.
    remote_counts = counted and not isinstance(
        throttle.storage.storage if throttle is not None else None, MemoryStorage
    )
    if settings.store is not None or remote_counts:
        responses["503"] = _error(
            "The token store or the rate limit storage did not answer",
            names,
            **{"Retry-After": _RETRY_AFTER},
        )
    return responses


_SET_COOKIE = {
    "Set-Cookie": {
        "description": "The token cookies and their CSRF cookies",
        "schema": {"type": "string"},
    }
}


def _token_response(
    settings: Settings, names: dict[str, str], schema_role: str
) -> dict[str, t.Any]:
    response: dict[str, t.Any] = {
        "description": "The tokens",
        **_json(names[schema_role]),
    }
    if settings.cookies is not None:
        response["headers"] = dict(_SET_COOKIE)
    return response


def _auth_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    return {
        "post": {
            "operationId": "jwtLogin",
            "summary": "Log in: credentials for tokens",
            "tags": ["authentication"],
            "requestBody": {"required": True, **_json(names["credentials"])},
            "responses": {
                "200": _token_response(settings, names, "token"),
                **_common_errors(settings, names, endpoint="auth", body=True),
            },
        }
    }


def _refresh_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    responses: dict[str, t.Any] = {
        "200": _token_response(settings, names, "refresh_token"),
    }
    if settings.cookies is not None:
        responses["204"] = {
            "description": "Refreshed by the refresh cookie: new cookies, no body",
            "headers": dict(_SET_COOKIE),
        }
    responses.update(_common_errors(settings, names, endpoint="refresh", body=True))
    body: dict[str, t.Any] = _json(names["refresh"])
    body["required"] = settings.cookies is None
    operation: dict[str, t.Any] = {
        "operationId": "jwtRefresh",
        "summary": "Spend a refresh token for new tokens",
        "tags": ["authentication"],
        "requestBody": body,
        "responses": responses,
    }
    if settings.cookies is not None:
        # The token in the body needs nothing else; the refresh cookie
        # needs its CSRF value.
        operation["security"] = [
            {},
            _cookie_requirement(settings, REFRESH_COOKIE_SCHEME),
        ]
    return {"post": operation}


def _cookie_requirement(settings: Settings, scheme: str) -> dict[str, list[str]]:
    """The cookie ``scheme``, and the CSRF header with it where it is on."""
    if settings.cookies is not None and settings.cookies.csrf_protect:
        return {scheme: [], CSRF_SCHEME: []}
    return {scheme: []}


def _revoke_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    security: list[dict[str, list[str]]] = [
        _cookie_requirement(settings, name) if name == "JWTCookie" else {name: []}
        for requirement in _security(settings)
        for name in requirement
    ]
    return {
        "post": {
            "operationId": "jwtLogout",
            "summary": "Log out: revoke the access token's login",
            "tags": ["authentication"],
            "security": security,
            "requestBody": {"required": False, **_json(names["revoke"])},
            "responses": {
                "204": {
                    "description": "Logged out",
                    **({"headers": dict(_SET_COOKIE)} if settings.cookies else {}),
                },
                **_common_errors(settings, names, endpoint="revoke", body=True),
            },
        }
    }


_CACHE_HEADERS = {
    "ETag": {"description": "The set's version", "schema": {"type": "string"}},
    "Cache-Control": {
        "description": "`public, max-age=JWT_JWKS_MAX_AGE`",
        "schema": {"type": "string"},
    },
}


def _jwks_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    return {
        "get": {
            "operationId": "jwtKeys",
            "summary": "The public keys that verify this app's tokens",
            "tags": ["authentication"],
            "parameters": [
                {
                    "name": "If-None-Match",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "The ETag of the set the client has",
                }
            ],
            "responses": {
                "200": {
                    "description": "The JSON Web Key Set (RFC 7517)",
                    "headers": _CACHE_HEADERS,
                    **_json(names["jwks"]),
                },
                "304": {
                    "description": "Not modified since the ETag given",
                    "headers": _CACHE_HEADERS,
                },
            },
        }
    }


def _openapi_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    return {
        "get": {
            "operationId": "jwtOpenAPI",
            "summary": "This document",
            "tags": ["authentication"],
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }


_OPERATIONS: dict[str, t.Callable[[Settings, dict[str, str]], dict[str, t.Any]]] = {
    "auth": _auth_operations,
    "refresh": _refresh_operations,
    "revoke": _revoke_operations,
    "jwks": _jwks_operations,
    "openapi": _openapi_operations,
}

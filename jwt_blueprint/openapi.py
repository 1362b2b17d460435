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
from marshmallow import Schema

from .config import Settings
from .schemas import CredentialsSchema
from .schemas import ErrorSchema
from .state import get_state

if t.TYPE_CHECKING:  # pragma: no cover
    from apispec import APISpec

#: The names of the security schemes :func:`register_openapi` adds, by the
#: place the token travels in.
SECURITY_SCHEMES = {
    "headers": "jwt",
    "cookies": "jwtCookie",
    "query_string": "jwtQuery",
}

#: The prefix of every component name we add, so that none collides with
#: the app's own.
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
    """The security schemes of the current app's token locations."""
    schemes: dict[str, dict[str, t.Any]] = {}
    for location in settings.token_locations:
        if location == "headers":
            if settings.header_prefix_lower == "bearer":
                schemes["jwt"] = {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                }
            else:
                schemes["jwt"] = {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        f"`Authorization: {settings.header_prefix} <token>`"
                    ),
                }
        elif location == "cookies" and settings.cookies is not None:
            schemes["jwtCookie"] = {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.cookies.access_name,
                "description": (
                    "The access token cookie a login sets; state-changing"
                    f" requests send the CSRF value back in"
                    f" `{settings.cookies.csrf_header}`."
                ),
            }
        elif location == "query_string":
            schemes["jwtQuery"] = {
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

    Call it in an app context, after the blueprint is registered.

    :param links_to: the ``operationId`` of operations that take the access
        token: the login and refresh responses get an OpenAPI link to each,
        passing the token in the ``Authorization`` header, for tools that
        follow links (schemathesis's stateful tests, say).
    :param login_example: an example login body, shown by Swagger UI and
        tried by tools that generate requests: a demo user's, never a real
        one's.
    :raises ValueError: if ``spec`` has no ``MarshmallowPlugin``.
    """
    from apispec.ext.marshmallow import MarshmallowPlugin

    if not any(isinstance(plugin, MarshmallowPlugin) for plugin in spec.plugins):
        raise ValueError(
            "register_openapi needs an APISpec with"
            " apispec.ext.marshmallow.MarshmallowPlugin in its plugins"
        )
    state = get_state()
    settings = state.settings()
    for name, scheme in security_schemes(settings).items():
        spec.components.security_scheme(name, scheme)
    names = _register_schemas(spec, state.views, settings)
    links = _links(settings, links_to)
    for key, path in state.paths.items():
        operations = _OPERATIONS[key](settings, names)
        if key in ("auth", "refresh") and links:
            operations["post"]["responses"]["200"]["links"] = links
        if key == "auth" and login_example is not None:
            body = operations["post"]["requestBody"]["content"]["application/json"]
            body["example"] = dict(login_example)
        # The rule and the view too, for the framework plugins that
        # describe a path from them (flask-smorest's, apispec-webframeworks').
        name = state.endpoint_names[key]
        spec.path(
            path=path,
            operations=operations,
            rule=next(current_app.url_map.iter_rules(name)),
            view=current_app.view_functions[name],
        )
    return spec


def _links(settings: Settings, operation_ids: t.Sequence[str]) -> dict[str, t.Any]:
    if "headers" not in settings.token_locations:
        return {}
    value = f"{settings.header_prefix} {{$response.body#/access_token}}"
    return {
        operation_id: {
            "operationId": operation_id,
            "parameters": {"header.Authorization": value},
        }
        for operation_id in operation_ids
    }


def openapi_document() -> dict[str, t.Any]:
    """The OpenAPI 3.1 document of the current app's JWT endpoints alone."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(
        title=f"{current_app.name} authentication",
        version=metadata.version("jwt_blueprint"),
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
    )
    return register_openapi(spec).to_dict()


def _register_schemas(
    spec: APISpec, views: t.Mapping[str, t.Any], settings: Settings
) -> dict[str, str]:
    """Register each schema a served view uses, once; its component name
    by role (``"credentials"``, ``"token"``, ...)."""
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
        candidates["jwks"] = jwks.jwks_schema()
    names: dict[str, str] = {}
    for role, schema in candidates.items():
        name = COMPONENT_PREFIX + type(schema).__name__.removesuffix("Schema")
        if name in spec.components.schemas:
            names[role] = name  # the same class, registered already
            continue
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
    settings: Settings, names: dict[str, str], *, throttled: bool, body: bool
) -> dict[str, t.Any]:
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
    if throttled and settings.throttle is not None:
        responses["429"] = _error(
            "Too many failed logins for the username, or too many requests from"
            " the address",
            names,
            **{"Retry-After": _RETRY_AFTER},
        )
    if settings.store is not None or (throttled and settings.throttle is not None):
        responses["503"] = _error(
            "The token store or the rate limit storage did not answer",
            names,
            **{"Retry-After": _RETRY_AFTER},
        )
    return responses


def _token_response(
    settings: Settings, names: dict[str, str], schema_role: str
) -> dict[str, t.Any]:
    response: dict[str, t.Any] = {
        "description": "The tokens",
        **_json(names[schema_role]),
    }
    if settings.cookies is not None:
        response["headers"] = {
            "Set-Cookie": {
                "description": "The token cookies and their CSRF cookies",
                "schema": {"type": "string"},
            }
        }
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
                **_common_errors(settings, names, throttled=True, body=True),
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
        }
    responses.update(_common_errors(settings, names, throttled=True, body=True))
    body: dict[str, t.Any] = _json(names["refresh"])
    body["required"] = settings.cookies is None
    return {
        "post": {
            "operationId": "jwtRefresh",
            "summary": "Spend a refresh token for new tokens",
            "tags": ["authentication"],
            "requestBody": body,
            "responses": responses,
        }
    }


def _revoke_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    security = _security(settings)
    return {
        "post": {
            "operationId": "jwtLogout",
            "summary": "Log out: revoke the access token's login",
            "tags": ["authentication"],
            "security": security,
            "requestBody": {"required": False, **_json(names["revoke"])},
            "responses": {
                "204": {"description": "Logged out"},
                **_common_errors(settings, names, throttled=False, body=True),
            },
        }
    }


def _jwks_operations(settings: Settings, names: dict[str, str]) -> dict[str, t.Any]:
    return {
        "get": {
            "operationId": "jwtKeys",
            "summary": "The public keys that verify this app's tokens",
            "tags": ["authentication"],
            "responses": {
                "200": {
                    "description": "The JSON Web Key Set (RFC 7517)",
                    **_json(names["jwks"]),
                },
                "304": {"description": "Not modified since the ETag given"},
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

"""The API's OpenAPI document at ``/openapi.json``, and Swagger UI at
``/docs``, served from the swagger-ui-py package (no CDN).

The login, refresh, logout and JWKS paths come from
:func:`jwt_blueprint.openapi.register_openapi`, built from the schemas the
views use; the app adds its own paths, marked with the security
requirement of its token locations.
"""

from __future__ import annotations

import typing as t

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import abort
from flask import Blueprint
from flask import current_app
from flask import render_template
from flask import Response
from flask import send_from_directory
from marshmallow import fields
from marshmallow import Schema
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

from jwt_blueprint.openapi import register_openapi
from jwt_blueprint.openapi import security_requirement
from jwt_blueprint.schemas import ErrorSchema

from .users import DEMO_USERS

bp = Blueprint("api_docs", __name__)

#: Swagger UI sets styles inline and shows its logos as data URLs.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class MeSchema(Schema):
    user = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)


class AdminSchema(Schema):
    user = fields.String(required=True)
    message = fields.String(required=True)


def build_spec() -> APISpec:
    """The document of the current app."""
    spec = APISpec(
        title="jwt_blueprint sample app",
        version="1.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
    )
    register_openapi(
        spec,
        links_to=["protected", "getMe", "getAdmin"],
        login_example=dict(zip(("username", "password"), DEMO_USERS[0], strict=True)),
    )
    security = security_requirement()
    # ErrorSchema resolves to the name register_openapi gave it.
    error = {"application/json": {"schema": ErrorSchema}}
    spec.components.response(
        "Unauthorized",
        {
            "description": "No token, or a token refused",
            "content": error,
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
        },
    )
    spec.components.response(
        "Unavailable",
        {
            "description": "The token store did not answer",
            "content": error,
            "headers": {"Retry-After": {"schema": {"type": "string"}}},
        },
    )
    refused = {
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "503": {"$ref": "#/components/responses/Unavailable"},
    }
    spec.components.schema("Me", schema=MeSchema)
    spec.components.schema("Admin", schema=AdminSchema)
    spec.path(
        path="/protected",
        operations={
            "get": {
                "operationId": "protected",
                "summary": "Who the token is for",
                "security": security,
                "responses": {
                    "200": {
                        "description": "The identity",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **refused,
                },
            }
        },
    )
    spec.path(
        path="/api/me",
        operations={
            "get": {
                "operationId": "getMe",
                "summary": "The user and the roles their token carries",
                "security": security,
                "responses": {
                    "200": {
                        "description": "The user",
                        "content": {"application/json": {"schema": "Me"}},
                    },
                    **refused,
                },
            }
        },
    )
    spec.path(
        path="/api/admin",
        operations={
            "get": {
                "operationId": "getAdmin",
                "summary": "For administrators only",
                "security": security,
                "responses": {
                    "200": {
                        "description": "The welcome",
                        "content": {"application/json": {"schema": "Admin"}},
                    },
                    **refused,
                    "403": {
                        "description": "The token lacks the admin role",
                        "content": error,
                    },
                },
            }
        },
    )
    return spec


@bp.get("/openapi.json")
def openapi_json() -> dict[str, t.Any]:
    """The OpenAPI 3.1 document."""
    document: dict[str, t.Any] = build_spec().to_dict()
    return document


@bp.get("/docs")
def swagger_ui() -> Response:
    """Swagger UI, reading ``/openapi.json``."""
    response = current_app.make_response(render_template("docs.html"))
    response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
    return response


#: The files of the swagger-ui-py package the page loads; not the rest of
#: it (Swagger Editor, its own demo page).
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})


@bp.get("/docs/static/<filename>")
def swagger_ui_static(filename: str) -> Response:
    """Swagger UI's own files, from the swagger-ui-py package."""
    if filename not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(SWAGGER_UI_PY_ROOT / "static", filename)

"""The OpenAPI document: built from the views' own schemas, valid OpenAPI
3.1, and what the endpoints answer (checked by schemathesis on the sample
app, in process)."""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
import typing as t

import pytest
import schemathesis
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test
from marshmallow import fields
from marshmallow import Schema
from openapi_spec_validator import validate
from schemathesis.config import SchemathesisConfig

from conftest import authenticate
from conftest import create_app
from conftest import identity
from conftest import SECRET
from jwt_blueprint import AuthView
from jwt_blueprint import ConfigError
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint.openapi import register_openapi
from jwt_blueprint.openapi import security_requirement
from jwt_blueprint.schemas import TokenSchema
from sample_app import create_app as create_sample_app
from sample_app import db
from sample_app.users import add_demo_users
from sample_app.users import DEMO_USERS

DOC = "/openapi.json"


def document(config: dict[str, t.Any]) -> dict[str, t.Any]:
    client = create_app({"JWT_OPENAPI_URL_RULE": DOC, **config}).test_client()
    response = client.get(DOC)
    assert response.status_code == 200
    validate(response.json)
    return t.cast(dict[str, t.Any], response.json)


def test_no_document_unless_asked_for():
    assert create_app().test_client().get(DOC).status_code == 404


def test_the_login_alone_by_default():
    doc = document({})
    assert doc["openapi"] == "3.1.0"
    assert sorted(doc["paths"]) == ["/auth", DOC]
    login = doc["paths"]["/auth"]["post"]
    assert login["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JWTCredentials"
    }
    credentials = doc["components"]["schemas"]["JWTCredentials"]
    assert credentials["required"] == ["password", "username"]
    assert credentials["properties"]["username"]["maxLength"] == 256
    assert credentials["additionalProperties"] is False
    responses = login["responses"]
    # The throttle counts in memory, and there is no store: nothing to 503.
    assert sorted(responses) == ["200", "400", "401", "413", "429"]
    assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "Retry-After" in responses["429"]["headers"]
    assert doc["components"]["schemas"]["JWTToken"]["properties"] == {
        "access_token": {"type": "string"},
        "refresh_token": {"type": "string"},
    }
    error = doc["components"]["schemas"]["JWTError"]
    assert set(error["properties"]) == {"status_code", "error", "description", "errors"}
    # The JWT scheme is not Bearer, so it is an API key header.
    assert doc["components"]["securitySchemes"] == {
        "JWT": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: JWT <token>`",
        }
    }


def test_without_throttling_or_store_no_429_nor_503():
    doc = document(
        {
            "JWT_AUTH_RATE_LIMIT_PER_USERNAME": None,
            "JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None,
        }
    )
    assert sorted(doc["paths"]["/auth"]["post"]["responses"]) == [
        "200",
        "400",
        "401",
        "413",
    ]


def test_a_bearer_prefix_is_http_bearer():
    doc = document({"JWT_AUTH_HEADER_PREFIX": "Bearer"})
    assert doc["components"]["securitySchemes"]["JWT"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_renamed_credentials_are_described_by_their_json_names():
    doc = document(
        {"JWT_AUTH_USERNAME_KEY": "email", "JWT_AUTH_PASSWORD_KEY": "secret"}
    )
    credentials = doc["components"]["schemas"]["JWTCredentials"]
    assert sorted(credentials["properties"]) == ["email", "secret"]


def test_the_lifecycle_and_cookie_endpoints(tmp_path):
    doc = document(
        {
            "JWT_REFRESH_ENABLED": True,
            "JWT_TOKEN_STORE": "memory://",
            "JWT_TOKEN_LOCATION": ["headers", "cookies", "query_string"],
        }
    )
    paths = doc["paths"]
    assert sorted(paths) == ["/auth", "/auth/refresh", "/auth/revoke", DOC]
    refresh = paths["/auth/refresh"]["post"]
    assert sorted(refresh["responses"]) == [
        "200",
        "204",
        "400",
        "401",
        "413",
        "429",
        "503",
    ]
    # By cookie, the body may be empty.
    assert refresh["requestBody"]["required"] is False
    revoke = paths["/auth/revoke"]["post"]
    assert revoke["security"] == [
        {"JWT": []},
        {"JWTCookie": [], "JWTCSRF": []},
        {"JWTQuery": []},
    ]
    assert refresh["security"] == [{}, {"JWTRefreshCookie": [], "JWTCSRF": []}]
    assert "Set-Cookie" in refresh["responses"]["204"]["headers"]
    assert sorted(revoke["responses"]) == ["204", "400", "401", "413", "503"]
    schemes = doc["components"]["securitySchemes"]
    assert schemes["JWTCookie"]["in"] == "cookie"
    assert schemes["JWTCookie"]["name"] == "access_token_cookie"
    assert schemes["JWTQuery"] == {"type": "apiKey", "in": "query", "name": "jwt"}
    assert "Set-Cookie" in paths["/auth"]["post"]["responses"]["200"]["headers"]


def test_the_jwks_is_described_by_the_schema_it_is_dumped_with():
    key = ec.generate_private_key(ec.SECP256R1())
    config = {"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": key}
    doc = document(config)
    jwks = doc["paths"]["/.well-known/jwks.json"]["get"]
    assert sorted(jwks["responses"]) == ["200", "304"]
    schema = doc["components"]["schemas"]["JWTJWKSet"]
    assert schema["required"] == ["keys"]
    served = create_app(config).test_client().get("/.well-known/jwks.json").json
    key_schema = doc["components"]["schemas"]["JWTJWK"]
    for key in served["keys"]:
        assert set(key) <= set(key_schema["properties"])


class EmailCredentialsSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True)
    otp = fields.String()


class ProfileTokenSchema(TokenSchema):
    user_id = fields.Integer(attribute="identity.id")


class EmailAuthView(AuthView):
    credentials_schema = EmailCredentialsSchema
    token_schema = ProfileTokenSchema

    def authenticate(self, credentials):
        return authenticate(credentials["email"].split("@")[0], credentials["password"])

    def throttle_key(self, credentials):
        return credentials["email"]


def blueprint_app(**blueprint_options: t.Any) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    strategy = JWTStrategy(identity_handler=identity)
    app.register_blueprint(
        JWTBlueprint(strategy, auth_view=EmailAuthView), **blueprint_options
    )
    return app


def test_a_subclassed_view_shows_its_own_schemas():
    app = blueprint_app(url_prefix="/api")
    spec = APISpec("Mine", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    with app.app_context():
        register_openapi(spec)
    doc = spec.to_dict()
    validate(doc)
    assert sorted(doc["paths"]) == ["/api/auth"]
    schemas = doc["components"]["schemas"]
    credentials = schemas["JWTEmailCredentials"]
    assert sorted(credentials["properties"]) == ["email", "otp", "password"]
    assert credentials["properties"]["email"]["format"] == "email"
    assert schemas["JWTProfileToken"]["properties"]["user_id"] == {"type": "integer"}


def test_registered_into_an_apps_own_spec_with_its_own_paths_and_links():
    app = create_app({"JWT_TOKEN_LOCATION": ["headers", "cookies"]})
    spec = APISpec("Mine", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    with app.app_context():
        register_openapi(spec, links_to=["getProtected"])
        spec.path(
            path="/protected",
            operations={
                "get": {
                    "operationId": "getProtected",
                    "security": security_requirement(),
                    "responses": {"200": {"description": "ok"}},
                }
            },
        )
    doc = spec.to_dict()
    validate(doc)
    assert doc["paths"]["/protected"]["get"]["security"] == [
        {"JWT": []},
        {"JWTCookie": []},
    ]
    assert doc["paths"]["/auth"]["post"]["responses"]["200"]["links"] == {
        "getProtected": {
            "operationId": "getProtected",
            "parameters": {
                "header.Authorization": "JWT {$response.body#/access_token}"
            },
        }
    }


def test_flask_smorest_api_spec():
    from flask_smorest import Api

    app = create_app(
        {
            "API_TITLE": "Smorest",
            "API_VERSION": "1",
            "OPENAPI_VERSION": "3.1.0",
        }
    )
    api = Api(app)
    with app.app_context():
        register_openapi(api.spec)
    doc = api.spec.to_dict()
    validate(doc)
    assert "/auth" in doc["paths"]
    assert "JWTCredentials" in doc["components"]["schemas"]


def test_a_spec_without_the_marshmallow_plugin_is_refused():
    app = create_app()
    with app.app_context(), pytest.raises(ValueError, match="MarshmallowPlugin"):
        register_openapi(APISpec("Mine", "1", "3.1.0"))


def test_serving_the_document_needs_apispec(monkeypatch):
    monkeypatch.setitem(sys.modules, "apispec", None)
    with pytest.raises(ConfigError, match="JWT_OPENAPI_URL_RULE: .*apispec"):
        create_app({"JWT_OPENAPI_URL_RULE": DOC})


def test_the_document_follows_a_config_change():
    app = create_app({"JWT_OPENAPI_URL_RULE": DOC})
    client = app.test_client()
    assert client.get(DOC).json["components"]["securitySchemes"]["JWT"]["type"] == (
        "apiKey"
    )
    app.config["JWT_AUTH_HEADER_PREFIX"] = "Bearer"
    assert client.get(DOC).json["components"]["securitySchemes"]["JWT"]["type"] == (
        "http"
    )


# -- The sample app, checked by schemathesis ---------------------------------------


def make_sample_app() -> Flask:
    """The sample app in a temporary instance folder, removed at exit."""
    instance = tempfile.mkdtemp(prefix="jwt-blueprint-openapi-")
    atexit.register(shutil.rmtree, instance, True)
    app = create_sample_app(
        {
            "SECRET_KEY": SECRET,
            "DATABASE": f"{instance}/users.sqlite3",
            # schemathesis logs in over and over, as one client.
            "JWT_AUTH_RATE_LIMIT_PER_USERNAME": None,
            "JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None,
        },
        instance_path=instance,
    )
    with app.app_context():
        db.init_db()
        add_demo_users()
    return app


# schemathesis reads the document when the tests are collected.
SAMPLE_APP = make_sample_app()


@pytest.fixture
def sample_app() -> Flask:
    return SAMPLE_APP


def test_the_sample_app_serves_a_valid_document_and_swagger_ui(sample_app):
    client = sample_app.test_client()
    doc = client.get("/openapi.json").json
    validate(doc)
    assert sorted(doc["paths"]) == [
        "/api/admin",
        "/api/me",
        "/auth",
        "/auth/refresh",
        "/auth/revoke",
        "/protected",
    ]
    assert doc["paths"]["/protected"]["get"]["security"] == [
        {"JWT": []},
        {"JWTCookie": []},
    ]
    page = client.get("/docs")
    assert page.status_code == 200
    assert "unsafe-inline" in page.headers["Content-Security-Policy"]
    assert b"swagger-ui-bundle.js" in page.data
    assert client.get("/docs/static/swagger-initializer.js").status_code == 404
    assert client.get("/docs/static/../__init__.py").status_code == 404
    with client.get("/docs/static/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
        # Which one depends on the platform's table of types.
        assert bundle.mimetype in ("text/javascript", "application/javascript")


def schemathesis_config(**checks: t.Any) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "generation": {"max-examples": 30, "deterministic": True},
            "checks": {
                # A body over the endpoint's limit is refused with a 413.
                "negative_data_rejection": {
                    "expected-statuses": [
                        400,
                        401,
                        403,
                        404,
                        405,
                        406,
                        409,
                        413,
                        415,
                        422,
                        428,
                        429,
                        "5xx",
                    ]
                },
                **checks,
            },
        }
    )


#: (path, status) of every response the sample app gave schemathesis.
answered: set[tuple[str, int]] = set()


def recording(environ: t.Any, start_response: t.Any) -> t.Any:
    def record(status: str, headers: t.Any, *args: t.Any) -> t.Any:
        answered.add((environ["PATH_INFO"], int(status.split()[0])))
        return start_response(status, headers, *args)

    return SAMPLE_APP(environ, record)


schema = schemathesis.openapi.from_wsgi(
    "/openapi.json", recording, config=schemathesis_config()
)
# The state machine's client keeps the cookies a login set, and the logout
# rightly accepts the refresh cookie (with its CSRF value) when the access
# token is not valid: its check that a made-up token is refused would count
# that as accepting an invalid one. The stateless tests keep that check.
stateful_schema = schemathesis.openapi.from_wsgi(
    "/openapi.json",
    recording,
    config=schemathesis_config(ignored_auth={"enabled": False}),
)


@schema.parametrize()
def test_every_operation_answers_as_documented(case):
    case.call_and_validate()


class LoggingInAsTheDemoUser(stateful_schema.as_state_machine()):  # type: ignore[misc]
    """schemathesis's state machine, whose valid logins are the demo user's:
    random credentials never log in, so the links would never be taken."""

    def before_call(self, case: t.Any) -> None:
        meta = case.meta
        positive = meta is None or meta.generation.mode.is_positive
        if case.path == "/auth" and positive:
            case.body = dict(zip(("username", "password"), DEMO_USERS[0], strict=True))
        super().before_call(case)


def test_login_then_the_links_to_the_protected_operations():
    # Log in, then follow the links of the login's response: the access
    # token goes to every operation that needs one.
    answered.clear()
    run_state_machine_as_test(
        LoggingInAsTheDemoUser,
        settings=settings(
            max_examples=15,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    # The links were followed with live tokens.
    assert ("/api/me", 200) in answered
    assert ("/protected", 200) in answered
    assert ("/auth/refresh", 200) in answered
    assert ("/auth/revoke", 204) in answered


def test_registering_twice_or_beside_the_apps_own_schemas_adds_nothing_twice():
    from jwt_blueprint.schemas import ErrorSchema

    app = create_app({"JWT_REFRESH_ENABLED": True, "JWT_TOKEN_STORE": "memory://"})
    spec = APISpec("Mine", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    spec.components.schema("Problem", schema=ErrorSchema)
    spec.components.schema("JWTToken", {"type": "object"})  # a name taken
    with app.app_context():
        register_openapi(spec)
        register_openapi(spec)
    doc = spec.to_dict()
    validate(doc)
    schemas = doc["components"]["schemas"]
    # The app's registration of the error schema is the one referred to.
    assert "JWTError" not in schemas
    unauthorized = doc["paths"]["/auth"]["post"]["responses"]["401"]
    schema = unauthorized["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Problem"}
    # A name the app took is left to it.
    assert schemas["JWTToken"] == {"type": "object"}
    assert "access_token" in schemas["JWTToken2"]["properties"]


def test_a_security_scheme_of_another_meaning_is_refused():
    app = create_app()
    spec = APISpec("Mine", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("JWT", {"type": "http", "scheme": "basic"})
    with app.app_context(), pytest.raises(ValueError, match="'JWT' already"):
        register_openapi(spec)


@pytest.mark.parametrize(
    ("config", "refresh_statuses"),
    [
        # Only the username is counted: the refresh endpoint is not.
        (
            {"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None},
            ["200", "400", "401", "413", "503"],
        ),
        # Counts in Redis can fail to answer (nothing connects here).
        (
            {"JWT_RATE_LIMIT_STORAGE": "redis://127.0.0.1:1/0"},
            ["200", "400", "401", "413", "429", "503"],
        ),
    ],
)
def test_429_and_503_where_they_can_happen(config, refresh_statuses):
    doc = document(
        {"JWT_REFRESH_ENABLED": True, "JWT_TOKEN_STORE": "memory://", **config}
    )
    refresh = doc["paths"]["/auth/refresh"]["post"]["responses"]
    assert sorted(refresh) == refresh_statuses
    assert "429" in doc["paths"]["/auth"]["post"]["responses"]


def test_a_standalone_document_says_where_the_app_is_mounted():
    client = create_app({"JWT_OPENAPI_URL_RULE": DOC}).test_client()
    mounted = client.get(DOC, base_url="http://localhost/svc").json
    validate(mounted)
    assert mounted["servers"] == [{"url": "/svc"}]
    assert "/auth" in mounted["paths"]
    assert "servers" not in client.get(DOC).json

"""The blueprint's declared endpoints: one URL rule, no shadowing, JSON 405s."""

from __future__ import annotations

import pytest
from flask import Flask
from flask import url_for
from marshmallow import fields
from marshmallow import Schema
from werkzeug.exceptions import HTTPException

from conftest import authenticate
from conftest import identity
from conftest import login
from conftest import SECRET
from jwt_blueprint import AuthView
from jwt_blueprint import JWT
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint import verify_jwt_in_request
from jwt_blueprint.blueprint import Endpoint
from jwt_blueprint.views import EndpointView


def bare_app() -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    return app


def test_jwt_adds_exactly_one_url_rule():
    # Flask-JWT's own test_initialize counts them.
    app = bare_app()
    before = len(app.url_map._rules)
    JWT(app, authenticate, identity)
    assert len(app.url_map._rules) == before + 1
    assert [str(rule) for rule in app.url_map.iter_rules("jwt.jwt")] == ["/auth"]


def test_the_blueprint_serves_only_its_declared_endpoints():
    class NoLogin(JWTBlueprint):
        endpoints = ()

    app = bare_app()
    before = len(app.url_map._rules)
    app.register_blueprint(NoLogin(JWTStrategy(identity_handler=identity)))
    assert len(app.url_map._rules) == before
    assert app.test_client().post("/auth", json={}).status_code == 404


@pytest.mark.parametrize("order", ["route-first", "route-after"])
def test_the_apps_own_route_on_the_auth_url_is_served(order):
    app = bare_app()

    def add_page() -> None:
        @app.get("/auth")
        def login_page():
            return "the login page"

    if order == "route-first":
        add_page()
    JWT(app, authenticate, identity)
    if order == "route-after":
        add_page()
    client = app.test_client()
    assert client.get("/auth").text == "the login page"
    assert login(client)
    response = client.put("/auth")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert response.json["description"] == "This endpoint accepts GET, POST, not PUT"


def test_json_405_under_a_url_prefix():
    app = bare_app()
    app.register_blueprint(
        JWTBlueprint(JWTStrategy(authenticate, identity)), url_prefix="/api"
    )

    @app.post("/other")
    def other():
        return "posted"

    client = app.test_client()
    response = client.get("/api/auth")
    assert response.status_code == 405
    assert response.json["error"] == "Method Not Allowed"
    # Another URL's 405 is Flask's, untouched.
    response = client.get("/other")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("order", ["handler-first", "handler-after"])
def test_the_apps_own_405_handler_wins(order):
    app = bare_app()

    def add_handler() -> None:
        @app.errorhandler(405)
        def method_not_allowed(error):
            return {"mine": True}, 405

    if order == "handler-first":
        add_handler()
    JWT(app, authenticate, identity)
    if order == "handler-after":
        add_handler()
    assert app.test_client().get("/auth").json == {"mine": True}


def test_the_apps_catch_all_handler_still_gets_other_405s():
    app = bare_app()

    @app.errorhandler(HTTPException)
    def http_error(error):
        return {"code": error.code}, error.code

    JWT(app, authenticate, identity)

    @app.post("/other")
    def other():
        return "posted"

    @app.get("/reader")
    def reader():
        return "read"

    client = app.test_client()
    assert client.get("/other").json == {"code": 405}
    assert client.put("/reader").json == {"code": 405}
    assert client.get("/auth").json["error"] == "Method Not Allowed"
    assert client.get("/missing").json == {"code": 404}


def test_a_blueprints_catch_all_handler_still_gets_its_405s():
    from flask import abort
    from flask import Blueprint

    api = Blueprint("api", __name__)

    @api.errorhandler(HTTPException)
    def api_error(error):
        return {"api": error.code}, error.code

    @api.get("/refuse")
    def refuse():
        abort(405)

    app = bare_app()
    JWT(app, authenticate, identity)
    app.register_blueprint(api, url_prefix="/api")
    assert app.test_client().get("/api/refuse").json == {"api": 405}


class EmailSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True)


def test_a_schema_the_default_authenticate_cannot_read_fails_at_registration():
    class EmailView(AuthView):
        credentials_schema = EmailSchema

    app = bare_app()
    with pytest.raises(RuntimeError, match="override EmailView.authenticate"):
        app.register_blueprint(
            JWTBlueprint(JWTStrategy(authenticate, identity), auth_view=EmailView)
        )


def test_the_same_schema_with_its_own_authenticate_registers():
    class EmailView(AuthView):
        credentials_schema = EmailSchema

        def authenticate(self, credentials):
            return authenticate(
                credentials["email"].split("@")[0], credentials["password"]
            )

        def throttle_key(self, credentials):
            return credentials["email"]

    app = bare_app()
    app.register_blueprint(
        JWTBlueprint(JWTStrategy(identity_handler=identity), auth_view=EmailView)
    )
    response = app.test_client().post(
        "/auth", json={"email": "user1@example.com", "password": "abcxyz"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("how", ["renamed", "nested"])
def test_json_405_for_a_renamed_or_nested_blueprint(how):
    from flask import Blueprint

    app = bare_app()
    blueprint = JWTBlueprint(JWTStrategy(authenticate, identity))
    if how == "renamed":
        app.register_blueprint(blueprint, name="accounts")
        path = "/auth"
    else:
        parent = Blueprint("api", __name__)
        parent.register_blueprint(blueprint)
        app.register_blueprint(parent, url_prefix="/api")
        path = "/api/auth"
    client = app.test_client()
    response = client.get(path)
    assert response.status_code == 405
    assert response.json["error"] == "Method Not Allowed"
    response = client.post(path, json={"username": "user1", "password": "abcxyz"})
    assert response.status_code == 200


class WhoAmIView(EndpointView):
    """A new endpoint: who the posted token is for."""

    methods = ["POST"]

    def post(self):
        return {"sub": verify_jwt_in_request().claims["sub"]}


def test_a_new_endpoint_is_one_declaration():
    class WhoAmIBlueprint(JWTBlueprint):
        endpoints = (
            *JWTBlueprint.endpoints,
            Endpoint(
                key="whoami",
                view=WhoAmIView,
                methods=("POST",),
                rule_key="JWT_WHOAMI_URL_RULE",
                rule="/auth/whoami",
                name_key="JWT_WHOAMI_ENDPOINT",
                name="whoami",
            ),
        )

    app = bare_app()
    app.register_blueprint(WhoAmIBlueprint(JWTStrategy(authenticate, identity)))
    client = app.test_client()
    token = login(client)
    response = client.post("/auth/whoami", headers={"Authorization": f"JWT {token}"})
    assert response.json == {"sub": "1"}
    assert client.get("/auth/whoami").json["error"] == "Method Not Allowed"
    with app.test_request_context():
        assert url_for("jwt.whoami") == "/auth/whoami"
    # Its URL rule is config, with the declared default, like the login's.
    other = bare_app()
    other.config["JWT_WHOAMI_URL_RULE"] = None
    other.register_blueprint(WhoAmIBlueprint(JWTStrategy(authenticate, identity)))
    assert other.test_client().post("/auth/whoami").status_code == 404

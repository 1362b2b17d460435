"""Roles and scopes: a valid token without them gets a 403."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from conftest import auth_header
from conftest import create_app
from conftest import login
from jwt_blueprint import jwt_required
from jwt_blueprint import roles_accepted
from jwt_blueprint import roles_required
from jwt_blueprint import scopes_required

ROLES = {1: ["admin", "editor"], 2: ["viewer"]}
SCOPES = {1: "orders:read orders:write", 2: ["orders:read"]}


def roles_app() -> Flask:
    app = create_app()
    strategy = app.extensions["jwt"]
    default_payload = strategy.make_payload

    @strategy.jwt_payload_handler
    def payload(user: t.Any) -> dict[str, t.Any]:
        claims = default_payload(user)
        claims["roles"] = ROLES[user.id]
        claims["scope"] = SCOPES[user.id]
        return claims

    @app.route("/admin")
    @roles_required("admin")
    def admin() -> str:
        return "admin"

    @app.route("/editing")
    @roles_accepted("editor", "admin")
    def editing() -> str:
        return "editing"

    @app.route("/both")
    @roles_required("admin", "viewer")
    def both() -> str:
        return "both"

    @app.route("/orders")
    @scopes_required("orders:read")
    def orders() -> str:
        return "orders"

    @app.post("/orders")
    @scopes_required("orders:write")
    def new_order() -> str:
        return "created"

    @app.route("/fresh-admin")
    @jwt_required(fresh=True, roles=["admin"])
    def fresh_admin() -> str:
        return "fresh admin"

    return app


@pytest.fixture
def client() -> t.Any:
    return roles_app().test_client()


def token_of(client: t.Any, username: str) -> dict[str, str]:
    return auth_header(login(client, username))


@pytest.mark.parametrize(
    ("path", "method", "user", "status"),
    [
        ("/admin", "get", "user1", 200),
        ("/admin", "get", "user2", 403),
        ("/editing", "get", "user1", 200),
        ("/editing", "get", "user2", 403),
        ("/both", "get", "user1", 403),
        ("/orders", "get", "user1", 200),
        ("/orders", "get", "user2", 200),
        ("/orders", "post", "user1", 200),
        ("/orders", "post", "user2", 403),
        ("/fresh-admin", "get", "user1", 200),
        ("/fresh-admin", "get", "user2", 403),
    ],
)
def test_roles_and_scopes(client, path, method, user, status):
    response = getattr(client, method)(path, headers=token_of(client, user))
    assert response.status_code == status


def test_a_missing_role_is_a_403_with_an_insufficient_scope_challenge(client):
    response = client.get("/admin", headers=token_of(client, "user2"))
    assert response.status_code == 403
    assert response.json == {
        "status_code": 403,
        "error": "Forbidden",
        "description": "The token lacks the role: admin",
    }
    # RFC 6750's scope parameter names scopes, not roles.
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Login Required", error="insufficient_scope",'
        ' error_description="The token lacks the role: admin"'
    )
    response = client.get("/editing", headers=token_of(client, "user2"))
    assert response.json["description"] == "The token lacks the role: editor or admin"
    response = client.post("/orders", headers=token_of(client, "user2"))
    assert response.json["description"] == "The token lacks the scope: orders:write"
    assert response.headers["WWW-Authenticate"].endswith(', scope="orders:write"')


def test_authentication_comes_first(client):
    assert client.get("/admin").status_code == 401
    response = client.get("/admin", headers=auth_header("not.a.token"))
    assert response.status_code == 401


def test_a_token_without_the_claims_has_no_roles():
    client = create_app().test_client()
    app = client.application

    @app.route("/needs-admin")
    @roles_required("admin")
    def needs_admin() -> str:
        return "no"

    response = client.get("/needs-admin", headers=auth_header(login(client)))
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["", "two words", "new\nline", 7])
def test_role_names_are_checked_when_decorating(name):
    with pytest.raises(ValueError):
        roles_required(name)


def test_roles_accepted_refuses_unknown_options():
    with pytest.raises(TypeError, match="unexpected arguments: role"):
        roles_accepted("admin", role="x")


@pytest.mark.parametrize(
    "decorate",
    [
        lambda: roles_required("admin", optional=True),
        lambda: roles_accepted("admin", optional=True),
        lambda: scopes_required("read", optional=True),
        lambda: jwt_required(optional=True, roles=["admin"]),
        roles_required,
        roles_accepted,
        scopes_required,
    ],
)
def test_decorators_that_would_protect_nothing_are_refused(decorate):
    # Optional: anonymous requests would pass where signed-in ones are
    # refused. No names: any valid token would pass.
    with pytest.raises(ValueError):
        decorate()


@pytest.mark.parametrize("separator", ["\u00a0", "\x1f", "\u2028", "\t", "\n"])
def test_only_spaces_separate_names_in_a_claim(separator):
    app = create_app()
    strategy = app.extensions["jwt"]
    default_payload = strategy.make_payload
    strategy.jwt_payload_handler(
        lambda user: {**default_payload(user), "roles": f"guest{separator}admin"}
    )

    @app.route("/admin")
    @roles_required("admin")
    def admin() -> str:
        return "admin"

    client = app.test_client()
    assert client.get("/admin", headers=auth_header(login(client))).status_code == 403


def test_a_before_request_hook_can_ask_for_roles():
    from jwt_blueprint import verify_jwt_in_request

    app = roles_app()

    @app.before_request
    def admins_only() -> None:
        from flask import request

        if request.path == "/protected":
            verify_jwt_in_request(roles=["admin"])

    client = app.test_client()
    assert (
        client.get("/protected", headers=token_of(client, "user1")).status_code == 200
    )
    assert (
        client.get("/protected", headers=token_of(client, "user2")).status_code == 403
    )

"""The sample app: its factory, its users in SQLite, its secret, its commands,
and its login page's routes: tokens in cookies, CSRF, roles."""

from __future__ import annotations

import os
import sqlite3
import stat
import typing as t
from contextlib import closing
from pathlib import Path

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner
from werkzeug.http import parse_date
from werkzeug.test import TestResponse

import jwt_blueprint.passwords
import sample_app.users
from conftest import auth_header
from conftest import claims
from conftest import login
from conftest import make_token
from sample_app import create_app

SECRET = "sample-app-test-secret-0123456789abcdef0123456789abcdef"


def make_app(tmp_path: Path, **config: t.Any) -> Flask:
    """The app as the tests build it: every file under ``tmp_path``."""
    return create_app(
        {"TESTING": True, "DATABASE": tmp_path / "users.sqlite3", **config},
        instance_path=tmp_path / "instance",
    )


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    """An app with its database set up as ``make run`` does."""
    app = make_app(tmp_path, SECRET_KEY=SECRET)
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def usernames(database: Path) -> list[str]:
    with closing(sqlite3.connect(database)) as db:
        return [row[0] for row in db.execute("SELECT username FROM user ORDER BY id")]


# -- logging in ------------------------------------------------------------


@pytest.mark.parametrize(("username", "expected"), [("user1", "1"), ("user2", "2")])
def test_login_then_protected(client: FlaskClient, username: str, expected: str):
    token = login(client, username, "abcxyz")
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 200
    assert response.text == f"User(id='{expected}')"


def test_protected_without_token(client: FlaskClient):
    response = client.get("/protected")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient):
    wrong_password = client.post(
        "/auth", json={"username": "user1", "password": "wrong"}
    )
    unknown_user = client.post(
        "/auth", json={"username": "nobody", "password": "abcxyz"}
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json == unknown_user.json
    assert dict(wrong_password.headers) == dict(unknown_user.headers)


@pytest.mark.parametrize("username", ["user1", "nobody"])
def test_every_login_checks_one_hash(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, username: str
):
    checked: list[str] = []
    real_check = jwt_blueprint.passwords.check_password_hash

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(jwt_blueprint.passwords, "check_password_hash", spy)
    response = client.post("/auth", json={"username": username, "password": "wrong"})
    assert response.status_code == 401
    assert len(checked) == 1
    # Werkzeug hashes read "method:params$salt$hash". The dummy hash costs
    # what a real one does only if the method and parameters match.
    method = checked[0].split("$", 1)[0]
    assert method == sample_app.users.hasher.hash("x").split("$", 1)[0]


@pytest.mark.parametrize(
    ("identity", "status"),
    [
        (1, 200),
        (2, 200),
        (3, 401),
        (2**63 - 1, 401),
        (-(2**63), 401),
        ("1", 401),
        (True, 401),
        (None, 401),
    ],
)
def test_token_identity(client: FlaskClient, identity: t.Any, status: int):
    token = make_token(
        claims(identity=identity, jti="sample-token-id-0123"), key=SECRET
    )
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == status


@pytest.mark.parametrize("identity", [2**63, -(2**63) - 1, 2**64, 10**100])
def test_token_identity_out_of_sqlite_range(client: FlaskClient, identity: int):
    # SQLite integers are 64-bit: no user can have such an id.
    token = make_token(
        claims(identity=identity, jti="sample-token-id-0123"), key=SECRET
    )
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json == {
        "status_code": 401,
        "error": "Invalid JWT",
        "description": "User does not exist",
    }


def test_token_signed_with_another_secret(client: FlaskClient, jwt_bad_token):
    token = jwt_bad_token("wrong_key", sample_app.users.User(1, "user1"))
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "Signature verification failed"


# -- the login page: tokens in cookies, CSRF, roles ------------------------

ACCESS, REFRESH = "access_token_cookie", "refresh_token_cookie"
ACCESS_CSRF, REFRESH_CSRF = "csrf_access_token", "csrf_refresh_token"
#: Each cookie's path: the refresh token goes to /auth/refresh and
#: /auth/revoke only; the CSRF values must be readable by the page's
#: scripts, wherever they run.
COOKIE_PATHS = {
    ACCESS: "/",
    ACCESS_CSRF: "/",
    REFRESH: "/auth",
    REFRESH_CSRF: "/",
}
#: JWT_EXPIRATION_DELTA and JWT_REFRESH_EXPIRATION_DELTA, by default.
ACCESS_LIFETIME, REFRESH_LIFETIME = 300, 30 * 24 * 3600


def set_cookies(response: TestResponse) -> dict[str, tuple[str, dict[str, t.Any]]]:
    """Each cookie that ``response`` sets, by name: its value, and its
    attributes by lowercased name (``True`` for a flag such as HttpOnly)."""
    cookies: dict[str, tuple[str, dict[str, t.Any]]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        pair, *attributes = header.split("; ")
        name, _, value = pair.partition("=")
        assert name not in cookies, f"{name} is set twice"
        parsed: dict[str, t.Any] = {}
        for attribute in attributes:
            key, equals, attribute_value = attribute.partition("=")
            assert key.lower() not in parsed, f"{name}: {key} twice"
            parsed[key.lower()] = attribute_value if equals else True
        cookies[name] = (value, parsed)
    return cookies


def unverified(token: str) -> dict[str, t.Any]:
    claims: dict[str, t.Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def log_in_with_cookies(client: FlaskClient, username: str = "user1") -> TestResponse:
    """Log in as the login page does, keeping the cookies in ``client``."""
    response = client.post("/auth", json={"username": username, "password": "abcxyz"})
    assert response.status_code == 200, response.json
    return response


def csrf_header(client: FlaskClient, name: str = ACCESS_CSRF) -> dict[str, str]:
    """``X-CSRF-Token``, as the page's script sends it: the readable cookie."""
    cookie = client.get_cookie(name)
    assert cookie is not None
    return {"X-CSRF-Token": cookie.value}


def test_login_sets_the_cookies(client: FlaskClient):
    response = log_in_with_cookies(client)
    cookies = set_cookies(response)
    assert sorted(cookies) == sorted(COOKIE_PATHS)
    access_token, refresh_token = cookies[ACCESS][0], cookies[REFRESH][0]
    assert access_token == response.json["access_token"]
    assert refresh_token == response.json["refresh_token"]
    access_claims, refresh_claims = unverified(access_token), unverified(refresh_token)
    assert access_claims["exp"] - access_claims["iat"] == ACCESS_LIFETIME
    assert refresh_claims["exp"] - refresh_claims["iat"] == REFRESH_LIFETIME
    # Each CSRF value is bound to its token, as its csrf claim.
    assert cookies[ACCESS_CSRF][0] == access_claims["csrf"]
    assert cookies[REFRESH_CSRF][0] == refresh_claims["csrf"]
    assert cookies[ACCESS_CSRF][0] != cookies[REFRESH_CSRF][0]

    for name, lifetime in [
        (ACCESS, ACCESS_LIFETIME),
        (ACCESS_CSRF, ACCESS_LIFETIME),
        (REFRESH, REFRESH_LIFETIME),
        (REFRESH_CSRF, REFRESH_LIFETIME),
    ]:
        attributes = dict(cookies[name][1])
        expires = parse_date(attributes.pop("expires"))
        assert expires is not None
        assert abs(expires.timestamp() - (access_claims["iat"] + lifetime)) <= 2
        expected: dict[str, t.Any] = {
            "max-age": str(lifetime),
            "path": COOKIE_PATHS[name],
            "samesite": "Lax",
        }
        # Page scripts may read the CSRF values, never the tokens. No
        # Secure: make run serves plain http. No Domain: this host only.
        if name in (ACCESS, REFRESH):
            expected["httponly"] = True
        assert attributes == expected, name


def test_cookies_are_secure_when_configured(tmp_path: Path):
    app = make_app(tmp_path, SECRET_KEY=SECRET, JWT_COOKIE_SECURE=True)
    app.test_cli_runner().invoke(args=["init-db"])
    cookies = set_cookies(log_in_with_cookies(app.test_client()))
    assert sorted(cookies) == sorted(COOKIE_PATHS)
    for name, (_, attributes) in cookies.items():
        assert attributes["secure"] is True, name
    app.extensions["jwt_blueprint"].settings().store.close()


@pytest.mark.parametrize(("username", "roles"), [("user1", ["admin"]), ("user2", [])])
def test_me_with_the_cookie(client: FlaskClient, username: str, roles: list[str]):
    log_in_with_cookies(client, username)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json == {"user": username, "roles": roles}


def test_me_and_protected_with_the_header(app: Flask):
    # API clients go on sending the token in the Authorization header.
    client = app.test_client(use_cookies=False)
    headers = auth_header(login(client, "user1", "abcxyz"))
    response = client.get("/api/me", headers=headers)
    assert response.json == {"user": "user1", "roles": ["admin"]}
    assert client.get("/protected", headers=headers).text == "User(id='1')"


def test_protected_with_the_cookie(client: FlaskClient):
    log_in_with_cookies(client, "user2")
    assert client.get("/protected").text == "User(id='2')"


@pytest.mark.parametrize("url", ["/api/me", "/api/admin"])
def test_api_without_a_token(client: FlaskClient, url: str):
    response = client.get(url)
    assert response.status_code == 401
    assert response.json["status_code"] == 401


def test_admin_for_an_administrator(client: FlaskClient):
    log_in_with_cookies(client, "user1")
    response = client.get("/api/admin")
    assert response.status_code == 200
    assert response.json == {
        "user": "user1",
        "message": "Welcome, user1: you are an administrator.",
    }


@pytest.mark.parametrize("by", ["cookie", "header"])
def test_admin_refuses_user2(app: Flask, by: str):
    client = app.test_client(use_cookies=by == "cookie")
    token = log_in_with_cookies(client, "user2").json["access_token"]
    headers = auth_header(token) if by == "header" else {}
    response = client.get("/api/admin", headers=headers)
    assert response.status_code == 403
    assert response.json["status_code"] == 403
    assert response.json["error"] == "Forbidden"
    assert response.json["description"]
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_roles_come_from_the_token(client: FlaskClient, jwt_headers):
    # user1 is an administrator, but a token without the roles claim (issued
    # before roles, or by another issuer) is not.
    headers = jwt_headers(sample_app.users.User(1, "user1"), roles=None)
    assert client.get("/api/me", headers=headers).json == {"user": "user1", "roles": []}
    assert client.get("/api/admin", headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("headers", "description"),
    [
        ({}, "Missing CSRF token"),
        ({"X-CSRF-Token": ""}, "Missing CSRF token"),
        ({"X-CSRF-Token": "forged"}, "CSRF token mismatch"),
    ],
)
def test_a_post_without_the_csrf_value_is_refused(
    client: FlaskClient, headers: dict[str, str], description: str
):
    log_in_with_cookies(client)
    response = client.post("/auth/revoke", headers=headers)
    assert response.status_code == 401
    assert response.json["description"] == description
    assert "Set-Cookie" not in response.headers
    # Nothing was revoked: still logged in. A GET needs no CSRF value.
    assert client.get("/api/me").status_code == 200


def test_the_csrf_value_in_a_form_field(client: FlaskClient):
    # A form without JavaScript sends the value in the csrf_token field.
    log_in_with_cookies(client)
    token = client.get_cookie(ACCESS_CSRF)
    assert token is not None
    response = client.post("/auth/revoke", data={"csrf_token": token.value})
    assert response.status_code == 204
    assert client.get("/api/me").status_code == 401


def test_logout_clears_the_cookies(client: FlaskClient):
    tokens = log_in_with_cookies(client).json
    response = client.post("/auth/revoke", headers=csrf_header(client))
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert sorted(cleared) == sorted(COOKIE_PATHS)
    for name, (value, attributes) in cleared.items():
        assert value == "", name
        assert attributes["max-age"] == "0", name
        assert attributes["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT", name
        assert attributes["path"] == COOKIE_PATHS[name], name
        assert client.get_cookie(name, path=COOKIE_PATHS[name]) is None, name
    assert client.get("/api/me").status_code == 401
    # The tokens themselves are revoked, not only forgotten by the browser.
    headers = auth_header(tokens["access_token"])
    assert client.get("/api/me", headers=headers).status_code == 401
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 401


def test_refresh_with_the_cookie(client: FlaskClient):
    log_in_with_cookies(client)
    old = {
        name: client.get_cookie(name, path=COOKIE_PATHS[name]) for name in COOKIE_PATHS
    }
    # The refresh cookie, with its own CSRF value.
    refused = client.post("/auth/refresh", headers=csrf_header(client))
    assert refused.status_code == 401
    assert refused.json["description"] == "CSRF token mismatch"
    response = client.post("/auth/refresh", headers=csrf_header(client, REFRESH_CSRF))
    # Asked by cookie, answered by cookie: no token in a body a script reads.
    assert response.status_code == 204
    assert response.data == b""
    cookies = set_cookies(response)
    assert sorted(cookies) == sorted(COOKIE_PATHS)
    for name, (value, attributes) in cookies.items():
        old_cookie = old[name]
        assert old_cookie is not None
        assert value != old_cookie.value, name
        assert attributes["path"] == COOKIE_PATHS[name], name
    assert client.get("/api/me").json == {"user": "user1", "roles": ["admin"]}


def test_logout_after_the_access_cookie_expired(client: FlaskClient):
    log_in_with_cookies(client)
    refresh_token = client.get_cookie(REFRESH, path=COOKIE_PATHS[REFRESH])
    assert refresh_token is not None
    # Both expire together, as the browser drops them.
    client.delete_cookie(ACCESS)
    client.delete_cookie(ACCESS_CSRF)
    # The refresh cookie goes to /auth/revoke too, with its CSRF value.
    refused = client.post("/auth/revoke")
    assert refused.status_code == 401
    assert refused.json["description"] == "Missing CSRF token"
    response = client.post("/auth/revoke", headers=csrf_header(client, REFRESH_CSRF))
    assert response.status_code == 204
    assert sorted(set_cookies(response)) == sorted(COOKIE_PATHS)
    body = {"refresh_token": refresh_token.value}
    assert client.post("/auth/refresh", json=body).status_code == 401


def test_logging_in_again_replaces_the_cookies(client: FlaskClient):
    # A login needs no CSRF value, even with the cookies of another login.
    log_in_with_cookies(client, "user1")
    log_in_with_cookies(client, "user2")
    assert client.get("/api/me").json == {"user": "user2", "roles": []}


@pytest.mark.parametrize(
    ("url", "ids"),
    [
        (
            "/",
            [
                "login-form",
                "username",
                "password",
                "login-button",
                "login-error",
                "profile-section",
                "profile-user",
                "admin-link",
                "logout-button",
            ],
        ),
        ("/admin", ["admin-result", "home-link"]),
    ],
)
def test_pages(client: FlaskClient, url: str, ids: list[str]):
    # Public: what they show comes from the JSON routes.
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    for id in ids:
        assert f'id="{id}"' in response.text, id
    assert "/static/app.js" in response.text
    assert "/static/style.css" in response.text
    policy = response.headers["Content-Security-Policy"]
    assert policy == (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self';"
        " base-uri 'none'"
    )


@pytest.mark.parametrize(
    ("name", "mimetype"),
    [("app.js", "text/javascript"), ("style.css", "text/css")],
)
def test_static_files(client: FlaskClient, name: str, mimetype: str):
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    response.close()


# -- commands --------------------------------------------------------------


def test_init_db_creates_the_demo_users(tmp_path: Path):
    runner = make_app(tmp_path, SECRET_KEY=SECRET).test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Added the demo users: user1, user2." in result.output
    assert usernames(tmp_path / "users.sqlite3") == ["user1", "user2"]


def test_init_db_twice(app: Flask, runner: FlaskCliRunner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "Database ready" in result.output
    assert "Added" not in result.output
    assert usernames(app.config["DATABASE"]) == ["user1", "user2"]


def test_create_user_then_log_in(client: FlaskClient, runner: FlaskCliRunner):
    result = runner.invoke(args=["create-user", "alice", "--password", "s3cret"])
    assert result.exit_code == 0, result.output
    assert result.output == "Created user 'alice' with id 3.\n"
    token = login(client, "alice", "s3cret")
    response = client.get("/protected", headers=auth_header(token))
    assert response.text == "User(id='3')"


def test_create_user_prompts_for_the_password(
    client: FlaskClient, runner: FlaskCliRunner
):
    result = runner.invoke(args=["create-user", "bob"], input="pw\npw\n")
    assert result.exit_code == 0, result.output
    assert "pw" not in result.output
    login(client, "bob", "pw")


def test_create_user_before_init_db(tmp_path: Path):
    app = make_app(tmp_path, SECRET_KEY=SECRET)
    result = app.test_cli_runner().invoke(
        args=["create-user", "alice", "--password", "pw"]
    )
    assert result.exit_code == 0, result.output
    login(app.test_client(), "alice", "pw")


@pytest.mark.parametrize("username", ["alice", "user1"])
def test_create_user_refuses_a_duplicate(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, username: str
):
    runner.invoke(args=["create-user", "alice", "--password", "abcxyz"])
    result = runner.invoke(args=["create-user", username, "--password", "other"])
    assert result.exit_code == 1
    assert result.output == f"Error: user '{username}' already exists\n"
    assert usernames(app.config["DATABASE"]).count(username) == 1
    login(client, username, "abcxyz")


@pytest.mark.parametrize(
    "args",
    [
        ["", "--password", "pw"],
        ["a" * 257, "--password", "pw"],
        ["tab\tname", "--password", "pw"],
        ["alice", "--password", ""],
        ["alice", "--password", "new\nline"],
    ],
)
def test_create_user_refuses_what_could_never_log_in(
    app: Flask, runner: FlaskCliRunner, args: list[str]
):
    result = runner.invoke(args=["create-user", *args])
    assert result.exit_code == 2
    assert "printable characters" in result.output
    assert usernames(app.config["DATABASE"]) == ["user1", "user2"]


# -- instance folder and secret --------------------------------------------


def test_instance_folder_is_created(tmp_path: Path):
    instance = tmp_path / "deep" / "instance"
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET}, instance_path=instance)
    assert instance.is_dir()
    assert app.config["DATABASE"] == os.path.join(instance, "users.sqlite3")
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert (instance / "users.sqlite3").is_file()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_database_is_owner_only_in_an_existing_instance_folder(tmp_path: Path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)  # mkdir's mode is filtered by the umask
    old_umask = os.umask(0o022)
    try:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": SECRET}, instance_path=instance
        )
        result = app.test_cli_runner().invoke(args=["init-db"])
    finally:
        os.umask(old_umask)
    assert result.exit_code == 0, result.output
    database = instance / "users.sqlite3"
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600


def test_in_memory_database_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path, SECRET_KEY=SECRET, DATABASE=":memory:")
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instance"]


def test_secret_is_generated_once_and_reused(tmp_path: Path):
    first = make_app(tmp_path)
    secret_file = tmp_path / "instance" / "secret_key"
    secret = secret_file.read_text().strip()
    assert len(bytes.fromhex(secret)) == 32
    assert first.config["SECRET_KEY"] == secret
    if os.name == "posix":
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600

    second = make_app(tmp_path)
    assert second.config["SECRET_KEY"] == secret
    assert secret_file.read_text().strip() == secret

    # So tokens outlive a restart.
    first.test_cli_runner().invoke(args=["init-db"])
    token = login(first.test_client())
    response = second.test_client().get("/protected", headers=auth_header(token))
    assert response.text == "User(id='1')"


def test_secret_from_config_wins(tmp_path: Path):
    app = make_app(tmp_path, SECRET_KEY=SECRET)
    assert app.config["SECRET_KEY"] == SECRET
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_empty_secret_file_is_refused(tmp_path: Path):
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "secret_key").write_text("\n")
    with pytest.raises(RuntimeError, match="is empty"):
        make_app(tmp_path)


def test_config_from_the_instance_folder(tmp_path: Path):
    instance = tmp_path / "instance"
    instance.mkdir()
    database = tmp_path / "elsewhere.sqlite3"
    (instance / "config.py").write_text(
        f"SECRET_KEY = {SECRET!r}\nDATABASE = {str(database)!r}\n"
    )
    app = create_app(instance_path=instance)
    assert app.config["SECRET_KEY"] == SECRET
    assert app.config["DATABASE"] == str(database)
    assert not (instance / "secret_key").exists()


def test_refresh_and_logout_on_the_embedded_store(app, client, tmp_path):
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    assert response.status_code == 200
    tokens = response.json
    assert set(tokens) == {"access_token", "refresh_token"}
    refreshed = client.post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert (tmp_path / "instance" / "jwt_blueprint.sqlite3").is_file()
    headers = auth_header(refreshed.json["access_token"])
    assert client.get("/protected", headers=headers).status_code == 200
    body = {"refresh_token": refreshed.json["refresh_token"]}
    assert client.post("/auth/revoke", headers=headers, json=body).status_code == 204
    assert client.get("/protected", headers=headers).status_code == 401
    assert client.post("/auth/refresh", json=body).status_code == 401
    app.extensions["jwt_blueprint"].settings().store.close()


def test_every_response_carries_the_security_headers(client):
    for path in ("/static/app.js", "/no-such-page", "/"):
        response = client.get(path)
        response.close()  # a static file is streamed from disk
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"

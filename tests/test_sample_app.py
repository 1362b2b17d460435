"""The sample app: its factory, its users in SQLite, its secret, its commands."""

from __future__ import annotations

import os
import sqlite3
import stat
import typing as t
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

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
    real_check = sample_app.users.check_password_hash

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(sample_app.users, "check_password_hash", spy)
    response = client.post("/auth", json={"username": username, "password": "wrong"})
    assert response.status_code == 401
    assert len(checked) == 1
    # Werkzeug hashes read "method:params$salt$hash". The dummy hash costs
    # what a real one does only if the method and parameters match.
    method = checked[0].split("$", 1)[0]
    assert method == sample_app.users.generate_password_hash("x").split("$", 1)[0]


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


def test_token_signed_with_another_secret(client: FlaskClient):
    token = make_token(claims(), key="another-secret-0123456789abcdef0123456789")
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401


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

"""Apps built the way the README tells users to, and helpers to drive them."""

from __future__ import annotations

import hmac
import time
import typing as t

import jwt
import pytest
from flask import Flask

from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required
from jwt_blueprint.keys import load_keys
from servers import RedisServer
from servers import require_redis_server

SECRET = "test-secret-0123456789abcdef0123456789abcdef"
#: The ``kid`` of tokens signed with :data:`SECRET`.
SECRET_KID = load_keys({"JWT_SECRET_KEY": SECRET}, "HS256").signing_kid


class User:
    def __init__(self, id: int, username: str, password: str) -> None:
        self.id = id
        self.username = username
        self.password = password

    def __str__(self) -> str:
        return f"User(id='{self.id}')"


USERS = [User(1, "user1", "abcxyz"), User(2, "user2", "abcxyz")]
USERNAME_TABLE = {u.username: u for u in USERS}
USERID_TABLE = {u.id: u for u in USERS}


def authenticate(username: str, password: str) -> User | None:
    user = USERNAME_TABLE.get(username)
    if user and hmac.compare_digest(user.password.encode(), password.encode()):
        return user
    return None


def identity(payload: dict[str, t.Any]) -> User | None:
    return USERID_TABLE.get(payload["identity"])


def create_app(config: dict[str, t.Any] | None = None) -> Flask:
    """The seed's quickstart, with a strong secret."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    app.config.update(config or {})
    JWT(app, authenticate, identity)

    @app.route("/protected")
    @jwt_required()
    def protected() -> str:
        return f"{current_identity}"

    return app


@pytest.fixture
def app() -> Flask:
    return create_app()


@pytest.fixture
def client(app: Flask) -> t.Any:
    return app.test_client()


def auth_header(token: str, prefix: str = "JWT") -> dict[str, str]:
    return {"Authorization": f"{prefix} {token}"}


def login(client: t.Any, username: str = "user1", password: str = "abcxyz") -> str:
    response = client.post("/auth", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    token: str = response.json["access_token"]
    return token


def claims(**overrides: t.Any) -> dict[str, t.Any]:
    """Valid claims for user1, with ``overrides`` (``None`` removes a claim)."""
    now = int(time.time())
    base: dict[str, t.Any] = {
        "identity": 1,
        "sub": "1",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def make_token(
    payload: dict[str, t.Any] | None = None,
    key: t.Any = SECRET,
    algorithm: str = "HS256",
    headers: dict[str, t.Any] | None = None,
) -> str:
    return jwt.encode(
        claims() if payload is None else payload, key, algorithm, headers=headers
    )


@pytest.fixture(scope="session")
def redis_server() -> t.Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for the whole run; it
    fails in CI when missing, and skips loudly elsewhere."""
    with RedisServer(require_redis_server()) as server:
        yield server


def pytest_configure(config: pytest.Config) -> None:
    # jwt_blueprint's pytest plugin. An installed app gets it through the
    # entry point, which pytest loads before pytest-cov starts; this project
    # turns that off (pyproject.toml) and loads it now, once coverage is on.
    if not config.pluginmanager.has_plugin("jwt_blueprint"):
        config.pluginmanager.import_plugin("jwt_blueprint.pytest_plugin")

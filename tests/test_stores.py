"""Choosing a token store, what each keeps, and what happens when it fails:
across app rebuilds, processes and a Redis restart."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
import typing as t
import urllib.error
import urllib.request
from typing import Any

import pytest
from flask import Flask
from flask import jsonify

from conftest import auth_header
from conftest import authenticate
from conftest import identity
from conftest import SECRET
from jwt_blueprint import ConfigError
from jwt_blueprint import JWT
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint.stores import GuardedStore
from jwt_blueprint.stores import MemoryStore
from jwt_blueprint.stores import open_store
from jwt_blueprint.stores import SQLiteStore
from jwt_blueprint.views import RefreshView
from lifecycle_apps import lifecycle_app
from servers import AppServer

CREDENTIALS = {"username": "user1", "password": "abcxyz"}


def login(client: t.Any) -> dict[str, str]:
    response = client.post("/auth", json=CREDENTIALS)
    assert response.status_code == 200, response.json
    tokens: dict[str, str] = response.json
    return tokens


def rules(app: Flask) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()} - {
        "/static/<path:filename>"
    }


def close_store(app: Flask) -> None:
    store = app.extensions["jwt_blueprint"].settings().store
    if store is not None:
        store.close()


# -- configuration ---------------------------------------------------------------


def test_off_by_default_nothing_changes(tmp_path):
    app = lifecycle_app({"JWT_REFRESH_ENABLED": False}, str(tmp_path))
    assert rules(app) == {"/auth", "/protected", "/password", "/optional"}
    assert app.extensions["jwt_blueprint"].settings().store is None
    client = app.test_client()
    assert set(login(client)) == {"access_token"}
    assert client.post("/auth/revoke").status_code == 404
    with app.app_context(), pytest.raises(RuntimeError, match="JWT_TOKEN_STORE"):
        app.extensions["jwt"].revoke_all(1)
    assert list(tmp_path.iterdir()) == []


def test_a_store_alone_adds_logout_but_not_refresh(tmp_path):
    app = lifecycle_app(
        {"JWT_REFRESH_ENABLED": False, "JWT_TOKEN_STORE": "memory://"}, str(tmp_path)
    )
    assert rules(app) == {
        "/auth",
        "/auth/revoke",
        "/protected",
        "/password",
        "/optional",
    }
    client = app.test_client()
    tokens = login(client)
    assert set(tokens) == {"access_token"}
    headers = auth_header(tokens["access_token"])
    assert client.post("/auth/revoke", headers=headers).status_code == 204
    assert client.get("/protected", headers=headers).status_code == 401


def test_refresh_without_a_store_uses_sqlite_in_the_instance_folder(tmp_path):
    instance = tmp_path / "instance"
    app = lifecycle_app({}, str(instance))
    assert rules(app) >= {"/auth", "/auth/refresh", "/auth/revoke"}
    tokens = login(app.test_client())
    response = app.test_client().post(
        "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 200
    assert (instance / "jwt_blueprint.sqlite3").is_file()
    close_store(app)


def test_endpoints_can_be_left_out(tmp_path):
    app = lifecycle_app(
        {
            "JWT_TOKEN_STORE": "memory://",
            "JWT_REFRESH_URL_RULE": None,
            "JWT_REVOKE_URL_RULE": None,
        },
        str(tmp_path),
    )
    assert rules(app) == {"/auth", "/protected", "/password", "/optional"}
    # Refresh tokens are still issued, for a view of the app's own.
    assert set(login(app.test_client())) == {"access_token", "refresh_token"}


def test_endpoints_can_move_and_be_renamed(tmp_path):
    app = lifecycle_app(
        {
            "JWT_TOKEN_STORE": "memory://",
            "JWT_REFRESH_URL_RULE": "/tokens/new",
            "JWT_REFRESH_ENDPOINT": "renew",
            "JWT_REVOKE_URL_RULE": "/logout",
        },
        str(tmp_path),
    )
    with app.test_request_context():
        from flask import url_for

        assert url_for("jwt.renew") == "/tokens/new"
        assert url_for("jwt.jwt_revoke") == "/logout"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("JWT_TOKEN_STORE", 42, "must be None, a store URL"),
        ("JWT_TOKEN_STORE", "ftp://host/x", "the scheme must be one of"),
        ("JWT_TOKEN_STORE", "tokens.db", "the scheme must be one of"),
        ("JWT_TOKEN_STORE", "memory://x", "takes nothing after"),
        ("JWT_TOKEN_STORE", "sqlite://", "must be 'sqlite:///relative/path'"),
        ("JWT_TOKEN_STORE", "sqlite:///", "must be 'sqlite:///relative/path'"),
        ("JWT_TOKEN_STORE", "sqlite:///:memory:", "use 'memory://'"),
        ("JWT_TOKEN_STORE", "sqlite:///a.db?mode=ro", "must be 'sqlite:///"),
        ("JWT_TOKEN_STORE", object(), "must be None, a store URL"),
        ("JWT_REFRESH_ENABLED", "yes", "must be True or False"),
        ("JWT_REFRESH_ENABLED", None, "must be True or False"),
        ("JWT_REFRESH_EXPIRATION_DELTA", 0, "must be from 1 to"),
        ("JWT_REFRESH_EXPIRATION_DELTA", -60, "must be from 1 to"),
        ("JWT_REFRESH_EXPIRATION_DELTA", "30d", "must be a datetime.timedelta"),
        ("JWT_REFRESH_URL_RULE", "auth/refresh", "must be None or a path"),
        ("JWT_REVOKE_URL_RULE", "/revoke/<id>", "must be a plain path"),
        ("JWT_REVOKE_ENDPOINT", "a.b", "must not contain a dot"),
    ],
)
def test_bad_lifecycle_config_fails_at_startup_naming_the_key(
    tmp_path, key, value, message
):
    config = {"JWT_TOKEN_STORE": "memory://", key: value}
    with pytest.raises(ConfigError, match=f"^{key}: .*{message}") as info:
        lifecycle_app(config, str(tmp_path))
    assert info.value.key == key


def test_redis_urls_are_validated_by_redis_py(tmp_path):
    with pytest.raises(ConfigError, match="^JWT_TOKEN_STORE: "):
        lifecycle_app({"JWT_TOKEN_STORE": "redis://host:notaport/0"}, str(tmp_path))


# -- stores of your own ------------------------------------------------------------


class DictStore:
    """A store of an app's own, on a dict: the protocol and nothing else."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.revoked: set[str] = set()
        self.current: dict[str, str] = {}
        self.subjects: dict[str, float] = {}

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        self.calls.append("start_family")
        self.current[family] = refresh_jti

    def rotate(self, family, refresh_jti, next_jti, expires_at) -> bool:
        self.calls.append("rotate")
        if self.current.get(family) not in (refresh_jti, next_jti):
            return False
        self.current[family] = next_jti
        return True

    def revoke_token(self, jti: str, expires_at: float) -> None:
        self.revoked.add(jti)

    def revoke_family(self, family: str, expires_at: float) -> None:
        self.revoked.add(family)

    def revoke_subject(self, subject: str, issued_before: float, expires_at: float):
        self.subjects[subject] = issued_before

    def is_revoked(self, jti, family, subject, issued_at) -> bool:
        self.calls.append("is_revoked")
        if jti in self.revoked or family in self.revoked:
            return True
        since = self.subjects.get(subject)
        return since is not None and (issued_at is None or issued_at <= since)


def test_a_store_object_of_your_own(tmp_path):
    store = DictStore()
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    tokens = login(client)
    headers = auth_header(tokens["access_token"])
    assert client.get("/protected", headers=headers).status_code == 200
    assert store.calls == ["start_family", "is_revoked"]
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 200
    assert client.post("/auth/refresh", json=body).status_code == 401
    assert client.get("/protected", headers=headers).status_code == 401


class BrokenStore(DictStore):
    """Fails every call while :attr:`broken`."""

    broken = False

    def _check(self) -> None:
        if self.broken:
            raise ConnectionError("the database is down")

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        self._check()
        super().start_family(family, refresh_jti, expires_at)

    def rotate(self, family, refresh_jti, next_jti, expires_at) -> bool:
        self._check()
        return super().rotate(family, refresh_jti, next_jti, expires_at)

    def revoke_token(self, jti: str, expires_at: float) -> None:
        self._check()
        super().revoke_token(jti, expires_at)

    def is_revoked(self, jti, family, subject, issued_at) -> bool:
        self._check()
        return super().is_revoked(jti, family, subject, issued_at)


@pytest.fixture
def no_cooldown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GuardedStore, "cooldown", 0.0)


def assert_unavailable(response: t.Any) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json == {
        "status_code": 503,
        "error": "Service Unavailable",
        "description": "The token store is unavailable; try again later",
    }
    assert "WWW-Authenticate" not in response.headers


def test_a_failing_store_fails_closed_and_is_logged_once(tmp_path, caplog, no_cooldown):
    store = BrokenStore()
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    tokens = login(client)
    headers = auth_header(tokens["access_token"])
    store.broken = True
    assert_unavailable(client.post("/auth", json=CREDENTIALS))
    with caplog.at_level(logging.ERROR, logger="jwt_blueprint"):
        for _ in range(3):
            assert_unavailable(client.get("/protected", headers=headers))
            assert_unavailable(client.get("/optional", headers=headers))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "refusing the requests that need it" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    store.broken = False
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        assert client.get("/protected", headers=headers).status_code == 200
        assert client.get("/protected", headers=headers).status_code == 200
        # The logins' writes failed too: the outage ends when they work.
        login(client)
    assert [r.getMessage() for r in caplog.records].count(
        f"jwt_blueprint: the token store {store!r} answers again"
    ) == 1


def test_the_lifecycle_endpoints_fail_closed_too(tmp_path, no_cooldown):
    store = BrokenStore()
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    tokens = login(client)
    body = {"refresh_token": tokens["refresh_token"]}
    store.broken = True
    assert_unavailable(client.post("/auth/refresh", json=body))
    assert_unavailable(
        client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    )
    store.broken = False
    assert client.post("/auth/refresh", json=body).status_code == 200


@pytest.mark.parametrize("handler_says", [True, False])
def test_a_revocation_handler_adds_to_the_store_check(tmp_path, handler_says):
    seen: list[str] = []
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    strategy = app.extensions["jwt"]

    @strategy.revocation_handler
    def is_revoked(claims):
        seen.append(claims["jti"])
        return handler_says

    client = app.test_client()
    first = auth_header(login(client)["access_token"])
    second = auth_header(login(client)["access_token"])
    status = client.get("/protected", headers=first).status_code
    assert status == (401 if handler_says else 200)
    assert len(seen) == 1
    # The store refuses what it revoked, whatever the handler says.
    if not handler_says:
        assert client.post("/auth/revoke", headers=second).status_code == 204
        assert client.get("/protected", headers=second).status_code == 401
        assert len(seen) == 2  # not asked about a token the store refused


def test_an_encode_handler_that_skips_the_payload_step_needs_fixing(tmp_path):
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.jwt_encode_handler
    def encode(user):
        import jwt

        now = int(time.time())
        return jwt.encode(
            {"identity": user.id, "iat": now, "nbf": now, "exp": now + 60}, SECRET
        )

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY=SECRET, JWT_TOKEN_STORE="memory://", PROPAGATE_EXCEPTIONS=True
    )
    jwt_obj.init_app(app)
    with pytest.raises(RuntimeError, match="did not reach the token"):
        app.test_client().post("/auth", json=CREDENTIALS)


def test_an_auth_response_handler_gets_the_refresh_token(tmp_path):
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.auth_response_handler
    def respond(access_token, user):
        return jsonify(
            token=access_token, refresh=access_token.refresh_token, who=user.username
        )

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY=SECRET, JWT_TOKEN_STORE="memory://", JWT_REFRESH_ENABLED=True
    )
    jwt_obj.init_app(app)
    client = app.test_client()
    first = client.post("/auth", json=CREDENTIALS).json
    assert set(first) == {"token", "refresh", "who"}
    again = client.post("/auth/refresh", json={"refresh_token": first["refresh"]})
    assert again.status_code == 200
    # The refresh token's identity, as at the login.
    assert set(again.json) == {"token", "refresh", "who"}
    assert again.json["who"] == "user1"


def test_views_can_be_swapped_by_endpoint_key(tmp_path):
    class AuditedRefreshView(RefreshView):
        seen: t.ClassVar[list[str]] = []

        def post(self) -> t.Any:
            self.seen.append("refresh")
            return super().post()

    strategy = JWTStrategy(authenticate, identity)
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY=SECRET, JWT_TOKEN_STORE="memory://", JWT_REFRESH_ENABLED=True
    )
    app.register_blueprint(
        JWTBlueprint(strategy, views={"refresh": AuditedRefreshView})
    )
    client = app.test_client()
    tokens = login(client)
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 200
    assert AuditedRefreshView.seen == ["refresh"]
    with pytest.raises(ValueError, match="no endpoint 'logout'"):
        JWTBlueprint(strategy, views={"logout": RefreshView})


# -- SQLite ------------------------------------------------------------------------


def test_sqlite_keeps_revocations_across_a_rebuilt_app(tmp_path):
    url = f"sqlite:///{tmp_path / 'tokens.sqlite3'}"
    first = lifecycle_app({"JWT_TOKEN_STORE": url}, str(tmp_path))
    client = first.test_client()
    tokens = login(client)
    headers = auth_header(tokens["access_token"])
    assert client.post("/auth/revoke", headers=headers).status_code == 204
    close_store(first)

    second = lifecycle_app({"JWT_TOKEN_STORE": url}, str(tmp_path))
    client = second.test_client()
    assert client.get("/protected", headers=headers).status_code == 401
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 401
    close_store(second)


def test_sqlite_relative_paths_are_under_the_instance_folder(tmp_path):
    store = open_store("sqlite:///state/tokens.db", tmp_path)
    assert isinstance(store, SQLiteStore)
    assert store.path == str(tmp_path / "state" / "tokens.db")
    absolute = open_store(f"sqlite:///{tmp_path}/x.db", "/elsewhere")
    assert isinstance(absolute, SQLiteStore)
    assert absolute.path == f"{tmp_path}/x.db"


def test_sqlite_refuses_a_newer_schema(tmp_path, caplog):
    path = tmp_path / "tokens.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    store = SQLiteStore(path)
    with pytest.raises(RuntimeError, match="schema version 99"):
        store.is_revoked("jti", None, None, None)
    store.close()
    app = lifecycle_app(
        {"JWT_TOKEN_STORE": f"sqlite:///{path}", "JWT_REFRESH_ENABLED": False},
        str(tmp_path),
    )
    client = app.test_client()
    tokens = login(client)
    with caplog.at_level(logging.ERROR, logger="jwt_blueprint"):
        response = client.get("/protected", headers=auth_header(tokens["access_token"]))
    assert_unavailable(response)
    close_store(app)


def test_sqlite_purges_expired_entries(tmp_path):
    store = SQLiteStore(tmp_path / "tokens.sqlite3")
    store.purge_interval = 0
    past, future = time.time() - 1, time.time() + 60
    store.revoke_token("old", past)
    store.revoke_token("new", future)
    store.start_family("old-login", "r1", past)
    store.start_family("new-login", "r1", future)
    store.revoke_family("trigger", future)  # a write sweeps
    with sqlite3.connect(store.path) as db:
        keys = {key for (key,) in db.execute("SELECT key FROM jwt_revoked")}
        families = {f for (f,) in db.execute("SELECT family FROM jwt_families")}
    db.close()
    assert keys == {"j:new", "f:trigger"}
    assert families == {"new-login"}
    # An expired entry no longer counts.
    assert not store.is_revoked("old", None, None, None)
    assert not store.rotate("old-login", "r1", "r2", future)
    assert store.rotate("new-login", "r1", "r2", future)
    store.close()


def test_rotation_is_idempotent_for_its_own_retry_only(tmp_path, redis_server):
    redis_server.flushall()
    stores = [
        MemoryStore(),
        SQLiteStore(tmp_path / "tokens.sqlite3"),
        open_store(redis_server.url),
    ]
    future = time.time() + 60
    for store in stores:
        store.start_family("login", "r1", future)
        assert store.rotate("login", "r1", "r2", future)
        # A client library retrying the same call after a lost reply.
        assert store.rotate("login", "r1", "r2", future)
        # Anyone else presenting r1 again.
        assert not store.rotate("login", "r1", "r3", future)
        assert store.rotate("login", "r2", "r3", future)
        assert not store.rotate("unknown", "r1", "r2", future)
        getattr(store, "close", lambda: None)()


class EagerMemoryStore(MemoryStore):
    purge_interval = 0.0


def test_memory_store_purges_expired_entries():
    store = EagerMemoryStore()
    store.revoke_token("old", time.time() - 1)
    store.revoke_subject("1", time.time(), time.time() + 60)
    store.revoke_subject("1", time.time() - 100, time.time() + 30)  # never narrows
    assert repr(store) == "<MemoryStore 1 entries>"
    assert store.is_revoked("x", None, "1", time.time() - 50)
    assert not store.is_revoked("old", None, None, None)


def post_json(url: str, body: dict[str, t.Any], token: str | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            **(auth_header(token) if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    return status


def login_over_http(base: str) -> dict[str, str]:
    request = urllib.request.Request(
        f"{base}/auth",
        data=json.dumps(CREDENTIALS).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        tokens: dict[str, str] = json.load(response)
    return tokens


def get_status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers=auth_header(token))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.close()
    return status


def concurrent_refreshes(servers: list[AppServer], refresh_token: str) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def attempt(base: str) -> None:
        barrier.wait()
        statuses.append(
            post_json(f"{base}/auth/refresh", {"refresh_token": refresh_token})
        )

    threads = [
        threading.Thread(target=attempt, args=(servers[i % len(servers)].url,))
        for i in range(16)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_two_processes_on_one_sqlite_file_spend_a_token_once(tmp_path):
    env = {"JWT_TOKEN_STORE": f"sqlite:///{tmp_path / 'shared.sqlite3'}"}
    with (
        AppServer("lifecycle_apps:served_app", env) as one,
        AppServer("lifecycle_apps:served_app", env) as two,
    ):
        tokens = login_over_http(one.url)
        assert (
            concurrent_refreshes([one, two], tokens["refresh_token"])
            == [200] + [401] * 15
        )
        # Logout through one is seen by the other.
        fresh = login_over_http(two.url)
        assert post_json(f"{one.url}/auth/revoke", {}, fresh["access_token"]) == 204
        assert get_status(f"{two.url}/protected", fresh["access_token"]) == 401


# -- Redis -------------------------------------------------------------------------


def test_two_processes_sharing_redis(redis_server):
    redis_server.flushall()
    env = {"JWT_TOKEN_STORE": redis_server.url}
    with (
        AppServer("lifecycle_apps:served_app", env) as one,
        AppServer("lifecycle_apps:served_app", env) as two,
    ):
        tokens = login_over_http(one.url)
        assert get_status(f"{two.url}/protected", tokens["access_token"]) == 200
        assert post_json(f"{one.url}/auth/revoke", {}, tokens["access_token"]) == 204
        assert get_status(f"{two.url}/protected", tokens["access_token"]) == 401
        again = login_over_http(two.url)
        assert (
            concurrent_refreshes([one, two], again["refresh_token"])
            == [200] + [401] * 15
        )


def test_redis_keys_expire_with_their_tokens(redis_server, tmp_path):
    redis_server.flushall()
    app = lifecycle_app({"JWT_TOKEN_STORE": redis_server.url}, str(tmp_path))
    client = app.test_client()
    tokens = login(client)
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 200
    assert client.post("/auth/refresh", json=body).status_code == 401
    with app.app_context():
        app.extensions["jwt"].revoke_all(1)
    raw = redis_server.client()
    keys = raw.keys("jwt_blueprint:*")
    assert {key.split(b":")[1] for key in keys} == {b"family", b"revoked"}
    # The login's current refresh token, its revoked family, the subject.
    assert len(keys) == 3
    for key in keys:
        assert 0 < raw.pttl(key) <= (30 * 86400 + 400) * 1000
    raw.close()
    close_store(app)


def test_redis_down_fails_closed_and_recovers(
    redis_server, tmp_path, caplog, monkeypatch
):
    monkeypatch.setattr(GuardedStore, "cooldown", 0.2)
    redis_server.flushall()
    # The login throttle counts in memory here: its own outage is
    # tests/test_throttling.py's.
    config = {
        "JWT_TOKEN_STORE": redis_server.url,
        "JWT_RATE_LIMIT_STORAGE": "memory://",
    }
    app = lifecycle_app(config, str(tmp_path))
    client = app.test_client()
    tokens = login(client)
    headers = auth_header(tokens["access_token"])
    assert client.get("/protected", headers=headers).status_code == 200
    redis_server.stop()
    try:
        with caplog.at_level(logging.ERROR, logger="jwt_blueprint"):
            assert_unavailable(client.get("/protected", headers=headers))
            assert_unavailable(
                client.post(
                    "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
                )
            )
            assert_unavailable(client.post("/auth/revoke", headers=headers))
        assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    finally:
        redis_server.start()
    # Refused at once until the cooldown is over; then the store is asked.
    assert_unavailable(client.get("/protected", headers=headers))
    time.sleep(0.25)
    assert client.get("/protected", headers=headers).status_code == 200
    # This server keeps nothing across a restart: the login's record is
    # gone, so its refresh token is refused (closed, not open), and a new
    # login works.
    body = {"refresh_token": tokens["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 401
    again = login(client)
    body = {"refresh_token": again["refresh_token"]}
    assert client.post("/auth/refresh", json=body).status_code == 200
    close_store(app)


def test_redis_needs_redis_py(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "jwt_blueprint.stores.redis", None)
    with pytest.raises(ConfigError, match=r"needs redis-py: pip install"):
        lifecycle_app({"JWT_TOKEN_STORE": "redis://127.0.0.1:1/0"}, str(tmp_path))


def test_the_redis_store_class_is_importable_from_stores():
    from jwt_blueprint import stores
    from jwt_blueprint.stores.redis import RedisStore

    assert stores.RedisStore is RedisStore
    with pytest.raises(AttributeError):
        stores.NoSuchStore  # noqa: B018


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads
def test_a_forked_worker_opens_its_own_sqlite_connections(tmp_path):
    store = SQLiteStore(tmp_path / "tokens.sqlite3")
    store.revoke_token("before-fork", time.time() + 60)
    store.start_family("login", "r1", time.time() + 60)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, and exit at once
        try:
            answers = (
                store.is_revoked("before-fork", None, None, None),
                store.rotate("login", "r1", "r2", time.time() + 60),
            )
            os.write(write, json.dumps(answers).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        answers = json.load(pipe)
    os.waitpid(pid, 0)
    assert answers == [True, True]
    assert not store.rotate("login", "r1", "r3", time.time() + 60)
    store.close()


def test_two_endpoints_cannot_share_a_url_rule(tmp_path):
    config = {"JWT_TOKEN_STORE": "memory://", "JWT_REFRESH_URL_RULE": "/auth"}
    with pytest.raises(
        ConfigError,
        match="^JWT_REFRESH_URL_RULE: '/auth' is already JWT_AUTH_URL_RULE's URL rule",
    ):
        lifecycle_app(config, str(tmp_path))


def test_the_sqlite_file_is_the_owners_only(tmp_path):
    store = SQLiteStore(tmp_path / "tokens.sqlite3")
    store.revoke_token("jti", time.time() + 60)
    assert (tmp_path / "tokens.sqlite3").stat().st_mode & 0o777 == 0o600
    store.close()


def test_without_a_store_fresh_means_not_made_by_a_refresh(tmp_path):
    from conftest import USERID_TABLE

    app = lifecycle_app({"JWT_REFRESH_ENABLED": False}, str(tmp_path))
    client = app.test_client()
    token = login(client)["access_token"]
    assert client.post("/password", headers=auth_header(token)).status_code == 200
    with app.app_context():
        stale = app.extensions["jwt"].create_access_token(USERID_TABLE[1], fresh=False)
    response = client.post("/password", headers=auth_header(stale))
    assert response.status_code == 401
    assert response.json["description"] == "Fresh token required"


def test_a_star_import_of_the_stores_needs_no_redis_py(monkeypatch):
    monkeypatch.setitem(sys.modules, "jwt_blueprint.stores.redis", None)
    namespace: dict[str, t.Any] = {}
    exec("from jwt_blueprint.stores import *", namespace)
    assert "SQLiteStore" in namespace
    assert "RedisStore" not in namespace


def test_sqlite_migrates_a_version_1_file(tmp_path):
    path = tmp_path / "tokens.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE jwt_revoked (key TEXT PRIMARY KEY, expires_at REAL NOT NULL,"
            " issued_before REAL) WITHOUT ROWID;"
            "CREATE TABLE jwt_spent (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL)"
            " WITHOUT ROWID;"
            f"INSERT INTO jwt_revoked VALUES ('j:kept', {time.time() + 60}, NULL);"
            "PRAGMA user_version = 1;"
        )
    db.close()
    store = SQLiteStore(path)
    assert store.is_revoked("kept", None, None, None)
    store.start_family("login", "r1", time.time() + 60)
    assert store.rotate("login", "r1", "r2", time.time() + 60)
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        (version,) = db.execute("PRAGMA user_version").fetchone()
    db.close()
    assert "jwt_spent" not in tables
    assert version == 2
    store.close()


def test_without_a_store_a_stale_token_gets_only_the_fresh_claim(tmp_path):
    import jwt as pyjwt

    from conftest import USERID_TABLE

    app = lifecycle_app({"JWT_REFRESH_ENABLED": False}, str(tmp_path))
    with app.app_context():
        stale = app.extensions["jwt"].create_access_token(USERID_TABLE[1], fresh=False)
    claims = pyjwt.decode(stale, SECRET, algorithms=["HS256"])
    assert set(claims) == {"identity", "sub", "iat", "nbf", "exp", "jti", "fresh"}
    assert claims["fresh"] is False


def run_store(path: Any, code: str) -> str:
    """Run ``code`` with ``s``, a SQLiteStore on ``path``, in another process,
    which closes it and exits, as a worker does."""
    script = (
        "import sys, time\n"
        "from jwt_blueprint.stores import SQLiteStore\n"
        f"s = SQLiteStore({str(path)!r})\n"
        f"{code}\n"
        "s.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


def test_sqlite_keeps_its_locks_while_workers_come_and_go(tmp_path):
    # Two connections in this process, as two concurrent requests make; a
    # worker that opens the file and exits must not take the WAL away.
    path = tmp_path / "tokens.sqlite3"
    store = SQLiteStore(path)
    store.start_family("login", "r0", time.time() + 3600)
    with store._connection(), store._connection():
        pass
    run_store(path, "s.is_revoked('warm', None, None, None)")
    assert os.path.exists(f"{path}-wal")
    store.revoke_token("stolen", time.time() + 3600)
    seen = run_store(path, "print(s.is_revoked('stolen', None, None, None))")
    assert seen == "True"
    assert store.rotate("login", "r0", "r2", time.time() + 3600)
    other = run_store(path, "print(s.rotate('login', 'r0', 'r1', time.time() + 3600))")
    assert other == "False"
    store.close()


def test_redis_rotation_survives_a_late_reply(redis_server, tmp_path):
    import redis

    redis_server.flushall()
    app = lifecycle_app({"JWT_TOKEN_STORE": redis_server.url}, str(tmp_path))
    client = app.test_client()
    tokens = login(client)
    store = app.extensions["jwt_blueprint"].settings().store.store
    script = store._rotate
    late = [True]

    def late_reply(**call: Any) -> Any:
        answer = script(**call)  # it ran; the reply is what gets lost
        if late:
            late.pop()
            raise redis.TimeoutError("Timeout reading from socket")
        return answer

    store._rotate = late_reply
    body = {"refresh_token": tokens["refresh_token"]}
    response = client.post("/auth/refresh", json=body)
    assert response.status_code == 200
    assert not late  # the late reply happened, and was recovered from
    headers = auth_header(response.json["access_token"])
    assert client.get("/protected", headers=headers).status_code == 200
    close_store(app)


def test_with_a_store_no_exp_outlives_what_a_revocation_is_kept_for(tmp_path):
    from conftest import USERID_TABLE

    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    strategy = app.extensions["jwt"]
    far = int(time.time()) + 400 * 86400
    with app.app_context():
        with pytest.raises(ValueError, match="cannot exceed the longest"):
            strategy.create_access_token(USERID_TABLE[1], claims={"exp": far})
        default_payload = strategy.make_payload

        @strategy.jwt_payload_handler
        def payload(user):
            return {**default_payload(user), "exp": far}

        with pytest.raises(ValueError, match="cannot exceed the longest"):
            strategy.create_access_token(USERID_TABLE[1])

        @strategy.jwt_payload_handler
        def no_exp(user):
            claims = default_payload(user)
            del claims["exp"]
            return claims

        with pytest.raises(ValueError, match="not None"):
            strategy.create_access_token(USERID_TABLE[1])


def signed(**claims: Any) -> str:
    import jwt as pyjwt

    now = int(time.time())
    payload = {"iat": now, "nbf": now, "exp": now + 60, "jti": "id-0123456789"}
    payload.update(claims)
    return pyjwt.encode(payload, SECRET, "HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "\ud800", "identity": 1},
        {"sub": "x" * 600, "identity": 1},
        {"identity": 1, "fam": "\udfff"},
        {"identity": 1, "jti": "\ud800"},
    ],
)
def test_ids_a_store_cannot_keep_are_refused_not_an_outage(tmp_path, claims):
    app = lifecycle_app({"JWT_TOKEN_STORE": f"sqlite:///{tmp_path / 't.db'}"})
    client = app.test_client()
    victim = auth_header(login(client)["access_token"])
    response = client.get("/protected", headers=auth_header(signed(**claims)))
    assert response.status_code == 401
    assert response.json["description"].endswith("is not a valid identifier")
    assert client.get("/protected", headers=victim).status_code == 200
    close_store(app)


@pytest.mark.parametrize(
    "login_time", [float("inf"), float("nan"), 10**400, 1e300, "yesterday", True]
)
def test_odd_login_times_do_not_escape_revoke_all(tmp_path, login_time):
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    with app.app_context():
        app.extensions["jwt"].revoke_all(1)
    token = signed(identity=1, sub="1", auth_time=login_time)
    client = app.test_client()
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "Token has been revoked"


class GatedStore(MemoryStore):
    """Fails is_revoked while :attr:`fail`; holds the next call, if asked,
    until :attr:`gate` opens."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.hold_next = False
        self.fail = False
        self.calls = 0

    def is_revoked(self, jti, family, subject, issued_at) -> bool:
        self.calls += 1
        if self.hold_next:
            self.hold_next = False
            self.gate.wait(10)
        if self.fail:
            raise TimeoutError("stalled")
        return super().is_revoked(jti, family, subject, issued_at)


def get_in_thread(
    app: Flask, headers: dict[str, str]
) -> tuple[threading.Thread, list[int]]:
    statuses: list[int] = []

    def get() -> None:
        response = app.test_client().get("/protected", headers=headers)
        statuses.append(response.status_code)

    thread = threading.Thread(target=get)
    thread.start()
    return thread, statuses


def wait_for_calls(store: GatedStore, calls: int) -> None:
    deadline = time.monotonic() + 10
    while store.calls < calls and time.monotonic() < deadline:
        time.sleep(0.001)


def test_after_the_cooldown_one_request_probes_the_store(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(GuardedStore, "cooldown", 0.2)
    store = GatedStore()
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    headers = auth_header(login(client)["access_token"])
    store.fail = True
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        assert client.get("/protected", headers=headers).status_code == 503
        time.sleep(0.21)
        store.fail, store.calls, store.hold_next = False, 0, True
        probe, statuses = get_in_thread(app, headers)
        wait_for_calls(store, 1)
        # While it probes, the others are refused without waiting on it.
        assert client.get("/protected", headers=headers).status_code == 503
        assert store.calls == 1
        store.gate.set()
        probe.join()
        assert statuses == [200]
        assert client.get("/protected", headers=headers).status_code == 200
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "failed; refusing" in messages[0]
    assert messages[1].endswith("answers again")


def test_a_probe_that_hangs_does_not_keep_the_others_out(tmp_path, monkeypatch):
    monkeypatch.setattr(GuardedStore, "cooldown", 0.05)
    store = GatedStore()
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    headers = auth_header(login(client)["access_token"])
    store.fail = True
    assert client.get("/protected", headers=headers).status_code == 503
    time.sleep(0.06)
    store.fail, store.calls, store.hold_next = False, 0, True
    probe, statuses = get_in_thread(app, headers)
    wait_for_calls(store, 1)
    time.sleep(0.06)  # the probe hangs for longer than a cooldown
    assert client.get("/protected", headers=headers).status_code == 200
    store.gate.set()
    probe.join()
    assert statuses == [200]


def test_a_late_success_does_not_end_an_outage(tmp_path, monkeypatch):
    monkeypatch.setattr(GuardedStore, "cooldown", 60.0)
    store = GatedStore()
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    headers = auth_header(login(client)["access_token"])
    store.hold_next = True
    slow, statuses = get_in_thread(app, headers)
    wait_for_calls(store, 1)
    # Meanwhile the store fails another request: an outage begins.
    store.fail = True
    assert client.get("/protected", headers=headers).status_code == 503
    store.fail = False
    store.gate.set()
    slow.join()
    assert statuses == [200]  # its own answer stands
    # But it started before the failure, so the outage goes on.
    assert client.get("/protected", headers=headers).status_code == 503


class WriteFailingStore(MemoryStore):
    """A store that cannot write (full, or a read-only replica)."""

    read_only = True

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        if self.read_only:
            raise OSError("database or disk is full")
        super().start_family(family, refresh_jti, expires_at)


def test_a_store_that_refuses_writes_keeps_verifying(tmp_path, caplog):
    store = WriteFailingStore()
    store.read_only = False
    app = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path))
    client = app.test_client()
    headers = auth_header(login(client)["access_token"])
    store.read_only = True
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        for _ in range(3):
            assert client.post("/auth", json=CREDENTIALS).status_code == 503
            assert client.get("/protected", headers=headers).status_code == 200
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1
    assert "failed; refusing" in messages[0]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("JWT_VERIFY", False),
        ("JWT_VERIFY_EXPIRATION", False),
        ("JWT_VERIFY_CLAIMS", ["signature", "nbf", "iat"]),
        ("JWT_REQUIRED_CLAIMS", ["iat", "nbf"]),
    ],
)
def test_a_store_needs_tokens_that_expire(tmp_path, caplog, key, value):
    # A revocation is kept until its token expires: a token that never
    # expires would come back once the revocation is forgotten.
    config = {"JWT_TOKEN_STORE": "memory://", key: value}
    with caplog.at_level(logging.CRITICAL, logger="jwt_blueprint"):
        with pytest.raises(ConfigError, match=f"^{key}: .*until the tokens expire"):
            lifecycle_app(config, str(tmp_path))
    # Without a store, the same config is the app's own choice.
    lifecycle_app({key: value, "JWT_REFRESH_ENABLED": False}, str(tmp_path))


class LockedAtFirst:
    """A connection whose first attempts to turn the file to WAL find it
    locked, as when other processes turn a new file to WAL at the same
    moment: SQLite then refuses at once, without its busy timeout."""

    def __init__(self, db: sqlite3.Connection, refusals: list[int]) -> None:
        self.db = db
        self.refusals = refusals

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("PRAGMA journal_mode") and self.refusals[0] > 0:
            self.refusals[0] -= 1
            raise sqlite3.OperationalError("database is locked")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def locked_at_first(monkeypatch, refusals: list[int]) -> None:
    connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3, "connect", lambda *a, **k: LockedAtFirst(connect(*a, **k), refusals)
    )


def test_sqlite_waits_while_another_process_turns_a_new_file_to_wal(
    tmp_path, monkeypatch
):
    refusals = [3]
    locked_at_first(monkeypatch, refusals)
    client = lifecycle_app({}, str(tmp_path)).test_client()
    assert login(client)["refresh_token"]
    assert refusals == [0]


def test_sqlite_gives_up_on_a_file_locked_past_its_timeout(tmp_path, monkeypatch):
    locked_at_first(monkeypatch, [10**9])
    store = SQLiteStore(tmp_path / "store.sqlite3", timeout=0.2)
    client = lifecycle_app({"JWT_TOKEN_STORE": store}, str(tmp_path)).test_client()
    started = time.monotonic()
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    assert response.status_code == 503
    assert 0.2 <= time.monotonic() - started < 2

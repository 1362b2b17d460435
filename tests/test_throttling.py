"""Login throttling: failed logins per username, requests per address.

Everything goes through HTTP with the test client; the clock of the memory
storage is a fake one, so windows pass without sleeping. The Redis tests
count in a real redis-server.
"""

from __future__ import annotations

import logging
import threading
import time
import types
import typing as t

import pytest
from flask import Flask
from flask import request
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from limits.errors import StorageError
from marshmallow import fields
from marshmallow import Schema
from werkzeug.middleware.proxy_fix import ProxyFix

from conftest import auth_header
from conftest import authenticate
from conftest import create_app
from conftest import identity
from conftest import login
from conftest import SECRET
from conftest import USERID_TABLE
from jwt_blueprint import AuthView
from jwt_blueprint import ConfigError
from jwt_blueprint import JWT
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint.state import get_state
from lifecycle_apps import lifecycle_app

GOOD = {"username": "user1", "password": "abcxyz"}
WRONG = {"username": "user1", "password": "wrong"}


@pytest.fixture
def clock(monkeypatch):
    """The time the memory storage and the throttle see, moved by hand."""
    now = [1_800_000_000.0]
    fake = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr("limits.storage.memory.time", fake)
    monkeypatch.setattr("jwt_blueprint.throttling.time", fake)

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def post_auth(client: t.Any, body: dict[str, t.Any], address: str = "127.0.0.1"):
    return client.post("/auth", json=body, environ_base={"REMOTE_ADDR": address})


def assert_throttled(response: t.Any, what: str, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.json == {
        "status_code": 429,
        "error": "Too Many Requests",
        "description": f"{what}; try again in {retry_after} seconds",
    }
    assert "WWW-Authenticate" not in response.headers


def test_the_sixth_failure_in_a_minute_is_refused_even_with_the_password(clock):
    client = create_app().test_client()
    for _ in range(5):
        clock(1)
        assert post_auth(client, WRONG).status_code == 401
    clock(1)
    # The first failure was 5 s ago: the window frees in 55 s, and lets a
    # request in just after.
    assert_throttled(post_auth(client, GOOD), "Too many failed logins", 56)
    assert_throttled(post_auth(client, WRONG), "Too many failed logins", 56)
    clock(54)
    assert post_auth(client, WRONG).status_code == 429
    clock(2)  # the first failure has left the window
    assert post_auth(client, GOOD).status_code == 200


def test_a_refused_attempt_does_not_count(clock):
    client = create_app().test_client()
    for _ in range(5):
        assert post_auth(client, WRONG).status_code == 401
    for _ in range(10):
        assert post_auth(client, WRONG).status_code == 429
    clock(61)
    assert post_auth(client, GOOD).status_code == 200


def test_unknown_usernames_count_and_answer_exactly_like_known_ones(clock):
    known = create_app().test_client()
    unknown = create_app().test_client()
    for _ in range(7):
        clock(1)
        first = post_auth(known, WRONG)
        second = post_auth(unknown, {"username": "nobody", "password": "wrong"})
        assert first.status_code == second.status_code
        assert first.get_data() == second.get_data()
        assert sorted(first.headers.items()) == sorted(second.headers.items())
    assert first.status_code == 429


def test_one_username_hammered_does_not_refuse_another(clock):
    client = create_app().test_client()
    for _ in range(8):
        post_auth(client, {"username": "user2", "password": "wrong"})
    assert post_auth(client, {**GOOD, "username": "user2"}).status_code == 429
    assert post_auth(client, GOOD).status_code == 200
    # user1's own failures are its own count.
    for _ in range(5):
        assert post_auth(client, WRONG).status_code == 401


def test_a_successful_login_neither_counts_nor_clears(clock):
    client = create_app().test_client()
    for _ in range(4):
        assert post_auth(client, WRONG).status_code == 401
    for _ in range(10):
        assert post_auth(client, GOOD).status_code == 200
    # Clearing would tell an attacker that the user logged in meanwhile.
    assert post_auth(client, WRONG).status_code == 401
    assert post_auth(client, WRONG).status_code == 429


def test_names_that_share_a_count_cannot_clear_each_other(clock):
    # A case-sensitive app: "user1" and "USER1" are two accounts here,
    # and the attacker owns the second.
    accounts = {"user1": "abcxyz", "USER1": "attacker"}

    def authenticate_exactly(username: str, password: str) -> t.Any:
        if accounts.get(username) == password:
            return USERID_TABLE[1]
        return None

    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, JWT_AUTH_RATE_LIMIT_PER_ADDRESS=None)
    JWT(app, authenticate_exactly, identity)
    client = app.test_client()
    answered = 0
    for _ in range(20):
        answered += post_auth(client, WRONG).status_code == 401
        post_auth(client, {"username": "USER1", "password": "attacker"})
    assert answered == 5


@pytest.mark.parametrize(
    "variant",
    [
        "USER1",
        "User1",
        "\uff35\uff33\uff25\uff32\uff11",
        " user1 ",
        "us er1",
        "user\u200b1",
        "user1\u00a0",
        "\u00fcser1",
        "U\u0308SER1",
    ],
)
def test_case_and_unicode_variants_share_a_count(clock, variant):
    client = create_app().test_client()
    for _ in range(5):
        post_auth(client, {"username": variant, "password": "wrong"})
    assert post_auth(client, GOOD).status_code == 429


@pytest.mark.parametrize("username", ["\ud800", "a" * 60_000, "\x00", "é" * 3])
def test_odd_usernames_are_refused_or_counted_never_crashed_on(clock, username):
    client = create_app().test_client()
    body = {"username": username, "password": "x"}
    statuses = [post_auth(client, body).status_code for _ in range(6)]
    # What the credentials schema refuses is not a login, so not counted
    # for the username (the address still counts it).
    assert statuses in ([401] * 5 + [429], [400] * 6)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(
    username=st.text(max_size=300),
    address=st.one_of(
        st.ip_addresses().map(str),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    ),
)
def test_any_username_from_any_address_is_counted_never_crashed_on(
    username: str, address: str
) -> None:
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "7/minute"})
    client = app.test_client()
    body = {"username": username, "password": "x"}
    statuses = [post_auth(client, body, address).status_code for _ in range(8)]
    # Five failures, then the username is refused; the 8th request is over
    # the address's limit. What the schema refuses counts for the address.
    assert statuses in ([401] * 5 + [429] * 3, [400] * 7 + [429])


def test_concurrent_guesses_get_one_answer_at_a_time(clock):
    # Each guess takes a while, as a password hash does. Were they all
    # checked before any of them failed, a burst would get as many answers
    # as requests in flight; one attempt per username runs at a time, so
    # each burst gets one, until five have failed.
    def slow_authenticate(username: str, password: str) -> t.Any:
        time.sleep(0.05)
        return authenticate(username, password)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, JWT_AUTH_RATE_LIMIT_PER_ADDRESS=None)
    JWT(app, slow_authenticate, identity)

    def burst() -> list[t.Any]:
        barrier = threading.Barrier(8)
        responses: list[t.Any] = []

        def guess() -> None:
            client = app.test_client()
            barrier.wait()
            responses.append(post_auth(client, WRONG))

        threads = [threading.Thread(target=guess) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return responses

    answered = 0
    for _ in range(8):
        responses = burst()
        answered += sum(r.status_code == 401 for r in responses)
        for response in responses:
            if response.status_code == 429 and answered < 5:
                assert_throttled(
                    response, "A login for this username is in progress", 1
                )
    assert answered == 5
    # The username is free again, and over its limit.
    assert_throttled(post_auth(app.test_client(), GOOD), "Too many failed logins", 61)


def test_another_usernames_attempt_runs_beside_one_in_progress(clock):
    started = threading.Event()
    release = threading.Event()

    def waiting_authenticate(username: str, password: str) -> t.Any:
        if username == "user2":
            started.set()
            release.wait(5)
        return authenticate(username, password)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET)
    JWT(app, waiting_authenticate, identity)
    statuses: list[int] = []
    slow = threading.Thread(
        target=lambda: statuses.append(
            post_auth(app.test_client(), {**GOOD, "username": "user2"}).status_code
        )
    )
    slow.start()
    try:
        assert started.wait(5)
        client = app.test_client()
        assert post_auth(client, GOOD).status_code == 200
        busy = post_auth(client, {**GOOD, "username": "USER2"})
        assert_throttled(busy, "A login for this username is in progress", 1)
    finally:
        release.set()
        slow.join()
    assert statuses == [200]
    assert (
        post_auth(app.test_client(), {**GOOD, "username": "user2"}).status_code == 200
    )


def test_several_limits_in_one_string(clock):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_USERNAME": "2/minute;3/hour"})
    client = app.test_client()
    for _ in range(2):
        assert post_auth(client, WRONG).status_code == 401
    assert post_auth(client, WRONG).status_code == 429
    clock(61)
    assert post_auth(client, WRONG).status_code == 401
    response = post_auth(client, WRONG)
    # The hourly limit: the first failure leaves it in 3600 - 61 s.
    assert_throttled(response, "Too many failed logins", 3540)
    # However much later the minute's window frees, the hour's decides.
    clock(61)
    assert_throttled(post_auth(client, WRONG), "Too many failed logins", 3479)


def test_a_request_refused_by_one_limit_uses_up_no_other(clock):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "2/minute;5/hour"})
    client = app.test_client()

    def statuses(count: int) -> list[int]:
        return [client.post("/auth", json={}).status_code for _ in range(count)]

    assert statuses(12) == [400] * 2 + [429] * 10
    clock(61)
    assert statuses(3) == [400, 400, 429]
    clock(61)
    # Four counted in the hour, not fourteen: one more.
    assert statuses(2) == [400, 429]
    assert client.post("/auth", json={}).headers["Retry-After"] == str(3600 - 122 + 1)


def test_requests_per_address_count_every_request(clock):
    client = create_app().test_client()
    for i in range(30):
        body = [
            GOOD,
            {"username": f"guess{i}", "password": "x"},
            {"username": "x"},
            {"user": "y", "password": "z"},
        ][i % 4]
        response = client.post(
            "/auth", json=body, environ_base={"REMOTE_ADDR": "192.0.2.1"}
        )
        assert response.status_code != 429
    response = client.post("/auth", data=b"not json", content_type="text/plain")
    assert response.status_code == 400  # another address
    refused = client.post("/auth", json=GOOD, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert_throttled(refused, "Too many requests", 61)
    assert post_auth(client, GOOD, address="192.0.2.2").status_code == 200


def test_ipv6_clients_are_counted_by_their_64(clock):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "2/minute"})
    client = app.test_client()
    assert post_auth(client, GOOD, "2001:db8:1:2::1").status_code == 200
    assert post_auth(client, GOOD, "2001:db8:1:2:ffff::9").status_code == 200
    assert post_auth(client, GOOD, "2001:db8:1:2::3").status_code == 429
    assert post_auth(client, GOOD, "2001:db8:1:3::1").status_code == 200
    # A v4-mapped address is its IPv4 address.
    assert post_auth(client, GOOD, "192.0.2.7").status_code == 200
    assert post_auth(client, GOOD, "::ffff:192.0.2.7").status_code == 200
    assert post_auth(client, GOOD, "192.0.2.7").status_code == 429


def test_without_proxy_fix_x_forwarded_for_is_ignored(clock):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "3/minute"})
    client = app.test_client()
    statuses = [
        client.post(
            "/auth", json=GOOD, headers={"X-Forwarded-For": f"198.51.100.{i}"}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


def test_behind_proxy_fix_the_trusted_hop_is_the_client(clock):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "2/minute"})
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    client = app.test_client()

    def from_(chain: str) -> int:
        headers = {"X-Forwarded-For": chain}
        return client.post("/auth", json=GOOD, headers=headers).status_code

    # One trusted hop: the address it saw is the last one; what the client
    # put before it is its own claim, and ignored.
    assert [from_(f"10.0.0.{i}, 203.0.113.5") for i in range(3)] == [200, 200, 429]
    assert from_("203.0.113.6") == 200


def test_refresh_is_counted_per_address_on_its_own(clock, tmp_path):
    config = {"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "3/minute"}
    client = lifecycle_app(config, str(tmp_path)).test_client()
    tokens = [client.post("/auth", json=GOOD).json for _ in range(3)]
    assert client.post("/auth", json=GOOD).status_code == 429
    for pair in tokens:
        body = {"refresh_token": pair["refresh_token"]}
        assert client.post("/auth/refresh", json=body).status_code == 200
    response = client.post("/auth/refresh", json={"refresh_token": "junk"})
    assert_throttled(response, "Too many requests", 61)


@pytest.mark.parametrize(
    "key", ["JWT_AUTH_RATE_LIMIT_PER_USERNAME", "JWT_AUTH_RATE_LIMIT_PER_ADDRESS"]
)
def test_none_turns_one_limit_off(clock, key):
    client = create_app({key: None}).test_client()
    statuses = {post_auth(client, WRONG).status_code for _ in range(40)}
    assert 429 in statuses  # the other limit still holds
    if key == "JWT_AUTH_RATE_LIMIT_PER_ADDRESS":
        assert post_auth(client, GOOD, address="192.0.2.9").status_code == 429
    else:
        assert post_auth(client, GOOD, address="192.0.2.9").status_code == 200


def test_both_off_is_no_throttle(clock):
    app = create_app(
        {
            "JWT_AUTH_RATE_LIMIT_PER_USERNAME": None,
            "JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None,
        }
    )
    client = app.test_client()
    assert {post_auth(client, WRONG).status_code for _ in range(50)} == {401}
    assert post_auth(client, GOOD).status_code == 200
    with app.app_context():
        assert get_state().settings().throttle is None


def test_limits_changed_at_run_time_apply_and_counts_survive(clock):
    app = create_app()
    client = app.test_client()
    for _ in range(3):
        post_auth(client, WRONG)
    # Another key changed: the same storage, the same counts.
    app.config["JWT_LEEWAY"] = 5
    assert [post_auth(client, WRONG).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]
    # A new limit is counted afresh (a count is kept per limit).
    app.config["JWT_AUTH_RATE_LIMIT_PER_USERNAME"] = "1/minute"
    assert [post_auth(client, WRONG).status_code for _ in range(2)] == [401, 429]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("JWT_AUTH_RATE_LIMIT_PER_USERNAME", "5 per fortnight", "5 per fortnight"),
        ("JWT_AUTH_RATE_LIMIT_PER_USERNAME", "0/minute", "at least one request"),
        ("JWT_AUTH_RATE_LIMIT_PER_ADDRESS", 30, "limit string"),
        ("JWT_AUTH_RATE_LIMIT_PER_ADDRESS", "", "''"),
        ("JWT_RATE_LIMIT_STORAGE", "localhost:6379", "storage URL"),
        ("JWT_RATE_LIMIT_STORAGE", ["memory://"], "storage URL"),
        ("JWT_RATE_LIMIT_STORAGE", "nosuch://x", "nosuch://x"),
        ("JWT_RATE_LIMIT_STORAGE", "async+memory://", "async"),
        ("JWT_RATE_LIMIT_STORAGE", "memcached://127.0.0.1:1", "memcached"),
        ("JWT_AUTH_RATE_LIMIT_PER_ADDRESS", "1/100000000000 years", "a year"),
        ("JWT_AUTH_RATE_LIMIT_PER_USERNAME", "99999999999/second", "at most"),
    ],
)
def test_bad_settings_fail_at_startup_naming_the_key(key, value, message):
    with pytest.raises(ConfigError, match=key) as info:
        create_app({key: value})
    assert info.value.key == key
    assert message in str(info.value)


def test_a_view_without_a_username_must_say_what_to_count():
    class EmailSchema(Schema):
        email = fields.String(required=True)
        password = fields.String(required=True)

    class EmailView(AuthView):
        credentials_schema = EmailSchema

        def authenticate(self, credentials):
            return authenticate(credentials["email"], credentials["password"])

    def register(config: dict[str, t.Any]) -> Flask:
        app = Flask(__name__)
        app.config.update(SECRET_KEY=SECRET, **config)
        strategy = JWTStrategy(identity_handler=identity)
        app.register_blueprint(JWTBlueprint(strategy, auth_view=EmailView))
        return app

    with pytest.raises(ConfigError, match="override EmailView.throttle_key"):
        register({})
    app = register({"JWT_AUTH_RATE_LIMIT_PER_USERNAME": None})
    assert (
        app.test_client()
        .post("/auth", json={"email": "user1", "password": "abcxyz"})
        .status_code
        == 200
    )

    class CountedEmailView(EmailView):
        def throttle_key(self, credentials):
            return credentials["email"]

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    strategy = JWTStrategy(identity_handler=identity)
    app.register_blueprint(JWTBlueprint(strategy, auth_view=CountedEmailView))
    client = app.test_client()
    for _ in range(5):
        client.post("/auth", json={"email": "user1", "password": "no"})
    response = client.post("/auth", json={"email": "USER1", "password": "abcxyz"})
    assert response.status_code == 429


def test_a_replacement_auth_request_handler_is_counted_per_address(clock):
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, JWT_AUTH_RATE_LIMIT_PER_ADDRESS="2/minute")
    jwt = JWT(authentication_handler=authenticate, identity_handler=identity)

    with pytest.warns(DeprecationWarning):

        @jwt.auth_request_handler
        def own_login():
            return {"seen": request.get_json()["username"]}

    jwt.init_app(app)
    client = app.test_client()
    assert client.post("/auth", json=GOOD).json == {"seen": "user1"}
    assert client.post("/auth", json=GOOD).status_code == 200
    assert client.post("/auth", json=GOOD).status_code == 429


def test_a_login_that_cannot_be_counted_is_a_503(clock, caplog):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None})
    client = app.test_client()
    with app.app_context():
        limiter = get_state().settings().throttle.storage.limiter

    def broken_hit(*args: t.Any, **kwargs: t.Any) -> bool:
        raise StorageError(ConnectionError("gone"))

    limiter.hit = broken_hit  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="jwt_blueprint"):
        # Refused closed, rather than answered uncounted.
        assert post_auth(client, WRONG).status_code == 503
        assert post_auth(client, GOOD).status_code == 503
    assert "rate limit storage failed" in caplog.text


def test_an_app_with_its_own_flask_limiter(clock):
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    app = create_app()
    limiter = Limiter(
        get_remote_address,
        app=app,
        default_limits=["3/minute"],
        storage_uri="memory://",
    )

    @app.get("/hello")
    def hello() -> str:
        return "hello"

    @app.get("/limited")
    @limiter.limit("1/minute")
    def limited() -> str:
        return "limited"

    client = app.test_client()
    token = login(client)
    # The app's own limits hold on its routes: theirs, not ours.
    assert client.get("/limited").status_code == 200
    assert client.get("/limited").status_code == 429
    assert [client.get("/hello").status_code for _ in range(4)] == [200] * 3 + [429]
    # Its default limits apply to the login too, as to any route...
    assert client.post("/auth", json=WRONG).status_code == 401
    assert client.post("/auth", json=WRONG).status_code == 401
    assert client.post("/auth", json=WRONG).status_code == 429
    # ...unless the blueprint is exempted, leaving the login to ours.
    # (Ours counted the two failures that reached the login.)
    limiter.exempt(app.blueprints["jwt"])
    for _ in range(3):
        assert client.post("/auth", json=WRONG).status_code == 401
    assert_throttled(client.post("/auth", json=GOOD), "Too many failed logins", 61)
    # Protected views are not throttled by us, whatever the app's limiter.
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


# Redis: several workers and hosts share the counts.


def test_a_redis_token_store_shares_its_redis_with_the_throttle(redis_server, tmp_path):
    redis_server.flushall()
    config = {"JWT_TOKEN_STORE": redis_server.url}
    first = lifecycle_app(config, str(tmp_path / "a")).test_client()
    second = lifecycle_app(config, str(tmp_path / "b")).test_client()
    for client in (first, second, first, second, first):
        assert client.post("/auth", json=WRONG).status_code == 401
    assert second.post("/auth", json=GOOD).status_code == 429
    keys = redis_server.client().keys("LIMITS:*")
    assert keys and all(b"jwt_blueprint" in key for key in keys)
    assert not any(b"user1" in key for key in keys)  # hashed


def test_an_explicit_storage_wins_over_the_token_store(redis_server, tmp_path):
    redis_server.flushall()
    config = {
        "JWT_TOKEN_STORE": "memory://",
        "JWT_RATE_LIMIT_STORAGE": redis_server.url,
    }
    first = create_app(config).test_client()
    second = create_app(config).test_client()
    for _ in range(5):
        first.post("/auth", json=WRONG)
    assert second.post("/auth", json=GOOD).status_code == 429
    assert redis_server.client().keys("LIMITS:*")


def test_the_throttle_fails_closed_when_redis_is_down(redis_server, tmp_path, caplog):
    redis_server.flushall()
    config = {
        "JWT_TOKEN_STORE": "memory://",
        "JWT_RATE_LIMIT_STORAGE": redis_server.url,
    }
    app = lifecycle_app(config, str(tmp_path))
    client = app.test_client()
    tokens = client.post("/auth", json=GOOD).json
    redis_server.stop()
    try:
        with caplog.at_level(logging.ERROR, logger="jwt_blueprint"):
            for response in (
                client.post("/auth", json=GOOD),
                client.post("/auth", json=WRONG),
                client.post(
                    "/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
                ),
            ):
                assert response.status_code == 503
                assert response.headers["Retry-After"] == "5"
                assert response.json["description"] == (
                    "The rate limit storage is unavailable; try again later"
                )
            # Protected views do not depend on it.
            headers = auth_header(tokens["access_token"])
            assert client.get("/protected", headers=headers).status_code == 200
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
    finally:
        redis_server.start()
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        assert client.post("/auth", json=GOOD).status_code == 200
    assert "answers again" in caplog.text


def test_an_optional_username_left_out_is_counted_not_crashed_on(clock):
    class OptionalSchema(Schema):
        email = fields.String(load_default=None)
        password = fields.String(required=True)

    class OptionalView(AuthView):
        credentials_schema = OptionalSchema

        def authenticate(self, credentials):
            return authenticate(credentials["email"] or "", credentials["password"])

        def throttle_key(self, credentials):
            return credentials["email"]

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    strategy = JWTStrategy(identity_handler=identity)
    app.register_blueprint(JWTBlueprint(strategy, auth_view=OptionalView))
    client = app.test_client()
    statuses = [
        client.post("/auth", json={"password": "x"}).status_code for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_a_client_error_of_the_storage_is_a_503_too(tmp_path):
    # redis-py refuses the option when it connects, with a TypeError.
    config = {"JWT_RATE_LIMIT_STORAGE": "redis://127.0.0.1:1/0?no_such_option=1"}
    client = create_app(config).test_client()
    response = client.post("/auth", json=GOOD)
    assert response.status_code == 503
    assert response.json["description"] == (
        "The rate limit storage is unavailable; try again later"
    )


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/2"),
        ("rediss://:pw@host:6380/0", "rediss://:pw@host:6380/0"),
        ("unix:///run/redis.sock?db=1", "redis+unix:///run/redis.sock?db=1"),
        ("sqlite:///x.sqlite3", "memory://"),
        ("memory://", "memory://"),
        (None, "memory://"),
    ],
)
def test_where_the_counts_go_by_default(store, expected):
    from jwt_blueprint.config import rate_limit_storage_url

    assert rate_limit_storage_url({"JWT_TOKEN_STORE": store}) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("a\u0308", "\u00e4"),
        ("\u00df\u0301", "ss\u0301"),
        ("b\u00f3b", "bob"),
        ("\u212b", "a"),  # the angstrom sign
        ("\ufb01le", "FILE"),  # the fi ligature
    ],
)
def test_spellings_of_one_name_share_a_count(one, other):
    from jwt_blueprint.throttling import username_key

    assert username_key(one) == username_key(other)


def test_the_memory_storage_forgets_the_windows_that_passed(clock):
    app = create_app({"JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None})
    client = app.test_client()
    with app.app_context():
        memory = get_state().settings().throttle.storage.storage
    for i in range(300):
        post_auth(client, {"username": f"guess{i}", "password": "x"})
    assert len(memory.events) >= 300
    clock(61)
    for i in range(300):
        post_auth(client, {"username": f"other{i}", "password": "x"})
    # The first 300 windows passed and were forgotten; without pruning the
    # storage would hold 600 keys, one per username ever counted.
    assert len(memory.events) < 400


@pytest.mark.parametrize("key", ["JWT_RATE_LIMIT_STORAGE", "JWT_TOKEN_STORE"])
@pytest.mark.parametrize(
    "url",
    [
        "redis://:s3cretpw@127.0.0.1:notaport/0",
        "redis://user:s3cretpw@127.0.0.1:6379/0?no_such_option=1&db=x",
        "nosuch://user:s3cretpw@host/",
    ],
)
def test_a_bad_storage_url_is_named_without_its_password(key, url):
    with pytest.raises(ConfigError) as info:
        create_app({key: url})
    assert info.value.key == key
    assert "s3cretpw" not in str(info.value)
    assert ":***@" in str(info.value)

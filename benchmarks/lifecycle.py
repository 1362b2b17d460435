"""The token lifecycle's contenders: protected requests that consult a token
store, and the refresh endpoint on each store.

Protected request (warm, the same token every request, like **D**):

* **D-sqlite** jwt_blueprint with ``JWT_TOKEN_STORE = "sqlite:////<tmp>/..."``;
* **D-redis** jwt_blueprint with ``JWT_TOKEN_STORE = "redis://..."``;
* **C-redis** Flask-JWT-Extended (as **C**) with the Redis blocklist recipe
  of its docs: a ``token_in_blocklist_loader`` doing
  ``jwt_redis_blocklist.get(jti)`` on a ``redis.StrictRedis`` client.

Both jwt_blueprint apps enable refresh (their tokens carry a login family),
and user 1's tokens were revoked all at once *before* the timed token was
issued: every timed lookup answers for the token, its family and the
revoke-all, in one round trip.

Over HTTP (:mod:`.httpbench`), the same three apps serve from gunicorn
workers sharing the SQLite file or the Redis server; their tokens are minted
and revoked here, on the same store.

Refresh: ``POST /auth/refresh`` with a JSON body, on the memory, SQLite and
Redis stores. Each call spends a refresh token never presented before, from
a pool filled by logging in (``POST /auth``) before the timing starts.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import time
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

import redis
from flask import Flask
from flask_jwt_extended import decode_token

from jwt_blueprint.stores import SQLiteStore
from jwt_blueprint.stores.redis import RedisStore

from . import harness
from .apps import BEARER_SCHEME
from .apps import blueprint_app
from .apps import Contender
from .apps import expect_protected
from .apps import fjwte_app
from .apps import fjwte_token
from .apps import HttpHeaders
from .apps import JWT_SCHEME
from .apps import LOGIN_BODY
from .apps import OnClose
from .apps import protected_environ
from .backends import Backends
from .common import EXPECTED_BODY
from .common import KeySet
from .common import TOKEN_LIFETIME
from .wsgi import call
from .wsgi import Environ
from .wsgi import json_body
from .wsgi import make_environ
from .wsgi import Response
from .wsgi import serve

REFRESH_PATH = "/auth/refresh"
REVOKE_PATH = "/auth/revoke"
#: How many requests a probe counts the store's commands over.
PROBE_REQUESTS = 3
#: Where C-redis keeps the recipe's client, for its probe.
BLOCKLIST_KEY = "bench_redis_blocklist"


# -- jwt_blueprint with a store ----------------------------------------------


def store_app(keys: KeySet, store_url: str, on_close: OnClose | None) -> Flask:
    """jwt_blueprint with ``store_url`` and refresh on; its store's ``close``
    goes to ``on_close`` (``None``: it lives as long as the process)."""
    app = blueprint_app(
        keys, {"JWT_TOKEN_STORE": store_url, "JWT_REFRESH_ENABLED": True}
    )
    close = getattr(raw_store(app), "close", None)  # MemoryStore has none
    if close is not None and on_close is not None:
        on_close(close)
    return app


def raw_store(app: Flask) -> t.Any:
    """The app's store, behind the guard that turns failures into 503s."""
    return app.extensions["jwt_blueprint"].settings().store.store


def login(app: Flask) -> dict[str, t.Any]:
    """``POST /auth`` as a client does: the access and refresh tokens."""
    response = call(
        app.wsgi_app, make_environ("/auth", "POST", body=LOGIN_BODY), LOGIN_BODY
    )
    assert response.status == 200, response
    tokens: dict[str, t.Any] = json.loads(response.body)
    return tokens


def get_protected(app: Flask, scheme: str, token: str) -> Response:
    return call(app.wsgi_app, protected_environ(scheme, token))


def revoke_all(app: Flask, user_id: int) -> None:
    """Revoke every token of ``user_id`` issued up to now."""
    with app.app_context():
        app.extensions["jwt"].revoke_all(user_id)


def login_after_revoke_all(app: Flask) -> tuple[str, str]:
    """Two access tokens of user 1: one revoked by a revoke-all of user 1,
    then one issued after it, whose every lookup must answer for the token,
    its family and the revoke-all."""
    stale = login(app)["access_token"]
    revoke_all(app, 1)
    return stale, login(app)["access_token"]


def redis_calls(url: str) -> dict[str, int]:
    """How many times the server ran each command, from INFO commandstats."""
    with redis.Redis.from_url(url) as client:
        stats = t.cast("dict[str, dict[str, int]]", client.info("commandstats"))
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


def count_redis_commands(url: str, app: Flask, environ: Environ) -> dict[str, int]:
    """The commands the server ran while ``app`` served ``environ``
    :data:`PROBE_REQUESTS` times, each answer checked (INFO left out)."""
    before = redis_calls(url)
    for _ in range(PROBE_REQUESTS):
        expect_protected(call(app.wsgi_app, environ))
    after = redis_calls(url)
    return {
        name: calls - before.get(name, 0)
        for name, calls in after.items()
        if name != "info" and calls != before.get(name, 0)
    }


def blueprint_store_contender(
    key: str, label: str, keys: KeySet, store_url: str, backends: Backends
) -> Contender:
    """D-sqlite or D-redis: warm requests on an app with a token store."""
    app = store_app(keys, store_url, backends.on_close)
    stale, token = login_after_revoke_all(app)
    environ = protected_environ(JWT_SCHEME, token)
    expected = SQLiteStore if store_url.startswith("sqlite:") else RedisStore

    def probe() -> None:
        store = raw_store(app)
        assert type(store) is expected, f"the store is a {type(store).__name__}"
        # The same app refuses a token issued before the revoke-all, and one
        # logged out: the lookup reaches the store.
        refused = get_protected(app, JWT_SCHEME, stale)
        assert refused.status == 401, f"a revoked-all token got {refused.status}"
        victim = login(app)["access_token"]
        assert get_protected(app, JWT_SCHEME, victim).status == 200
        logout = make_environ(
            REVOKE_PATH, "POST", authorization=f"{JWT_SCHEME} {victim}"
        )
        assert call(app.wsgi_app, logout).status == 204, "logout failed"
        refused = get_protected(app, JWT_SCHEME, victim)
        assert refused.status == 401, f"a logged out token got {refused.status}"
        if store_url.startswith("redis://"):
            commands = count_redis_commands(store_url, app, environ)
            assert commands == {"mget": PROBE_REQUESTS}, (
                f"expected one MGET per request, the server ran {commands}"
            )

    return Contender(
        key,
        label,
        app,
        [environ],
        expect_protected,
        notes=[
            f"JWT_TOKEN_STORE={store_url}, JWT_REFRESH_ENABLED=True; user 1 revoked"
            " all before the token was issued"
        ],
        probe=probe,
    )


# -- Flask-JWT-Extended with its Redis blocklist recipe --------------------------


def blocklist(app: Flask, token: str) -> None:
    """The recipe's logout: the token's jti in Redis, with a TTL."""
    with app.app_context():
        jti = decode_token(token)["jti"]
    app.extensions[BLOCKLIST_KEY].set(jti, "", ex=TOKEN_LIFETIME)


def fjwte_redis_app(keys: KeySet, redis_url: str, on_close: OnClose | None) -> Flask:
    """C-redis: C plus the Redis blocklist recipe of Flask-JWT-Extended's docs
    ("Blocklist and Token Revoking"); its client's ``close`` goes to
    ``on_close`` (``None``: it lives as long as the process)."""
    app = fjwte_app(keys)
    manager = app.extensions["flask-jwt-extended"]
    jwt_redis_blocklist = redis.StrictRedis.from_url(redis_url, decode_responses=True)
    if on_close is not None:
        on_close(jwt_redis_blocklist.close)

    @manager.token_in_blocklist_loader
    def check_if_token_is_revoked(
        jwt_header: dict[str, t.Any], jwt_payload: dict[str, t.Any]
    ) -> bool:
        jti = jwt_payload["jti"]
        token_in_redis = jwt_redis_blocklist.get(jti)
        return token_in_redis is not None

    app.extensions[BLOCKLIST_KEY] = jwt_redis_blocklist
    return app


def fjwte_redis_contender(
    keys: KeySet, redis_url: str, backends: Backends
) -> Contender:
    app = fjwte_redis_app(keys, redis_url, backends.on_close)
    environ = protected_environ(BEARER_SCHEME, fjwte_token(app))

    def probe() -> None:
        victim = fjwte_token(app)
        assert get_protected(app, BEARER_SCHEME, victim).status == 200
        blocklist(app, victim)
        refused = get_protected(app, BEARER_SCHEME, victim)
        assert refused.status == 401, f"a blocklisted jti got {refused.status}"
        commands = count_redis_commands(redis_url, app, environ)
        assert commands == {"get": PROBE_REQUESTS}, (
            f"expected one GET per request, the server ran {commands}"
        )

    return Contender(
        "C-redis",
        "Flask-JWT-Extended + its Redis blocklist recipe",
        app,
        [environ],
        expect_protected,
        notes=["token_in_blocklist_loader: StrictRedis(decode_responses=True).get"],
        probe=probe,
    )


def store_contenders(keys: KeySet, backends: Backends) -> list[Contender]:
    """C-redis, D-sqlite and D-redis; the Redis ones only with a server."""
    contenders = []
    if backends.redis_url is not None:
        contenders.append(fjwte_redis_contender(keys, backends.redis_url, backends))
    contenders.append(
        blueprint_store_contender(
            "D-sqlite",
            "jwt_blueprint @jwt_required(), SQLite store (warm)",
            keys,
            backends.sqlite_url("protected.sqlite3"),
            backends,
        )
    )
    if backends.redis_url is not None:
        contenders.append(
            blueprint_store_contender(
                "D-redis",
                "jwt_blueprint @jwt_required(), Redis store (warm)",
                keys,
                backends.redis_url,
                backends,
            )
        )
    return contenders


# -- over HTTP ------------------------------------------------------------------


def http_store_app(
    key: str, keys: KeySet, store_url: str, on_close: OnClose | None = None
) -> Flask:
    """The app of store contender ``key`` (``C-redis``, ``D-sqlite``,
    ``D-redis``) on ``store_url``, configured as in-process."""
    if key == "C-redis":
        return fjwte_redis_app(keys, store_url, on_close)
    if key in ("D-sqlite", "D-redis"):
        return store_app(keys, store_url, on_close)
    raise ValueError(f"no HTTP store app {key!r}")


def http_store_headers(key: str, keys: KeySet, store_url: str) -> HttpHeaders:
    """A token for :func:`http_store_app` and a revoked one, minted and
    revoked on ``store_url`` as the in-process contender does."""
    with contextlib.ExitStack() as stack:
        app = http_store_app(key, keys, store_url, stack.callback)
        if key == "C-redis":
            token, victim = fjwte_token(app), fjwte_token(app)
            blocklist(app, victim)
            return HttpHeaders(f"{BEARER_SCHEME} {token}", f"{BEARER_SCHEME} {victim}")
        stale, token = login_after_revoke_all(app)
        return HttpHeaders(f"{JWT_SCHEME} {token}", f"{JWT_SCHEME} {stale}")


# -- refresh -------------------------------------------------------------------


def refresh_body(refresh_token: str) -> bytes:
    return json_body({"refresh_token": refresh_token})


def expect_refreshed(response: Response) -> dict[str, t.Any]:
    """A refresh answer: 200 and a new pair of tokens."""
    assert response.status == 200, f"expected 200, got {response.status}"
    tokens: dict[str, t.Any] = json.loads(response.body)
    assert {"access_token", "refresh_token"} <= tokens.keys(), tokens
    return tokens


@dataclass
class RefreshContender:
    """``POST /auth/refresh`` on one store, each call with a fresh token.

    :param key: the store's name in the table, e.g. ``"sqlite"``.
    """

    key: str
    label: str
    app: Flask
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.environ = make_environ(REFRESH_PATH, "POST", body=refresh_body("x"))

    def refresh(self, refresh_token: str) -> Response:
        body = refresh_body(refresh_token)
        environ = make_environ(REFRESH_PATH, "POST", body=body)
        return call(self.app.wsgi_app, environ, body)

    def pool(self, count: int) -> list[tuple[str, bytes]]:
        """``count`` refresh bodies, each from its own login, as
        ``(CONTENT_LENGTH, body)``."""
        bodies = [refresh_body(login(self.app)["refresh_token"]) for _ in range(count)]
        assert len(set(bodies)) == count, "expected distinct refresh tokens"
        return [(str(len(body)), body) for body in bodies]

    def check(self) -> None:
        """A refresh answers a working pair; presenting the spent token again
        is refused and revokes the family: the store is consulted.

        :raises AssertionError: naming the contender.
        """
        try:
            spent = login(self.app)["refresh_token"]
            tokens = expect_refreshed(self.refresh(spent))
            served = get_protected(self.app, JWT_SCHEME, tokens["access_token"])
            assert (served.status, served.body) == (200, EXPECTED_BODY), served
            with quiet("jwt_blueprint"):  # it warns of the reuse it refuses
                reused = self.refresh(spent)
            assert reused.status == 401, "a spent token was accepted"
            again = self.refresh(tokens["refresh_token"])
            assert again.status == 401, "the family outlived a reuse"
        except AssertionError as exc:
            raise AssertionError(
                f"refresh contender {self.key} ({self.label}): {exc}"
            ) from None


@contextlib.contextmanager
def quiet(name: str) -> Iterator[None]:
    """Silence the logger ``name`` for a while."""
    logger = logging.getLogger(name)
    disabled, logger.disabled = logger.disabled, True
    try:
        yield
    finally:
        logger.disabled = disabled


def refresh_contenders(keys: KeySet, backends: Backends) -> list[RefreshContender]:
    """The refresh endpoint on memory, SQLite and (with a server) Redis."""
    stores = [
        ("memory", "memory://"),
        ("sqlite", backends.sqlite_url("refresh.sqlite3")),
    ]
    if backends.redis_url is not None:
        stores.append(("redis", backends.redis_url))
    return [
        RefreshContender(
            name,
            f"POST {REFRESH_PATH}, {name} store",
            store_app(keys, url, backends.on_close),
            notes=[f"JWT_TOKEN_STORE={url}"],
        )
        for name, url in stores
    ]


def time_refreshes(
    app: Flask, environ: Environ, pool: list[tuple[str, bytes]]
) -> tuple[int, list[str]]:
    """Nanoseconds to serve one refresh per pool entry, and the statuses."""
    statuses: list[str] = []
    record = statuses.append

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> Callable[[bytes], None]:
        record(status)
        return _ignore

    wsgi = app.wsgi_app
    bytes_io = io.BytesIO
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for length, body in pool:
            env = environ.copy()
            env["CONTENT_LENGTH"] = length
            env["wsgi.input"] = bytes_io(body)
            serve(wsgi, env, start_response)
        return time.perf_counter_ns() - start, statuses
    finally:
        gc.enable()


def _ignore(data: bytes) -> None:
    """The ``write`` callable of the start_response; Flask never uses it."""


def run_refresh(
    contenders: list[RefreshContender],
    rounds: int,
    batch: int,
    progress: Callable[[str], None] = lambda _: None,
) -> list[harness.Timing]:
    """Check, fill each pool, then time one batch per store per round, in an
    order that rotates, as :func:`harness.run` does (after an untimed
    warm-up round).

    :raises AssertionError: if a contender fails its check, or any timed
        refresh is not a 200.
    """
    for contender in contenders:
        contender.check()
    progress(f"logging in {(rounds + 1) * batch} times per store for the pools")
    pools = {c.key: c.pool((rounds + 1) * batch) for c in contenders}
    results: dict[str, list[float]] = {c.key: [] for c in contenders}
    # Round -1 is the warm-up; each round takes the next ``batch`` tokens.
    for round_ in range(-1, rounds):
        for contender in harness.rotated(contenders, max(round_, 0)):
            start = (round_ + 1) * batch
            chunk = pools[contender.key][start : start + batch]
            elapsed, statuses = time_refreshes(contender.app, contender.environ, chunk)
            gc.collect()
            failed = [status for status in statuses if not status.startswith("200")]
            assert not failed and len(statuses) == batch, (
                f"refresh contender {contender.key}: {len(failed)} of {batch}"
                f" refreshes failed, e.g. {failed[:1]}"
            )
            if round_ >= 0:
                results[contender.key].append(elapsed / 1e3 / batch)
    for contender in contenders:
        contender.check()
    return [
        harness.Timing(c.key, c.label, batch, results[c.key], list(c.notes))
        for c in contenders
    ]

"""Smoke test of the benchmark apps: they must measure successes, not errors.

Every contender must answer 200 with the user's body for a valid token, and
401 without one (the bare route A excepted: it has no authentication), so
``python -m benchmarks`` can never silently time error responses. The token
store contenders must consult their store, and their checks must notice
when one does not.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import jwt
import pytest
import redis

from servers import require_redis_server

# The benchmark apps import Flask-JWT-Extended, from the ``bench`` extra; with
# only ``dev`` installed, skip rather than fail at collection. (gunicorn, the
# extra's other package, is imported only when an HTTP run starts.)
pytest.importorskip(
    "flask_jwt_extended",
    reason="the benchmarks need the bench extra: pip install -e '.[bench]'",
)

from benchmarks import apps
from benchmarks import backends
from benchmarks import cli
from benchmarks import harness
from benchmarks import httpbench
from benchmarks import lifecycle
from benchmarks import report
from benchmarks import scaling
from benchmarks.common import ALGORITHMS
from benchmarks.common import EXPECTED_BODY
from benchmarks.common import make_keys
from benchmarks.common import PROTECTED_PATH
from benchmarks.common import spare_keys
from benchmarks.wsgi import call
from benchmarks.wsgi import json_body
from benchmarks.wsgi import make_environ


@pytest.fixture(scope="module", params=list(ALGORITHMS.values()))
def keys(request):
    return make_keys(request.param)


def test_protected_contenders_answer_200_then_401(keys):
    contenders = apps.protected_contenders(keys, cold_tokens=3, fjwte_key_objects=True)
    expected = ["A", "B", "C", "D", "D3", "E", "E3"]
    if not keys.symmetric:
        expected.insert(3, "C*")
    assert [c.key for c in contenders] == expected
    no_token = make_environ(PROTECTED_PATH)
    for contender in contenders:
        contender.check()  # 200 and the user's body, as the harness checks
        response = call(contender.app.wsgi_app, contender.environs[0])
        assert (response.status, response.body) == (200, EXPECTED_BODY)
        missing = call(contender.app.wsgi_app, no_token)
        if contender.key == "A":
            assert missing.status == 200  # the unauthenticated baseline
        else:
            assert missing.status == 401, (contender.key, missing)


@pytest.mark.parametrize("key", ["E", "E3"])
def test_cold_contender_cycles_distinct_tokens(keys, key):
    contenders = {c.key: c for c in apps.protected_contenders(keys, cold_tokens=3)}
    cold = contenders[key]
    assert cold.app.config[apps.CACHE_KEY] == 0
    headers = {environ["HTTP_AUTHORIZATION"] for environ in cold.environs}
    assert len(headers) == 3
    for environ in cold.environs:
        assert call(cold.app.wsgi_app, environ).status == 200


def kid_of(environ):
    token = environ["HTTP_AUTHORIZATION"].split()[1]
    return jwt.get_unverified_header(token)["kid"]


def test_key_set_contenders_verify_with_three_keys(keys):
    contenders = {c.key: c for c in apps.protected_contenders(keys, cold_tokens=3)}
    signing_kid = apps.codec_of(contenders["D"].app).signing_kid
    for key, twin in (("D3", "D"), ("E3", "E")):
        contender = contenders[key]
        contender.check()  # 3 keys; the last's token passes, an unlisted's 401
        codec = apps.codec_of(contender.app)
        assert len(codec.verifying_keys) == 3
        assert next(iter(codec.verifying_keys)) == codec.signing_kid == signing_kid
        assert {kid_of(environ) for environ in contender.environs} == {signing_kid}
        cache = contenders[twin].app.config[apps.CACHE_KEY]
        assert contender.app.config[apps.CACHE_KEY] == cache


def test_key_set_checks_notice_a_set_not_used(keys):
    def build():
        contenders = apps.protected_contenders(keys, cold_tokens=2)
        return [c for c in contenders if c.key in ("D3", "E3")]

    one_key, last_key = build()
    codec = apps.codec_of(one_key.app)
    first = next(iter(codec.verifying_keys))
    codec.verifying_keys = {first: codec.verifying_keys[first]}
    with pytest.raises(AssertionError, match="D3.*expected 3 verifying keys"):
        one_key.check()
    # Timed tokens of the last key, not the signing key's.
    third = spare_keys(keys.algorithm)[1]
    last_app = apps.blueprint_app(third, apps.key_set_config([third]))
    last_key.environs[:] = [  # the list the check reads
        apps.protected_environ(apps.JWT_SCHEME, token)
        for token in apps.blueprint_tokens(last_app, 2)
    ]
    with pytest.raises(AssertionError, match="E3.*timed token with kid"):
        last_key.check()

    _, unchecked = build()
    apps.codec_of(unchecked.app).verify_signature = False
    with pytest.raises(AssertionError, match="E3.*unlisted_token got 200"):
        unchecked.check()


def test_issuance_contenders_issue_working_tokens(keys):
    protected = {c.key: c for c in apps.protected_contenders(keys, cold_tokens=1)}
    wrong = json_body({"username": "user1", "password": "wrong"})
    for contender in apps.issuance_contenders(keys, fjwte_key_objects=True):
        contender.check()  # 200 and a token for user 1, as the harness checks
        response = call(contender.app.wsgi_app, contender.environs[0], contender.body)
        token = json.loads(response.body)["access_token"]
        # The token works on the same library's protected route.
        target, scheme = (
            (protected["D"], apps.JWT_SCHEME)
            if contender.key == "ours"
            else (protected["C"], apps.BEARER_SCHEME)
        )
        served = call(target.app.wsgi_app, apps.protected_environ(scheme, token))
        assert (served.status, served.body) == (200, EXPECTED_BODY)
        path = contender.environs[0]["PATH_INFO"]
        refused = call(
            contender.app.wsgi_app, make_environ(path, "POST", body=wrong), wrong
        )
        assert refused.status == 401, (contender.key, refused)


def test_harness_refuses_an_error_response():
    keys = make_keys("HS256")
    contender = apps.protected_contenders(keys, cold_tokens=1)[2]
    contender.environs = [make_environ(PROTECTED_PATH)]
    with pytest.raises(AssertionError, match="contender C"):
        harness.run([contender], harness.Plan(1, 2, 2, 0.01))


def test_harness_times_interleaved_rounds():
    keys = make_keys("HS256")
    contenders = apps.protected_contenders(keys, cold_tokens=4)
    timings = harness.run(
        contenders, harness.Plan(rounds=2, max_batch=4, min_batch=2, budget_s=0.01)
    )
    assert [timing.key for timing in timings] == ["A", "B", "C", "D", "D3", "E", "E3"]
    for timing in timings:
        assert len(timing.per_round_us) == 2
        assert 0 < timing.min_us <= timing.median_us <= timing.max_us


@pytest.mark.parametrize("key", ["A", "C", "D"])
def test_http_apps(key):
    app = apps.http_app(key)
    environ = make_environ(PROTECTED_PATH, authorization=apps.http_authorization(key))
    response = call(app.wsgi_app, environ)
    assert (response.status, response.body) == (200, EXPECTED_BODY)
    missing = call(app.wsgi_app, make_environ(PROTECTED_PATH))
    assert missing.status == (200 if key == "A" else 401)


@pytest.mark.parametrize("key", ["C-redis", "D-sqlite", "D-redis"])
def test_http_store_apps_answer_200_then_401(key, with_redis):
    url = httpbench.store_url(key, with_redis)
    headers = apps.http_headers(key, url)  # minted first, as the run does
    assert headers.revoked is not None
    with contextlib.ExitStack() as stack:
        app = apps.http_app(key, url, stack.callback)
        client = stack.enter_context(app.test_client())
        response = client.get(PROTECTED_PATH, headers={"Authorization": headers.valid})
        assert (response.status_code, response.data) == (200, EXPECTED_BODY)
        refused = client.get(PROTECTED_PATH, headers={"Authorization": headers.revoked})
        assert refused.status_code == 401
        # Revoked after the app was built: the lookup is made per request.
        token = headers.valid.split()[1]
        if key == "C-redis":
            lifecycle.blocklist(app, token)
        else:
            logout = client.post(
                lifecycle.REVOKE_PATH, headers={"Authorization": headers.valid}
            )
            assert logout.status_code == 204
        again = client.get(PROTECTED_PATH, headers={"Authorization": headers.valid})
        assert again.status_code == 401


def test_http_store_apps_need_their_store():
    with pytest.raises(ValueError, match="needs its store URL"):
        apps.http_app("D-sqlite")
    with pytest.raises(ValueError, match="needs its store URL"):
        apps.http_headers("C-redis")


def test_http_serves_the_store_contenders_on_the_run_backends(with_redis, tmp_path):
    assert httpbench.served_keys(with_redis) == list(httpbench.CONTENDERS)
    sqlite_url = httpbench.store_url("D-sqlite", with_redis)
    assert sqlite_url == f"sqlite:///{with_redis.directory / httpbench.SQLITE_FILE}"
    assert httpbench.store_url("D-redis", with_redis) == with_redis.redis_url
    assert httpbench.store_url("C-redis", with_redis) == with_redis.redis_url
    assert httpbench.store_url("D", with_redis) is None
    without = backends.Backends(None, "no redis-server")
    with without:
        assert httpbench.served_keys(without) == ["A", "C", "D", "D-sqlite"]


def test_http_entry_point_is_what_gunicorn_calls(monkeypatch):
    import_app = pytest.importorskip("gunicorn.util").import_app
    calls = []

    def http_app(*args):
        calls.append(args)
        return apps.bare_app()

    monkeypatch.setattr(apps, "http_app", http_app)
    url = "sqlite:////tmp/a 'b'/http.sqlite3"
    import_app(httpbench.entry_point("D-sqlite", url))
    import_app(httpbench.entry_point("A"))
    assert calls == [("D-sqlite", url), ("A",)]


def test_http_part_skipped_without_wrk(monkeypatch, without_redis):
    monkeypatch.setattr(httpbench.shutil, "which", lambda name: None)
    assert httpbench.run_http(1, 1, without_redis) == {
        "skipped": "wrk not found (apt-get install -y wrk)"
    }


def test_http_part_runs_by_default():
    assert cli.parse_args([]).http is None  # when wrk is installed
    assert cli.parse_args(["--http"]).http is True
    assert cli.parse_args(["--no-http"]).http is False


def test_scaling_server_serves_every_token():
    server = scaling.Server(size=5, batch=2)
    live = server.live_pass()
    assert live["size"] == 5 and live["rss_before_bytes"] > 0
    assert server.time_batch() > 0
    assert server.finish()["peak_rss_bytes"] > 0


def test_parse_wrk():
    output = """Running 5s test @ http://127.0.0.1:1/protected
  Latency Distribution
     50%    2.72ms
     99%   10.01ms
  11234 requests in 5.00s, 1.2MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   2246.80
Transfer/sec:    245.01KB
"""
    parsed = httpbench.parse_wrk(output)
    assert parsed == {
        "rps": 2246.80,
        "p50_ms": pytest.approx(2.72),
        "non_2xx": 3,
        "socket_errors": None,
    }


def test_only_selects_suites():
    assert cli.selection(["hs256"]) == (["HS256"], ["HS256"], False, False)
    assert cli.selection(["hs256"]).needs_redis
    assert cli.selection(["issuance", "scaling"]) == (
        [],
        ["HS256", "RS256", "ES256", "EdDSA"],
        True,
        False,
    )
    assert not cli.selection(["rs256", "scaling"]).needs_redis
    assert cli.selection(["refresh"]) == ([], [], False, True)
    assert cli.selection(["refresh"]).needs_redis


# -- the token store contenders ------------------------------------------------


@pytest.fixture
def hs256():
    return make_keys("HS256")


@pytest.fixture
def with_redis(redis_server):
    with backends.Backends(redis_server.url) as stores:
        yield stores


@pytest.fixture
def without_redis():
    with backends.Backends(None, "no redis-server in this test") as stores:
        yield stores


def guarded_store(contender):
    return contender.app.extensions["jwt_blueprint"].settings().store


def test_store_contenders_consult_their_store(hs256, with_redis):
    contenders = lifecycle.store_contenders(hs256, with_redis)
    assert [c.key for c in contenders] == ["C-redis", "D-sqlite", "D-redis"]
    no_token = make_environ(PROTECTED_PATH)
    for contender in contenders:
        contender.check()  # refuses revoked tokens; one Redis command a request
        assert call(contender.app.wsgi_app, no_token).status == 401
    sqlite_path = guarded_store(contenders[1]).store.path
    assert Path(sqlite_path).parent == with_redis.directory


def test_store_contender_checks_notice_a_store_not_consulted(hs256, with_redis):
    fjwte, *ours = lifecycle.store_contenders(hs256, with_redis)
    for contender in ours:
        guarded_store(contender).is_revoked = lambda *args: False
        with pytest.raises(AssertionError, match=f"{contender.key}.*revoked-all"):
            contender.check()
    manager = fjwte.app.extensions["flask-jwt-extended"]
    manager._token_in_blocklist_callback = lambda header, payload: False
    with pytest.raises(AssertionError, match="C-redis.*blocklisted jti got 200"):
        fjwte.check()


def test_redis_contender_check_counts_round_trips(hs256, with_redis):
    contender = lifecycle.store_contenders(hs256, with_redis)[-1]
    store = guarded_store(contender)
    raw = store.store

    def twice(*args):
        raw.is_revoked(*args)
        return raw.is_revoked(*args)

    store.is_revoked = twice
    with pytest.raises(AssertionError, match="one MGET per request.*'mget': 6"):
        contender.check()


def test_redis_contenders_left_out_without_a_server(hs256, without_redis):
    assert [c.key for c in lifecycle.store_contenders(hs256, without_redis)] == [
        "D-sqlite"
    ]
    refreshers = lifecycle.refresh_contenders(hs256, without_redis)
    assert [c.key for c in refreshers] == ["memory", "sqlite"]
    assert report.skipped_lines({"skipped": ["the Redis contenders: why"]}) == [
        "!!! SKIPPED: the Redis contenders: why"
    ]


def test_open_backends_skips_redis_when_missing(monkeypatch):
    monkeypatch.setattr(backends, "redis_server_binary", lambda: None)
    messages = []
    with backends.open_backends(True, messages.append) as stores:
        assert stores.redis_url is None
        assert "not installed" in stores.redis_skipped
        directory = stores.directory
        assert directory.is_dir()
    assert not directory.exists()
    assert messages and messages[0].startswith("!!! the Redis contenders are SKIPPED")


def test_benchmark_redis_server_starts_and_stops():
    with backends.RedisServer(require_redis_server()) as server:
        with redis.Redis.from_url(server.url) as client:
            assert client.ping()
        pid = server.pid
        assert pid is not None
    assert not server.running
    assert server.pid is None
    assert not os.path.exists(server.tmpdir)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_refresh_spends_a_fresh_token_per_call(hs256, with_redis):
    refreshers = lifecycle.refresh_contenders(hs256, with_redis)
    assert [c.key for c in refreshers] == ["memory", "sqlite", "redis"]
    timings = lifecycle.run_refresh(refreshers, rounds=2, batch=3)
    assert [timing.key for timing in timings] == ["memory", "sqlite", "redis"]
    for timing in timings:
        assert timing.batch == 3 and len(timing.per_round_us) == 2
        assert timing.min_us > 0


def test_refresh_timing_refuses_a_spent_token(hs256, without_redis):
    contender = lifecycle.refresh_contenders(hs256, without_redis)[0]
    (entry,) = contender.pool(1)
    contender.pool = lambda count: [entry] * count
    with pytest.raises(AssertionError, match="memory: 2 of 3 refreshes failed"):
        lifecycle.run_refresh([contender], rounds=1, batch=3)


def test_refresh_check_notices_tokens_not_spent(hs256, without_redis):
    contender = lifecycle.refresh_contenders(hs256, without_redis)[1]
    app = contender.app
    adapter = app.url_map.bind("127.0.0.1")
    endpoint, _ = adapter.match(lifecycle.REFRESH_PATH, method="POST")
    # A refresh endpoint that never spends: it just logs in again.
    app.view_functions[endpoint] = lambda: lifecycle.login(app)
    with pytest.raises(AssertionError, match="sqlite.*a spent token was accepted"):
        contender.check()


def test_store_targets():
    ratios = {"D-sqlite/A": 0.85, "D-redis/A": 0.5, "D-redis/C-redis": 1.6}
    http_ratios = {"D-sqlite/A": 0.79, "D-redis/A": 0.61, "D/A": 1.0}
    results = {
        "protected": {"HS256": {"ratios": ratios}},
        "http": {"ratios": http_ratios},
    }
    evaluated = report.evaluate_targets(results)
    in_process = [row for row in evaluated if row["measured"] == "in-process"]
    per_algorithm = [(tg, alg) for tg in report.TARGETS for alg in tg.algorithms]
    verdicts = {
        f"{target.numerator}/{target.denominator}": (row["ratio"], row["met"])
        for (target, algorithm), row in zip(per_algorithm, in_process, strict=True)
        if algorithm == "HS256"
    }
    assert verdicts["D-sqlite/A"] == (0.85, True)
    assert verdicts["D-redis/A"] == (0.5, False)
    assert verdicts["D-redis/C-redis"] == (1.6, True)
    assert verdicts["D/A"] == (None, None)
    # Over HTTP: the three store targets only, each labelled.
    over_http = [
        (row["name"], row["ratio"], row["met"])
        for row in evaluated
        if row["measured"] == "HTTP"
    ]
    assert over_http == [
        ("warm D-sqlite >= 0.80x A (SQLite store)", 0.79, False),
        ("warm D-redis >= 0.60x A (Redis store)", 0.61, True),
        ("warm D-redis >= 1.50x C-redis (FJE Redis blocklist)", None, None),
    ]
    printed = "\n".join(report.format_targets(evaluated))
    assert "HTTP       warm D-redis >= 0.60x A (Redis store)" in printed
    # D/A, E/B, E/C, issuance; 3 keys, twice per algorithm; HTTP C-redis
    assert printed.count("NOT RUN") == 4 + 2 * 4 + 1


def test_targets_without_an_http_part():
    evaluated = report.evaluate_targets({"protected": {}, "http": None})
    assert [row["met"] for row in evaluated] == [None] * 18


def test_key_set_targets_on_every_algorithm():
    timings = {
        key: {"per_round_us": per_round}
        for key, per_round in {
            "A": [10.0, 20.0],
            "B": [20.0, 40.0],
            "C": [40.0, 80.0],
            "D": [10.0, 20.0],
            "D3": [10.4, 20.8],  # 4% slower
            "E": [12.0, 24.0],
            "E3": [12.0, 27.0],
        }.items()
    }
    ratios = report.throughput_ratios(timings, report.PROTECTED_RATIOS)
    assert ratios["D3/D"] == pytest.approx(1 / 1.04)
    assert ratios["D3/A"] == pytest.approx(ratios["D/A"] * ratios["D3/D"])
    assert ratios["E3/E"] == pytest.approx((1 + 24 / 27) / 2)
    results = {"protected": {"HS256": {"ratios": ratios}, "EdDSA": {"ratios": {}}}}
    key_set = [
        (row["algorithm"], row["ratio"], row["met"])
        for row in report.evaluate_targets(results)
        if "3 keys" in row["name"]
    ]
    not_run = [(algorithm, None, None) for algorithm in ("RS256", "ES256", "EdDSA")]
    assert key_set == [
        ("HS256", ratios["D3/D"], True),
        *not_run,
        ("HS256", ratios["E3/E"], False),
        *not_run,
    ]
    printed = report.format_targets(report.evaluate_targets(results))

    def line(name):
        (found,) = [line for line in printed if name in line]
        return found

    assert line("HS256: 3 keys: D3/A within 5% of D/A (D3/D >= 0.95x)").endswith(
        " 0.96x  MET"
    )
    assert line("HS256: 3 keys: E3/B").endswith(" 0.94x  MISSED")
    assert line("EdDSA: 3 keys: E3/B").endswith("-  NOT RUN")
    lines = report._key_set_lines(ratios)
    assert lines == [
        "  3 keys vs 1: D3/A 0.96x vs D/A 1.00x   D3/D 0.962x",
        "  3 keys vs 1: E3/B 1.57x vs E/B 1.67x   E3/C 3.15x vs E/C 3.33x"
        "   E3/E 0.944x",
    ]

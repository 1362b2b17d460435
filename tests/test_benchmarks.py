"""Smoke test of the benchmark apps: they must measure successes, not errors.

Every contender must answer 200 with the user's body for a valid token, and
401 without one (the bare route A excepted: it has no authentication), so
``python -m benchmarks`` can never silently time error responses.
"""

from __future__ import annotations

import json

import pytest

# The benchmark apps import Flask-JWT-Extended, from the ``bench`` extra; with
# only ``dev`` installed, skip rather than fail at collection. (gunicorn, the
# extra's other package, is imported only when an HTTP run starts.)
pytest.importorskip(
    "flask_jwt_extended",
    reason="the benchmarks need the bench extra: pip install -e '.[bench]'",
)

from benchmarks import apps
from benchmarks import cli
from benchmarks import harness
from benchmarks import httpbench
from benchmarks import scaling
from benchmarks.common import ALGORITHMS
from benchmarks.common import EXPECTED_BODY
from benchmarks.common import make_keys
from benchmarks.common import PROTECTED_PATH
from benchmarks.wsgi import call
from benchmarks.wsgi import json_body
from benchmarks.wsgi import make_environ


@pytest.fixture(scope="module", params=list(ALGORITHMS.values()))
def keys(request):
    return make_keys(request.param)


def test_protected_contenders_answer_200_then_401(keys):
    contenders = apps.protected_contenders(keys, cold_tokens=3, fjwte_key_objects=True)
    expected = (
        ["A", "B", "C", "D", "E"] if keys.symmetric else ["A", "B", "C", "C*", "D", "E"]
    )
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


def test_cold_contender_cycles_distinct_tokens(keys):
    contenders = apps.protected_contenders(keys, cold_tokens=3)
    cold = contenders[-1]
    assert cold.key == "E"
    assert cold.app.config[apps.CACHE_KEY] == 0
    headers = {environ["HTTP_AUTHORIZATION"] for environ in cold.environs}
    assert len(headers) == 3
    for environ in cold.environs:
        assert call(cold.app.wsgi_app, environ).status == 200


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
    assert [timing.key for timing in timings] == ["A", "B", "C", "D", "E"]
    for timing in timings:
        assert len(timing.per_round_us) == 2
        assert 0 < timing.min_us <= timing.median_us <= timing.max_us


@pytest.mark.parametrize("key", ["A", "C", "D"])
def test_http_apps(key):
    app = apps.http_app(key)
    environ = make_environ(PROTECTED_PATH, authorization=apps.http_authorization(key))
    response = call(app.wsgi_app, environ)
    assert (response.status, response.body) == (200, EXPECTED_BODY)


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
    assert cli.selection(["hs256"]) == (["HS256"], ["HS256"], False)
    assert cli.selection(["issuance", "scaling"]) == (
        [],
        ["HS256", "RS256", "ES256", "EdDSA"],
        True,
    )

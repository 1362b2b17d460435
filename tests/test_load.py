"""The load test (``make load``), short: gunicorn workers sharing a store,
driven by the same virtual users; and proof that its checks can fail."""

from __future__ import annotations

import asyncio
import itertools
import json

import httpx
import pytest

from benchmarks import load
from benchmarks.httpbench import gunicorn_available
from benchmarks.load_ledger import INVARIANTS
from benchmarks.load_ledger import Ledger
from benchmarks.load_ledger import render
from benchmarks.load_users import Load

needs_gunicorn = pytest.mark.skipif(
    not gunicorn_available(), reason="gunicorn is not installed (the bench extra)"
)


def assert_meaningful(
    outcome: load.Outcome, workers: int, *, every_path: bool = True
) -> None:
    """Every invariant held, and was checked: the run did what it claims.

    :param every_path: whether the run was long enough to require each
        kind of session: a logout racing a refresh is the last step of one
        user's first session, which a loaded machine may not reach in a
        second or two.
    """
    ledger = outcome.ledger
    assert outcome.passed, outcome.render()
    unchecked = [name for name, rec in ledger.invariants.items() if not rec.checks]
    assert unchecked == [], outcome.render()
    assert ledger.requests("protected") > (50 if every_path else 10), outcome.render()
    races = sum(
        n for event, n in ledger.events.items() if event.startswith("refresh races of")
    )
    assert races >= 1, outcome.render()
    assert ledger.events.get("logouts answered 204", 0) >= 1, outcome.render()
    if every_path:
        racing = ledger.events.get("logouts racing a refresh", 0)
        assert racing >= 1, outcome.render()
    assert len(set().union(*ledger.workers.values())) == workers, outcome.render()
    assert outcome.log_trouble() == [], outcome.render()


@needs_gunicorn
def test_short_run_on_sqlite(tmp_path):
    # A new file, which the workers turn to WAL as they first meet it.
    path = tmp_path / "load.sqlite3"
    outcome = load.run(f"sqlite:///{path}", seconds=3, workers=2, users=8)
    assert_meaningful(outcome, workers=2)


@needs_gunicorn
def test_short_run_on_redis(redis_server):
    # Shorter: the SQLite run covers every kind of session; this one, that
    # workers share what Redis holds.
    outcome = load.run(redis_server.url, seconds=1.5, workers=2, users=8)
    assert_meaningful(outcome, workers=2, every_path=False)


class ForgetfulServer:
    """Issues tokens and accepts every one it issued, revoked or spent: what
    a server whose store loses every write would do."""

    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.serial = itertools.count()

    def pair(self, username: str) -> httpx.Response:
        n = next(self.serial)
        access, refresh = f"access-{n}", f"refresh-{n}"
        self.owners[access] = self.owners[refresh] = username
        return httpx.Response(
            200, json={"access_token": access, "refresh_token": refresh}
        )

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/auth":
            return self.pair(json.loads(request.content)["username"])
        if path == "/auth/refresh":
            token = json.loads(request.content)["refresh_token"]
            return self.pair(self.owners[token])
        if path == "/auth/revoke":
            return httpx.Response(204)
        token = request.headers["Authorization"].removeprefix("JWT ")
        return httpx.Response(200, text=self.owners[token])


def test_virtual_users_catch_a_server_that_forgets():
    ledger = Ledger()

    async def drive() -> None:
        transport = httpx.MockTransport(ForgetfulServer())
        async with Load("http://load.test", ledger, 0.3, transport) as run:
            await run.run(users=8)
            await run.final_checks()

    asyncio.run(drive())
    assert ledger.violated() == [
        "revoked_refused",
        "no_lost_revocation",
        "one_winner",
        "one_successor",
        "spent_refused",
    ]
    assert "revoked access token (logout): 200, expected 401" in (
        ledger.invariants["revoked_refused"].violations
    )


def test_ledger_reports_a_5xx_and_a_request_without_answer():
    ledger = Ledger()
    ledger.answer("protected", 200, 0.002)
    ledger.answer("protected", 503, 0.001)
    ledger.answer("login", None, 10.0, "ReadTimeout")
    # 5xx and no answer count once each, not again as the check they fail.
    assert not ledger.expect("live_accepted", 503, 200, "a live access token")
    assert ledger.violated() == ["no_5xx", "answered"]
    report = render(ledger, ["title"], seconds=1.0, final_seconds=0.0)
    assert f"FAIL: {INVARIANTS['no_5xx']}: 1 times\n    protected: 503" in report
    assert f"FAIL: {INVARIANTS['answered']}: 1 times" in report
    assert "PASS" not in report


def test_ledger_passes_a_clean_run():
    ledger = Ledger()
    ledger.answer("probe", 401, 0.001)
    assert ledger.expect("revoked_refused", 401, 401, "a revoked token")
    assert ledger.violated() == []
    report = render(ledger, ["title"], seconds=1.0, final_seconds=0.0)
    assert report.endswith("PASS: every invariant held")

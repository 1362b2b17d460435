"""``python -m benchmarks.load``: a bounded load test against a real server.

gunicorn serves :mod:`benchmarks.load_app` with several sync workers on a
free loopback port. They share their state only through the token store:
an SQLite file in a temporary directory (the embedded default), or a
private redis-server (``--store redis``). Virtual users
(:mod:`benchmarks.load_users`) drive it for a fixed time, checking the
invariants as they go; the report gives the latencies per operation and
the invariants (:mod:`benchmarks.load_ledger`). The exit status is 1 if an
invariant did not hold, 2 if the run could not start.

``make load`` runs it on each store in turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from .backends import ChildProcess
from .backends import dying_with_parent
from .backends import free_port
from .backends import HOST
from .backends import open_backends
from .cli import progress as print_progress
from .httpbench import gunicorn_available
from .load_app import PROTECTED_PATH
from .load_app import WORKER_HEADER
from .load_ledger import Ledger
from .load_ledger import render
from .load_users import Load
from .load_users import USERS_PER_PROBER

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECONDS = 20.0
DEFAULT_WORKERS = 4
DEFAULT_USERS = 32
STORES = ("sqlite", "redis")
#: The SQLite file of the workers, in the run's temporary directory.
SQLITE_FILE = "load.sqlite3"
#: Seconds for every worker to load the app and answer.
READY_TIMEOUT = 30.0
#: Seconds a worker has to finish its request when the server stops.
GRACEFUL_TIMEOUT = 5
#: What marks trouble in the server's log: a traceback, or gunicorn
#: reporting an error (a worker that timed out, or died).
LOG_TROUBLE = ("Traceback", "[ERROR]", "[CRITICAL]")
LOG_EXCERPT_LINES = 40
#: The share of a core above which the client, not the server, sets the pace.
CLIENT_BOUND_CPU = 0.9
CLIENT_BOUND = ": the client sets the pace, the rates are a floor"

Progress = Callable[[str], None]


def entry_point(store_url: str) -> str:
    """gunicorn's app, with a literal argument it evaluates in each worker."""
    return f"benchmarks.load_app:create_app({store_url!r})"


def control_socket_off() -> list[str]:
    """``--no-control-socket`` where this gunicorn has it: the control
    socket's default path is one per user, shared by every gunicorn they
    run."""
    from gunicorn.config import KNOWN_SETTINGS

    flag = "--no-control-socket"
    return [flag] if any(flag in (s.cli or ()) for s in KNOWN_SETTINGS) else []


class Gunicorn:
    """gunicorn serving the load app with ``workers`` sync workers on a free
    loopback port, in a child that dies with this process. Use
    :meth:`wait_ready`, then :meth:`stop` (safe to call again)."""

    def __init__(self, store_url: str, workers: int) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        argv = [
            sys.executable, "-m", "gunicorn",
            "--workers", str(workers),
            "--bind", f"{HOST}:{self.port}",
            "--chdir", str(ROOT),
            "--graceful-timeout", str(GRACEFUL_TIMEOUT),
            "--log-level", "warning",
            *control_socket_off(),
            entry_point(store_url),
        ]  # fmt: skip
        # A file, not a pipe: a pipe nobody reads blocks the server once full.
        log = tempfile.TemporaryFile(prefix="jwt-blueprint-load-")
        self.child = ChildProcess(dying_with_parent(argv), log)

    async def wait_ready(self, client: httpx.AsyncClient) -> None:
        """Until every worker has answered ``GET /protected`` without a token
        (401): the first requests of the run must not wait for a worker that
        is still loading the app. Concurrent requests, as a busy sync worker
        accepts no other, so the idle ones answer.

        :raises RuntimeError: with the end of the server's log, if it exits,
            answers anything else, or not every worker answers in time.
        """
        what = f"gunicorn on port {self.port}"
        deadline = time.monotonic() + READY_TIMEOUT
        seen: set[str] = set()
        while len(seen) < self.workers:
            if not self.child.running():
                raise self.child.failure(what, "did not start")
            if time.monotonic() > deadline:
                raise self.child.failure(
                    what,
                    f"had {len(seen)} of {self.workers} workers answering"
                    f" after {READY_TIMEOUT:g} s",
                )
            answers = await asyncio.gather(
                *(client.get(PROTECTED_PATH) for _ in range(2 * self.workers)),
                return_exceptions=True,
            )
            for answer in answers:
                if isinstance(answer, httpx.TransportError):
                    continue
                if isinstance(answer, BaseException):
                    raise answer
                if answer.status_code != 401 or WORKER_HEADER not in answer.headers:
                    raise self.child.failure(
                        what, f"answered {answer.status_code} {answer.text[:200]!r}"
                    )
                seen.add(answer.headers[WORKER_HEADER])
            if len(seen) < self.workers:
                await asyncio.sleep(0.05)

    def log_text(self) -> str:
        """What the server has written so far (its stdout and stderr)."""
        fd = self.child.log.fileno()
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")

    def stop(self) -> None:
        self.child.stop()


@dataclass
class Outcome:
    """One run: the ledger, and what the report says about the setup."""

    ledger: Ledger
    store: str
    workers: int
    users: int
    #: Seconds of the timed phase, and of the final checks after it.
    seconds: float
    final_seconds: float
    #: Client CPU time over the timed phase, in seconds.
    client_cpu: float
    server_log: str

    @property
    def passed(self) -> bool:
        return not self.ledger.violated()

    def log_trouble(self) -> list[int]:
        """The indexes of the server log's lines that mark trouble."""
        return [
            index
            for index, line in enumerate(self.server_log.splitlines())
            if any(mark in line for mark in LOG_TROUBLE)
        ]

    def render(self) -> str:
        """The report, as a table."""
        import gunicorn

        ledger = self.ledger
        answered = set().union(*ledger.workers.values())
        probers = max(1, self.users // USERS_PER_PROBER)
        final = ledger.requests("final")
        trouble = self.log_trouble()
        cpu = self.client_cpu / self.seconds
        title = [
            f"jwt_blueprint load test, store: {self.store}",
            f"server: gunicorn {gunicorn.__version__}, {self.workers} sync workers;"
            f" {len(answered)} answered requests, {len(ledger.workers['probe'])}"
            f" answered probes; {os.cpu_count()} CPUs on this machine",
            f"client: {self.users} virtual users and {probers} probers (asyncio,"
            f" httpx {httpx.__version__}) for {self.seconds:.1f} s, using"
            f" {cpu:.0%} of a core" + (CLIENT_BOUND if cpu >= CLIENT_BOUND_CPU else ""),
            f"final checks: {final} requests in {self.final_seconds:.1f} s"
            " (every revoked token, then every spent refresh token)",
            f"server log: {len(self.server_log.splitlines())} lines,"
            f" {len(trouble)} with a traceback or an error",
        ]
        text = render(ledger, title, self.seconds, self.final_seconds)
        if trouble:
            # From the line before: a logged error's message precedes its
            # traceback.
            start = max(0, trouble[0] - 1)
            excerpt = self.server_log.splitlines()[start : start + LOG_EXCERPT_LINES]
            text += "\n\nThe server's log, from its first trouble:\n"
            text += "\n".join(excerpt)
        return text


def run(
    store_url: str,
    *,
    seconds: float = DEFAULT_SECONDS,
    workers: int = DEFAULT_WORKERS,
    users: int = DEFAULT_USERS,
    store: str | None = None,
    progress: Progress = lambda _: None,
) -> Outcome:
    """Serve the load app on ``store_url`` (a ``JWT_TOKEN_STORE`` URL) and
    drive it: the timed phase, then the final checks. The server is always
    stopped.

    :param store: how the report names the store; the URL by default.
    :raises RuntimeError: if the server does not come up.
    """
    ledger = Ledger()
    server = Gunicorn(store_url, workers)
    try:
        progress(f"gunicorn: {workers} workers on {server.url}, store {store_url}")
        timings = asyncio.run(_drive(server, ledger, seconds, users, progress))
        server_log = server.log_text()
    finally:
        server.stop()
    return Outcome(ledger, store or store_url, workers, users, *timings, server_log)


async def _drive(
    server: Gunicorn, ledger: Ledger, seconds: float, users: int, progress: Progress
) -> tuple[float, float, float]:
    async with Load(server.url, ledger, seconds) as load:
        await server.wait_ready(load.fresh)
        progress(f"load: {users} virtual users for {seconds:g} s")
        cpu, start = time.process_time(), time.perf_counter()
        await load.run(users)
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - cpu
        progress(f"final checks: {len(load.revoked)} revoked, {len(load.spent)} spent")
        start = time.perf_counter()
        await load.final_checks()
        final_elapsed = time.perf_counter() - start
    return elapsed, final_elapsed, client_cpu


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description="Load gunicorn workers sharing a token store, and check"
        " that no revocation is lost and no refresh token is spent twice.",
    )
    parser.add_argument(
        "--seconds", type=float, default=DEFAULT_SECONDS, help="%(default)s"
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="%(default)s"
    )
    parser.add_argument(
        "--users", type=int, default=DEFAULT_USERS, help="virtual users (%(default)s)"
    )
    parser.add_argument(
        "--store",
        choices=STORES,
        default="sqlite",
        help="an SQLite file, or a private redis-server (%(default)s)",
    )
    args = parser.parse_args(argv)
    for name in ("seconds", "workers", "users"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not gunicorn_available():
        print("gunicorn is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    with_redis = args.store == "redis"
    with open_backends(with_redis, print_progress) as backends:
        if with_redis:
            if backends.redis_url is None:
                print(f"cannot run on Redis: {backends.redis_skipped}", file=sys.stderr)
                return 2
            url = backends.redis_url
            store = f"Redis, a private redis-server ({url})"
        else:
            url = backends.sqlite_url(SQLITE_FILE)
            store = f"SQLite, one file ({url})"
        outcome = run(
            url,
            seconds=args.seconds,
            workers=args.workers,
            users=args.users,
            store=store,
            progress=print_progress,
        )
    print(outcome.render(), flush=True)
    return 0 if outcome.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())

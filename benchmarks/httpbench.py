"""Over HTTP: gunicorn (2 sync workers, 127.0.0.1 only) loaded by ``wrk``.

Protected route only: A (bare), C (Flask-JWT-Extended) and D (jwt_blueprint,
warm), and the token store contenders set up as in-process, C-redis, D-sqlite
and D-redis, whose workers share an SQLite file or the run's redis-server
(:class:`~.backends.Backends`). Their tokens are minted and revoked before
the servers start, by an app with the same config on the same store.

Every server starts first and is checked: 200 and the body for the token wrk
sends, 401 for a revoked one, one Redis command per request. After an
untimed warm-up the load runs in rounds, rotating the order, for a bounded
time each. The servers are always stopped, whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from .apps import http_headers
from .apps import HttpHeaders
from .backends import Backends
from .backends import free_port
from .common import EXPECTED_BODY
from .common import PROTECTED_PATH
from .lifecycle import PROBE_REQUESTS
from .lifecycle import redis_calls

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = {
    "A": "bare Flask route",
    "C": "Flask-JWT-Extended @jwt_required()",
    "D": "jwt_blueprint @jwt_required() (warm)",
    "C-redis": "Flask-JWT-Extended + Redis blocklist",
    "D-sqlite": "jwt_blueprint, SQLite store (warm)",
    "D-redis": "jwt_blueprint, Redis store (warm)",
}
#: The one command a request of each Redis contender sends to the server.
REDIS_COMMANDS = {"C-redis": "get", "D-redis": "mget"}
#: The SQLite file of D-sqlite's workers, in the run's temporary directory.
SQLITE_FILE = "http.sqlite3"
#: What a worker's first connection sends (which worker the kernel hands a
#: request to is not ours to choose), and the counting itself.
SETUP_COMMANDS = frozenset({"info", "client|setinfo", "hello", "select"})
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def gunicorn_available() -> bool:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def served_keys(backends: Backends) -> list[str]:
    """The contenders to serve: the Redis ones only with a server."""
    return [
        key
        for key in CONTENDERS
        if key not in REDIS_COMMANDS or backends.redis_url is not None
    ]


def store_url(key: str, backends: Backends) -> str | None:
    """The store of contender ``key``'s workers, ``None`` if it has none."""
    if key == "D-sqlite":
        return backends.sqlite_url(SQLITE_FILE)
    if key in REDIS_COMMANDS:
        return backends.redis_url
    return None


def entry_point(key: str, store_url: str | None = None) -> str:
    """gunicorn's app: ``benchmarks.apps:http_app(...)`` with literal
    arguments, which gunicorn evaluates in each worker."""
    args = repr(key) if store_url is None else f"{key!r}, {store_url!r}"
    return f"benchmarks.apps:http_app({args})"


def settled_redis_calls(redis_url: str, timeout: float = 5) -> dict[str, int]:
    """The server's command counts once they stop moving: a worker still
    serves the requests wrk had sent when it stopped."""
    deadline = time.monotonic() + timeout
    calls = _data_calls(redis_url)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        previous, calls = calls, _data_calls(redis_url)
        if calls == previous:
            break
    return calls


def _data_calls(redis_url: str) -> dict[str, int]:
    return {
        name: calls
        for name, calls in redis_calls(redis_url).items()
        if name not in SETUP_COMMANDS
    }


class Server:
    """One gunicorn in its own process group, stopped on exit."""

    def __init__(self, key: str, store_url: str | None = None) -> None:
        self.key = key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{PROTECTED_PATH}"
        # A file, not a pipe: a pipe nobody reads blocks the server once full.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(ROOT),
                "--log-level",
                "warning",
                entry_point(key, store_url),
            ],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )

    def get(self, authorization: str) -> tuple[int, bytes]:
        """One GET of the protected route: the status and the body."""
        request = urllib.request.Request(
            self.url, headers={"Authorization": authorization}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()

    def wait_ready(self, headers: HttpHeaders, timeout: float = 30) -> None:
        """Poll until the route answers, then :meth:`check` it."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self.log.seek(0)
                stderr = self.log.read().decode(errors="replace")
                raise RuntimeError(f"gunicorn {self.key} exited: {stderr}")
            try:
                self.get(headers.valid)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            else:
                self.check(headers)
                return

    def check(self, headers: HttpHeaders) -> None:
        """200 and user 1's body for the token wrk sends; 401 for the
        revoked one, if any.

        :raises AssertionError: on any other answer.
        """
        status, body = self.get(headers.valid)
        assert (status, body) == (200, EXPECTED_BODY), (
            f"HTTP {self.key} answered {status} {body[:200]!r}"
        )
        if headers.revoked is not None:
            status, _ = self.get(headers.revoked)
            assert status == 401, f"HTTP {self.key}: a revoked token got {status}"

    def check_redis_commands(
        self, authorization: str, redis_url: str, command: str
    ) -> None:
        """The server ran ``command`` once per request, and nothing else.

        :raises AssertionError: naming what it ran.
        """
        before = settled_redis_calls(redis_url)
        for _ in range(PROBE_REQUESTS):
            assert self.get(authorization)[0] == 200, f"HTTP {self.key}: not 200"
        ran = {
            name: calls - before.get(name, 0)
            for name, calls in _data_calls(redis_url).items()
            if calls != before.get(name, 0)
        }
        assert ran == {command: PROBE_REQUESTS}, (
            f"HTTP {self.key}: expected one {command.upper()} per request,"
            f" the server ran {ran}"
        )

    def stop(self) -> None:
        """SIGTERM this server's process group, SIGKILL if it lingers."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.log.close()


def parse_wrk(output: str) -> dict[str, t.Any]:
    """Requests/s, the median latency and any errors from ``wrk --latency``."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:(.*)", output)
    if rps is None:
        raise RuntimeError(f"cannot read wrk output:\n{output}")
    return {
        "rps": float(rps.group(1)),
        "p50_ms": float(p50.group(1)) * _UNITS[p50.group(2)] * 1e3 if p50 else None,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else None,
    }


def run_wrk(url: str, authorization: str, seconds: int, connections: int) -> str:
    completed = subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds}s",
            "--latency",
            "--header",
            f"Authorization: {authorization}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    return completed.stdout


def run_http(
    rounds: int,
    seconds: int,
    backends: Backends,
    connections: int = 8,
    warmup_seconds: int = 1,
    progress: t.Callable[[str], None] = lambda _: None,
) -> dict[str, t.Any]:
    """Serve every contender with gunicorn and load each with wrk, interleaved.

    :param backends: where the store contenders keep their state; without a
        Redis server the Redis contenders are left out.
    :return: ``{"skipped": reason}`` if gunicorn or wrk is missing, else the
        figures per contender.
    :raises AssertionError: if a server fails its check.
    """
    if shutil.which("wrk") is None:
        return {"skipped": "wrk not found (apt-get install -y wrk)"}
    if not gunicorn_available():
        return {"skipped": "gunicorn not installed (pip install gunicorn)"}
    keys = served_keys(backends)
    urls = {key: store_url(key, backends) for key in keys}
    # Minted before the servers start: this writes the revocations (and the
    # SQLite schema) the workers then read.
    headers = {key: http_headers(key, urls[key]) for key in keys}
    runs: dict[str, list[dict[str, t.Any]]] = {key: [] for key in keys}
    with ExitStack() as stack:
        servers = {}
        for key in keys:
            server = Server(key, urls[key])
            stack.callback(server.stop)
            servers[key] = server
        for key, server in servers.items():
            server.wait_ready(headers[key])
        progress(f"http: {', '.join(keys)} answer; warming up {warmup_seconds} s each")
        for key, server in servers.items():
            run_wrk(server.url, headers[key].valid, warmup_seconds, connections)
            if key in REDIS_COMMANDS:
                redis_url = t.cast(str, urls[key])
                server.check_redis_commands(
                    headers[key].valid, redis_url, REDIS_COMMANDS[key]
                )
        for round_ in range(rounds):
            shift = round_ % len(keys)
            for key in keys[shift:] + keys[:shift]:
                progress(f"http: round {round_ + 1}/{rounds}, {key}")
                output = run_wrk(
                    servers[key].url, headers[key].valid, seconds, connections
                )
                runs[key].append(parse_wrk(output))
        for key, server in servers.items():
            server.check(headers[key])
    results: dict[str, t.Any] = {}
    for key in keys:
        rps = [run["rps"] for run in runs[key]]
        latencies = [run["p50_ms"] for run in runs[key] if run["p50_ms"] is not None]
        results[key] = {
            "label": CONTENDERS[key],
            "entry_point": entry_point(key, urls[key]),
            "median_rps": statistics.median(rps),
            "min_rps": min(rps),
            "max_rps": max(rps),
            "median_us": 1e6 / statistics.median(rps),
            "per_round_us": [1e6 / value for value in rps],
            "p50_latency_ms": statistics.median(latencies) if latencies else None,
            "non_2xx": sum(run["non_2xx"] for run in runs[key]),
            "socket_errors": [run["socket_errors"] for run in runs[key]],
            "runs": runs[key],
        }
    return {
        "workers": 2,
        "connections": connections,
        "seconds": seconds,
        "warmup_seconds": warmup_seconds,
        "rounds": rounds,
        "contenders": results,
    }

"""Over HTTP: gunicorn (2 sync workers, 127.0.0.1 only) loaded by ``wrk``.

Protected route only, A (bare) against C (Flask-JWT-Extended) against D
(jwt_blueprint, warm). All three servers start first; the load then runs in
rounds, rotating the order, for a bounded time each. The servers are always
stopped, whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import typing as t
import urllib.error
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from .apps import http_authorization
from .common import EXPECTED_BODY
from .common import PROTECTED_PATH

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = {
    "A": "bare Flask route",
    "C": "Flask-JWT-Extended @jwt_required()",
    "D": "jwt_blueprint @jwt_required() (warm)",
}
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def gunicorn_available() -> bool:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One gunicorn in its own process group, stopped on exit."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{PROTECTED_PATH}"
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
                f"benchmarks.apps:http_app({key!r})",
            ],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, authorization: str, timeout: float = 30) -> None:
        """Poll until the route answers; it must answer 200 and user 1.

        :raises AssertionError: on any other answer.
        """
        deadline = time.monotonic() + timeout
        req = urllib.request.Request(self.url, headers={"Authorization": authorization})
        while True:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"gunicorn {self.key} exited: {stderr.decode()}")
            try:
                with urllib.request.urlopen(req, timeout=2) as response:
                    body = response.read()
                    assert response.status == 200, (self.key, response.status)
                    assert body == EXPECTED_BODY, (self.key, body)
                    return
            except urllib.error.HTTPError as exc:
                raise AssertionError(f"HTTP {self.key} answered {exc.code}") from None
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

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
        if self.process.stderr:
            self.process.stderr.close()


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
    connections: int = 8,
    progress: t.Callable[[str], None] = lambda _: None,
) -> dict[str, t.Any]:
    """Serve A, C and D with gunicorn and load each with wrk, interleaved.

    :return: ``{"skipped": reason}`` if gunicorn or wrk is missing, else the
        figures per contender.
    """
    if shutil.which("wrk") is None:
        return {"skipped": "wrk not found (apt-get install -y wrk)"}
    if not gunicorn_available():
        return {"skipped": "gunicorn not installed (pip install gunicorn)"}
    authorization = {key: http_authorization(key) for key in CONTENDERS}
    runs: dict[str, list[dict[str, t.Any]]] = {key: [] for key in CONTENDERS}
    with ExitStack() as stack:
        servers = {}
        for key in CONTENDERS:
            server = Server(key)
            stack.callback(server.stop)
            servers[key] = server
        for key, server in servers.items():
            server.wait_ready(authorization[key])
        keys = list(CONTENDERS)
        for round_ in range(rounds):
            shift = round_ % len(keys)
            for key in keys[shift:] + keys[:shift]:
                progress(f"http: round {round_ + 1}/{rounds}, {key}")
                output = run_wrk(
                    servers[key].url, authorization[key], seconds, connections
                )
                runs[key].append(parse_wrk(output))
    results: dict[str, t.Any] = {}
    for key, label in CONTENDERS.items():
        rps = [run["rps"] for run in runs[key]]
        latencies = [run["p50_ms"] for run in runs[key] if run["p50_ms"] is not None]
        results[key] = {
            "label": label,
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
        "rounds": rounds,
        "contenders": results,
    }

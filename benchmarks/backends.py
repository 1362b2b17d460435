"""What the store contenders run against: an SQLite file in a temporary
directory, and a private redis-server.

The server is Debian's ``redis-server`` binary on a free loopback port,
without persistence, started by :func:`open_backends` and stopped by its PID
when the run ends, even on error. (The tests have their own in
``tests/servers.py``; the benchmarks do not import from ``tests/``.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import types
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import redis

HOST = "127.0.0.1"
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
INSTALL_HINT = "apt-get install redis-server"


def redis_server_binary() -> str | None:
    """The redis-server executable, also where Debian puts it off PATH."""
    found = shutil.which("redis-server")
    if found is not None:
        return found
    for candidate in ("/usr/bin/redis-server", "/usr/sbin/redis-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


class RedisServer:
    """A redis-server of our own on a free loopback port, no persistence.

    Starts on construction (and answers ``PING``), or raises
    :class:`RuntimeError` with the end of its log.
    """

    def __init__(self, binary: str) -> None:
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="jwt-blueprint-bench-redis-")
        self.log_path = Path(self.directory) / "redis-server.log"
        argv = [
            binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", self.directory,
        ]  # fmt: skip
        setpriv = shutil.which("setpriv")
        if setpriv is not None and sys.platform == "linux":
            # Dies with the benchmark even if that is killed outright.
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            self._wait_for_ping()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def _wait_for_ping(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        with redis.Redis(
            host=HOST, port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5
        ) as client:
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError):
                    time.sleep(0.02)
        status = self.process.poll()
        problem = "did not answer PING" if status is None else f"exited ({status})"
        log = self.log_path.read_text(errors="replace").strip().splitlines()[-20:]
        raise RuntimeError(
            f"redis-server on port {self.port} {problem}; its log ends with:\n"
            + "\n".join(log)
        )

    def close(self) -> None:
        """Stop the server by its PID and remove its directory; idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


class Backends:
    """Where the store contenders keep their state, and what to close.

    :param redis_url: the Redis server of the Redis contenders, or ``None``
        to leave them out.
    :param redis_skipped: why there is no Redis server, for the report.
    """

    def __init__(self, redis_url: str | None, redis_skipped: str | None = None) -> None:
        self.redis_url = redis_url
        self.redis_skipped = redis_skipped
        self._cleanup = contextlib.ExitStack()
        self.directory = Path(
            self._cleanup.enter_context(
                tempfile.TemporaryDirectory(prefix="jwt-blueprint-bench-")
            )
        )

    def sqlite_url(self, name: str) -> str:
        """A ``JWT_TOKEN_STORE`` URL for a new SQLite file (absolute path)."""
        return f"sqlite:///{self.directory / name}"

    def on_close(self, callback: Callable[[], t.Any]) -> None:
        """Call ``callback`` when the backends close (last added, first)."""
        self._cleanup.callback(callback)

    def close(self) -> None:
        self._cleanup.close()

    def __enter__(self) -> Backends:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.close()


@contextlib.contextmanager
def open_backends(
    with_redis: bool, progress: Callable[[str], None] = lambda _: None
) -> Iterator[Backends]:
    """:class:`Backends` with a redis-server of our own when ``with_redis``.

    Without one (not installed, or it would not start), the Redis
    contenders are left out, and :attr:`Backends.redis_skipped` says why.
    """
    with contextlib.ExitStack() as stack:
        url = skipped = None
        binary = redis_server_binary() if with_redis else None
        if with_redis and binary is None:
            skipped = f"redis-server is not installed ({INSTALL_HINT})"
        elif binary is not None:
            try:
                server = stack.enter_context(RedisServer(binary))
            except (OSError, RuntimeError) as exc:
                skipped = f"redis-server did not start: {exc}"
            else:
                url = server.url
                progress(f"redis-server {binary} on {url} (PID {server.process.pid})")
        if skipped is not None:
            progress(f"!!! the Redis contenders are SKIPPED: {skipped}")
        yield stack.enter_context(Backends(url, skipped))

"""Real servers for the store contenders, and what they run against: an
SQLite file in a temporary directory, and a private redis-server.

The server is Debian's ``redis-server`` binary on a free loopback port,
without persistence, stopped by its PID when the run ends, even on error,
and even when the run is killed. The test suite starts its servers with
the same machinery (``tests/servers.py`` imports it from here).
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
import weakref
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

HOST = "127.0.0.1"
REDIS_START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
LOG_TAIL_LINES = 40
INSTALL_HINT = "apt-get install redis-server"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def redis_server_binary() -> str | None:
    """The redis-server executable, also where Debian puts it off PATH."""
    found = shutil.which("redis-server")
    if found is not None:
        return found
    for candidate in ("/usr/bin/redis-server", "/usr/sbin/redis-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def dying_with_parent(argv: list[str]) -> list[str]:
    """``argv``, run so that the child dies with this process even when that
    is killed with SIGKILL: ``setpriv --pdeathsig TERM``, on Linux, where
    it is installed.

    The signal follows the thread that starts the child: start it from the
    main thread, as pytest fixtures are.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is not None and sys.platform == "linux":
        return [setpriv, "--pdeathsig", "TERM", "--", *argv]
    return argv


def _tail(log: t.IO[bytes], lines: int = LOG_TAIL_LINES) -> str:
    """The last lines written to a log file the child shares with us.

    pread leaves the shared file offset alone, so the child, if it still
    runs, keeps writing where it was.
    """
    fd = log.fileno()
    data = os.pread(fd, os.fstat(fd).st_size, 0)
    text = data.decode(errors="replace").rstrip()
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


class ChildProcess:
    """One child process, and the log file its stdout and stderr go to."""

    def __init__(
        self,
        argv: list[str],
        log: t.IO[bytes],
        *,
        env: dict[str, str] | None = None,
        stdin_pipe: bool = False,
    ) -> None:
        self.log = log
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                close_fds=True,
            )
        except BaseException:
            log.close()
            raise

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """Terminate, wait, kill if need be; safe to call again."""
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.log.close()

    def failure(self, what: str, problem: str) -> RuntimeError:
        """Stop the child and describe why it did not come up."""
        output = _tail(self.log)
        status = self.proc.poll()
        self.stop()
        if status is not None:
            problem = f"exited with status {status} ({problem})"
        return RuntimeError(f"{what} {problem}; its output ends with:\n{output}")


def stop_children(children: list[ChildProcess], tmpdir: str | None) -> None:
    """Stop what an owner started; a finalizer, so it must not refer to it."""
    while children:
        children.pop().stop()
    if tmpdir is not None:
        shutil.rmtree(tmpdir, ignore_errors=True)


class RedisServer:
    """A private redis-server on a free loopback port, without persistence.

    Starts on construction. `stop()` and `start()` keep the port, so
    clients made before a restart reconnect to the new server.
    """

    def __init__(self, binary: str | None = None) -> None:
        found = binary or redis_server_binary()
        if found is None:
            raise RuntimeError(f"redis-server is not installed ({INSTALL_HINT})")
        self.binary = found
        self.host = HOST
        self.port = free_port()
        self.tmpdir = tempfile.mkdtemp(prefix="jwt-blueprint-redis-")
        self.log_path = Path(self.tmpdir) / "redis-server.log"
        self._children: list[ChildProcess] = []
        self._finalizer = weakref.finalize(
            self, stop_children, self._children, self.tmpdir
        )
        try:
            self.start()
        except BaseException:
            self.close()
            raise

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return any(child.running() for child in self._children)

    @property
    def pid(self) -> int | None:
        """The PID of the running server, if it runs."""
        return self._children[-1].proc.pid if self.running else None

    def _argv(self) -> list[str]:
        argv = [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", self.tmpdir,
        ]  # fmt: skip
        return dying_with_parent(argv)

    def start(self) -> None:
        """Start the server, on the same port as before; no-op if running."""
        if not self._finalizer.alive:
            raise RuntimeError("this RedisServer is closed")
        if self.running:
            return
        self.stop()
        # Appended to, so the log tells about every run of the server.
        child = ChildProcess(self._argv(), open(self.log_path, "ab"))
        self._children.append(child)
        self._wait_for_ping(child)

    def _wait_for_ping(self, child: ChildProcess) -> None:
        what = f"redis-server on port {self.port}"
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        with self.client(socket_connect_timeout=0.5, socket_timeout=0.5) as client:
            while True:
                if not child.running():
                    raise child.failure(what, "did not start")
                try:
                    if client.ping():
                        return
                except (redis.ConnectionError, redis.TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise child.failure(
                        what, f"did not answer PING in {REDIS_START_TIMEOUT:g} s"
                    )
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server; safe to call when it is not running."""
        while self._children:
            self._children.pop().stop()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and remove its directory, for good."""
        self._finalizer()

    def client(self, **kwargs: t.Any) -> redis.Redis:
        """A client that fails at once rather than retrying for seconds.

        The caller closes it (it is a context manager).
        """
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def flushall(self) -> None:
        with self.client() as client:
            client.flushall()

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
                progress(f"redis-server {binary} on {url} (PID {server.pid})")
        if skipped is not None:
            progress(f"!!! the Redis contenders are SKIPPED: {skipped}")
        yield stack.enter_context(Backends(url, skipped))

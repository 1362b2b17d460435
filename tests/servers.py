"""Real servers for tests: a throwaway redis-server, and a Flask app in a child.

Both bind a free port on 127.0.0.1 only, write their output to a file
rather than a pipe (a pipe nobody reads blocks the child once it fills),
and are stopped by PID: never by name, so other servers on the machine
are left alone. Neither can outlive the test run: they are stopped when
garbage collected or at interpreter exit, and die with it even when it is
killed (redis-server through the parent-death signal, the app through
the pipe on its stdin).

Fixtures live in conftest; this module only has the machinery.
"""

from __future__ import annotations

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
from pathlib import Path

import pytest
import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"
REDIS_START_TIMEOUT = 10.0
APP_START_TIMEOUT = 15.0
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


def require_redis_server() -> str:
    """The redis-server binary, or skip the test; or fail it on CI.

    A skip on a developer's machine must not pass unnoticed on CI, where
    `make test` installs the server and its absence is a broken setup.
    """
    binary = redis_server_binary()
    if binary is not None:
        return binary
    if os.environ.get("CI") == "true":
        pytest.fail(
            "redis-server is not installed, so the Redis store tests cannot run;"
            " `make test` installs it (apt-get install -y redis-server)",
            pytrace=False,
        )
    pytest.skip(
        "redis-server is not installed: the Redis store tests did not run;"
        f" install it with {INSTALL_HINT} or run make test"
    )


def _tail(log: t.IO[bytes], lines: int = LOG_TAIL_LINES) -> str:
    """The last lines written to a log file the child shares with us.

    pread leaves the shared file offset alone, so the child, if it still
    runs, keeps writing where it was.
    """
    fd = log.fileno()
    data = os.pread(fd, os.fstat(fd).st_size, 0)
    text = data.decode(errors="replace").rstrip()
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


class _Child:
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


def _stop_all(children: list[_Child], tmpdir: str | None) -> None:
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
        self._children: list[_Child] = []
        self._finalizer = weakref.finalize(self, _stop_all, self._children, self.tmpdir)
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
        # Dies with the test run even when that is killed with SIGKILL.
        # The signal follows the thread that started the server: start it
        # from the main thread, as pytest fixtures are.
        setpriv = shutil.which("setpriv")
        if setpriv is not None and sys.platform == "linux":
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        return argv

    def start(self) -> None:
        """Start the server, on the same port as before; no-op if running."""
        if not self._finalizer.alive:
            raise RuntimeError("this RedisServer is closed")
        if self.running:
            return
        self.stop()
        # Appended to, so the log tells about every run of the server.
        child = _Child(self._argv(), open(self.log_path, "ab"))
        self._children.append(child)
        self._wait_for_ping(child)

    def _wait_for_ping(self, child: _Child) -> None:
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


# Run with `python -c CODE FACTORY PORT`. It exits when its stdin reaches
# end of file: when the parent closes it, or dies.
_APP_CHILD_CODE = """\
import importlib
import os
import sys
import threading

from werkzeug.serving import make_server


def exit_with_parent():
    # os.read, not sys.stdin: a daemon thread holding the lock of
    # sys.stdin would make the interpreter abort when it exits.
    while os.read(0, 4096):
        pass
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
module_name, _, function_name = sys.argv[1].partition(":")
app = getattr(importlib.import_module(module_name), function_name)()
make_server("127.0.0.1", int(sys.argv[2]), app, threaded=True).serve_forever()
"""


class AppServer:
    """A Flask app served from a child Python process on a free loopback port.

    `factory` is "module:function", importable from the repository root or
    from tests/ (as the tests import conftest); the function returns the
    app. `env` is added to this process's environment for the child.
    Starts on construction; `stop()` is final and safe to call again.
    """

    def __init__(self, factory: str, env: dict[str, str] | None = None) -> None:
        if ":" not in factory:
            raise ValueError(f"factory must be 'module:function', not {factory!r}")
        self.factory = factory
        self.host = HOST
        self.port = free_port()
        child_env = {**os.environ, **(env or {})}
        paths = [str(REPO_ROOT), str(TESTS_DIR)]
        if child_env.get("PYTHONPATH"):
            paths.append(child_env["PYTHONPATH"])
        child_env["PYTHONPATH"] = os.pathsep.join(paths)
        self._children: list[_Child] = []
        self._finalizer = weakref.finalize(self, _stop_all, self._children, None)
        child = _Child(
            [sys.executable, "-c", _APP_CHILD_CODE, factory, str(self.port)],
            tempfile.TemporaryFile(prefix="jwt-blueprint-app-"),
            env=child_env,
            stdin_pipe=True,
        )
        self._children.append(child)
        self._wait_for_port(child)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _wait_for_port(self, child: _Child) -> None:
        what = f"the app {self.factory} on port {self.port}"
        deadline = time.monotonic() + APP_START_TIMEOUT
        while True:
            if not child.running():
                raise child.failure(what, "did not start")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise child.failure(
                    what, f"did not accept connections in {APP_START_TIMEOUT:g} s"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        self._finalizer()

    def __enter__(self) -> AppServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.stop()


def hello_app() -> Flask:
    """The smallest factory, for the self-test: / answers $HELLO."""
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return os.environ["HELLO"]

    return app

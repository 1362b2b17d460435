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
import socket
import sys
import tempfile
import time
import types
import weakref
from pathlib import Path

import pytest
from flask import Flask

from benchmarks.backends import ChildProcess
from benchmarks.backends import free_port as free_port
from benchmarks.backends import HOST
from benchmarks.backends import INSTALL_HINT
from benchmarks.backends import redis_server_binary
from benchmarks.backends import RedisServer as RedisServer
from benchmarks.backends import stop_children

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = REPO_ROOT / "tests"
APP_START_TIMEOUT = 15.0


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
        self._children: list[ChildProcess] = []
        self._finalizer = weakref.finalize(self, stop_children, self._children, None)
        child = ChildProcess(
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

    def _wait_for_port(self, child: ChildProcess) -> None:
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

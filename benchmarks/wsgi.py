"""Drive a WSGI app directly: prebuilt environs, one call, one check.

Every contender is called the same way: a copy of a prebuilt environ (with a
fresh ``wsgi.input`` for a POST), a minimal ``start_response``, and the
response iterable consumed and closed, as a server would.
"""

from __future__ import annotations

import io
import json
import typing as t
from collections.abc import Callable
from collections.abc import Iterable

from werkzeug.test import EnvironBuilder

Environ = dict[str, t.Any]
WSGIApp = Callable[[Environ, Callable[..., t.Any]], Iterable[bytes]]


def make_environ(
    path: str,
    method: str = "GET",
    authorization: str | None = None,
    body: bytes | None = None,
) -> Environ:
    """A complete WSGI environ for one request, built once, copied per call."""
    headers = [] if authorization is None else [("Authorization", authorization)]
    builder = EnvironBuilder(
        path=path,
        method=method,
        headers=headers,
        data=body,
        content_type="application/json" if body is not None else None,
        base_url="http://127.0.0.1:8000",
    )
    try:
        environ: Environ = builder.get_environ()
    finally:
        builder.close()
    return environ


def json_body(data: dict[str, t.Any]) -> bytes:
    """``data`` as the compact JSON body of a POST."""
    return json.dumps(data, separators=(",", ":")).encode()


def _write(data: bytes) -> None:
    """The ``write`` callable of :func:`start_response`; Flask never uses it."""


def start_response(
    status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
) -> Callable[[bytes], None]:
    """The minimal ``start_response`` used while timing."""
    return _write


def serve(
    app: WSGIApp, environ: Environ, respond: Callable[..., t.Any] = start_response
) -> None:
    """Serve one request while timing: the minimal ``start_response`` (or
    ``respond``), the body consumed and the iterable closed, as a WSGI
    server would."""
    iterable = app(environ, respond)
    for _chunk in iterable:
        pass
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


class Response(t.NamedTuple):
    """What one checked call returned."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def call(app: WSGIApp, environ: Environ, body: bytes | None = None) -> Response:
    """Call ``app`` once with a copy of ``environ`` and capture the response."""
    captured: list[t.Any] = []

    def capture(
        status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
    ) -> Callable[[bytes], None]:
        captured[:] = [status, headers]
        return _write

    env = environ.copy()
    if body is not None:
        env["wsgi.input"] = io.BytesIO(body)
    iterable = app(env, capture)
    try:
        data = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return Response(int(captured[0].split(" ", 1)[0]), captured[1], data)

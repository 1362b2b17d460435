"""Where a strategy keeps its handlers, and how it calls them.

An unset handler is ``None`` and means the strategy's default method. The
Flask-JWT attribute names (``jwt_encode_callback``, ...) read as the handler
set, else the default method, so code written for Flask-JWT can still call
them. Any handler may be an ``async def`` function: :func:`resolve` awaits
what it returns.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import typing as t
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import GeneratorType

from flask import current_app

from . import typing as ht

if t.TYPE_CHECKING:  # pragma: no cover
    from .strategy import JWTStrategy

C = t.TypeVar("C")


@dataclass
class Handlers:
    """The handlers set on a strategy. ``None`` means the default method of
    the strategy (named in brackets), or, for the first two, that there is
    none."""

    authentication: ht.AuthenticationCallback | None = None
    identity: ht.IdentityCallback | None = None
    #: (``make_payload``)
    payload: ht.PayloadCallback | None = None
    #: (``make_headers``)
    headers: ht.HeadersCallback | None = None
    #: (``encode_token``)
    encode: ht.EncodeCallback | None = None
    #: (``decode_token``)
    decode: ht.DecodeCallback | None = None
    #: (``request_token``)
    request: ht.RequestCallback | None = None
    #: (``is_revoked``)
    revocation: ht.RevocationCallback | None = None
    #: (``auth_response``; :class:`~jwt_blueprint.AuthView` dumps its own
    #: ``token_schema`` instead)
    auth_response: ht.AuthResponseCallback | None = None
    #: (``error_response``)
    error: ht.ErrorCallback | None = None
    #: Deprecated: a view that replaces the built-in auth endpoint.
    auth_request: ht.AuthRequestCallback | None = None


class HandlerAttribute(t.Generic[C]):
    """A Flask-JWT ``*_callback`` attribute. Assigning it sets the handler;
    reading it gives something to call that does what the strategy does:

    - with a ``step`` (the issuing steps, which Flask-JWT's default encode
      handler called through these names), that step, which runs the handler
      or the default;
    - else the handler set, else the ``default`` method; an ``async def``
      handler comes back wrapped, so that calling it gives its result.
    """

    def __init__(
        self, slot: str, default: str | None = None, step: str | None = None
    ) -> None:
        self.slot = slot
        self.default = default
        self.step = step

    @t.overload
    def __get__(self, strategy: None, owner: type[t.Any]) -> HandlerAttribute[C]: ...

    @t.overload
    def __get__(self, strategy: JWTStrategy, owner: type[t.Any]) -> C: ...

    def __get__(
        self, strategy: JWTStrategy | None, owner: type[t.Any]
    ) -> C | HandlerAttribute[C]:
        if strategy is None:
            return self
        if self.step is not None:
            return t.cast(C, getattr(strategy, self.step))
        handler = getattr(strategy.handlers, self.slot)
        if handler is None and self.default is not None:
            handler = getattr(strategy, self.default)
        if inspect.iscoroutinefunction(handler):
            handler = _resolving(handler)
        return t.cast(C, handler)

    def __set__(self, strategy: JWTStrategy, handler: C | None) -> None:
        setattr(strategy.handlers, self.slot, handler)


def _resolving(handler: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    @functools.wraps(handler)
    def call(*args: t.Any, **kwargs: t.Any) -> t.Any:
        return resolve(handler(*args, **kwargs))

    return call


#: Types whose instances :func:`resolve` found not awaitable. The request
#: path skips the call for them: one set lookup instead of a call.
PLAIN_TYPES: set[type[t.Any]] = set()


async def _await(awaitable: t.Awaitable[C]) -> C:
    return await awaitable


def resolve(value: C | t.Awaitable[C]) -> C:
    """``value``, or, if an ``async def`` handler returned it, what it
    resolves to: never a coroutine mistaken for a result.

    It is awaited through :meth:`flask.Flask.ensure_sync`, as Flask runs
    async views. Inside an async view or hook, where an event loop already
    runs in this thread, it runs in a new loop in another thread, with this
    context (the app and the request) copied over.
    """
    if not inspect.isawaitable(value):
        if type(value) is not GeneratorType:  # whose instances may differ
            PLAIN_TYPES.add(type(value))
        return value
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        try:
            run = current_app.ensure_sync(_await)
        except RuntimeError:  # no asgiref: say so, and leave no coroutine
            _close(value)
            raise
        return t.cast(C, run(value))
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(context.run, asyncio.run, _await(value))
        return t.cast(C, future.result())


def _close(awaitable: t.Awaitable[t.Any]) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()

"""Failing closed when a store cannot answer."""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from ..exceptions import StoreUnavailableError
from .base import TokenStore

logger = logging.getLogger("jwt_blueprint")

R = t.TypeVar("R")


class _Breaker:
    """The failure state of one kind of call (reads, or writes)."""

    def __init__(self, guard: GuardedStore) -> None:
        self.guard = guard
        self.failing = False
        self.retry_at = 0.0
        self.probe_until = 0.0
        # Counts failures: a success ends an outage only if no failure came
        # after the call started.
        self.failures = 0

    def call(self, method: t.Callable[..., R], args: tuple[t.Any, ...]) -> R:
        probe = self.failing and self.start_probe()
        failures = self.failures
        try:
            result = method(*args)
        except Exception as exc:
            self.failed(exc)
            raise StoreUnavailableError() from exc
        finally:
            if probe:
                self.probe_until = 0.0
        if self.failing:
            self.recovered(failures)
        return result

    def start_probe(self) -> bool:
        """Let this call probe the failed store, or refuse it."""
        now = time.monotonic()
        with self.guard._lock:
            # A probe that hangs longer than a cooldown does not keep the
            # others out: another may probe.
            if now < self.retry_at or now < self.probe_until:
                raise StoreUnavailableError()
            self.probe_until = now + self.guard.cooldown
        return True

    def failed(self, exc: Exception) -> None:
        guard = self.guard
        with guard._lock:
            self.failures += 1
            self.retry_at = time.monotonic() + guard.cooldown
            if self.failing:
                return
            self.failing = True
            first = guard._outages == 0
            guard._outages += 1
        if first:
            logger.error(
                "jwt_blueprint: the token store %r failed; refusing the"
                " requests that need it (503) until it answers again",
                guard.store,
                exc_info=exc,
            )

    def recovered(self, failures: int) -> None:
        guard = self.guard
        with guard._lock:
            if failures != self.failures or not self.failing:
                return  # it started before the last failure, or was beaten
            self.failing = False
            guard._outages -= 1
            last = guard._outages == 0
        if last:
            logger.warning(
                "jwt_blueprint: the token store %r answers again", guard.store
            )


class GuardedStore:
    """A :class:`TokenStore` whose failures become a 503.

    Whatever the store raises (a lost connection, a locked database, a bug in
    a store of your own) becomes :class:`StoreUnavailableError`, so a request
    that needs the store is refused, never let through.

    After a failure the store is not asked for :attr:`cooldown` seconds:
    requests are refused at once, rather than each waiting on a store that
    may be hanging. Then one request probes it while the others are still
    refused (another may probe if it takes longer than a cooldown); its
    success ends the outage, its failure starts another cooldown. A call
    that started before the failure and succeeds late does not end it.
    Reads (the check on every request) and writes (logins, refreshes,
    revocations) fail and recover apart, so a store that refuses only
    writes (full, or read-only) keeps verifying tokens. An outage is logged
    once when it starts, with its traceback, and once when it ends.

    :param store: the store to guard.
    """

    #: Seconds during which a failed store is not asked again.
    cooldown = 1.0

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        # How many of the breakers are failing: the outage is logged when
        # the first starts failing, and its end when the last recovers.
        self._outages = 0
        reads, writes = _Breaker(self), _Breaker(self)
        self.start_family = self._guard(writes, store.start_family)
        self.rotate = self._guard(writes, store.rotate)
        self.revoke_token = self._guard(writes, store.revoke_token)
        self.revoke_family = self._guard(writes, store.revoke_family)
        self.revoke_subject = self._guard(writes, store.revoke_subject)
        self.is_revoked = self._guard(reads, store.is_revoked)

    def __repr__(self) -> str:
        return f"<GuardedStore {self.store!r}>"

    def close(self) -> None:
        """Close the store's connections, if it has any to close."""
        close = getattr(self.store, "close", None)
        if close is not None:
            close()

    @staticmethod
    def _guard(breaker: _Breaker, method: t.Callable[..., R]) -> t.Callable[..., R]:
        call = breaker.call

        def guarded(*args: t.Any) -> R:
            return call(method, args)

        guarded.__name__ = method.__name__
        guarded.__doc__ = method.__doc__
        return guarded

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


class GuardedStore:
    """A :class:`TokenStore` whose failures become a 503.

    Whatever the store raises (a lost connection, a locked database, a bug in
    a store of your own) becomes :class:`StoreUnavailableError`, so a request
    that needs the store is refused, never let through.

    After a failure the store is not asked for :attr:`cooldown` seconds:
    requests are refused at once, rather than each waiting on a store that
    may be hanging. Then one request probes it while the others are still
    refused; its success ends the outage, its failure starts another
    cooldown. A call that started before the failure and succeeds late does
    not end it. The first failure of an outage is logged with its traceback,
    and the recovery once.

    :param store: the store to guard.
    """

    #: Seconds during which a failed store is not asked again.
    cooldown = 1.0

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._failing = False
        self._retry_at = 0.0
        self._probing = False
        # Counts failures: a success ends an outage only if no failure came
        # after the call started.
        self._failures = 0
        self.start_family = self._guard(store.start_family)
        self.rotate = self._guard(store.rotate)
        self.revoke_token = self._guard(store.revoke_token)
        self.revoke_family = self._guard(store.revoke_family)
        self.revoke_subject = self._guard(store.revoke_subject)
        self.is_revoked = self._guard(store.is_revoked)

    def __repr__(self) -> str:
        return f"<GuardedStore {self.store!r}>"

    def close(self) -> None:
        """Close the store's connections, if it has any to close."""
        close = getattr(self.store, "close", None)
        if close is not None:
            close()

    def _guard(self, method: t.Callable[..., R]) -> t.Callable[..., R]:
        def guarded(*args: t.Any) -> R:
            probe = self._failing and self._start_probe()
            failures = self._failures
            try:
                result = method(*args)
            except Exception as exc:
                self._failed(exc)
                raise StoreUnavailableError() from exc
            finally:
                if probe:
                    self._probing = False
            if self._failing:
                self._recovered(failures)
            return result

        guarded.__name__ = method.__name__
        guarded.__doc__ = method.__doc__
        return guarded

    def _start_probe(self) -> bool:
        """Let this call probe the failed store, or refuse it."""
        with self._lock:
            if self._probing or time.monotonic() < self._retry_at:
                raise StoreUnavailableError()
            self._probing = True
        return True

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first, self._failing = not self._failing, True
            self._failures += 1
            self._retry_at = time.monotonic() + self.cooldown
        if first:
            logger.error(
                "jwt_blueprint: the token store %r failed; refusing the"
                " requests that need it (503) until it answers again",
                self.store,
                exc_info=exc,
            )

    def _recovered(self, failures: int) -> None:
        with self._lock:
            if failures != self._failures or not self._failing:
                return  # it started before the last failure, or was beaten
            self._failing = False
        logger.warning("jwt_blueprint: the token store %r answers again", self.store)

"""``memory://``: token state in a dict, for one process and for tests."""

from __future__ import annotations

import threading
import time
import typing as t

from .base import refused_since

K = t.TypeVar("K")


def _drop_expired(entries: dict[K, tuple[float, t.Any]], now: float) -> None:
    for key in [key for key, entry in entries.items() if entry[0] <= now]:
        del entries[key]


class MemoryStore:
    """A :class:`~jwt_blueprint.stores.TokenStore` in this process's memory.

    Thread-safe, lost on restart, and not shared between workers: use it in
    tests and single-process development only.
    """

    #: Seconds between two sweeps of expired entries.
    purge_interval = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> (expires_at, issued_before); issued_before only for subjects.
        self._entries: dict[tuple[str, str], tuple[float, float | None]] = {}
        # family -> (expires_at, current refresh jti)
        self._families: dict[str, tuple[float, str]] = {}
        self._next_purge = 0.0

    def __repr__(self) -> str:
        entries = len(self._entries) + len(self._families)
        return f"<MemoryStore {entries} entries>"

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        with self._lock:
            self._purge(time.time())
            self._families[family] = (expires_at, refresh_jti)

    def rotate(
        self, family: str, refresh_jti: str, next_jti: str, expires_at: float
    ) -> bool:
        with self._lock:
            entry = self._families.get(family)
            if entry is None or entry[0] <= time.time():
                return False
            if entry[1] not in (refresh_jti, next_jti):
                return False
            self._families[family] = (expires_at, next_jti)
            return True

    def revoke_token(self, jti: str, expires_at: float) -> None:
        self._set(("jti", jti), expires_at, None)

    def revoke_family(self, family: str, expires_at: float) -> None:
        self._set(("family", family), expires_at, None)

    def revoke_subject(
        self, subject: str, issued_before: float, expires_at: float
    ) -> None:
        self._set(("subject", subject), expires_at, issued_before)

    def is_revoked(
        self,
        jti: str,
        family: str | None,
        subject: str | None,
        issued_at: float | None,
    ) -> bool:
        now = time.time()
        entries = self._entries
        # Plain reads of a dict are atomic under the GIL: no lock needed.
        entry = entries.get(("jti", jti))
        if entry is not None and entry[0] > now:
            return True
        if family is not None:
            entry = entries.get(("family", family))
            if entry is not None and entry[0] > now:
                return True
        if subject is not None:
            entry = entries.get(("subject", subject))
            if entry is not None and entry[0] > now:
                return refused_since(entry[1], issued_at)
        return False

    def _set(
        self, key: tuple[str, str], expires_at: float, issued_before: float | None
    ) -> None:
        now = time.time()
        with self._lock:
            self._purge(now)
            old = self._entries.get(key)
            if old is not None and old[0] > now:
                expires_at = max(expires_at, old[0])
                if issued_before is not None and old[1] is not None:
                    issued_before = max(issued_before, old[1])
            self._entries[key] = (expires_at, issued_before)

    def _purge(self, now: float) -> None:
        if now < self._next_purge:
            return
        self._next_purge = now + self.purge_interval
        _drop_expired(self._entries, now)
        _drop_expired(self._families, now)

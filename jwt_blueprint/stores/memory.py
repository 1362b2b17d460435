"""``memory://``: token state in a dict, for one process and for tests."""

from __future__ import annotations

import threading
import time

from .base import refused_since


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
        self._next_purge = 0.0

    def __repr__(self) -> str:
        return f"<MemoryStore {len(self._entries)} entries>"

    def spend(self, jti: str, expires_at: float) -> bool:
        now = time.time()
        with self._lock:
            self._purge(now)
            entry = self._entries.get(("spent", jti))
            if entry is not None and entry[0] > now:
                return False
            self._entries["spent", jti] = (expires_at, None)
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
        expired = [key for key, entry in self._entries.items() if entry[0] <= now]
        for key in expired:
            del self._entries[key]

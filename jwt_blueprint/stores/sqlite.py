"""``sqlite:///path``: token state in an SQLite file, the embedded default.

Safe across the threads and processes of one host (WAL, a busy timeout, and
every write one atomic statement), and it survives restarts.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import typing as t
import weakref

from .base import refused_since

#: The schema this code reads and writes, kept in ``PRAGMA user_version``.
#: Version 1 kept every spent refresh token; 2 keeps one row per login.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jwt_revoked (
    key TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    issued_before REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jwt_families (
    family TEXT PRIMARY KEY,
    refresh_jti TEXT NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
"""

# One statement each, so each is atomic without a transaction of our own.
_START_FAMILY = """
INSERT OR REPLACE INTO jwt_families (family, refresh_jti, expires_at)
VALUES (?, ?, ?)
"""
# Matching next_jti too makes a retried rotation succeed again.
_ROTATE = """
UPDATE jwt_families SET refresh_jti = ?, expires_at = ?
WHERE family = ? AND refresh_jti IN (?, ?) AND expires_at > ?
"""
_REVOKE = """
INSERT INTO jwt_revoked (key, expires_at, issued_before) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    expires_at = max(expires_at, excluded.expires_at),
    issued_before = max(
        coalesce(issued_before, excluded.issued_before), excluded.issued_before
    )
"""
_LOOKUP = """
SELECT key, issued_before FROM jwt_revoked
WHERE key IN (?, ?, ?) AND expires_at > ?
"""

# The kinds of revocation share one table, told apart by a key prefix, so
# that the check is one indexed lookup.
JTI, FAMILY, SUBJECT = "j:", "f:", "s:"


def _forget_parent(store: SQLiteStore | None) -> None:
    # In a forked worker: the parent's connections must not be used here,
    # nor closed, which would disturb the parent. Its lock may have been
    # held by a thread that does not exist here.
    if store is not None:
        store._lock = threading.Lock()
        store._connections.clear()
        store._pool = []


def _close_all(connections: list[sqlite3.Connection]) -> None:
    while connections:
        connections.pop().close()


class SQLiteStore:
    """A :class:`~jwt_blueprint.stores.TokenStore` in an SQLite database file.

    Connections are made on first use and pooled, one per thread that is
    using the store at the time (a threaded server may start a thread per
    request, so one per thread would reconnect every request). A forked
    worker makes its own. The tables are created on first use; the schema
    version is checked, and a newer one is refused.

    :param path: the database file; its directory is created if missing.
    :param timeout: seconds to wait for another process's write lock.
    """

    #: Seconds between two sweeps of expired entries, made by a write.
    purge_interval = 300.0

    def __init__(self, path: str | os.PathLike[str], timeout: float = 5.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.Lock()
        # The idle connections: list.pop() and list.append() are atomic, and
        # cheaper than a queue.
        self._pool: list[sqlite3.Connection] = []
        self._connections: list[sqlite3.Connection] = []
        # A store dropped without close() (an app rebuilt in tests) still
        # closes its connections.
        weakref.finalize(self, _close_all, self._connections)
        store = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_parent(store()))
        self._ready = False
        self._next_purge = 0.0

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path!r}>"

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        now = time.time()
        with self._connection() as db:
            db.execute(_START_FAMILY, (family, refresh_jti, expires_at))
            self._purge(db, now)

    def rotate(
        self, family: str, refresh_jti: str, next_jti: str, expires_at: float
    ) -> bool:
        arguments = (next_jti, expires_at, family, refresh_jti, next_jti, time.time())
        with self._connection() as db:
            return bool(db.execute(_ROTATE, arguments).rowcount == 1)

    def revoke_token(self, jti: str, expires_at: float) -> None:
        self._revoke(JTI + jti, expires_at, None)

    def revoke_family(self, family: str, expires_at: float) -> None:
        self._revoke(FAMILY + family, expires_at, None)

    def revoke_subject(
        self, subject: str, issued_before: float, expires_at: float
    ) -> None:
        self._revoke(SUBJECT + subject, expires_at, issued_before)

    def is_revoked(
        self,
        jti: str,
        family: str | None,
        subject: str | None,
        issued_at: float | None,
    ) -> bool:
        subject_key = None if subject is None else SUBJECT + subject
        family_key = None if family is None else FAMILY + family
        arguments = (JTI + jti, family_key, subject_key, time.time())
        # _connection(), inlined: this runs on every protected request.
        pool = self._pool
        try:
            db = pool.pop()
        except IndexError:
            db = self._connect()
        try:
            rows = db.execute(_LOOKUP, arguments).fetchall()
        finally:
            pool.append(db)
        for key, issued_before in rows:
            if key != subject_key or refused_since(issued_before, issued_at):
                return True
        return False

    def close(self) -> None:
        """Close every connection; the next call opens new ones."""
        with self._lock:
            self._pool = []
            _close_all(self._connections)

    def _revoke(self, key: str, expires_at: float, issued_before: float | None) -> None:
        now = time.time()
        with self._connection() as db:
            db.execute(_REVOKE, (key, expires_at, issued_before))
            self._purge(db, now)

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        # Lazily, from a write: expired entries answer nothing, they only
        # take room.
        if now < self._next_purge:
            return
        self._next_purge = now + self.purge_interval
        db.execute("DELETE FROM jwt_revoked WHERE expires_at <= ?", (now,))
        db.execute("DELETE FROM jwt_families WHERE expires_at <= ?", (now,))

    @contextlib.contextmanager
    def _connection(self) -> t.Iterator[sqlite3.Connection]:
        # Back to the pool it came from: after close(), that pool is dropped
        # and the connection with it.
        pool = self._pool
        try:
            db = pool.pop()
        except IndexError:
            db = self._connect()
        try:
            yield db
        finally:
            pool.append(db)

    def _connect(self) -> sqlite3.Connection:
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        creating = not os.path.exists(self.path)
        db = sqlite3.connect(
            self.path,
            timeout=self.timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            if creating:
                # Owner only, like the instance folder's other files; SQLite
                # gives the -wal and -shm files the database file's mode. A
                # chmod, because opening and closing a descriptor of our own
                # would drop this process's SQLite locks on the file.
                os.chmod(self.path, 0o600)
            self._use_wal(db)
            db.execute("PRAGMA synchronous = NORMAL")
            if not self._ready:
                self._migrate(db)
        except BaseException:
            db.close()
            raise
        with self._lock:
            self._connections.append(db)
        return db

    def _use_wal(self, db: sqlite3.Connection) -> None:
        # Turning a new file to WAL takes its exclusive lock. Two processes
        # doing so at once both hold a shared lock and want it, and SQLite
        # refuses one at once, without its busy timeout, rather than
        # deadlock: so retry, within the same timeout.
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _migrate(self, db: sqlite3.Connection) -> None:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} has token store schema version {version};"
                f" this jwt_blueprint knows version {SCHEMA_VERSION} at most"
            )
        if version < SCHEMA_VERSION:
            # Idempotent, so two processes migrating at once both succeed.
            db.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} DROP TABLE IF EXISTS jwt_spent;"
                f" PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        self._ready = True

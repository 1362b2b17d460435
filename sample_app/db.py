"""The SQLite connection, one per app context, and the schema."""

from __future__ import annotations

import os
import sqlite3

from flask import current_app
from flask import Flask
from flask import g

#: Safe to run on an existing database: it only adds what is missing.
SCHEMA = """
CREATE TABLE IF NOT EXISTS user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
);
"""


def get_db() -> sqlite3.Connection:
    """The connection to ``DATABASE`` for this app context, opened on first
    use and closed when the context ends."""
    if "db" not in g:
        database = current_app.config["DATABASE"]
        _create_owner_only(database)
        g.db = sqlite3.connect(database)
        g.db.row_factory = sqlite3.Row
    db: sqlite3.Connection = g.db
    return db


def _create_owner_only(database: str | bytes | os.PathLike[str]) -> None:
    """Create the file ``database`` with mode 0600 if it does not exist yet.

    It holds the password hashes, and sqlite3 would create it with the
    umask's mode (often 0644), whatever the mode of its folder. SQLite gives
    its journal files the database file's mode. In-memory and temporary
    databases (``":memory:"``, ``""``) and ``file:`` URIs are left to sqlite3.
    """
    path = os.fsdecode(database)
    if path in ("", ":memory:") or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def close_db(exception: BaseException | None = None) -> None:
    """Close this app context's connection, if one was opened."""
    db: sqlite3.Connection | None = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Create the tables that do not exist yet."""
    get_db().executescript(SCHEMA)


def init_app(app: Flask) -> None:
    """Close the connection at the end of every app context of ``app``."""
    app.teardown_appcontext(close_db)

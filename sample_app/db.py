"""The SQLite connection, one per app context, and the schema."""

from __future__ import annotations

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
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    db: sqlite3.Connection = g.db
    return db


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

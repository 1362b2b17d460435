"""Users, their password hashes, and the two handlers jwt_blueprint calls."""

from __future__ import annotations

import sqlite3
import typing as t
from dataclasses import dataclass

from jwt_blueprint.passwords import PasswordHasher

from .db import get_db

#: The seed's demo users. Their password is published: never deploy them.
DEMO_USERS: tuple[tuple[str, str], ...] = (("user1", "abcxyz"), ("user2", "abcxyz"))


#: The demo users' roles, by username: user1 is an administrator, user2 has
#: no role. They are put in each token's ``roles`` claim when it is issued
#: (see :func:`roles_of`), which ``roles_required`` reads: a change takes
#: effect at the user's next login or refresh. A real app would keep them in
#: its database.
DEMO_ROLES: dict[str, tuple[str, ...]] = {"user1": ("admin",)}


#: The range of an SQLite INTEGER, and so of a user id.
MIN_ID, MAX_ID = -(2**63), 2**63 - 1

#: werkzeug's scrypt, with its default parameters. A login checks one hash,
#: known username or not, and replaces a hash made with older parameters.
hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A user. It carries no password hash, so none can end up in a log."""

    id: int
    username: str

    def __str__(self) -> str:
        return f"User(id='{self.id}')"


class UserExistsError(Exception):
    """A user with this username already exists."""

    def __init__(self, username: str) -> None:
        super().__init__(f"user {username!r} already exists")
        #: The username that is taken.
        self.username = username


def add_user(username: str, password: str) -> User:
    """Store a new user with a hash of ``password``.

    :raises UserExistsError: if ``username`` is taken.
    """
    db = get_db()
    if db.execute("SELECT 1 FROM user WHERE username = ?", (username,)).fetchone():
        raise UserExistsError(username)
    password_hash = hasher.hash(password)
    try:
        with db:
            cursor = db.execute(
                "INSERT INTO user (username, password_hash) VALUES (?, ?)",
                (username, password_hash),
            )
    except sqlite3.IntegrityError:
        # Another process added the same username since the check above.
        raise UserExistsError(username) from None
    assert cursor.lastrowid is not None  # set by every successful INSERT
    return User(cursor.lastrowid, username)


def add_demo_users() -> list[str]:
    """Add the :data:`DEMO_USERS` that do not exist yet.

    :return: the usernames added.
    """
    added = []
    for username, password in DEMO_USERS:
        try:
            add_user(username, password)
        except UserExistsError:
            continue
        added.append(username)
    return added


def authenticate(username: str, password: str) -> User | None:
    """The authentication handler: the user, if the password is right."""
    row = (
        get_db()
        .execute(
            "SELECT id, username, password_hash FROM user WHERE username = ?",
            (username,),
        )
        .fetchone()
    )
    # The password is hashed for an unknown username too, so the response
    # time does not tell which usernames exist.
    row = hasher.authenticate(
        row,
        password,
        get_hash=lambda row: row["password_hash"],
        on_rehash=_store_password_hash,
    )
    return None if row is None else User(row["id"], row["username"])


def _store_password_hash(row: sqlite3.Row, password_hash: str) -> None:
    """Replace the hash of the user in ``row``, made with older parameters."""
    db = get_db()
    with db:
        db.execute(
            "UPDATE user SET password_hash = ? WHERE id = ?",
            (password_hash, row["id"]),
        )


def identity(payload: dict[str, t.Any]) -> User | None:
    """The identity handler: the user named by the token's ``identity``."""
    user_id = payload.get("identity")
    # A bool is an int to Python; no user has id True.
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    # sqlite3 raises OverflowError for an int SQLite cannot store.
    if not MIN_ID <= user_id <= MAX_ID:
        return None
    row = (
        get_db()
        .execute("SELECT id, username FROM user WHERE id = ?", (user_id,))
        .fetchone()
    )
    if row is None:
        return None
    return User(row["id"], row["username"])


def roles_of(user: User) -> list[str]:
    """The roles of ``user``, for the token's ``roles`` claim."""
    return list(DEMO_ROLES.get(user.username, ()))

"""The app ``make load`` serves from gunicorn (:mod:`benchmarks.load`).

Built the way the README tells users to: ``JWT(app, authenticate,
identity)`` with refresh tokens on, and one protected route. Its workers
share their state only through ``JWT_TOKEN_STORE``. Logins are cheap on
purpose: the load test measures the token machinery, not a password hash.
"""

from __future__ import annotations

import hmac
import os
import typing as t
from dataclasses import dataclass

from flask import Flask
from flask import Response

from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required

#: The HS256 secret (48 bytes; RFC 7518 wants 32 or more).
SECRET_KEY = "load-test-secret-0123456789abcdef0123456789abcdef"
#: The route every virtual user calls between login and logout.
PROTECTED_PATH = "/protected"
#: Names the worker process that answered, so the client can tell that
#: several workers did.
WORKER_HEADER = "X-Worker-PID"


@dataclass(frozen=True)
class User:
    """A user of the load app, with its password in plain text."""

    id: int
    username: str
    password: str


#: A few users: several virtual users log in as each at once.
USERS = tuple(User(i, f"load{i}", f"password-{i}") for i in range(1, 9))
USERNAME_TABLE = {user.username: user for user in USERS}
USERID_TABLE = {user.id: user for user in USERS}


def authenticate(username: str, password: str) -> User | None:
    user = USERNAME_TABLE.get(username)
    if user is not None and hmac.compare_digest(
        user.password.encode(), password.encode()
    ):
        return user
    return None


def identity(payload: dict[str, t.Any]) -> User | None:
    return USERID_TABLE.get(payload["identity"])


def create_app(store_url: str) -> Flask:
    """The load app, keeping its tokens' state in ``store_url``
    (``JWT_TOKEN_STORE``): an SQLite file or a Redis server.

    gunicorn calls it in each worker: ``benchmarks.load_app:create_app(...)``.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=SECRET_KEY,
        JWT_REFRESH_ENABLED=True,
        JWT_TOKEN_STORE=store_url,
        # Every login comes from one address, many times a second.
        JWT_AUTH_RATE_LIMIT_PER_USERNAME=None,
        JWT_AUTH_RATE_LIMIT_PER_ADDRESS=None,
    )
    JWT(app, authenticate, identity)

    @app.route(PROTECTED_PATH)
    @jwt_required()
    def protected() -> str:
        return t.cast(User, current_identity).username

    @app.after_request
    def name_worker(response: Response) -> Response:
        response.headers[WORKER_HEADER] = str(os.getpid())
        return response

    return app

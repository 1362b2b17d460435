"""The seed's minimal application, made real: users in SQLite, hashed
passwords, a secret generated on first run, and refresh tokens and logout
on the embedded SQLite token store.

Its OpenAPI document is at ``/openapi.json``, with Swagger UI at ``/docs``
(see :mod:`.api_docs`). Besides the JSON API it serves a login page at
``/`` (see :mod:`.pages`):
the browser keeps the token in an HttpOnly cookie, which its JavaScript
cannot read, and sends the CSRF value back in ``X-CSRF-Token``. user1 is an
administrator and may open ``/admin``; user2 is refused with a 403.

Run it with ``make run``, or by hand, then open http://127.0.0.1:5000/::

    pip install -e '.[sample]'
    flask --app sample_app init-db
    flask --app sample_app run
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

from flask import Flask

from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required

from . import api_docs
from . import cli
from . import db
from . import pages
from . import users
from .secret_key import load_or_create_secret_key

#: One strategy for every app the factory makes; each app keeps its own
#: config and state in ``app.extensions``.
jwt = JWT(authentication_handler=users.authenticate, identity_handler=users.identity)


@jwt.jwt_payload_handler
def make_payload(user: users.User) -> dict[str, t.Any]:
    """The default claims, and the user's roles in ``roles``, where
    ``roles_required`` looks for them."""
    payload = dict(jwt.make_payload(user))
    payload["roles"] = users.roles_of(user)
    return payload


def create_app(
    test_config: dict[str, t.Any] | None = None,
    *,
    instance_path: str | os.PathLike[str] | None = None,
) -> Flask:
    """Create and configure the app.

    Configuration comes from ``instance/config.py`` if it exists, or from
    ``test_config`` instead. Without a ``SECRET_KEY`` the app uses the one in
    ``instance/secret_key``, generated on first run.

    :param test_config: config to use instead of ``instance/config.py``.
    :param instance_path: an absolute path for the instance folder, instead of
        ``instance/`` next to the package.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=None if instance_path is None else os.fspath(instance_path),
    )
    app.config.from_mapping(
        DATABASE=os.path.join(app.instance_path, "users.sqlite3"),
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    # The folder holds the secret and the password hashes: owner only.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(
            Path(app.instance_path) / "secret_key"
        )

    # Refresh and logout, on the embedded default store: a SQLite file in
    # the instance folder.
    app.config.setdefault("JWT_REFRESH_ENABLED", True)
    # API clients send the token in the Authorization header; the login page
    # gets it as an HttpOnly cookie, with a CSRF value to send back.
    app.config.setdefault("JWT_TOKEN_LOCATION", ["headers", "cookies"])
    # `make run` serves plain http on 127.0.0.1. Browsers keep a Secure
    # cookie over plain http only for localhost and 127.0.0.1: opened by any
    # other name (the machine's address, a container's host name) the page
    # could not log in. So off, for this local demo only: serve a real
    # deployment over https and leave JWT_COOKIE_SECURE at its default, True.
    app.config.setdefault("JWT_COOKIE_SECURE", False)

    db.init_app(app)
    cli.init_app(app)
    # After SECRET_KEY is set: registering reads it as JWT_SECRET_KEY.
    jwt.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api_docs.bp)

    @app.route("/protected")
    @jwt_required()
    def protected() -> str:
        return f"{current_identity}"

    return app

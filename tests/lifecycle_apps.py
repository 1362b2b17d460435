"""The app the lifecycle tests drive, in process and in server processes."""

from __future__ import annotations

import os
import typing as t

from flask import Flask
from flask import jsonify

from conftest import authenticate
from conftest import identity
from conftest import SECRET
from jwt_blueprint import current_identity
from jwt_blueprint import get_current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required


def lifecycle_app(
    config: dict[str, t.Any] | None = None, instance_path: str | None = None
) -> Flask:
    """The seed's app with refresh tokens on, and a fresh-only and an
    optional view beside ``/protected``."""
    app = Flask(__name__, instance_path=instance_path)
    app.config["SECRET_KEY"] = SECRET
    app.config["JWT_REFRESH_ENABLED"] = True
    app.config.update(config or {})
    JWT(app, authenticate, identity)

    @app.route("/protected")
    @jwt_required()
    def protected() -> str:
        return f"{current_identity}"

    @app.post("/password")
    @jwt_required(fresh=True)
    def change_password() -> str:
        return f"changed for {current_identity}"

    @app.route("/optional")
    @jwt_required(optional=True)
    def optional() -> t.Any:
        user = get_current_identity()
        return jsonify(user=None if user is None else str(user))

    return app


def served_app() -> Flask:
    """For :class:`servers.AppServer`: the store is ``$JWT_TOKEN_STORE``."""
    return lifecycle_app({"JWT_TOKEN_STORE": os.environ["JWT_TOKEN_STORE"]})

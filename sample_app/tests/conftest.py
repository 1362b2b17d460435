"""The sample app's test fixtures.

``app`` is all jwt_blueprint's pytest plugin needs: its ``jwt_token``,
``jwt_headers``, ``jwt_tokens`` and ``jwt_bad_token`` fixtures mint tokens
for that app, through its payload handler.
"""

from __future__ import annotations

import shutil
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sample_app import create_app
from sample_app.db import get_db
from sample_app.users import User


def pytest_configure(config: pytest.Config) -> None:
    # jwt_blueprint's pytest plugin. An installed app gets it through the
    # entry point, which pytest loads before pytest-cov starts; this project
    # turns that off (pyproject.toml) and loads it now, once coverage is on.
    if not config.pluginmanager.has_plugin("jwt_blueprint"):
        config.pluginmanager.import_plugin("jwt_blueprint.pytest_plugin")


SECRET = "sample-app-tests-0123456789abcdef0123456789abcdef"


def make_app(folder: Path) -> Flask:
    """The app, with its files in ``folder``."""
    return create_app(
        {"TESTING": True, "SECRET_KEY": SECRET, "DATABASE": folder / "users.sqlite3"},
        instance_path=folder / "instance",
    )


def close(app: Flask) -> None:
    """Close the token store: the SQLite file of refresh tokens and
    revocations."""
    app.extensions["jwt_blueprint"].settings().store.close()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The users' database as ``flask init-db`` sets it up, made once:
    hashing the demo users' passwords takes most of a second."""
    app = make_app(tmp_path_factory.mktemp("database"))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    close(app)
    return Path(app.config["DATABASE"])


@pytest.fixture
def app(tmp_path: Path, database: Path) -> t.Iterator[Flask]:
    """The app, its files under ``tmp_path``, with a copy of
    :func:`database`."""
    shutil.copy(database, tmp_path / "users.sqlite3")
    app = make_app(tmp_path)
    yield app
    close(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def user(app: Flask, username: str) -> User:
    with app.app_context():
        row = (
            get_db()
            .execute("SELECT id, username FROM user WHERE username = ?", (username,))
            .fetchone()
        )
    return User(row["id"], row["username"])


@pytest.fixture
def admin(app: Flask) -> User:
    """user1, an administrator."""
    return user(app, "user1")


@pytest.fixture
def member(app: Flask) -> User:
    """user2, who has no role."""
    return user(app, "user2")

"""The app's commands: ``flask --app sample_app init-db`` and ``create-user``."""

from __future__ import annotations

import typing as t

import click
from flask import current_app
from flask import Flask
from flask.cli import with_appcontext

from .db import init_db
from .users import add_demo_users
from .users import add_user
from .users import UserExistsError

#: A click parameter callback that checks and returns the value.
ParamCallback = t.Callable[[click.Context, click.Parameter, str], str]


def printable(max_length: int) -> ParamCallback:
    """A callback that accepts 1 to ``max_length`` printable characters.

    ``POST /auth`` refuses control characters and longer values, so a user
    created with them could never log in.
    """

    def callback(ctx: click.Context, param: click.Parameter, value: str) -> str:
        if not 1 <= len(value) <= max_length or not value.isprintable():
            raise click.BadParameter(f"must be 1 to {max_length} printable characters")
        return value

    return callback


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the tables and the demo users, keeping what already exists."""
    init_db()
    added = add_demo_users()
    click.echo(f"Database ready at {current_app.config['DATABASE']}.")
    if added:
        click.echo(f"Added the demo users: {', '.join(added)}.")


@click.command("create-user")
@click.argument("username", callback=printable(256))
@click.password_option(callback=printable(1024))
@with_appcontext
def create_user_command(username: str, password: str) -> None:
    """Add the user USERNAME. The password is prompted for unless given
    with --password."""
    init_db()
    try:
        user = add_user(username, password)
    except UserExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created user {user.username!r} with id {user.id}.")


def init_app(app: Flask) -> None:
    """Add the commands to ``app.cli``."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_user_command)

"""The sample app as ``make run`` serves it, for a server process."""

from __future__ import annotations

import os

from flask import Flask

from sample_app import create_app
from sample_app.db import init_db
from sample_app.users import add_demo_users

#: The environment variable that names the app's instance folder.
INSTANCE_ENV = "SAMPLE_APP_INSTANCE"


def sample_app_from_env() -> Flask:
    """The sample app with its instance folder at ``$SAMPLE_APP_INSTANCE``
    (database, secret, token store), set up as ``flask init-db`` does.

    Its config is the sample app's own, as ``make run`` has it: tokens in
    headers and cookies, and ``JWT_COOKIE_SECURE`` off for plain http.
    """
    app = create_app({}, instance_path=os.environ[INSTANCE_ENV])
    with app.app_context():
        init_db()
        add_demo_users()
    return app

"""The app's secret, generated once into the instance folder."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def load_or_create_secret_key(path: Path) -> str:
    """Return the secret stored at ``path``, creating it on first use.

    A new secret is 32 random bytes as hex (``secrets.token_hex(32)``), in a
    file only its owner can read.

    :raises RuntimeError: if the file exists but is empty.
    """
    if not path.exists():
        _create(path)
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        raise RuntimeError(f"{path} is empty; delete it to generate a new secret")
    return secret


def _create(path: Path) -> None:
    # mkstemp creates the file with mode 0600 whatever the umask.
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_hex(32) + "\n")
        try:
            # Unlike a rename, a link never replaces a file: if another
            # process (a second worker) got there first, both use its secret,
            # and no reader ever sees a half-written file.
            os.link(temp_name, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temp_name)

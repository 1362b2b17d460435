"""Token stores: where each login's current refresh token and the
revocations are kept.

``JWT_TOKEN_STORE`` names one by URL (:func:`open_store`) or is any object
implementing :class:`TokenStore`.
"""

from __future__ import annotations

import os
import typing as t
from urllib.parse import urlsplit

from .base import TokenStore as TokenStore
from .guard import GuardedStore as GuardedStore
from .memory import MemoryStore as MemoryStore
from .sqlite import SQLiteStore as SQLiteStore

if t.TYPE_CHECKING:  # pragma: no cover
    from .redis import RedisStore as RedisStore

# Not RedisStore: a star import must work without redis-py.
__all__ = ["GuardedStore", "MemoryStore", "SQLiteStore", "TokenStore"]

#: The URL schemes :func:`open_store` knows.
SCHEMES = ("memory", "sqlite", "redis", "rediss", "unix")


def open_store(url: str, instance_path: str | os.PathLike[str] = ".") -> TokenStore:
    """The store a ``JWT_TOKEN_STORE`` URL names. Nothing is connected yet.

    - ``memory://``: :class:`MemoryStore`;
    - ``sqlite:///relative/path`` (under ``instance_path``) or
      ``sqlite:////absolute/path``: :class:`SQLiteStore`;
    - ``redis://``, ``rediss://`` or ``unix://``: :class:`RedisStore`.

    :raises ValueError: if the URL is not one of these.
    :raises ImportError: for Redis, if redis-py is not installed.
    """
    scheme, _, rest = url.partition("://")
    if scheme == "memory":
        if rest:
            raise ValueError("'memory://' takes nothing after the scheme")
        return MemoryStore()
    if scheme == "sqlite":
        path = urlsplit(url).path
        if not rest.startswith("/") or path in ("", "/") or "?" in rest:
            raise ValueError(
                "must be 'sqlite:///relative/path' or 'sqlite:////absolute/path'"
            )
        path = path[1:]
        if path == ":memory:":
            raise ValueError("use 'memory://' for a store in memory")
        return SQLiteStore(os.path.join(instance_path, path))
    if scheme in ("redis", "rediss", "unix"):
        try:
            from .redis import RedisStore
        except ImportError as exc:
            raise ImportError(
                f"{scheme}:// needs redis-py: pip install 'jwt_blueprint[redis]'"
            ) from exc
        return RedisStore.from_url(url)
    raise ValueError(f"the scheme must be one of {', '.join(SCHEMES)}")


def __getattr__(name: str) -> t.Any:
    # RedisStore imports redis-py, an optional dependency: only when asked.
    if name == "RedisStore":
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(name)

"""Per-app state, kept in ``app.extensions`` and never on a module global."""

from __future__ import annotations

import threading
import typing as t

from flask import current_app

from .config import CONFIG_KEYS
from .config import load_settings
from .config import new_remote_keys
from .config import open_rate_limit_storage_at
from .config import raw_values
from .config import read_raw
from .config import Settings
from .config import snapshot
from .remote_keys import RemoteKeys
from .stores import GuardedStore
from .stores import open_store
from .stores import TokenStore
from .throttling import RateLimitStorage

if t.TYPE_CHECKING:  # pragma: no cover
    from flask import Config

    from .strategy import JWTStrategy

#: The ``app.extensions`` key of the :class:`JWTState`.
STATE_KEY = "jwt_blueprint"


class JWTState:
    """What one app needs at request time: its strategy and its settings.

    Config is read at request time, as Flask-JWT did, but parsed only when a
    raw ``JWT_*`` value changes: each call compares a cheap snapshot.
    """

    def __init__(
        self, config: Config, strategy: JWTStrategy, instance_path: str = "."
    ) -> None:
        self.config = config
        self.strategy = strategy
        #: Where relative ``sqlite:///`` store paths are.
        self.instance_path = instance_path
        # The stores opened, by JWT_TOKEN_STORE value: a change to another
        # key rebuilds the settings, and must not forget what was revoked.
        self._stores: list[tuple[t.Any, GuardedStore]] = []
        self._remote_keys: dict[tuple[t.Any, ...], RemoteKeys] = {}
        # The throttle's storages by URL, kept for the same reason: its
        # counts must survive a change to another key.
        self._rate_limit_storages: dict[str, RateLimitStorage] = {}
        self._lock = threading.RLock()
        #: The full names of the endpoints the blueprint registered.
        self.endpoints: set[str] = set()
        #: The methods those endpoints serve.
        self.endpoint_methods: set[str] = set()
        #: The path of each endpoint served, by its key: where a refresh
        #: token's cookie is sent.
        self.paths: dict[str, str] = {}
        #: The view class of each endpoint served, by its key.
        self.views: dict[str, type[t.Any]] = {}
        #: The full endpoint name of each endpoint served, by its key.
        self.endpoint_names: dict[str, str] = {}
        # One tuple, swapped in one assignment, so threads never see a
        # snapshot paired with the settings of another.
        self._current = self._load(read_raw(config))

    def settings(self) -> Settings:
        """The validated settings, rebuilt if the config changed."""
        seen, settings = self._current
        # read_raw, inlined: this runs on every protected request.
        try:
            raw = raw_values(self.config)
        except KeyError:
            raw = read_raw(self.config)
        if raw != seen:
            self._current = current = self._load(raw)
            # Now, rather than whenever the cyclic collector runs.
            settings.codec.clear_cache()
            settings = current[1]
        return settings

    def _load(self, raw: tuple[t.Any, ...]) -> tuple[tuple[t.Any, ...], Settings]:
        # Parse the values that were compared, not the config again, so a
        # change made meanwhile cannot be paired with older settings.
        frozen = snapshot(raw)
        config = dict(zip(CONFIG_KEYS, frozen, strict=True))
        return frozen, load_settings(
            config,
            self._open_store,
            self._open_remote_keys,
            self._open_rate_limit_storage,
        )

    def _open_remote_keys(
        self, options: tuple[str, str, float, float, float]
    ) -> RemoteKeys:
        # Kept across reloads, with what it fetched, while its options hold.
        remote = self._remote_keys.get(options)
        if remote is None:
            remote = new_remote_keys(options)
            self._remote_keys = {options: remote}
        return remote

    def _open_rate_limit_storage(self, url: str) -> RateLimitStorage:
        # Under a lock: two threads opening one URL would count apart.
        with self._lock:
            storage = self._rate_limit_storages.get(url)
            if storage is None:
                storage = open_rate_limit_storage_at(url)
                self._rate_limit_storages[url] = storage
            return storage

    def _open_store(self, value: str | TokenStore) -> GuardedStore:
        for opened, store in self._stores:
            if opened is value or (isinstance(value, str) and opened == value):
                return store
        store = GuardedStore(
            open_store(value, self.instance_path) if isinstance(value, str) else value
        )
        self._stores.append((value, store))
        return store


def get_state() -> JWTState:
    """The :class:`JWTState` of the current app.

    :raises RuntimeError: if no jwt_blueprint is registered on it.
    """
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        state: JWTState = app.extensions[STATE_KEY]
    except KeyError:
        raise RuntimeError(
            "jwt_blueprint is not set up on this app: register a JWTBlueprint"
            " or call JWT(app) / jwt.init_app(app) first"
        ) from None
    return state

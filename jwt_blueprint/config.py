"""Every ``JWT_*`` configuration key, its default, and its validation.

:data:`CONFIG_DEFAULTS` is applied to ``app.config`` with ``setdefault`` when
the blueprint is registered. :func:`load_settings` turns the raw values into a
frozen :class:`Settings`, failing with a :class:`~.exceptions.ConfigError`
that names the key. Nothing is parsed per request: the settings are rebuilt
only when a raw value changes (see :mod:`.state`).
"""

from __future__ import annotations

import logging
import math
import operator
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from jwt.algorithms import get_default_algorithms
from limits.storage import Storage
from limits.storage import storage_from_string

from .claims import TokenClaims
from .cookies import CookieSettings
from .exceptions import ConfigError
from .exceptions import quote_header_value
from .keys import load_keys
from .remote_keys import RemoteKeys
from .stores import GuardedStore
from .stores import open_store
from .stores import TokenStore
from .throttling import parse_limits
from .throttling import RateLimitStorage
from .throttling import Throttle
from .tokens import TokenCodec

logger = logging.getLogger("jwt_blueprint")

#: The claims ``JWT_VERIFY_CLAIMS`` may name.
VERIFIABLE_CLAIMS = ("signature", "exp", "nbf", "iat")

#: Defaults for every key read at request time but ``JWT_SECRET_KEY``, which
#: defaults to ``SECRET_KEY``. Mutable values are copied into each app's
#: config. The URL rule and the name of each endpoint (``JWT_AUTH_URL_RULE``,
#: ``JWT_AUTH_ENDPOINT``) are declared with the endpoint, and read once, at
#: registration (see :class:`~jwt_blueprint.blueprint.Endpoint`).
CONFIG_DEFAULTS: Mapping[str, t.Any] = {
    "JWT_DEFAULT_REALM": "Login Required",
    "JWT_AUTH_USERNAME_KEY": "username",
    "JWT_AUTH_PASSWORD_KEY": "password",
    "JWT_ALGORITHM": "HS256",
    "JWT_LEEWAY": timedelta(seconds=10),
    "JWT_VERIFY": True,
    "JWT_AUTH_HEADER_PREFIX": "JWT",
    "JWT_VERIFY_EXPIRATION": True,
    "JWT_EXPIRATION_DELTA": timedelta(seconds=300),
    "JWT_NOT_BEFORE_DELTA": timedelta(seconds=0),
    "JWT_VERIFY_CLAIMS": ["signature", "exp", "nbf", "iat"],
    "JWT_REQUIRED_CLAIMS": ["exp", "iat", "nbf"],
    "JWT_PRIVATE_KEY": None,
    "JWT_PUBLIC_KEY": None,
    "JWT_MAX_TOKEN_SIZE": 8192,
    "JWT_VERIFY_CACHE_SIZE": 8192,
    "JWT_TOKEN_STORE": None,
    "JWT_REFRESH_ENABLED": False,
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(days=30),
    "JWT_JWKS_MAX_AGE": 300,
    "JWT_ENCODE_ISSUER": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_JWKS_URL": None,
    "JWT_JWKS_COOLDOWN": timedelta(seconds=30),
    "JWT_JWKS_TIMEOUT": timedelta(seconds=5),
    "JWT_TOKEN_LOCATION": ["headers"],
    "JWT_QUERY_STRING_NAME": "jwt",
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_REFRESH_COOKIE_NAME": "refresh_token_cookie",
    "JWT_ACCESS_CSRF_COOKIE_NAME": "csrf_access_token",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "csrf_refresh_token",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_COOKIE_SECURE": True,
    "JWT_COOKIE_SAMESITE": "Lax",
    "JWT_COOKIE_DOMAIN": None,
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_CSRF_HEADER_NAME": "X-CSRF-Token",
    "JWT_CSRF_FIELD_NAME": "csrf_token",
    "JWT_AUTH_RATE_LIMIT_PER_USERNAME": "5/minute",
    "JWT_AUTH_RATE_LIMIT_PER_ADDRESS": "30/minute",
    "JWT_RATE_LIMIT_STORAGE": None,
}

#: Where a token may travel, for ``JWT_TOKEN_LOCATION``.
TOKEN_LOCATIONS = ("headers", "cookies", "json", "query_string")

#: The store ``JWT_REFRESH_ENABLED`` uses when ``JWT_TOKEN_STORE`` is
#: ``None``: a file in the app's instance folder.
DEFAULT_REFRESH_STORE = "sqlite:///jwt_blueprint.sqlite3"

#: Every key whose value shapes :class:`Settings`, in a fixed order.
CONFIG_KEYS: tuple[str, ...] = (*CONFIG_DEFAULTS, "JWT_SECRET_KEY")

#: The largest ``JWT_VERIFY_CACHE_SIZE``: about 12 GB of default claims.
MAX_CACHE_SIZE = 10_000_000

#: The longest duration accepted: what a ``timedelta`` can hold.
MAX_DURATION = timedelta.max.total_seconds()
#: The most clock skew tolerated. More would keep expired tokens alive for
#: days, and is always a mistake (RFC 8725 section 3.10 speaks of minutes).
MAX_LEEWAY = 24 * 60 * 60

#: RFC 7230 token characters, for the header prefix (an auth-scheme).
_AUTH_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one app."""

    default_realm: str
    username_key: str
    password_key: str
    header_prefix: str
    header_prefix_lower: str
    #: ``"<header_prefix> "``, what an ``Authorization`` value starts with.
    header_prefix_space: str
    #: Seconds from ``iat`` to ``exp``; a fraction, or negative, in tests.
    expiration_delta: float
    #: Seconds from ``iat`` to ``nbf``.
    not_before_delta: float
    max_token_size: int
    #: Encodes and decodes tokens with the prepared keys.
    codec: TokenCodec
    #: Where revocations and spent refresh tokens are kept; ``None`` when
    #: nothing can be revoked.
    store: GuardedStore | None = None
    #: Whether logins also get a refresh token.
    refresh_enabled: bool = False
    #: Seconds a refresh token, and the whole family of tokens of one
    #: login, lives.
    refresh_expiration_delta: float = 30 * 24 * 60 * 60
    #: Seconds other services may cache the JWKS document.
    jwks_max_age: int = 300
    #: The ``iss`` written into every token issued, if any.
    encode_issuer: str | None = None
    #: The ``aud`` written into every token issued: one, or a list.
    encode_audience: str | tuple[str, ...] | None = None
    #: Where a request's token is looked for, in order.
    token_locations: tuple[str, ...] = ("headers",)
    #: The query string parameter, with ``"query_string"``.
    query_string_name: str = "jwt"
    #: How tokens travel in cookies; ``None`` without ``"cookies"``.
    cookies: CookieSettings | None = None
    #: Counts logins and refreshes; ``None`` when both limits are off.
    throttle: Throttle | None = None


def apply_defaults(config: dict[str, t.Any]) -> None:
    """Fill in every missing ``JWT_*`` key, copying mutable defaults."""
    for key, value in CONFIG_DEFAULTS.items():
        config.setdefault(key, list(value) if isinstance(value, list) else value)
    config.setdefault("JWT_SECRET_KEY", config.get("SECRET_KEY"))


#: ``raw_values(config)``: the values of :data:`CONFIG_KEYS`, in order, in
#: one C-level pass; :class:`KeyError` if a key was deleted.
raw_values = operator.itemgetter(*CONFIG_KEYS)


def read_raw(config: Mapping[str, t.Any]) -> tuple[t.Any, ...]:
    """The raw values :class:`Settings` depend on, in :data:`CONFIG_KEYS`
    order: one C-level pass, cheap enough for every request."""
    try:
        values: tuple[t.Any, ...] = raw_values(config)
    except KeyError:  # a key deleted since registration reads as None
        values = tuple(map(config.get, CONFIG_KEYS))
    return values


def snapshot(raw: tuple[t.Any, ...]) -> tuple[t.Any, ...]:
    """``raw`` with its lists and dicts copied, to keep for comparison.

    Comparing it with a later :func:`read_raw` is equal until a value is
    replaced or a list, or a ``{"kid": ..., "key": ...}`` item of one, is
    changed in place.
    """
    return tuple(_copied(value) for value in raw)


def _copied(value: t.Any) -> t.Any:
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    return value


#: Opens the store a ``JWT_TOKEN_STORE`` value names: a URL, or an object
#: implementing :class:`~jwt_blueprint.stores.TokenStore`.
StoreOpener = t.Callable[[t.Any], GuardedStore]
#: Opens the `limits` storage a URL names, for the login throttle.
RateLimitStorageOpener = t.Callable[[str], RateLimitStorage]
#: Makes the :class:`~jwt_blueprint.remote_keys.RemoteKeys` of
#: ``JWT_JWKS_URL`` from ``(url, algorithm, cooldown, max_age, timeout)``.
RemoteKeysOpener = t.Callable[[tuple[str, str, float, float, float]], RemoteKeys]


def load_settings(
    config: Mapping[str, t.Any],
    open_store: StoreOpener | None = None,
    open_remote_keys: RemoteKeysOpener | None = None,
    open_rate_limit_storage: RateLimitStorageOpener | None = None,
) -> Settings:
    """Validate the ``JWT_*`` keys of ``config`` and prepare the keys.

    :param open_store: opens ``JWT_TOKEN_STORE``; by default a new store,
        relative SQLite paths under the current directory.
    :param open_remote_keys: makes the fetcher of ``JWT_JWKS_URL``; by
        default a new one.
    :param open_rate_limit_storage: opens the login throttle's storage; by
        default a new one.
    :raises ConfigError: naming the first invalid key.
    """
    algorithm = _algorithm(config)
    verify = _flag(config, "JWT_VERIFY")
    verify_expiration = _flag(config, "JWT_VERIFY_EXPIRATION")
    verify_claims = _claims(config, "JWT_VERIFY_CLAIMS", allowed=VERIFIABLE_CLAIMS)
    required_claims = _claims(config, "JWT_REQUIRED_CLAIMS")
    decode_issuer = _optional_name(config, "JWT_DECODE_ISSUER")
    decode_audience = _audience(config, "JWT_DECODE_AUDIENCE")
    if "aud" in required_claims and decode_audience is None:
        raise ConfigError(
            "JWT_REQUIRED_CLAIMS",
            "'aud' is always refused when JWT_DECODE_AUDIENCE is not set",
        )
    username_key = _name(config, "JWT_AUTH_USERNAME_KEY")
    password_key = _name(config, "JWT_AUTH_PASSWORD_KEY")
    if username_key == password_key:
        raise ConfigError(
            "JWT_AUTH_PASSWORD_KEY", "must differ from JWT_AUTH_USERNAME_KEY"
        )

    verifying = {claim: claim in verify_claims for claim in VERIFIABLE_CLAIMS}
    if not verify:
        verifying = dict.fromkeys(VERIFIABLE_CLAIMS, False)
    if not verify_expiration:
        verifying["exp"] = False
    disabled = [claim for claim, on in verifying.items() if not on]
    if disabled:
        logger.warning(
            "jwt_blueprint: verification of %s is DISABLED (JWT_VERIFY,"
            " JWT_VERIFY_EXPIRATION, JWT_VERIFY_CLAIMS). Tokens are accepted"
            " without these checks; never run like this in production.",
            ", ".join(disabled),
        )

    header_prefix = _header_prefix(config)
    locations = _locations(config)
    remote_keys = _remote_keys(config, algorithm, open_remote_keys or new_remote_keys)
    keys = load_keys(config, algorithm, remote=remote_keys is not None)
    leeway = _seconds(config, "JWT_LEEWAY", minimum=0, maximum=MAX_LEEWAY)
    expiration_delta = _seconds(config, "JWT_EXPIRATION_DELTA")
    if 0 < expiration_delta <= leeway and verifying["exp"]:
        logger.warning(
            "jwt_blueprint: JWT_LEEWAY (%s s) is at least JWT_EXPIRATION_DELTA"
            " (%s s): tokens are accepted for longer than twice their lifetime.",
            leeway,
            expiration_delta,
        )
    refresh_enabled = _flag(config, "JWT_REFRESH_ENABLED")
    refresh_expiration_delta = _seconds(
        config, "JWT_REFRESH_EXPIRATION_DELTA", minimum=1
    )
    max_token_size = _integer(config, "JWT_MAX_TOKEN_SIZE", minimum=64)
    cache_size = _integer(
        config, "JWT_VERIFY_CACHE_SIZE", minimum=0, maximum=MAX_CACHE_SIZE
    )
    codec = TokenCodec(
        algorithm=algorithm,
        signing_key=keys.signing,
        verifying_key=keys.default,
        signing_kid=keys.signing_kid,
        verifying_keys=keys.verifying,
        leeway=leeway,
        required_claims=required_claims,
        verify_signature=verifying["signature"],
        verify_exp=verifying["exp"],
        verify_nbf=verifying["nbf"],
        verify_iat=verifying["iat"],
        max_token_size=max_token_size,
        cache_size=cache_size,
        claims_type=TokenClaims,
        issuer=_local_issuer(config, decode_issuer, remote_keys, keys.signing),
        audience=decode_audience,
        key_source=None if remote_keys is None else remote_keys.get,
        remote_issuer=None if remote_keys is None else decode_issuer,
    )
    if remote_keys is not None:
        # A fetch that drops a key ends the tokens it verified, cached too.
        remote_keys.on_change = codec.clear_cache
    store = _token_store(config, refresh_enabled, open_store or _open_here)
    if store is not None:
        _check_expiry_for_store(
            verify, verify_expiration, verifying["exp"], required_claims
        )
    if keys.signing is not None and not codec.keys_match():
        raise ConfigError(
            "JWT_PUBLIC_KEY", f"does not verify what the {algorithm} private key signs"
        )
    settings = Settings(
        default_realm=_realm(config, "JWT_DEFAULT_REALM"),
        username_key=username_key,
        password_key=password_key,
        header_prefix=header_prefix,
        header_prefix_lower=header_prefix.lower(),
        header_prefix_space=header_prefix + " ",
        expiration_delta=expiration_delta,
        not_before_delta=_seconds(config, "JWT_NOT_BEFORE_DELTA"),
        max_token_size=max_token_size,
        codec=codec,
        store=store,
        refresh_enabled=refresh_enabled,
        refresh_expiration_delta=refresh_expiration_delta,
        jwks_max_age=_integer(config, "JWT_JWKS_MAX_AGE", minimum=0, maximum=86400),
        encode_issuer=_optional_name(config, "JWT_ENCODE_ISSUER"),
        encode_audience=_encode_audience(config),
        token_locations=locations,
        query_string_name=_name(config, "JWT_QUERY_STRING_NAME"),
        cookies=_cookies(config) if "cookies" in locations else None,
        throttle=_throttle(
            config, open_rate_limit_storage or open_rate_limit_storage_at
        ),
    )
    _warn_if_refusing_own_tokens(settings)
    return settings


def _token_store(
    config: Mapping[str, t.Any], refresh_enabled: bool, open_store: StoreOpener
) -> GuardedStore | None:
    key = "JWT_TOKEN_STORE"
    value = config.get(key)
    if value is None:
        if not refresh_enabled:
            return None
        value = DEFAULT_REFRESH_STORE
    if not isinstance(value, (str, TokenStore)):
        raise ConfigError(
            key,
            "must be None, a store URL ('memory://', 'sqlite:///path',"
            " 'redis://host:port/db') or an object with the TokenStore"
            f" methods, not {_shown(value)}",
        )
    try:
        return open_store(value)
    except (ValueError, ImportError) as exc:
        raise ConfigError(key, _shown_url(value, exc)) from None


def _throttle(
    config: Mapping[str, t.Any], open_storage: RateLimitStorageOpener
) -> Throttle | None:
    limits = {}
    for key in ("JWT_AUTH_RATE_LIMIT_PER_USERNAME", "JWT_AUTH_RATE_LIMIT_PER_ADDRESS"):
        value = config.get(key)
        try:
            limits[key] = () if value is None else parse_limits(value)
        except ValueError as exc:
            raise ConfigError(key, f"{_shown(value)}: {exc}") from None
    per_username = limits["JWT_AUTH_RATE_LIMIT_PER_USERNAME"]
    per_address = limits["JWT_AUTH_RATE_LIMIT_PER_ADDRESS"]
    key = "JWT_RATE_LIMIT_STORAGE"
    url = rate_limit_storage_url(config)
    if not per_username and not per_address:
        return None
    try:
        storage = open_storage(url)
    except Exception as exc:  # a bad URL, a missing client, a cluster down
        raise ConfigError(key, _shown_url(url, exc)) from None
    return Throttle(storage, per_username, per_address)


def rate_limit_storage_url(config: Mapping[str, t.Any]) -> str:
    """Where the throttle counts: ``JWT_RATE_LIMIT_STORAGE``, else the
    Redis of a ``JWT_TOKEN_STORE`` URL (so that every worker and host
    shares the counts with its revocations), else memory.

    :raises ConfigError: for a ``JWT_RATE_LIMIT_STORAGE`` that is not a URL.
    """
    key = "JWT_RATE_LIMIT_STORAGE"
    value = config.get(key)
    if value is not None:
        if not isinstance(value, str) or "://" not in value:
            raise ConfigError(
                key,
                "must be None or a storage URL of the limits library"
                f" ('memory://', 'redis://host:port/db'), not {_shown_url(value)}",
            )
        return value
    store = config.get("JWT_TOKEN_STORE")
    if isinstance(store, str):
        scheme, _, rest = store.partition("://")
        if scheme in ("redis", "rediss"):
            return store
        if scheme == "unix":  # redis-py's name; the limits library's:
            return f"redis+unix://{rest}"
    return "memory://"


def open_rate_limit_storage_at(url: str) -> RateLimitStorage:
    """Open the `limits` storage at ``url``, with the token store's timeouts
    for Redis: a stalled server must not hold a login for ever.

    :raises ValueError: for a URL the limits library does not know.
    :raises limits.errors.ConfigurationError: when its client library is
        not installed.
    """
    options: dict[str, t.Any] = {}
    if url.startswith(("redis", "valkey")):
        from .stores.redis import DEFAULT_TIMEOUT

        options = {
            "socket_timeout": DEFAULT_TIMEOUT,
            "socket_connect_timeout": DEFAULT_TIMEOUT,
        }
    storage = storage_from_string(url, wrap_exceptions=True, **options)
    if not isinstance(storage, Storage):
        raise ValueError("an async+ storage cannot count for a WSGI app")
    return RateLimitStorage(storage)


def _check_expiry_for_store(
    verify: bool,
    verify_expiration: bool,
    verify_exp: bool,
    required_claims: tuple[str, ...],
) -> None:
    # A revocation is kept until its token expires: a token that never
    # expires would come back when the revocation is forgotten.
    reason = "revocations are kept only until the tokens expire"
    if not verify_exp:
        key = (
            "JWT_VERIFY"
            if not verify
            else "JWT_VERIFY_EXPIRATION"
            if not verify_expiration
            else "JWT_VERIFY_CLAIMS"
        )
        raise ConfigError(key, f"a token store needs exp verified: {reason}")
    if "exp" not in required_claims:
        raise ConfigError(
            "JWT_REQUIRED_CLAIMS", f"must include 'exp' with a token store: {reason}"
        )


def _warn_if_refusing_own_tokens(settings: Settings) -> None:
    audience = settings.encode_audience
    codec = settings.codec
    if audience is None or codec.signing_key is None:
        return
    named = {audience} if isinstance(audience, str) else set(audience)
    if codec.audience is None or codec.audience.isdisjoint(named):
        logger.warning(
            "jwt_blueprint: JWT_ENCODE_AUDIENCE %r is not in JWT_DECODE_AUDIENCE:"
            " this app refuses the tokens it issues (its protected views, the"
            " refresh and logout endpoints); fine only for an app that only"
            " issues them",
            audience,
        )


def _locations(config: Mapping[str, t.Any]) -> tuple[str, ...]:
    key = "JWT_TOKEN_LOCATION"
    value = config.get(key)
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, (list, tuple))
        or not values
        or any(item not in TOKEN_LOCATIONS for item in values)
        or len(set(values)) != len(values)
    ):
        raise ConfigError(
            key,
            f"must be a list of {', '.join(TOKEN_LOCATIONS)} (in the order to"
            f" look in), each once, not {_shown(value)}",
        )
    if not set(values) - {"json"}:
        raise ConfigError(
            key, "'json' carries refresh tokens only: name where access tokens are"
        )
    return tuple(values)


def _cookies(config: Mapping[str, t.Any]) -> CookieSettings:
    names = [
        _cookie_name(config, key)
        for key in (
            "JWT_ACCESS_COOKIE_NAME",
            "JWT_REFRESH_COOKIE_NAME",
            "JWT_ACCESS_CSRF_COOKIE_NAME",
            "JWT_REFRESH_CSRF_COOKIE_NAME",
        )
    ]
    if len(set(names)) != len(names):
        raise ConfigError(
            "JWT_REFRESH_CSRF_COOKIE_NAME", "the four cookie names must differ"
        )
    secure = _flag(config, "JWT_COOKIE_SECURE")
    samesite = config.get("JWT_COOKIE_SAMESITE")
    if samesite not in ("Lax", "Strict", "None", None):
        raise ConfigError(
            "JWT_COOKIE_SAMESITE",
            f"must be 'Lax', 'Strict', 'None' or None, not {_shown(samesite)}",
        )
    if samesite == "None" and not secure:
        raise ConfigError(
            "JWT_COOKIE_SAMESITE", "'None' needs JWT_COOKIE_SECURE (browsers refuse it)"
        )
    domain = config.get("JWT_COOKIE_DOMAIN")
    if domain is not None:
        _cookie_name(config, "JWT_COOKIE_DOMAIN")
    path = config.get("JWT_ACCESS_COOKIE_PATH")
    if not isinstance(path, str) or not path.startswith("/") or ";" in path:
        raise ConfigError(
            "JWT_ACCESS_COOKIE_PATH",
            f"must be a path starting with '/', not {_shown(path)}",
        )
    methods = config.get("JWT_CSRF_METHODS")
    if not isinstance(methods, (list, tuple)) or not all(
        isinstance(m, str) and m.isupper() and m.isalpha() for m in methods
    ):
        raise ConfigError(
            "JWT_CSRF_METHODS",
            f"must be a list of HTTP methods, in capitals, not {_shown(methods)}",
        )
    header = config.get("JWT_CSRF_HEADER_NAME")
    if not isinstance(header, str) or not _AUTH_SCHEME.fullmatch(header):
        raise ConfigError(
            "JWT_CSRF_HEADER_NAME", f"must be a header name, not {_shown(header)}"
        )
    access, refresh, access_csrf, refresh_csrf = names
    return CookieSettings(
        access_name=access,
        refresh_name=refresh,
        access_csrf_name=access_csrf,
        refresh_csrf_name=refresh_csrf,
        secure=secure,
        samesite=samesite,
        domain=domain,
        access_path=path,
        csrf_protect=_flag(config, "JWT_COOKIE_CSRF_PROTECT"),
        csrf_methods=frozenset(methods),
        csrf_header=header,
        csrf_field=_name(config, "JWT_CSRF_FIELD_NAME"),
    )


def _cookie_name(config: Mapping[str, t.Any], key: str) -> str:
    value = config.get(key)
    # RFC 6265 cookie names (and, for the domain, a host) are tokens.
    if not isinstance(value, str) or not _AUTH_SCHEME.fullmatch(value):
        raise ConfigError(key, f"must be a cookie token, not {_shown(value)}")
    return value


def _local_issuer(
    config: Mapping[str, t.Any],
    decode_issuer: str | None,
    remote_keys: RemoteKeys | None,
    signing_key: t.Any,
) -> str | None:
    """The ``iss`` the app's own keys' tokens must have.

    With ``JWT_JWKS_URL``, ``JWT_DECODE_ISSUER`` names the other issuer, and
    is required: its keys verify only its tokens. An app that also signs
    tokens must then name itself, with another ``JWT_ENCODE_ISSUER``, so
    that no token of the other issuer passes for one of its own users'.
    Public keys alone are the issuer's, pinned beside its JWKS.
    """
    if remote_keys is None:
        return decode_issuer
    if decode_issuer is None:
        raise ConfigError(
            "JWT_DECODE_ISSUER",
            "must be set with JWT_JWKS_URL: the issuer whose keys are fetched",
        )
    if signing_key is None:
        # Keys here only verify: the issuer's own, pinned beside its JWKS.
        return decode_issuer
    encode_issuer = config.get("JWT_ENCODE_ISSUER")
    if encode_issuer is None or encode_issuer == decode_issuer:
        raise ConfigError(
            "JWT_ENCODE_ISSUER",
            "must be set, to another issuer than JWT_DECODE_ISSUER, in an app"
            " with keys of its own and JWT_JWKS_URL: a token's iss tells whose"
            " key verifies it",
        )
    return t.cast(str, encode_issuer)


def _remote_keys(
    config: Mapping[str, t.Any], algorithm: str, open_remote_keys: RemoteKeysOpener
) -> RemoteKeys | None:
    url = config.get("JWT_JWKS_URL")
    if url is None:
        return None
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(
            "JWT_JWKS_URL", f"must be None or an http(s) URL, not {_shown_url(url)}"
        )
    # Not 0: a flood of made-up kids would fetch on every request.
    cooldown = _seconds(config, "JWT_JWKS_COOLDOWN", minimum=0.1, maximum=3600)
    timeout = _seconds(config, "JWT_JWKS_TIMEOUT", minimum=0.1, maximum=60)
    max_age = _integer(config, "JWT_JWKS_MAX_AGE", minimum=0, maximum=86400)
    return open_remote_keys((url, algorithm, cooldown, float(max_age), timeout))


def new_remote_keys(options: tuple[str, str, float, float, float]) -> RemoteKeys:
    """A new fetcher for ``(url, algorithm, cooldown, max_age, timeout)``."""
    url, algorithm, cooldown, max_age, timeout = options
    return RemoteKeys(
        url, algorithm, cooldown=cooldown, max_age=max_age, timeout=timeout
    )


def _open_here(value: str | TokenStore) -> GuardedStore:
    return GuardedStore(open_store(value) if isinstance(value, str) else value)


def _algorithm(config: Mapping[str, t.Any]) -> str:
    value = config.get("JWT_ALGORITHM")
    # ES521 is PyJWT's legacy alias of ES512, not a JWA algorithm name.
    allowed = sorted(set(get_default_algorithms()) - {"none", "ES521"})
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(
            "JWT_ALGORITHM", f"{_shown(value)} is not one of {', '.join(allowed)}"
        )
    return value


def _flag(config: Mapping[str, t.Any], key: str) -> bool:
    value = config.get(key)
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be True or False, not {_shown(value)}")
    return value


def _claims(
    config: Mapping[str, t.Any], key: str, allowed: t.Sequence[str] | None = None
) -> tuple[str, ...]:
    value = config.get(key)
    # Ordered and comparable by value: a set changed in place would not be.
    if not isinstance(value, (list, tuple)):
        raise ConfigError(key, f"must be a list of claim names, not {_shown(value)}")
    for claim in value:
        if not isinstance(claim, str) or not claim:
            raise ConfigError(key, f"{_shown(claim)} is not a claim name")
        if allowed is not None and claim not in allowed:
            raise ConfigError(
                key, f"{_shown(claim)} is not one of {', '.join(allowed)}"
            )
    return tuple(dict.fromkeys(value))


def _optional_name(config: Mapping[str, t.Any], key: str) -> str | None:
    return None if config.get(key) is None else _name(config, key)


def _audience(config: Mapping[str, t.Any], key: str) -> tuple[str, ...] | None:
    value = config.get(key)
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, (list, tuple))
        or not values
        or not all(isinstance(item, str) and item for item in values)
    ):
        raise ConfigError(
            key,
            f"must be None, a non-empty string or a list of them, not {_shown(value)}",
        )
    return tuple(values)


def _encode_audience(config: Mapping[str, t.Any]) -> str | tuple[str, ...] | None:
    audience = _audience(config, "JWT_ENCODE_AUDIENCE")
    if audience is not None and isinstance(config["JWT_ENCODE_AUDIENCE"], str):
        return audience[0]  # a string stays a string in the token
    return audience


def _name(config: Mapping[str, t.Any], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(key, f"must be a non-empty string, not {_shown(value)}")
    return value


def _realm(config: Mapping[str, t.Any], key: str) -> str:
    value = _name(config, key)
    try:
        quote_header_value(value)
    except ValueError:
        raise ConfigError(
            key, "must be printable ASCII (it goes into a header)"
        ) from None
    return value


def _header_prefix(config: Mapping[str, t.Any]) -> str:
    key = "JWT_AUTH_HEADER_PREFIX"
    value = config.get(key)
    if not isinstance(value, str) or not _AUTH_SCHEME.fullmatch(value):
        raise ConfigError(
            key, f"must be an auth-scheme such as 'JWT', not {_shown(value)}"
        )
    return value


def url_rule(config: Mapping[str, t.Any], key: str) -> str | None:
    """The URL rule at ``key``: ``None``, or a path with no variables.

    :raises ConfigError: naming ``key``.
    """
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError(
            key, f"must be None or a path starting with '/', not {_shown(value)}"
        )
    if "<" in value or ">" in value:
        # The views take no arguments: a variable would fail every request.
        raise ConfigError(
            key, f"must be a plain path, with no variables: {_shown(value)}"
        )
    return value


def endpoint_name(config: Mapping[str, t.Any], key: str) -> str:
    """The endpoint name at ``key``: non-empty, with no dot.

    :raises ConfigError: naming ``key``.
    """
    value = _name(config, key)
    if "." in value:
        raise ConfigError(key, f"must not contain a dot: {_shown(value)}")
    return value


def _seconds(
    config: Mapping[str, t.Any],
    key: str,
    minimum: float = -MAX_DURATION,
    maximum: float = MAX_DURATION,
) -> float:
    value = config.get(key)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an integer beyond any float
            seconds = math.inf if value > 0 else -math.inf
    else:
        raise ConfigError(
            key,
            f"must be a datetime.timedelta or a number of seconds, not {_shown(value)}",
        )
    if not minimum <= seconds <= maximum:
        raise ConfigError(
            key, f"must be from {minimum:g} to {maximum:g} seconds, not {seconds!r}"
        )
    return seconds


def _integer(
    config: Mapping[str, t.Any], key: str, minimum: int, maximum: int | None = None
) -> int:
    value = config.get(key)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = (
            f"at least {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        )
        raise ConfigError(key, f"must be an integer {bounds}, not {_shown(value)}")
    return value


def _shown_url(value: t.Any, error: BaseException | None = None) -> str:
    """:func:`_shown` for a value that may be a URL with a password, and
    the ``error`` opening it gave, if any, without the password, which an
    error message (and the log it lands in) must not hold."""
    text = _shown(value) if error is None else f"{_shown(value)}: {error}"
    password = _password_of(value)
    return text.replace(password, "***") if password else text


def _password_of(value: t.Any) -> str | None:
    if not isinstance(value, str) or "://" not in value:
        return None
    userinfo, at, _ = value.partition("://")[2].partition("@")
    if not at or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2] or None


def _shown(value: t.Any) -> str:
    """``repr(value)`` for an error message, shortened; integers too long
    for ``repr`` are described instead."""
    try:
        text = repr(value)
    except ValueError:  # beyond sys.get_int_max_str_digits()
        return "a number too large to show"
    return text if len(text) <= 80 else f"{text[:77]}..."

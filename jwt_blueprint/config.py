"""Every ``JWT_*`` configuration key, its default, and its validation.

:data:`CONFIG_DEFAULTS` is applied to ``app.config`` with ``setdefault`` when
the blueprint is registered. :func:`load_settings` turns the raw values into a
frozen :class:`Settings`, failing with a :class:`~.exceptions.ConfigError`
that names the key. Nothing is parsed per request: the settings are rebuilt
only when a raw value changes (see :mod:`.state`).
"""

from __future__ import annotations

import logging
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import jwt
from jwt.algorithms import get_default_algorithms
from jwt.algorithms import HMACAlgorithm

from .exceptions import ConfigError
from .exceptions import quote_header_value
from .tokens import TokenCodec

logger = logging.getLogger("jwt_blueprint")

#: The claims ``JWT_VERIFY_CLAIMS`` may name.
VERIFIABLE_CLAIMS = ("signature", "exp", "nbf", "iat")

#: Defaults for every key but ``JWT_SECRET_KEY``, which defaults to
#: ``SECRET_KEY``. Mutable values are copied into each app's config.
CONFIG_DEFAULTS: Mapping[str, t.Any] = {
    "JWT_DEFAULT_REALM": "Login Required",
    "JWT_AUTH_URL_RULE": "/auth",
    "JWT_AUTH_ENDPOINT": "jwt",
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
}

#: Every key whose value shapes :class:`Settings`, in a fixed order.
CONFIG_KEYS: tuple[str, ...] = (*CONFIG_DEFAULTS, "JWT_SECRET_KEY")

#: RFC 7230 token characters, for the header prefix (an auth-scheme).
_AUTH_SCHEME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@dataclass(frozen=True)
class Settings:
    """The validated configuration of one app."""

    default_realm: str
    auth_url_rule: str | None
    auth_endpoint: str
    username_key: str
    password_key: str
    header_prefix: str
    header_prefix_lower: str
    expiration_delta: int
    not_before_delta: int
    max_token_size: int
    #: Encodes and decodes tokens with the prepared keys.
    codec: TokenCodec


def apply_defaults(config: dict[str, t.Any]) -> None:
    """Fill in every missing ``JWT_*`` key, copying mutable defaults."""
    for key, value in CONFIG_DEFAULTS.items():
        config.setdefault(key, list(value) if isinstance(value, list) else value)
    config.setdefault("JWT_SECRET_KEY", config.get("SECRET_KEY"))


def read_raw(config: Mapping[str, t.Any]) -> tuple[t.Any, ...]:
    """The raw values :class:`Settings` depend on, in :data:`CONFIG_KEYS`
    order: one C-level pass, cheap enough for every request."""
    return tuple(map(config.get, CONFIG_KEYS))


def snapshot(raw: tuple[t.Any, ...]) -> tuple[t.Any, ...]:
    """``raw`` with its lists copied, to keep for comparison.

    Comparing it with a later :func:`read_raw` is equal until a value is
    replaced or a list is changed in place.
    """
    return tuple(list(value) if isinstance(value, list) else value for value in raw)


def load_settings(config: Mapping[str, t.Any]) -> Settings:
    """Validate the ``JWT_*`` keys of ``config`` and prepare the keys.

    :raises ConfigError: naming the first invalid key.
    """
    algorithm = _algorithm(config)
    verify = _flag(config, "JWT_VERIFY")
    verify_expiration = _flag(config, "JWT_VERIFY_EXPIRATION")
    verify_claims = _claims(config, "JWT_VERIFY_CLAIMS", allowed=VERIFIABLE_CLAIMS)
    required_claims = _claims(config, "JWT_REQUIRED_CLAIMS")
    if "aud" in required_claims:
        raise ConfigError(
            "JWT_REQUIRED_CLAIMS", "'aud' is always refused: no audience is configured"
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
    signing_key, verifying_key = _keys(config, algorithm)
    leeway = _seconds(config, "JWT_LEEWAY", minimum=0)
    max_token_size = _integer(config, "JWT_MAX_TOKEN_SIZE", minimum=64)
    cache_size = _integer(config, "JWT_VERIFY_CACHE_SIZE", minimum=0)
    codec = TokenCodec(
        algorithm=algorithm,
        signing_key=signing_key,
        verifying_key=verifying_key,
        leeway=leeway,
        required_claims=required_claims,
        verify_signature=verifying["signature"],
        verify_exp=verifying["exp"],
        verify_nbf=verifying["nbf"],
        verify_iat=verifying["iat"],
        max_token_size=max_token_size,
        cache_size=cache_size,
    )
    if signing_key is not None and not codec.keys_match():
        raise ConfigError(
            "JWT_PUBLIC_KEY", f"does not verify what the {algorithm} private key signs"
        )
    return Settings(
        default_realm=_realm(config, "JWT_DEFAULT_REALM"),
        auth_url_rule=_url_rule(config),
        auth_endpoint=_endpoint(config),
        username_key=username_key,
        password_key=password_key,
        header_prefix=header_prefix,
        header_prefix_lower=header_prefix.lower(),
        expiration_delta=int(_seconds(config, "JWT_EXPIRATION_DELTA", minimum=1)),
        not_before_delta=int(_seconds(config, "JWT_NOT_BEFORE_DELTA", minimum=0)),
        max_token_size=max_token_size,
        codec=codec,
    )


def _algorithm(config: Mapping[str, t.Any]) -> str:
    value = config.get("JWT_ALGORITHM")
    # ES521 is PyJWT's legacy alias of ES512, not a JWA algorithm name.
    allowed = sorted(set(get_default_algorithms()) - {"none", "ES521"})
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(
            "JWT_ALGORITHM", f"{value!r} is not one of {', '.join(allowed)}"
        )
    return value


def _flag(config: Mapping[str, t.Any], key: str) -> bool:
    value = config.get(key)
    if not isinstance(value, bool):
        raise ConfigError(key, f"must be True or False, not {value!r}")
    return value


def _claims(
    config: Mapping[str, t.Any], key: str, allowed: t.Sequence[str] | None = None
) -> tuple[str, ...]:
    value = config.get(key)
    # Ordered and comparable by value: a set changed in place would not be.
    if not isinstance(value, (list, tuple)):
        raise ConfigError(key, f"must be a list of claim names, not {value!r}")
    for claim in value:
        if not isinstance(claim, str) or not claim:
            raise ConfigError(key, f"{claim!r} is not a claim name")
        if allowed is not None and claim not in allowed:
            raise ConfigError(key, f"{claim!r} is not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


def _name(config: Mapping[str, t.Any], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(key, f"must be a non-empty string, not {value!r}")
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
        raise ConfigError(key, f"must be an auth-scheme such as 'JWT', not {value!r}")
    return value


def _url_rule(config: Mapping[str, t.Any]) -> str | None:
    value = config.get("JWT_AUTH_URL_RULE")
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError(
            "JWT_AUTH_URL_RULE",
            f"must be None or a path starting with '/', not {value!r}",
        )
    return value


def _endpoint(config: Mapping[str, t.Any]) -> str:
    value = _name(config, "JWT_AUTH_ENDPOINT")
    if "." in value:
        raise ConfigError("JWT_AUTH_ENDPOINT", f"must not contain a dot: {value!r}")
    return value


def _seconds(config: Mapping[str, t.Any], key: str, minimum: int) -> float:
    value = config.get(key)
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise ConfigError(
            key, f"must be a datetime.timedelta or a number of seconds, not {value!r}"
        )
    if not seconds >= minimum or seconds == float("inf"):
        raise ConfigError(key, f"must be at least {minimum} seconds, not {value!r}")
    return seconds


def _integer(config: Mapping[str, t.Any], key: str, minimum: int) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(
            key, f"must be an integer of at least {minimum}, not {value!r}"
        )
    return value


def _keys(config: Mapping[str, t.Any], algorithm: str) -> tuple[t.Any, t.Any]:
    """Prepare the signing and verifying keys once, as PyJWT key objects.

    Passing a PEM string to PyJWT makes it parse the key on every call;
    prepared objects are reused.
    """
    algo = get_default_algorithms()[algorithm]
    if isinstance(algo, HMACAlgorithm):
        secret = _key_material(config, "JWT_SECRET_KEY", required=True)
        assert secret is not None  # required=True never returns None
        try:
            prepared = algo.prepare_key(secret)
        except jwt.InvalidKeyError as exc:
            raise ConfigError("JWT_SECRET_KEY", str(exc)) from None
        _warn_if_short(algo, prepared, "JWT_SECRET_KEY")
        return prepared, prepared

    private_key = _key_material(config, "JWT_PRIVATE_KEY", required=False)
    private_source = "JWT_PRIVATE_KEY"
    public_key = _key_material(config, "JWT_PUBLIC_KEY", required=False)
    public_source = "JWT_PUBLIC_KEY"
    secret = config.get("JWT_SECRET_KEY")
    if private_key is None and public_key is None and _looks_like_pem(secret):
        # Flask-JWT used JWT_SECRET_KEY whatever the algorithm: a private key
        # to sign, or a public one on a service that only verifies. Any other
        # secret there is SECRET_KEY's, meant for sessions.
        prepared = _prepare_asymmetric(algo, secret, "JWT_SECRET_KEY", algorithm)
        if hasattr(prepared, "sign"):
            private_key, private_source = secret, "JWT_SECRET_KEY"
        else:
            public_key, public_source = secret, "JWT_SECRET_KEY"

    signing = None
    if private_key is not None:
        signing = _prepare_asymmetric(algo, private_key, private_source, algorithm)
        if not hasattr(signing, "sign"):
            raise ConfigError(private_source, f"is not a private key for {algorithm}")
        _warn_if_short(algo, signing, private_source)
    if public_key is not None:
        verifying = _prepare_asymmetric(algo, public_key, public_source, algorithm)
        if hasattr(verifying, "sign"):
            verifying = verifying.public_key()
        _warn_if_short(algo, verifying, public_source)
    elif signing is not None:
        verifying = signing.public_key()
    else:
        raise ConfigError(
            "JWT_PUBLIC_KEY", f"{algorithm} needs JWT_PUBLIC_KEY or JWT_PRIVATE_KEY"
        )
    return signing, verifying


def _warn_if_short(algo: t.Any, key: t.Any, source: str) -> None:
    message = algo.check_key_length(key)
    if message:
        logger.warning("jwt_blueprint: %s: %s", source, message)


def _looks_like_pem(value: t.Any) -> t.TypeGuard[str | bytes]:
    if isinstance(value, str):
        return "-----BEGIN " in value
    return isinstance(value, bytes) and b"-----BEGIN " in value


def _key_material(
    config: Mapping[str, t.Any], key: str, required: bool
) -> str | bytes | None:
    value = config.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, (str, bytes)) or not value:
        raise ConfigError(key, "must be set to a non-empty string or bytes")
    return value


def _prepare_asymmetric(
    algo: t.Any, material: str | bytes, key: str, algorithm: str
) -> t.Any:
    try:
        return algo.prepare_key(material)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise ConfigError(key, f"is not a valid {algorithm} key: {exc}") from None

"""Turn the configured key material into prepared key objects.

:mod:`.config` validates the plain values; this module reads
``JWT_SECRET_KEY``, ``JWT_PRIVATE_KEY`` and ``JWT_PUBLIC_KEY`` for the chosen
algorithm and prepares them once, as PyJWT key objects. Passing PEM text to
PyJWT instead would parse it on every call. Every error is a
:class:`~.exceptions.ConfigError` naming the key.
"""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Mapping

import jwt
from jwt.algorithms import get_default_algorithms
from jwt.algorithms import HMACAlgorithm

from .exceptions import ConfigError

logger = logging.getLogger("jwt_blueprint")

#: The keys that hold asymmetric key material.
ASYMMETRIC_KEYS = ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY")


class KeyPair(t.NamedTuple):
    """The prepared keys of one app."""

    #: Signs new tokens; ``None`` on a service that only verifies.
    signing: t.Any
    #: Verifies tokens.
    verifying: t.Any


def load_keys(config: Mapping[str, t.Any], algorithm: str) -> KeyPair:
    """Prepare the signing and verifying keys for ``algorithm``.

    :raises ConfigError: naming the key that is missing, invalid, of the
        wrong family, or set where the algorithm cannot use it.
    """
    algo = get_default_algorithms()[algorithm]
    if isinstance(algo, HMACAlgorithm):
        return _hmac_keys(config, algo, algorithm)
    return _asymmetric_keys(config, algo, algorithm)


def _hmac_keys(
    config: Mapping[str, t.Any], algo: HMACAlgorithm, algorithm: str
) -> KeyPair:
    for key in ASYMMETRIC_KEYS:
        # A service meant to verify RS256 tokens that forgot JWT_ALGORITHM
        # would otherwise run on SECRET_KEY without a word.
        if config.get(key) is not None:
            raise ConfigError(
                key,
                f"is set, but {algorithm} signs with JWT_SECRET_KEY; set"
                " JWT_ALGORITHM to the key's algorithm, or remove the key",
            )
    secret = _key_material(config, "JWT_SECRET_KEY", required=True)
    assert secret is not None  # required=True never returns None
    try:
        prepared = algo.prepare_key(secret)
    except jwt.InvalidKeyError as exc:
        raise ConfigError("JWT_SECRET_KEY", str(exc)) from None
    except UnicodeEncodeError:
        raise ConfigError(
            "JWT_SECRET_KEY", "must be text that can be encoded as UTF-8"
        ) from None
    _warn_if_short(algo, prepared, "JWT_SECRET_KEY")
    return KeyPair(prepared, prepared)


def _asymmetric_keys(
    config: Mapping[str, t.Any], algo: t.Any, algorithm: str
) -> KeyPair:
    private_key = _key_material(config, "JWT_PRIVATE_KEY", required=False)
    private_source = "JWT_PRIVATE_KEY"
    public_key = _key_material(config, "JWT_PUBLIC_KEY", required=False)
    public_source = "JWT_PUBLIC_KEY"
    secret = config.get("JWT_SECRET_KEY")
    if private_key is None and public_key is None and _looks_like_pem(secret):
        # Flask-JWT used JWT_SECRET_KEY whatever the algorithm: a private key
        # to sign, or a public one on a service that only verifies. Any other
        # secret there is SECRET_KEY's, meant for sessions.
        prepared = _prepare(algo, secret, "JWT_SECRET_KEY", algorithm)
        if hasattr(prepared, "sign"):
            private_key, private_source = secret, "JWT_SECRET_KEY"
        else:
            public_key, public_source = secret, "JWT_SECRET_KEY"

    signing = None
    if private_key is not None:
        signing = _prepare(algo, private_key, private_source, algorithm)
        if not hasattr(signing, "sign"):
            raise ConfigError(private_source, f"is not a private key for {algorithm}")
        _warn_if_short(algo, signing, private_source)
    if public_key is not None:
        verifying = _prepare(algo, public_key, public_source, algorithm)
        if hasattr(verifying, "sign"):
            verifying = verifying.public_key()
        _warn_if_short(algo, verifying, public_source)
    elif signing is not None:
        verifying = signing.public_key()
    else:
        raise ConfigError(
            "JWT_PUBLIC_KEY", f"{algorithm} needs JWT_PUBLIC_KEY or JWT_PRIVATE_KEY"
        )
    return KeyPair(signing, verifying)


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


def _prepare(algo: t.Any, material: str | bytes, key: str, algorithm: str) -> t.Any:
    try:
        return algo.prepare_key(material)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        # UnicodeEncodeError (lone surrogates in a str) is a ValueError.
        raise ConfigError(key, f"is not a valid {algorithm} key: {exc}") from None

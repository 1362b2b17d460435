"""Turn the configured key material into a prepared set of keys.

:mod:`.config` validates the plain values; this module reads
``JWT_SECRET_KEY``, ``JWT_PRIVATE_KEY`` and ``JWT_PUBLIC_KEY`` for the chosen
algorithm and prepares them once, as PyJWT key objects. Passing PEM text to
PyJWT instead would parse it on every call. Every error is a
:class:`~.exceptions.ConfigError` naming the key (and its place in a list).

Each key may be one value or a list, for rotation: the first private key (or
secret) signs, and every key listed verifies. Each has a ``kid``: the one
given as ``{"kid": ..., "key": ...}``, else its RFC 7638 JWK thumbprint (for
a secret, a keyed hash that tells nothing about it). Every key is bound to
``JWT_ALGORITHM`` (RFC 8725 section 3.1): a key of another family or curve,
or an RSA key under 2048 bits, fails at startup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import typing as t
from collections.abc import Mapping

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import PublicFormat
from jwt.algorithms import get_default_algorithms
from jwt.algorithms import HMACAlgorithm

from .exceptions import ConfigError

logger = logging.getLogger("jwt_blueprint")

#: The keys that hold asymmetric key material.
ASYMMETRIC_KEYS = ("JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY")
#: The smallest RSA modulus accepted (RFC 7518 section 3.3).
MIN_RSA_BITS = 2048
#: The members of a public JWK that its RFC 7638 thumbprint hashes.
THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}
THUMBPRINT_MEMBERS["OKP"] = ("crv", "kty", "x")
#: Longest ``kid`` accepted in the config.
MAX_KID_LENGTH = 256


class KeySet(t.NamedTuple):
    """The prepared keys of one app."""

    #: Signs new tokens; ``None`` on a service that only verifies.
    signing: t.Any
    #: The ``kid`` of :attr:`signing`, written into every token.
    signing_kid: str | None
    #: Every key that verifies, by ``kid``, the signing key's first.
    verifying: dict[str, t.Any]
    #: What verifies a token without ``kid``: the signing key's public half,
    #: or the first key listed on a service that only verifies.
    default: t.Any


class _Entry(t.NamedTuple):
    material: t.Any
    kid: str | None
    #: The config key, with the place in a list: ``JWT_PUBLIC_KEY[1]``.
    label: str


def load_keys(
    config: Mapping[str, t.Any], algorithm: str, *, remote: bool = False
) -> KeySet:
    """Prepare the signing and verifying keys for ``algorithm``.

    :param remote: whether another issuer's keys verify too
        (``JWT_JWKS_URL``), so that none need be configured here.
    :raises ConfigError: naming the key that is missing, invalid, of the
        wrong family, or set where the algorithm cannot use it.
    """
    algo = get_default_algorithms()[algorithm]
    if isinstance(algo, HMACAlgorithm):
        if remote:
            raise ConfigError(
                "JWT_JWKS_URL", f"{algorithm} keys are secrets: no JWKS publishes them"
            )
        return _hmac_keys(config, algo, algorithm)
    return _asymmetric_keys(config, algo, algorithm, remote)


def _hmac_keys(
    config: Mapping[str, t.Any], algo: HMACAlgorithm, algorithm: str
) -> KeySet:
    for key in ASYMMETRIC_KEYS:
        # A service meant to verify RS256 tokens that forgot JWT_ALGORITHM
        # would otherwise run on SECRET_KEY without a word.
        if config.get(key) is not None:
            raise ConfigError(
                key,
                f"is set, but {algorithm} signs with JWT_SECRET_KEY; set"
                " JWT_ALGORITHM to the key's algorithm, or remove the key",
            )
    entries = _entries(config, "JWT_SECRET_KEY")
    if not entries:
        raise ConfigError(
            "JWT_SECRET_KEY", "must be set to a non-empty string or bytes"
        )
    keys: list[tuple[str, t.Any]] = []
    for entry in entries:
        if not isinstance(entry.material, (str, bytes)) or not entry.material:
            raise ConfigError(entry.label, "must be a non-empty string or bytes")
        try:
            prepared = algo.prepare_key(entry.material)
        except jwt.InvalidKeyError as exc:
            raise ConfigError(entry.label, str(exc)) from None
        except UnicodeEncodeError:
            raise ConfigError(
                entry.label, "must be text that can be encoded as UTF-8"
            ) from None
        _warn_if_short(algo, prepared, entry.label)
        keys.append((entry.kid or _secret_kid(prepared), prepared))
    verifying = _by_kid(keys, entries)
    kid, signing = keys[0]
    return KeySet(signing, kid, verifying, signing)


def _asymmetric_keys(
    config: Mapping[str, t.Any], algo: t.Any, algorithm: str, remote: bool
) -> KeySet:
    private = _entries(config, "JWT_PRIVATE_KEY")
    public = _entries(config, "JWT_PUBLIC_KEY")
    secret = config.get("JWT_SECRET_KEY")
    if not private and not public and _looks_like_pem(secret):
        # Flask-JWT used JWT_SECRET_KEY whatever the algorithm: a private key
        # to sign, or a public one on a service that only verifies. Any other
        # secret there is SECRET_KEY's, meant for sessions.
        entry = _Entry(secret, None, "JWT_SECRET_KEY")
        prepared = _prepare(algo, entry, algorithm)
        (private if hasattr(prepared, "sign") else public).append(entry)
    if not private and not public:
        if remote:
            return KeySet(None, None, {}, None)
        raise ConfigError(
            "JWT_PUBLIC_KEY",
            f"{algorithm} needs JWT_PUBLIC_KEY, JWT_PRIVATE_KEY or JWT_JWKS_URL",
        )
    keys: list[tuple[str, t.Any]] = []
    signing = None
    for entry in private:
        key = _prepare(algo, entry, algorithm)
        if not hasattr(key, "sign"):
            raise ConfigError(entry.label, f"is not a private key for {algorithm}")
        signing = signing or key
        public_key = key.public_key()
        keys.append((entry.kid or _thumbprint(algo, public_key), public_key))
    for entry in public:
        key = _prepare(algo, entry, algorithm)
        if hasattr(key, "sign"):
            key = key.public_key()
        keys.append((entry.kid or _thumbprint(algo, key), key))
    if (
        signing is not None
        and len(private) == len(public) == 1
        and not _is_list(config, "JWT_PUBLIC_KEY")
        and not same_key(keys[0][1], keys[1][1])
    ):
        # One of each, not lists: a pair, as Flask-JWT had them. With lists,
        # another public key is one kept to verify, for rotation.
        raise ConfigError(
            "JWT_PUBLIC_KEY", f"does not verify what the {algorithm} private key signs"
        )
    verifying = _by_kid(keys, [*private, *public])
    signing_kid, default = keys[0]
    if signing is None:
        return KeySet(None, None, verifying, default)
    return KeySet(signing, signing_kid, verifying, default)


def _is_list(config: Mapping[str, t.Any], key: str) -> bool:
    return isinstance(config.get(key), (list, tuple))


def _entries(config: Mapping[str, t.Any], key: str) -> list[_Entry]:
    """The items of ``key``: one value, or a list of values and
    ``{"kid": ..., "key": ...}`` dicts."""
    value = config.get(key)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        return [_entry(value, key)]
    if not value:
        raise ConfigError(key, "must not be an empty list")
    return [_entry(item, f"{key}[{index}]") for index, item in enumerate(value)]


def _entry(item: t.Any, label: str) -> _Entry:
    if not isinstance(item, Mapping):
        return _Entry(item, None, label)
    unknown = set(item) - {"kid", "key"}
    if unknown or "key" not in item:
        raise ConfigError(
            label, "a dict must have exactly 'key' and, optionally, 'kid'"
        )
    kid = item.get("kid")
    if kid is not None and (
        not isinstance(kid, str)
        or not kid
        or len(kid) > MAX_KID_LENGTH
        or not kid.isascii()
        or not kid.isprintable()
    ):
        raise ConfigError(
            label, f"'kid' must be printable ASCII, 1 to {MAX_KID_LENGTH} characters"
        )
    return _Entry(item["key"], kid, label)


def _by_kid(keys: list[tuple[str, t.Any]], entries: list[_Entry]) -> dict[str, t.Any]:
    verifying: dict[str, t.Any] = {}
    for (kid, key), entry in zip(keys, entries, strict=True):
        if kid in verifying:
            if same_key(verifying[kid], key):
                continue  # a private key's public half, listed as well
            raise ConfigError(
                entry.label, f"has the kid {kid!r} of another key listed before it"
            )
        verifying[kid] = key
    return verifying


def same_key(first: t.Any, second: t.Any) -> bool:
    """Whether two prepared keys are one: the same secret, or the same
    public key."""
    if isinstance(first, bytes) or isinstance(second, bytes):
        return bool(first == second)
    encoding, format_ = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    return bool(
        first.public_bytes(encoding, format_) == second.public_bytes(encoding, format_)
    )


def _prepare(algo: t.Any, entry: _Entry, algorithm: str) -> t.Any:
    material = entry.material
    if isinstance(material, (str, bytes)) and not material:
        raise ConfigError(entry.label, "must not be empty")
    try:
        key = algo.prepare_key(material)
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        # UnicodeEncodeError (lone surrogates in a str) is a ValueError.
        raise ConfigError(
            entry.label, f"is not a valid {algorithm} key: {exc}"
        ) from None
    _check_binding(key, entry.label, algorithm)
    _warn_if_short(algo, key, entry.label)
    return key


def _check_binding(key: t.Any, label: str, algorithm: str) -> None:
    """Refuse an RSA key too short to sign with (PyJWT only warns). A key of
    another family, or an EC key on another curve than the algorithm's, is
    refused by PyJWT's ``prepare_key`` already."""
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        if key.key_size < MIN_RSA_BITS:
            raise ConfigError(
                label,
                f"is a {key.key_size}-bit RSA key; {algorithm} needs at least"
                f" {MIN_RSA_BITS} bits",
            )


def _thumbprint(algo: t.Any, public_key: t.Any) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public key, base64url."""
    jwk = algo.to_jwk(public_key, as_dict=True)
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode()).digest())


def _secret_kid(secret: bytes) -> str:
    # Keyed with the secret itself: equal secrets get equal kids, and the
    # kid tells nothing of the secret that a token signed with it does not.
    return _b64(hmac.digest(secret, b"jwt_blueprint key id", "sha256")[:16])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _warn_if_short(algo: t.Any, key: t.Any, source: str) -> None:
    message = algo.check_key_length(key)
    if message:
        logger.warning("jwt_blueprint: %s: %s", source, message)


def _looks_like_pem(value: t.Any) -> t.TypeGuard[str | bytes]:
    if isinstance(value, str):
        return "-----BEGIN " in value
    return isinstance(value, bytes) and b"-----BEGIN " in value

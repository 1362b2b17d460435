"""What every contender shares: the secret, the users, the claims, the keys.

Keeping these in one place is what makes the comparison fair: each contender
signs the same claims with the same key and answers with the same body.
"""

from __future__ import annotations

import functools
import secrets
import time
import typing as t
from dataclasses import dataclass
from datetime import timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa

#: The HS256 secret of every contender (45 bytes; RFC 7518 wants 32 or more).
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
#: The lifetime of every token, long enough to outlive any suite.
TOKEN_LIFETIME = timedelta(hours=1)
#: The path of every protected route.
PROTECTED_PATH = "/protected"
#: The credentials posted to every login endpoint.
USERNAME = "user1"
PASSWORD = "abcxyz"
#: The algorithms a suite can run, by their ``--only`` name.
ALGORITHMS = {"hs256": "HS256", "rs256": "RS256", "es256": "ES256", "eddsa": "EdDSA"}


class User:
    """A user as an app would load it: an id, a name and a password."""

    __slots__ = ("id", "username", "password")

    def __init__(self, id: int, username: str, password: str) -> None:
        self.id = id
        self.username = username
        self.password = password

    def __str__(self) -> str:
        return f"User(id='{self.id}')"


USERS = [User(1, USERNAME, PASSWORD), User(2, "user2", PASSWORD)]
USERNAME_TABLE = {user.username: user for user in USERS}
USERID_TABLE = {user.id: user for user in USERS}
#: Flask-JWT-Extended's ``sub`` is a string; look it up without converting.
USERSUB_TABLE = {str(user.id): user for user in USERS}
#: The body every protected route answers for user 1.
EXPECTED_BODY = str(USERS[0]).encode()


def authenticate(username: str, password: str) -> User | None:
    """Return the user at once: no password hashing, so issuance measures the
    library, not a KDF."""
    user = USERNAME_TABLE.get(username)
    if user is not None and user.password == password:
        return user
    return None


def identity(payload: dict[str, t.Any]) -> User | None:
    """jwt_blueprint's identity handler (and inline PyJWT's lookup)."""
    return USERID_TABLE.get(payload["identity"])


def make_claims(user_id: int = 1, now: int | None = None) -> dict[str, t.Any]:
    """The claims jwt_blueprint signs: identity, sub, iat, nbf, exp, jti."""
    now = int(time.time()) if now is None else now
    return {
        "identity": user_id,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + int(TOKEN_LIFETIME.total_seconds()),
        "jti": secrets.token_urlsafe(16),
    }


@dataclass(frozen=True)
class KeySet:
    """The keys of one algorithm, as PEM text and as prepared objects.

    For HS256 every field is the shared :data:`SECRET`.
    """

    algorithm: str
    private_pem: str
    public_pem: str
    private_key: t.Any
    public_key: t.Any

    @property
    def symmetric(self) -> bool:
        return self.algorithm.startswith("HS")

    def sign(self, claims: dict[str, t.Any]) -> str:
        """Sign ``claims`` with PyJWT directly, as an app would."""
        return jwt.encode(claims, self.private_key, algorithm=self.algorithm)


def make_keys(algorithm: str, secret: str = SECRET) -> KeySet:
    """Generate a fresh key pair for ``algorithm`` with ``cryptography``
    (for HS256, the keys are ``secret``)."""
    if algorithm == "HS256":
        return KeySet(algorithm, secret, secret, secret, secret)
    private: t.Any
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"no key generator for {algorithm}")
    public = private.public_key()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return KeySet(algorithm, private_pem, public_pem, private, public)


@functools.cache
def spare_keys(algorithm: str) -> tuple[KeySet, KeySet, KeySet]:
    """Three more keys of ``algorithm``, the same for the whole process: two
    that a key set lists after the signing key, and one it never lists."""
    second, third, unlisted = (
        make_keys(algorithm, f"{SECRET}-{n}") for n in ("second", "third", "unlisted")
    )
    return second, third, unlisted

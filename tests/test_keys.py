"""Key sets: a kid in every token, rotation without downtime, and every key
bound to the configured algorithm."""

from __future__ import annotations

import base64
import hashlib
import json
import typing as t

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import auth_header
from conftest import create_app
from conftest import login
from conftest import SECRET
from jwt_blueprint import ConfigError

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)

PRIVATE_KEYS: dict[str, t.Callable[[], t.Any]] = {
    "RS256": lambda: RSA_KEY,
    "RS384": lambda: RSA_KEY,
    "RS512": lambda: RSA_KEY,
    "PS256": lambda: RSA_KEY,
    "PS384": lambda: RSA_KEY,
    "PS512": lambda: RSA_KEY,
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "ES512": lambda: ec.generate_private_key(ec.SECP521R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}
OTHER_KEYS: dict[str, t.Callable[[], t.Any]] = {
    **PRIVATE_KEYS,
    "RS256": lambda: RSA_OTHER,
    "RS384": lambda: RSA_OTHER,
    "RS512": lambda: RSA_OTHER,
    "PS256": lambda: RSA_OTHER,
    "PS384": lambda: RSA_OTHER,
    "PS512": lambda: RSA_OTHER,
    "EdDSA": ed448.Ed448PrivateKey.generate,
}
SECRETS = {"HS256": 32, "HS384": 48, "HS512": 64}
ALGORITHMS = [*SECRETS, *PRIVATE_KEYS]


def pem(key: t.Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(key: t.Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def two_keys(algorithm: str) -> tuple[t.Any, t.Any]:
    """A new key and an old one, as values for the config."""
    if algorithm in SECRETS:
        size = SECRETS[algorithm]
        return "n" * size, "o" * size
    return pem(PRIVATE_KEYS[algorithm]()), pem(OTHER_KEYS[algorithm]())


def key_config(algorithm: str, keys: list[t.Any]) -> dict[str, t.Any]:
    setting = "JWT_SECRET_KEY" if algorithm in SECRETS else "JWT_PRIVATE_KEY"
    return {"JWT_ALGORITHM": algorithm, setting: keys}


def protected(client: t.Any, token: str) -> t.Any:
    return client.get("/protected", headers=auth_header(token))


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm_rotates_through_a_set_of_two(algorithm):
    new, old = two_keys(algorithm)
    # Step 1: the old key alone.
    app = create_app(key_config(algorithm, [old]))
    before = login(app.test_client())
    # Step 2: the new key first, the old kept to verify.
    app = create_app(key_config(algorithm, [new, old]))
    client = app.test_client()
    after = login(client)
    assert kid_of(after) != kid_of(before)
    assert protected(client, before).status_code == 200
    assert protected(client, after).status_code == 200
    # Step 3: the old key dropped; its tokens are refused, not crashed on.
    app = create_app(key_config(algorithm, [new]))
    client = app.test_client()
    assert protected(client, after).status_code == 200
    response = protected(client, before)
    assert response.status_code == 401
    assert response.json == {
        "status_code": 401,
        "error": "Invalid token",
        "description": "Unknown key ID (kid)",
    }


def test_the_default_kid_is_the_rfc_7638_thumbprint():
    app = create_app({"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": pem(RSA_KEY)})
    token = login(app.test_client())
    numbers = RSA_KEY.public_key().public_numbers()

    def b64(number: int) -> str:
        data = number.to_bytes((number.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    members = {"e": b64(numbers.e), "kty": "RSA", "n": b64(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    assert kid_of(token) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_a_secret_kid_tells_nothing_of_the_secret():
    token = login(create_app().test_client())
    kid = kid_of(token)
    assert SECRET not in kid
    assert kid not in (
        base64.urlsafe_b64encode(hashlib.sha256(SECRET.encode()).digest()).decode(),
    )
    # The same secret gives the same kid in another process.
    assert kid_of(login(create_app().test_client())) == kid


def test_a_kid_given_in_the_config():
    app = create_app({"JWT_SECRET_KEY": [{"kid": "2026-11", "key": SECRET}]})
    client = app.test_client()
    token = login(client)
    assert kid_of(token) == "2026-11"
    assert protected(client, token).status_code == 200


def test_a_token_without_kid_is_tried_against_the_signing_key_only():
    new, old = two_keys("HS256")
    app = create_app(key_config("HS256", [new, old]))
    client = app.test_client()
    legacy_new = jwt.encode(
        {"identity": 1, "iat": 0, "nbf": 0, "exp": 2**31, "jti": "a"},
        new,
        "HS256",
    )
    assert protected(client, legacy_new).status_code == 200
    legacy_old = jwt.encode(
        {"identity": 1, "iat": 0, "nbf": 0, "exp": 2**31, "jti": "a"},
        old,
        "HS256",
    )
    response = protected(client, legacy_old)
    assert response.status_code == 401
    assert response.json["description"] == "Signature verification failed"


def test_public_keys_listed_verify_on_a_service_that_only_verifies():
    new, old = pem(PRIVATE_KEYS["ES256"]()), pem(PRIVATE_KEYS["ES256"]())
    issuer = create_app({"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": [new, old]})
    token = login(issuer.test_client())
    public = [
        public_pem(serialization.load_pem_private_key(key, None)) for key in (new, old)
    ]
    verifier = create_app(
        {
            "JWT_ALGORITHM": "ES256",
            "JWT_PUBLIC_KEY": public,
            "JWT_AUTH_URL_RULE": None,
        }
    )
    assert protected(verifier.test_client(), token).status_code == 200


def test_a_private_key_and_its_public_half_listed_both_is_one_key():
    key = pem(RSA_KEY)
    app = create_app(
        {
            "JWT_ALGORITHM": "RS256",
            "JWT_PRIVATE_KEY": [key],
            "JWT_PUBLIC_KEY": [public_pem(RSA_KEY), public_pem(RSA_OTHER)],
        }
    )
    client = app.test_client()
    assert protected(client, login(client)).status_code == 200


@pytest.mark.parametrize(
    ("config", "key", "message"),
    [
        ({"JWT_SECRET_KEY": []}, "JWT_SECRET_KEY", "must not be an empty list"),
        ({"JWT_SECRET_KEY": [SECRET, ""]}, r"JWT_SECRET_KEY\[1\]", "non-empty"),
        ({"JWT_SECRET_KEY": [SECRET, 7]}, r"JWT_SECRET_KEY\[1\]", "non-empty"),
        (
            {"JWT_SECRET_KEY": [{"key": SECRET, "use": "sig"}]},
            r"JWT_SECRET_KEY\[0\]",
            "exactly 'key'",
        ),
        (
            {"JWT_SECRET_KEY": [{"kid": "", "key": SECRET}]},
            r"JWT_SECRET_KEY\[0\]",
            "'kid' must be printable ASCII",
        ),
        (
            {"JWT_SECRET_KEY": [{"kid": "k\n", "key": SECRET}]},
            r"JWT_SECRET_KEY\[0\]",
            "'kid' must be printable ASCII",
        ),
        (
            {"JWT_SECRET_KEY": [{"kid": 7, "key": SECRET}]},
            r"JWT_SECRET_KEY\[0\]",
            "'kid' must be printable ASCII",
        ),
        (
            {
                "JWT_SECRET_KEY": [
                    {"kid": "a", "key": SECRET},
                    {"kid": "a", "key": SECRET * 2},
                ]
            },
            r"JWT_SECRET_KEY\[1\]",
            "has the kid 'a' of another key",
        ),
        (
            {
                "JWT_ALGORITHM": "ES256",
                "JWT_PRIVATE_KEY": [pem(ec.generate_private_key(ec.SECP384R1()))],
            },
            r"JWT_PRIVATE_KEY\[0\]",
            "curve 'secp384r1' does not match the expected curve 'secp256r1'",
        ),
        (
            {
                "JWT_ALGORITHM": "ES512",
                "JWT_PUBLIC_KEY": public_pem(ec.generate_private_key(ec.SECP256R1())),
            },
            "JWT_PUBLIC_KEY",
            "curve 'secp256r1' does not match the expected curve 'secp521r1'",
        ),
        (
            {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": [pem(RSA_KEY), b"junk"]},
            r"JWT_PRIVATE_KEY\[1\]",
            "is not a valid RS256 key",
        ),
        (
            {
                "JWT_ALGORITHM": "RS256",
                "JWT_PRIVATE_KEY": [pem(RSA_KEY), pem(PRIVATE_KEYS["ES256"]())],
            },
            r"JWT_PRIVATE_KEY\[1\]",
            "is not a valid RS256 key",
        ),
    ],
)
def test_bad_key_sets_fail_at_startup_naming_the_key(config, key, message):
    with pytest.raises(ConfigError, match=f"^{key}: .*{message}"):
        create_app(config)


def test_key_objects_are_accepted():
    key = PRIVATE_KEYS["EdDSA"]()
    app = create_app({"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY": [key]})
    client = app.test_client()
    assert protected(client, login(client)).status_code == 200


def test_a_key_changed_in_place_in_a_listed_dict_is_seen():
    app = create_app({"JWT_SECRET_KEY": [{"kid": "k", "key": SECRET}]})
    client = app.test_client()
    token = login(client)
    app.config["JWT_SECRET_KEY"][0]["key"] = "another-secret-of-at-least-32-bytes!!"
    assert protected(client, token).status_code == 401
    assert protected(client, login(client)).status_code == 200

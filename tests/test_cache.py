"""The verification cache never changes an answer (JWT_VERIFY_CACHE_SIZE)."""

from __future__ import annotations

import base64
import time

import pytest

from conftest import auth_header
from conftest import claims
from conftest import create_app
from conftest import login
from conftest import make_token
from conftest import SECRET
from jwt_blueprint.tokens import TokenCodec

CACHE_SIZES = [0, 1, 8192]


def answer(client, token):
    response = client.get("/protected", headers=auth_header(token))
    return response.status_code, response.json, response.headers.get("WWW-Authenticate")


def codec_of(app) -> TokenCodec:
    return app.extensions["jwt_blueprint"].settings().codec


def now() -> int:
    return int(time.time())


def unsigned(token: str) -> str:
    """The token's claims under an ``alg: none`` header, with no signature."""
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
    return header.decode() + "." + token.split(".")[1] + "."


TOKENS = {
    "valid": lambda: make_token(),
    "expired": lambda: make_token(
        claims(iat=now() - 99, nbf=now() - 99, exp=now() - 50)
    ),
    "immature": lambda: make_token(claims(nbf=now() + 60)),
    "future-iat": lambda: make_token(claims(iat=now() + 60)),
    "no-exp": lambda: make_token(claims(exp=None)),
    "unknown-user": lambda: make_token(claims(identity=42, sub="42")),
    "wrong-key": lambda: make_token(key="another-secret-of-32-bytes-or-more!"),
    "tampered": lambda: make_token()[:-3] + "AAA",
    "alg-none": lambda: unsigned(make_token()),
    "string-exp": lambda: make_token(claims(exp="soon")),
}


@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_warm_answers_equal_cold_answers(kind):
    token = TOKENS[kind]()
    cold = create_app({"JWT_VERIFY_CACHE_SIZE": 0}).test_client()
    warm = create_app().test_client()
    expected = answer(cold, token)
    for _ in range(3):
        assert answer(warm, token) == expected


@pytest.mark.parametrize("size", CACHE_SIZES)
def test_a_cached_token_expires_on_time(monkeypatch, size):
    app = create_app({"JWT_VERIFY_CACHE_SIZE": size, "JWT_LEEWAY": 0})
    client = app.test_client()
    token = make_token(claims(exp=now() + 30))
    assert answer(client, token)[0] == 200
    later = time.time() + 31
    monkeypatch.setattr("jwt_blueprint.tokens.time.time", lambda: later)
    status, body, _ = answer(client, token)
    assert status == 401
    assert body["description"] == "Signature has expired"


@pytest.mark.parametrize("size", CACHE_SIZES)
def test_an_immature_token_becomes_valid_on_time(monkeypatch, size):
    client = create_app({"JWT_VERIFY_CACHE_SIZE": size, "JWT_LEEWAY": 0})
    client = client.test_client()
    token = make_token(claims(nbf=now() + 30))
    assert answer(client, token)[1]["description"] == "The token is not yet valid (nbf)"
    later = time.time() + 31
    monkeypatch.setattr("jwt_blueprint.tokens.time.time", lambda: later)
    assert answer(client, token)[0] == 200


@pytest.mark.parametrize("size", CACHE_SIZES)
def test_a_cached_token_is_refused_after_the_key_changes(size):
    app = create_app({"JWT_VERIFY_CACHE_SIZE": size})
    client = app.test_client()
    token = login(client)
    assert answer(client, token)[0] == 200
    app.config["JWT_SECRET_KEY"] = "rotated-secret-rotated-secret-rotated"
    status, body, _ = answer(client, token)
    assert status == 401
    # Its kid names the key that is gone.
    assert body["description"] == "Unknown key ID (kid)"
    assert answer(client, login(client))[0] == 200


@pytest.mark.parametrize("size", CACHE_SIZES)
def test_a_cached_token_is_checked_against_new_config(size):
    app = create_app({"JWT_VERIFY_CACHE_SIZE": size})
    client = app.test_client()
    token = make_token()
    assert answer(client, token)[0] == 200
    app.config["JWT_REQUIRED_CLAIMS"].append("jti")
    status, body, _ = answer(client, token)
    assert (status, body["description"]) == (401, 'Token is missing the "jti" claim')
    app.config["JWT_ALGORITHM"] = "HS512"
    app.config["JWT_SECRET_KEY"] = SECRET * 2
    status, body, _ = answer(client, login(client))
    assert status == 200


def test_handlers_cannot_change_the_cached_claims():
    app = create_app()

    def identity(payload):
        payload["identity"] = 2  # a careless handler
        return payload["identity"]

    app.extensions["jwt"].identity_handler(identity)
    client = app.test_client()
    token = make_token()
    for _ in range(2):
        assert answer(client, token)[0] == 200
    assert codec_of(app).decode(token)["identity"] == 1


def test_invalid_tokens_never_fill_the_cache():
    app = create_app({"JWT_VERIFY_CACHE_SIZE": 16})
    client = app.test_client()
    valid = make_token()
    for n in range(200):
        forged = make_token(
            claims(jti=str(n)), key="attacker-key-attacker-key-attacker!"
        )
        assert answer(client, forged)[0] == 401
    assert codec_of(app).cached_tokens == 0
    assert answer(client, valid)[0] == 200
    assert codec_of(app).cached_tokens == 1


@pytest.mark.parametrize(
    "config",
    [{"JWT_VERIFY": False}, {"JWT_VERIFY_CLAIMS": ["exp", "nbf", "iat"]}],
    ids=["verify-off", "signature-off"],
)
def test_unverified_claims_are_never_cached(config, caplog):
    # With the signature unchecked every token is the client's own making:
    # caching them would let a client fill the memory of every process.
    app = create_app({"JWT_VERIFY_CACHE_SIZE": 64, **config})
    client = app.test_client()
    for n in range(100):
        token = make_token(
            claims(jti=str(n)), key="anyone-can-sign-this-token-key-0123"
        )
        assert answer(client, token)[0] == 200
    assert codec_of(app).cached_tokens == 0


def test_the_cache_is_bounded():
    app = create_app({"JWT_VERIFY_CACHE_SIZE": 8})
    client = app.test_client()
    for n in range(50):
        assert answer(client, make_token(claims(jti=str(n))))[0] == 200
    assert codec_of(app).cached_tokens == 8


def test_size_zero_disables_the_cache():
    app = create_app({"JWT_VERIFY_CACHE_SIZE": 0})
    client = app.test_client()
    assert answer(client, make_token())[0] == 200
    assert codec_of(app).cached_tokens == 0
    codec_of(app).clear_cache()  # a no-op, not an error


def test_clear_cache():
    app = create_app()
    client = app.test_client()
    assert answer(client, make_token())[0] == 200
    codec = codec_of(app)
    assert codec.cached_tokens == 1
    codec.clear_cache()
    assert codec.cached_tokens == 0


def test_handlers_cannot_change_nested_cached_claims():
    app = create_app()
    seen = []

    def identity(payload):
        seen.append(list(payload["roles"]))
        payload["roles"].append("admin")  # a careless handler, again
        return payload["identity"]

    app.extensions["jwt"].identity_handler(identity)
    client = app.test_client()
    token = make_token(claims(roles=["user"], scopes={"read": True}))
    for _ in range(3):
        assert answer(client, token)[0] == 200
    assert seen == [["user"]] * 3

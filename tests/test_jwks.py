"""The JWKS endpoint, and the issuer and audience of tokens."""

from __future__ import annotations

import time
import typing as t

import jwt
import pytest

from conftest import auth_header
from conftest import create_app
from conftest import login
from conftest import make_token
from jwt_blueprint import ConfigError
from test_keys import pem
from test_keys import PRIVATE_KEYS

JWKS = "/.well-known/jwks.json"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
PUBLIC_MEMBERS = {
    "RSA": {"kty", "n", "e", "kid", "use", "alg"},
    "EC": {"kty", "crv", "x", "y", "kid", "use", "alg"},
    "OKP": {"kty", "crv", "x", "kid", "use", "alg"},
}


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


@pytest.mark.parametrize("algorithm", ["RS256", "PS384", "ES256", "ES512", "EdDSA"])
def test_the_jwks_lists_every_verifying_key_and_only_public_members(algorithm):
    new, old = pem(PRIVATE_KEYS[algorithm]()), pem(PRIVATE_KEYS[algorithm]())
    if algorithm.startswith(("RS", "PS")):
        from test_keys import RSA_OTHER

        old = pem(RSA_OTHER)
    app = create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": [new, old]})
    client = app.test_client()
    token = login(client)
    response = client.get(JWKS)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    keys = response.json["keys"]
    assert len(keys) == 2
    assert keys[0]["kid"] == kid_of(token)
    for key in keys:
        assert set(key) == PUBLIC_MEMBERS[key["kty"]]
        assert not PRIVATE_MEMBERS & set(key)
        assert key["use"] == "sig"
        assert key["alg"] == algorithm
    # Another service can verify our token with the published key.
    verifying = jwt.PyJWK(keys[0], algorithm=algorithm)
    claims = jwt.decode(token, verifying.key, algorithms=[algorithm])
    assert claims["identity"] == 1


def test_the_jwks_is_cacheable():
    app = create_app(
        {"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": pem(PRIVATE_KEYS["ES256"]())}
    )
    client = app.test_client()
    first = client.get(JWKS)
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"]
    again = client.get(JWKS, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert client.get(JWKS, headers={"If-None-Match": '"other"'}).status_code == 200
    app.config["JWT_JWKS_MAX_AGE"] = 60
    assert client.get(JWKS).headers["Cache-Control"] == "public, max-age=60"


def test_the_jwks_follows_a_rotation_step_by_step():
    first, second = pem(PRIVATE_KEYS["ES256"]()), pem(PRIVATE_KEYS["ES256"]())
    app = create_app({"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": [first]})
    client = app.test_client()
    old_token = login(client)
    before = client.get(JWKS)
    assert [k["kid"] for k in before.json["keys"]] == [kid_of(old_token)]
    # The new key first, the old one kept: both published, the ETag moves.
    app.config["JWT_PRIVATE_KEY"] = [second, first]
    during = client.get(JWKS, headers={"If-None-Match": before.headers["ETag"]})
    assert during.status_code == 200
    new_token = login(client)
    assert [k["kid"] for k in during.json["keys"]] == [
        kid_of(new_token),
        kid_of(old_token),
    ]
    for token in (old_token, new_token):
        assert client.get("/protected", headers=auth_header(token)).status_code == 200
    # The old key dropped: no longer published, its tokens refused.
    app.config["JWT_PRIVATE_KEY"] = [second]
    after = client.get(JWKS)
    assert [k["kid"] for k in after.json["keys"]] == [kid_of(new_token)]
    assert client.get("/protected", headers=auth_header(old_token)).status_code == 401


def test_no_jwks_for_secrets_or_when_left_out():
    assert create_app().test_client().get(JWKS).status_code == 404
    key = pem(PRIVATE_KEYS["ES256"]())
    app = create_app(
        {"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": key, "JWT_JWKS_URL_RULE": None}
    )
    assert app.test_client().get(JWKS).status_code == 404


def test_other_methods_on_the_jwks_get_a_json_405():
    key = pem(PRIVATE_KEYS["ES256"]())
    client = create_app(
        {"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": key}
    ).test_client()
    response = client.post(JWKS)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json["error"] == "Method Not Allowed"


@pytest.mark.parametrize("value", [-1, 86401, "300", None, 1.5])
def test_bad_jwks_max_age_fails_at_startup(value):
    with pytest.raises(ConfigError, match="^JWT_JWKS_MAX_AGE: "):
        create_app({"JWT_JWKS_MAX_AGE": value})


# -- issuer and audience ---------------------------------------------------------


def claims(**extra: t.Any) -> dict[str, t.Any]:
    now = int(time.time())
    payload = {"identity": 1, "iat": now, "nbf": now, "exp": now + 60, "jti": "a"}
    payload.update(extra)
    return {k: v for k, v in payload.items() if v is not None}


ADDRESSED = {
    "JWT_DECODE_ISSUER": "https://issuer.example",
    "JWT_DECODE_AUDIENCE": ["api", "admin-api"],
}


def test_the_issuer_and_audience_are_written_and_checked():
    app = create_app(
        {
            **ADDRESSED,
            "JWT_ENCODE_ISSUER": "https://issuer.example",
            "JWT_ENCODE_AUDIENCE": "api",
        }
    )
    client = app.test_client()
    token = login(client)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert payload["iss"] == "https://issuer.example"
    assert payload["aud"] == "api"
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


@pytest.mark.parametrize(
    ("extra", "description"),
    [
        ({"iss": "https://issuer.example", "aud": "api"}, None),
        ({"iss": "https://issuer.example", "aud": ["other", "admin-api"]}, None),
        ({"iss": "https://issuer.example"}, 'Token is missing the "aud" claim'),
        ({"aud": "api"}, 'Token is missing the "iss" claim'),
        ({"iss": "https://evil.example", "aud": "api"}, "Invalid issuer"),
        ({"iss": "https://issuer.example/", "aud": "api"}, "Invalid issuer"),
        ({"iss": "https://issuer", "aud": "api"}, "Invalid issuer"),
        ({"iss": "https://issuer.example", "aud": "ap"}, "Audience doesn't match"),
        ({"iss": "https://issuer.example", "aud": ""}, "Audience doesn't match"),
        ({"iss": "https://issuer.example", "aud": []}, "Audience doesn't match"),
        ({"iss": "https://issuer.example", "aud": ["x"]}, "Audience doesn't match"),
        (
            {"iss": "https://issuer.example", "aud": ["api", 1]},
            "Invalid claim format in token",
        ),
        ({"iss": "https://issuer.example", "aud": {"api": 1}}, "Invalid claim format"),
    ],
)
def test_a_decode_issuer_and_audience_must_match_exactly(extra, description):
    client = create_app(ADDRESSED).test_client()
    token = make_token(claims(**extra))
    response = client.get("/protected", headers=auth_header(token))
    if description is None:
        assert response.status_code == 200
    else:
        assert response.status_code == 401
        assert response.json["description"].startswith(description)


def test_without_an_audience_any_aud_is_refused():
    client = create_app().test_client()
    token = make_token(claims(aud="api"))
    response = client.get("/protected", headers=auth_header(token))
    assert response.json["description"] == "Invalid audience"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("JWT_DECODE_ISSUER", ""),
        ("JWT_DECODE_ISSUER", 7),
        ("JWT_ENCODE_ISSUER", ["a"]),
        ("JWT_DECODE_AUDIENCE", []),
        ("JWT_DECODE_AUDIENCE", ["api", ""]),
        ("JWT_ENCODE_AUDIENCE", 3),
        ("JWT_REQUIRED_CLAIMS", ["exp", "aud"]),
    ],
)
def test_bad_issuer_and_audience_config_fails_at_startup(key, value):
    with pytest.raises(ConfigError, match=f"^{key}: "):
        create_app({key: value})


def test_an_audience_the_app_itself_refuses_is_warned_about(caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        create_app({"JWT_ENCODE_AUDIENCE": "partner-api"})
    assert "this app refuses the tokens it issues" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        create_app(
            {"JWT_ENCODE_AUDIENCE": "api", "JWT_DECODE_AUDIENCE": ["api", "admin"]}
        )
    assert "refuses the tokens" not in caplog.text

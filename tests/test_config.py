"""Every JWT_* key: its default, its effect, and its validation."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import jwt
import pytest
from flask import Flask

from conftest import auth_header
from conftest import authenticate
from conftest import claims
from conftest import create_app
from conftest import identity
from conftest import login
from conftest import make_token
from conftest import SECRET
from jwt_blueprint import JWT
from jwt_blueprint import JWTBlueprint
from jwt_blueprint.blueprint import AUTH_ENDPOINT
from jwt_blueprint.config import CONFIG_DEFAULTS
from jwt_blueprint.exceptions import ConfigError

DEFAULTS = {
    "JWT_DEFAULT_REALM": "Login Required",
    "JWT_AUTH_URL_RULE": "/auth",
    "JWT_AUTH_ENDPOINT": "jwt",
    "JWT_REFRESH_URL_RULE": "/auth/refresh",
    "JWT_REFRESH_ENDPOINT": "jwt_refresh",
    "JWT_REVOKE_URL_RULE": "/auth/revoke",
    "JWT_REVOKE_ENDPOINT": "jwt_revoke",
    "JWT_JWKS_URL_RULE": "/.well-known/jwks.json",
    "JWT_JWKS_ENDPOINT": "jwt_jwks",
    "JWT_OPENAPI_URL_RULE": None,
    "JWT_OPENAPI_ENDPOINT": "jwt_openapi",
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
    "JWT_TOKEN_STORE": None,
    "JWT_REFRESH_ENABLED": False,
    "JWT_REFRESH_EXPIRATION_DELTA": timedelta(days=30),
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


def test_defaults_are_applied(app):
    for key, value in DEFAULTS.items():
        assert app.config[key] == value, key
    assert app.config["JWT_SECRET_KEY"] == SECRET
    # The endpoint keys are declared with the endpoint, read at registration.
    endpoint_keys = {
        key
        for endpoint in JWTBlueprint.endpoints
        for key in (endpoint.rule_key, endpoint.name_key)
    }
    assert set(CONFIG_DEFAULTS) == set(DEFAULTS) - endpoint_keys
    assert {AUTH_ENDPOINT.rule_key, AUTH_ENDPOINT.name_key} <= endpoint_keys
    assert len(endpoint_keys) == 10


def test_mutable_defaults_are_copied_per_app():
    first, second = create_app(), create_app()
    first.config["JWT_REQUIRED_CLAIMS"].append("jti")
    assert second.config["JWT_REQUIRED_CLAIMS"] == ["exp", "iat", "nbf"]
    assert CONFIG_DEFAULTS["JWT_REQUIRED_CLAIMS"] == ["exp", "iat", "nbf"]


def test_explicit_values_are_kept():
    app = create_app({"JWT_SECRET_KEY": "another-secret-of-at-least-32-bytes!!"})
    assert app.config["JWT_SECRET_KEY"] == "another-secret-of-at-least-32-bytes!!"


def test_default_realm_changes_the_challenge():
    client = create_app({"JWT_DEFAULT_REALM": "Staff"}).test_client()
    response = client.get("/protected")
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Staff"'


def test_auth_url_rule_moves_the_endpoint():
    client = create_app({"JWT_AUTH_URL_RULE": "/login"}).test_client()
    assert client.post("/auth", json={}).status_code == 404
    response = client.post("/login", json={"username": "user1", "password": "abcxyz"})
    assert response.status_code == 200


def test_auth_url_rule_none_disables_the_endpoint():
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, JWT_AUTH_URL_RULE=None)
    JWT(app, identity_handler=identity)  # no authentication handler needed
    assert app.test_client().post("/auth", json={}).status_code == 404


def test_auth_endpoint_names_the_route(app):
    with app.test_request_context():
        from flask import url_for

        assert url_for("jwt.jwt") == "/auth"
    other = create_app({"JWT_AUTH_ENDPOINT": "login"})
    with other.test_request_context():
        from flask import url_for

        assert url_for("jwt.login") == "/auth"


def test_username_and_password_keys():
    app = create_app({"JWT_AUTH_USERNAME_KEY": "email", "JWT_AUTH_PASSWORD_KEY": "pw"})
    client = app.test_client()
    response = client.post("/auth", json={"email": "user1", "pw": "abcxyz"})
    assert response.status_code == 200
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    assert response.status_code == 400
    assert set(response.json["errors"]) == {"email", "pw", "username", "password"}


def test_config_is_read_at_request_time(app, client):
    app.config["JWT_AUTH_USERNAME_KEY"] = "login"
    response = client.post("/auth", json={"login": "user1", "password": "abcxyz"})
    assert response.status_code == 200
    app.config["JWT_REQUIRED_CLAIMS"].append("jti")  # changed in place
    token = make_token(claims())
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == 'Token is missing the "jti" claim'


@pytest.mark.parametrize(
    "algorithm", ["HS256", "HS384", "HS512"], ids=lambda alg: alg.lower()
)
def test_hmac_algorithms(algorithm):
    secret = "s" * 64
    client = create_app({"JWT_ALGORITHM": algorithm, "JWT_SECRET_KEY": secret})
    client = client.test_client()
    token = login(client)
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    other = make_token(claims(), secret, "HS256" if algorithm != "HS256" else "HS512")
    response = client.get("/protected", headers=auth_header(other))
    assert response.status_code == 401
    assert response.json["description"] == "The specified alg value is not allowed"


def test_leeway_accepts_recently_expired_tokens():
    client = create_app({"JWT_LEEWAY": 30}).test_client()
    now = int(time.time())
    token = make_token(claims(iat=now - 100, nbf=now - 100, exp=now - 20))
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    strict = create_app({"JWT_LEEWAY": timedelta(0)}).test_client()
    response = strict.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "Signature has expired"


def test_default_leeway_is_ten_seconds(client):
    now = int(time.time())
    token = make_token(claims(iat=now - 100, nbf=now - 100, exp=now - 5))
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    token = make_token(claims(iat=now - 100, nbf=now - 100, exp=now - 15))
    assert client.get("/protected", headers=auth_header(token)).status_code == 401


def test_header_prefix_is_case_insensitive():
    client = create_app({"JWT_AUTH_HEADER_PREFIX": "Bearer"}).test_client()
    token = login(client)
    for prefix in ("Bearer", "bearer", "BEARER"):
        response = client.get("/protected", headers=auth_header(token, prefix))
        assert response.status_code == 200, prefix
    response = client.get("/protected", headers=auth_header(token, "JWT"))
    assert response.status_code == 401
    assert response.json["description"] == "Unsupported authorization type"
    response = client.get("/protected")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Login Required"'


def test_expiration_delta_sets_exp(client):
    app = create_app({"JWT_EXPIRATION_DELTA": timedelta(hours=1)})
    token = login(app.test_client())
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["exp"] - payload["iat"] == 3600


def test_not_before_delta_sets_nbf():
    app = create_app({"JWT_NOT_BEFORE_DELTA": timedelta(seconds=60)})
    client = app.test_client()
    token = login(client)
    payload = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"verify_nbf": False}
    )
    assert payload["nbf"] - payload["iat"] == 60
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "The token is not yet valid (nbf)"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_required_claims_are_enforced(client, claim):
    token = make_token(claims(**{claim: None}))
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == f'Token is missing the "{claim}" claim'


def test_required_claims_can_be_relaxed_and_extended():
    client = create_app({"JWT_REQUIRED_CLAIMS": ["exp"]}).test_client()
    token = make_token(claims(iat=None, nbf=None))
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    client = create_app({"JWT_REQUIRED_CLAIMS": ["exp", "jti"]}).test_client()
    token = login(client)  # the default payload carries a jti
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    token = make_token(claims())
    assert client.get("/protected", headers=auth_header(token)).status_code == 401


def expired_token() -> str:
    now = int(time.time())
    return make_token(claims(iat=now - 1000, nbf=now - 1000, exp=now - 500))


def test_verify_expiration_false_accepts_expired_tokens(caplog):
    with caplog.at_level(logging.WARNING, "jwt_blueprint"):
        client = create_app({"JWT_VERIFY_EXPIRATION": False}).test_client()
    assert "verification of exp is DISABLED" in caplog.text
    response = client.get("/protected", headers=auth_header(expired_token()))
    assert response.status_code == 200


def test_verify_false_skips_signature_and_claims(caplog):
    with caplog.at_level(logging.WARNING, "jwt_blueprint"):
        client = create_app({"JWT_VERIFY": False}).test_client()
    assert "signature, exp, nbf, iat is DISABLED" in caplog.text
    forged = make_token(claims(), "attacker-key-attacker-key-attacker-key")
    assert client.get("/protected", headers=auth_header(forged)).status_code == 200
    response = client.get("/protected", headers=auth_header(expired_token()))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("verify_claims", "accepted"),
    [
        (["signature", "exp", "nbf", "iat"], False),
        (["signature", "nbf", "iat"], True),
        ([], True),
    ],
)
def test_verify_claims_are_honoured(verify_claims, accepted):
    client = create_app({"JWT_VERIFY_CLAIMS": verify_claims}).test_client()
    response = client.get("/protected", headers=auth_header(expired_token()))
    assert (response.status_code == 200) is accepted


def test_verify_claims_without_signature_accepts_forgeries():
    client = create_app({"JWT_VERIFY_CLAIMS": ["exp", "nbf", "iat"]}).test_client()
    forged = make_token(claims(), "attacker-key-attacker-key-attacker-key")
    assert client.get("/protected", headers=auth_header(forged)).status_code == 200
    # Required claims stay enforced even then.
    forged = make_token(claims(exp=None), "attacker-key-attacker-key-attacker-key")
    assert client.get("/protected", headers=auth_header(forged)).status_code == 401


def test_max_token_size():
    client = create_app({"JWT_MAX_TOKEN_SIZE": 100}).test_client()
    response = client.get("/protected", headers=auth_header(login(client)))
    assert response.status_code == 401
    assert response.json["description"] == "Token is too large"


def test_secret_key_defaults_to_secret_key_at_registration():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    JWT(app, authenticate, identity)
    assert app.config["JWT_SECRET_KEY"] == SECRET


def test_short_secret_warns_but_runs(caplog):
    # The seed's quickstart used 'super-secret'; it must keep running.
    with caplog.at_level(logging.WARNING, "jwt_blueprint"):
        app = create_app({"JWT_SECRET_KEY": "super-secret"})
    assert "JWT_SECRET_KEY: The HMAC key is 12 bytes long" in caplog.text
    client = app.test_client()
    # Warned once at startup, not on every request (warnings are errors here).
    token = login(client)
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 200


BAD_CONFIG = [
    ("JWT_SECRET_KEY", None),
    ("JWT_SECRET_KEY", ""),
    ("JWT_SECRET_KEY", 12345),
    ("JWT_SECRET_KEY", "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----"),
    ("JWT_ALGORITHM", "none"),
    ("JWT_ALGORITHM", "NONE"),
    ("JWT_ALGORITHM", "HS257"),
    ("JWT_ALGORITHM", None),
    ("JWT_ALGORITHM", ["HS256"]),
    ("JWT_DEFAULT_REALM", ""),
    ("JWT_DEFAULT_REALM", 'Line\r\nSet-Cookie: x"'),
    ("JWT_DEFAULT_REALM", "Caf\u00e9"),
    ("JWT_AUTH_URL_RULE", "auth"),
    ("JWT_AUTH_URL_RULE", 5),
    ("JWT_AUTH_ENDPOINT", ""),
    ("JWT_AUTH_ENDPOINT", "a.b"),
    ("JWT_AUTH_USERNAME_KEY", ""),
    ("JWT_AUTH_USERNAME_KEY", None),
    ("JWT_AUTH_PASSWORD_KEY", "username"),
    ("JWT_LEEWAY", -1),
    ("JWT_LEEWAY", "10"),
    ("JWT_LEEWAY", True),
    ("JWT_LEEWAY", float("nan")),
    ("JWT_LEEWAY", float("inf")),
    ("JWT_VERIFY", "yes"),
    ("JWT_VERIFY", 1),
    ("JWT_VERIFY_EXPIRATION", None),
    ("JWT_AUTH_HEADER_PREFIX", ""),
    ("JWT_AUTH_HEADER_PREFIX", "JWT Bearer"),
    ("JWT_AUTH_HEADER_PREFIX", "ＪＷＴ"),
    ("JWT_AUTH_HEADER_PREFIX", None),
    ("JWT_EXPIRATION_DELTA", "300"),
    ("JWT_EXPIRATION_DELTA", float("nan")),
    ("JWT_EXPIRATION_DELTA", 10**400),
    ("JWT_EXPIRATION_DELTA", -(10**400)),
    ("JWT_NOT_BEFORE_DELTA", 10**400),
    ("JWT_NOT_BEFORE_DELTA", float("-inf")),
    ("JWT_LEEWAY", 10**400),
    ("JWT_LEEWAY", timedelta(days=1, microseconds=1)),
    ("JWT_LEEWAY", 86400.5),
    ("JWT_SECRET_KEY", "a lone surrogate \ud800 in a long enough secret"),
    ("JWT_VERIFY_CLAIMS", "signature"),
    ("JWT_VERIFY_CLAIMS", ["signature", "aud"]),
    ("JWT_VERIFY_CLAIMS", None),
    ("JWT_REQUIRED_CLAIMS", "exp"),
    ("JWT_REQUIRED_CLAIMS", [1]),
    ("JWT_REQUIRED_CLAIMS", [""]),
    ("JWT_REQUIRED_CLAIMS", {"exp"}),
    ("JWT_REQUIRED_CLAIMS", ["exp", "aud"]),
    ("JWT_VERIFY_CLAIMS", {"signature"}),
    ("JWT_MAX_TOKEN_SIZE", 0),
    ("JWT_MAX_TOKEN_SIZE", "8192"),
    ("JWT_MAX_TOKEN_SIZE", True),
    ("JWT_VERIFY_CACHE_SIZE", -1),
    ("JWT_VERIFY_CACHE_SIZE", None),
    ("JWT_VERIFY_CACHE_SIZE", 1.5),
    ("JWT_VERIFY_CACHE_SIZE", 2**63),
    ("JWT_VERIFY_CACHE_SIZE", 10**5000),
    ("JWT_VERIFY", 10**5000),
    ("JWT_AUTH_URL_RULE", "/auth/<"),
    ("JWT_AUTH_URL_RULE", "/auth/<nosuch:x>"),
    ("JWT_AUTH_URL_RULE", "/auth/<int:x>"),
    ("JWT_AUTH_URL_RULE", "/auth\ud800"),
]


def short_id(value) -> str:
    try:
        return repr(value)[:40]
    except ValueError:  # an integer too long to show
        return "huge-int"


@pytest.mark.parametrize(("key", "value"), BAD_CONFIG, ids=short_id)
def test_bad_config_fails_at_startup_naming_the_key(key, value):
    with pytest.raises(ConfigError) as excinfo:
        create_app({key: value})
    assert excinfo.value.key == key
    assert str(excinfo.value).startswith(f"{key}: ")


@pytest.mark.parametrize("key", ["JWT_PUBLIC_KEY", "JWT_PRIVATE_KEY"])
def test_asymmetric_key_with_an_hmac_algorithm_fails_at_startup(key):
    # A verify-only service that forgot JWT_ALGORITHM would otherwise run on
    # SECRET_KEY and refuse every token, or accept tokens signed with it.
    pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----\n"
    with pytest.raises(ConfigError) as excinfo:
        create_app({key: pem})
    assert excinfo.value.key == key
    assert "JWT_ALGORITHM" in str(excinfo.value)


@pytest.mark.parametrize(
    "delta",
    [timedelta(milliseconds=200), timedelta(0), timedelta(seconds=-5), -5, 0.2],
    ids=["200ms", "zero", "negative", "negative-number", "fraction"],
)
def test_any_finite_expiration_delta_works_as_in_flask_jwt(delta):
    # exp = the login time plus the delta, truncated to whole seconds, as
    # Flask-JWT's datetime arithmetic and PyJWT's encoding did.
    app = create_app({"JWT_EXPIRATION_DELTA": delta, "JWT_LEEWAY": 0})
    client = app.test_client()
    before = time.time()
    token = login(client)
    after = time.time()
    payload = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else delta
    assert int(before + seconds) - 1 <= payload["exp"] <= after + seconds
    assert isinstance(payload["exp"], int)


def test_sub_second_delta_set_after_init_app_as_flask_jwts_suite_does(app, client):
    # Flask-JWT's own test sets 200 ms after init_app, with no leeway, and
    # expects the token to work at once and to expire within 1.5 s.
    app.config["JWT_LEEWAY"] = timedelta(seconds=0)
    app.config["JWT_EXPIRATION_DELTA"] = timedelta(milliseconds=200)
    token = login(client)
    payload = jwt.decode(
        token, SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )
    now = time.time()
    response = client.get("/protected", headers=auth_header(token))
    # Still valid unless the clock already passed the truncated exp.
    assert response.status_code == (200 if payload["exp"] > now else 401)
    later = create_app({"JWT_LEEWAY": 0}).test_client()
    expired = make_token(claims(exp=int(now) - 1))
    response = later.get("/protected", headers=auth_header(expired))
    assert response.status_code == 401
    assert response.json["description"] == "Signature has expired"


def test_negative_expiration_delta_makes_expired_tokens():
    client = create_app({"JWT_EXPIRATION_DELTA": timedelta(seconds=-30)}).test_client()
    response = client.get("/protected", headers=auth_header(login(client)))
    assert response.status_code == 401
    assert response.json["description"] == "Signature has expired"


def test_leeway_of_a_day_is_the_most(caplog):
    assert create_app({"JWT_LEEWAY": timedelta(days=1)}).test_client()


def test_leeway_at_least_the_lifetime_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        create_app({"JWT_LEEWAY": 300, "JWT_EXPIRATION_DELTA": 300})
    assert "JWT_LEEWAY (300.0 s) is at least JWT_EXPIRATION_DELTA" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        create_app({"JWT_LEEWAY": 10, "JWT_EXPIRATION_DELTA": -30})
        create_app({"JWT_LEEWAY": 10, "JWT_EXPIRATION_DELTA": 300})
    assert "JWT_LEEWAY" not in caplog.text


def test_huge_durations_name_the_key_not_an_overflow():
    with pytest.raises(ConfigError, match=r"^JWT_EXPIRATION_DELTA: must be from"):
        create_app({"JWT_EXPIRATION_DELTA": 10**400})


def test_a_private_key_given_as_the_public_key_verifies_with_its_public_half():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    app = create_app(
        {"JWT_ALGORITHM": "ES256", "JWT_PUBLIC_KEY": pem, "JWT_AUTH_URL_RULE": None}
    )
    token = jwt.encode(claims(), private, algorithm="ES256")
    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.status_code == 200


def test_missing_secret_fails_at_startup():
    app = Flask(__name__)
    with pytest.raises(ConfigError, match="^JWT_SECRET_KEY: "):
        JWT(app, authenticate, identity)


def test_a_key_deleted_after_startup_reads_as_none(app, client):
    token = login(client)
    del app.config["JWT_LEEWAY"]
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigError, match="^JWT_LEEWAY: must be a datetime"):
        client.get("/protected", headers=auth_header(token))
    app.config["JWT_LEEWAY"] = 0
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_config_broken_after_startup_fails_closed(app, client):
    token = login(client)
    app.config["JWT_ALGORITHM"] = "none"
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ConfigError, match="JWT_ALGORITHM"):
        client.get("/protected", headers=auth_header(token))

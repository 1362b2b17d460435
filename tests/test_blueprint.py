"""The design card's way in: JWTBlueprint, AuthView subclasses, schemas."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask import url_for
from marshmallow import fields
from marshmallow import Schema

from conftest import auth_header
from conftest import authenticate
from conftest import create_app
from conftest import identity
from conftest import login
from conftest import SECRET
from jwt_blueprint import AuthView
from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint.exceptions import ConfigError
from jwt_blueprint.schemas import CredentialsSchema
from jwt_blueprint.schemas import TokenSchema


def blueprint_app(blueprint: JWTBlueprint, secret: str = SECRET, **options) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    app.register_blueprint(blueprint, **options)

    @app.get("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity}"

    return app


def test_blueprint_with_url_prefix():
    blueprint = JWTBlueprint(JWTStrategy(authenticate, identity), url_prefix="/api")
    client = blueprint_app(blueprint).test_client()
    assert client.post("/auth", json={}).status_code == 404
    response = client.post(
        "/api/auth", json={"username": "user1", "password": "abcxyz"}
    )
    assert response.status_code == 200
    token = response.json["access_token"]
    assert client.get("/protected", headers=auth_header(token)).text == "User(id='1')"


def test_url_prefix_at_registration_and_blueprint_name():
    blueprint = JWTBlueprint(JWTStrategy(authenticate, identity), name="auth")
    app = blueprint_app(blueprint, url_prefix="/v1")
    with app.test_request_context():
        assert url_for("auth.jwt") == "/v1/auth"
    assert app.extensions["jwt"] is blueprint.strategy


def test_jwt_facade_stores_itself_in_extensions():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    jwt_obj = JWT(app, authenticate, identity)
    assert app.extensions["jwt"] is jwt_obj


def test_errors_outside_the_blueprint_use_the_same_json():
    blueprint = JWTBlueprint(JWTStrategy(authenticate, identity), url_prefix="/api")
    client = blueprint_app(blueprint).test_client()
    response = client.get("/protected")
    assert response.status_code == 401
    assert response.json["error"] == "Authorization Required"


def test_one_strategy_per_app():
    app = blueprint_app(JWTBlueprint(JWTStrategy(authenticate, identity)))
    other = JWTBlueprint(JWTStrategy(authenticate, identity), name="other")
    with pytest.raises(RuntimeError, match="one JWTBlueprint per app"):
        app.register_blueprint(other)


def test_one_strategy_serves_two_apps_with_different_secrets():
    jwt_obj = JWT(None, authenticate, identity)
    apps = []
    for secret in ("first-secret-" + "a" * 32, "second-secret-" + "b" * 32):
        app = Flask(__name__)
        app.config["SECRET_KEY"] = secret
        jwt_obj.init_app(app)

        @app.get("/protected")
        @jwt_required()
        def protected():
            return f"{current_identity}"

        apps.append(app.test_client())
    token_a, token_b = login(apps[0]), login(apps[1])
    assert apps[0].get("/protected", headers=auth_header(token_a)).status_code == 200
    assert apps[1].get("/protected", headers=auth_header(token_b)).status_code == 200
    assert apps[0].get("/protected", headers=auth_header(token_b)).status_code == 401
    assert apps[1].get("/protected", headers=auth_header(token_a)).status_code == 401


class EmailCredentialsSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True)


class EmailAuthView(AuthView):
    credentials_schema = EmailCredentialsSchema

    def authenticate(self, credentials):
        username = credentials["email"].split("@")[0]
        return authenticate(username, credentials["password"])

    def throttle_key(self, credentials):
        return credentials["email"]


def test_auth_view_subclass_with_its_own_schema():
    strategy = JWTStrategy(identity_handler=identity)
    client = blueprint_app(
        JWTBlueprint(strategy, auth_view=EmailAuthView)
    ).test_client()
    response = client.post(
        "/auth", json={"email": "user1@example.com", "password": "abcxyz"}
    )
    assert response.status_code == 200
    token = response.json["access_token"]
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    response = client.post("/auth", json={"email": "user1", "password": "abcxyz"})
    assert response.status_code == 400
    assert response.json["errors"] == {"email": ["Not a valid email address."]}
    response = client.post(
        "/auth", json={"email": "user1@example.com", "password": "wrong"}
    )
    assert response.status_code == 401
    assert response.json["description"] == "Invalid credentials"


class ProfileTokenSchema(TokenSchema):
    username = fields.Function(lambda data: data["identity"].username)


class StrictCredentialsSchema(CredentialsSchema):
    otp = fields.String(required=True)


class OtpAuthView(AuthView):
    credentials_schema = StrictCredentialsSchema
    token_schema = ProfileTokenSchema

    def authenticate(self, credentials):
        if credentials["otp"] != "123456":
            return None
        return super().authenticate(credentials)


def test_swapping_both_schemas():
    strategy = JWTStrategy(authenticate, identity)
    app = blueprint_app(JWTBlueprint(strategy, auth_view=OtpAuthView))
    app.config["JWT_AUTH_USERNAME_KEY"] = "login"
    client = app.test_client()
    body = {"login": "user2", "password": "abcxyz", "otp": "123456"}
    response = client.post("/auth", json=body)
    assert response.status_code == 200
    assert response.json["username"] == "user2"
    assert set(response.json) == {"access_token", "username"}
    response = client.post("/auth", json={**body, "otp": "000000"})
    assert response.status_code == 401
    response = client.post("/auth", json={"login": "user2", "password": "abcxyz"})
    assert response.status_code == 400
    assert response.json["errors"] == {"otp": ["Missing data for required field."]}


def test_auth_view_subclass_without_authentication_handler_registers():
    # authenticate() is overridden, so no handler is needed.
    strategy = JWTStrategy(identity_handler=identity)
    app = blueprint_app(JWTBlueprint(strategy, auth_view=EmailAuthView))
    assert "jwt.jwt" in app.view_functions


def test_async_views():
    app = create_app()

    @app.get("/async")
    @jwt_required(realm="Async")
    async def async_view():
        await asyncio.sleep(0)
        return f"async {current_identity}"

    client = app.test_client()
    token = login(client)
    response = client.get("/async", headers=auth_header(token))
    assert response.text == "async User(id='1')"
    response = client.get("/async")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Async"'


def test_realm_per_view(app, client):
    @app.get("/admin")
    @jwt_required(realm="Admin area")
    def admin():
        return "ok"

    assert client.get("/admin").headers["WWW-Authenticate"] == 'JWT realm="Admin area"'
    with pytest.raises(ValueError, match="printable ASCII"):
        jwt_required(realm='bad\r\nrealm"')


def test_current_identity_is_none_outside_a_protected_request(app, client):
    assert not current_identity
    assert current_identity == None  # noqa: E711 (a proxy, compared by value)

    @app.get("/open")
    def open_view():
        return repr(current_identity == None)  # noqa: E711

    assert client.get("/open").text == "True"
    with app.app_context():
        assert current_identity == None  # noqa: E711


def test_jwt_required_without_setup_is_a_clear_error():
    app = Flask(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.get("/x")
    @jwt_required()
    def view():
        return "x"

    with pytest.raises(RuntimeError, match="jwt_blueprint is not set up"):
        app.test_client().get("/x")


def pem_pair(private_key) -> tuple[bytes, bytes]:
    private = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


KEYS = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "PS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


@pytest.fixture(scope="module", params=sorted(KEYS))
def key_pair(request):
    return request.param, *pem_pair(KEYS[request.param]())


def test_asymmetric_algorithms(key_pair):
    algorithm, private, public = key_pair
    app = create_app(
        {
            "JWT_ALGORITHM": algorithm,
            "JWT_PRIVATE_KEY": private,
            "JWT_PUBLIC_KEY": public,
        }
    )
    client = app.test_client()
    token = login(client)
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    assert jwt.decode(token, public, algorithms=[algorithm])["identity"] == 1
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_public_key_is_derived_from_the_private_key(key_pair):
    algorithm, private, public = key_pair
    client = create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": private})
    client = client.test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_seed_style_private_key_in_jwt_secret_key(key_pair):
    algorithm, private, public = key_pair
    client = create_app({"JWT_ALGORITHM": algorithm, "JWT_SECRET_KEY": private})
    client = client.test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_verify_only_service(key_pair):
    algorithm, private, public = key_pair
    issuer = create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": private})
    token = login(issuer.test_client())
    app = Flask(__name__)
    app.config.update(
        JWT_ALGORITHM=algorithm, JWT_PUBLIC_KEY=public, JWT_AUTH_URL_RULE=None
    )
    app.register_blueprint(JWTBlueprint(JWTStrategy(identity_handler=identity)))

    @app.get("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity}"

    client = app.test_client()
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_verify_only_service_cannot_serve_the_auth_endpoint(key_pair):
    algorithm, private, public = key_pair
    with pytest.raises(ConfigError, match="^JWT_PRIVATE_KEY: the 'jwt' endpoint signs"):
        create_app({"JWT_ALGORITHM": algorithm, "JWT_PUBLIC_KEY": public})


def test_verify_only_codec_refuses_to_sign(key_pair):
    algorithm, private, public = key_pair
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.jwt_encode_handler
    def encode(user):
        return jwt_obj.encode_token(user)

    app = Flask(__name__)
    app.config.update(
        JWT_ALGORITHM=algorithm, JWT_PUBLIC_KEY=public, PROPAGATE_EXCEPTIONS=True
    )
    jwt_obj.init_app(app)
    with pytest.raises(RuntimeError, match="set JWT_PRIVATE_KEY"):
        login(app.test_client())


def test_hmac_token_signed_with_the_public_key_is_refused(key_pair):
    # Algorithm confusion: the attacker signs HS256 with the public PEM.
    algorithm, private, public = key_pair
    client = create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": private})
    client = client.test_client()
    header = {"alg": "HS256", "typ": "JWT"}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    body = {"identity": 1, "sub": "1", "iat": now, "nbf": now, "exp": now + 60}
    signing_input = (
        b64(json.dumps(header).encode()) + "." + b64(json.dumps(body).encode())
    )
    signature = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + b64(signature)
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "The specified alg value is not allowed"


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": "not a key"}, "JWT_PRIVATE_KEY"),
        ({"JWT_ALGORITHM": "RS256", "JWT_PUBLIC_KEY": b"garbage"}, "JWT_PUBLIC_KEY"),
        ({"JWT_ALGORITHM": "RS256"}, "JWT_PUBLIC_KEY"),
        (
            {"JWT_ALGORITHM": "RS256", "JWT_SECRET_KEY": "-----BEGIN x"},
            "JWT_SECRET_KEY",
        ),
        ({"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": ""}, "JWT_PRIVATE_KEY"),
        ({"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": 42}, "JWT_PRIVATE_KEY"),
    ],
    ids=["not-a-key", "garbage-public", "no-key", "bad-pem", "empty", "wrong-type"],
)
def test_bad_asymmetric_keys_fail_at_startup(config, key):
    with pytest.raises(ConfigError) as excinfo:
        create_app(config)
    assert excinfo.value.key == key


def test_public_key_where_a_private_key_is_needed(key_pair):
    algorithm, private, public = key_pair
    with pytest.raises(ConfigError, match="^JWT_PRIVATE_KEY: is not a private key"):
        create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": public})


def test_key_of_the_wrong_family(key_pair):
    algorithm, private, public = key_pair
    other = "ES256" if algorithm != "ES256" else "RS256"
    with pytest.raises(ConfigError, match="^JWT_PRIVATE_KEY: is not a valid"):
        create_app({"JWT_ALGORITHM": other, "JWT_PRIVATE_KEY": private})


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "HEAD"])
def test_other_methods_on_the_auth_url_get_json(client, method):
    response = client.open("/auth", method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, POST"
    if method != "HEAD":
        assert response.json == {
            "status_code": 405,
            "error": "Method Not Allowed",
            "description": f"This endpoint accepts POST, not {method}",
        }


def test_options_on_the_auth_url(client):
    response = client.options("/auth")
    assert response.status_code == 200
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_app_body_limit_is_kept_when_smaller():
    client = create_app({"MAX_CONTENT_LENGTH": 100}).test_client()
    response = client.post("/auth", json={"username": "user1", "password": "x" * 200})
    assert response.status_code == 413
    assert response.json["errors"] == {"_body": ["Must be at most 100 bytes."]}


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        ("Bearer abc", 'JWT realm="Staff"'),
        (
            "JWT",
            'JWT realm="Staff", error="invalid_request",'
            ' error_description="Token missing"',
        ),
        (
            "JWT a b",
            'JWT realm="Staff", error="invalid_request",'
            ' error_description="Token contains spaces"',
        ),
        (
            "JWT a.b",
            'JWT realm="Staff", error="invalid_token",'
            ' error_description="Not enough segments"',
        ),
    ],
)
def test_view_realm_names_every_challenge(app, client, authorization, challenge):
    @app.get("/staff")
    @jwt_required(realm="Staff")
    def staff():
        return "ok"

    response = client.get("/staff", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == challenge


def test_jwt_required_without_parentheses_is_a_clear_error():
    with pytest.raises(TypeError, match=r"use @jwt_required\(\)"):

        @jwt_required
        def view():
            return "x"


def test_verify_jwt_in_request_for_a_whole_blueprint():
    from flask import Blueprint

    from jwt_blueprint import verify_jwt_in_request

    app = create_app()
    api = Blueprint("api", __name__, url_prefix="/api")

    @api.before_request
    def require_token():
        verify_jwt_in_request(realm="API")

    @api.get("/me")
    def me():
        return f"{current_identity}"

    app.register_blueprint(api)
    client = app.test_client()
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="API"'
    token = login(client)
    assert client.get("/api/me", headers=auth_header(token)).text == "User(id='1')"


def test_config_error_is_exported():
    import jwt_blueprint

    assert jwt_blueprint.ConfigError is ConfigError
    assert issubclass(ConfigError, ValueError)


def test_current_identity_does_not_outlive_its_request(app, client):
    @app.get("/open")
    def open_view():
        return repr(current_identity == None)  # noqa: E711

    token = login(client)
    with app.app_context():  # Flask reuses this context for both requests
        assert client.get("/protected", headers=auth_header(token)).status_code == 200
        assert client.get("/open").text == "True"


def test_verify_jwt_in_request_checks_the_realm(app, client):
    from jwt_blueprint import verify_jwt_in_request

    @app.get("/bad-realm")
    def bad_realm():
        verify_jwt_in_request(realm="Zoë's API")
        return "never"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ValueError, match="printable ASCII"):
        client.get("/bad-realm", headers=auth_header(login(client)))


def test_public_key_in_jwt_secret_key_makes_a_verify_only_service(key_pair):
    # Flask-JWT's way: JWT_SECRET_KEY held whatever key the service had.
    algorithm, private, public = key_pair
    issuer = create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": private})
    token = login(issuer.test_client())
    app = Flask(__name__)
    app.config.update(
        JWT_ALGORITHM=algorithm, JWT_SECRET_KEY=public, JWT_AUTH_URL_RULE=None
    )
    app.register_blueprint(JWTBlueprint(JWTStrategy(identity_handler=identity)))

    @app.get("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity}"

    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.text == "User(id='1')"


def test_mismatched_key_pair_fails_at_startup(key_pair):
    algorithm, private, public = key_pair
    other_private, other_public = pem_pair(KEYS[algorithm]())
    with pytest.raises(ConfigError, match="^JWT_PUBLIC_KEY: does not verify"):
        create_app(
            {
                "JWT_ALGORITHM": algorithm,
                "JWT_PRIVATE_KEY": private,
                "JWT_PUBLIC_KEY": other_public,
            }
        )


@pytest.mark.parametrize("key", ["JWT_PRIVATE_KEY", "JWT_PUBLIC_KEY"])
def test_short_rsa_keys_fail_at_startup(key):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private, public = pem_pair(weak)
    value = private if key == "JWT_PRIVATE_KEY" else public
    with pytest.raises(
        ConfigError, match=f"^{key}: is a 1024-bit RSA key; RS256 needs at least 2048"
    ):
        create_app({"JWT_ALGORITHM": "RS256", key: value})


def test_subclass_signing_elsewhere_needs_no_private_key(key_pair):
    algorithm, private, public = key_pair
    prepared = jwt.PyJWK.from_json(
        jwt.algorithms.get_default_algorithms()[algorithm].to_jwk(
            serialization.load_pem_private_key(private, None)
        )
    ).key

    class RemoteSigner(JWTStrategy):
        # Stands in for a KMS: signs with a key this app does not hold.
        def encode_token(self, identity):
            return jwt.encode(
                {
                    "identity": identity.id,
                    "sub": str(identity.id),
                    "iat": 1,
                    "nbf": 1,
                    "exp": 2**40,
                },
                prepared,
                algorithm=algorithm,
            )

    app = Flask(__name__)
    app.config.update(JWT_ALGORITHM=algorithm, JWT_PUBLIC_KEY=public)
    app.register_blueprint(JWTBlueprint(RemoteSigner(authenticate, identity)))

    @app.get("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity}"

    client = app.test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_body_shorter_than_its_content_length(client):
    import io

    body = b'{"username": "user1", "password": "abcxyz"}'
    response = client.post(
        "/auth",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(len(body) + 10)},
    )
    assert response.status_code == 400
    assert response.json["description"] == "Request body is incomplete"


def test_streamed_body_over_the_limit_is_refused_not_cut(client):
    import io

    body = b'{"username": "user1", "password": "abcxyz"}' + b" " * 70000 + b"x"
    response = client.post(
        "/auth",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.json["error"] == "Request Entity Too Large"


def test_verify_only_service_accepts_another_issuers_claim_layout(key_pair):
    # The issuer's identity claim is an object and this service reads sub:
    # nothing here says what identity must look like.
    algorithm, private, public = key_pair
    now = int(time.time())
    token = jwt.encode(
        {
            "identity": {"id": 1, "roles": ["admin"]},
            "sub": "1",
            "iat": now,
            "nbf": now,
            "exp": now + 60,
        },
        serialization.load_pem_private_key(private, None),
        algorithm=algorithm,
    )
    app = Flask(__name__)
    app.config.update(
        JWT_ALGORITHM=algorithm, JWT_PUBLIC_KEY=public, JWT_AUTH_URL_RULE=None
    )
    strategy = JWTStrategy(identity_handler=lambda payload: payload["sub"])
    app.register_blueprint(JWTBlueprint(strategy))

    @app.get("/whoami")
    @jwt_required()
    def whoami():
        return f"sub {current_identity}"

    response = app.test_client().get("/whoami", headers=auth_header(token))
    assert response.text == "sub 1"


def test_descriptions_with_backslashes_keep_to_rfc_6750(client):
    header = base64.urlsafe_b64encode(b'{"alg": "HS\\q256"}').rstrip(b"=").decode()
    response = client.get("/protected", headers=auth_header(f"{header}.e30.sig"))
    assert response.status_code == 401
    description = response.json["description"]
    assert "\\escape" in description
    challenge = response.headers["WWW-Authenticate"]
    expected = description.replace("\\", "").replace('"', "'")
    assert challenge.endswith(f'error_description="{expected}"')
    assert "\\" not in challenge

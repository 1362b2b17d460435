"""The verification pipeline: its steps, its handler slots, and the verified
token it leaves on the request."""

from __future__ import annotations

import math
import time
from datetime import timedelta

import jwt
import pytest
from flask import Flask
from flask import jsonify
from flask import request

from conftest import auth_header
from conftest import authenticate
from conftest import claims
from conftest import create_app
from conftest import identity
from conftest import login
from conftest import make_token
from conftest import SECRET
from conftest import USERID_TABLE
from jwt_blueprint import current_claims
from jwt_blueprint import current_identity
from jwt_blueprint import get_verified_token
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint import VerifiedToken
from jwt_blueprint import verify_jwt_in_request
from jwt_blueprint.handlers import HandlerAttribute


def strategy_app(strategy: JWTStrategy, **config) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, **config)
    app.register_blueprint(JWTBlueprint(strategy))

    @app.get("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity}"

    @app.get("/staff")
    @jwt_required(realm="Staff")
    def staff():
        return f"{current_identity}"

    return app


# -- handler slots ---------------------------------------------------------


def test_unset_handlers_are_none_and_callbacks_read_the_defaults():
    strategy = JWTStrategy(authenticate, identity)
    handlers = strategy.handlers
    assert handlers.authentication is authenticate
    assert handlers.identity is identity
    for slot in ("payload", "headers", "encode", "decode", "request", "error"):
        assert getattr(handlers, slot) is None
    # Flask-JWT's attribute names still give something callable.
    assert strategy.jwt_encode_callback == strategy.encode_token
    assert strategy.request_callback == strategy.request_token
    assert strategy.jwt_error_callback == strategy.error_response
    assert strategy.identity_callback is identity
    assert JWTStrategy(authenticate).identity_callback is None
    assert isinstance(JWTStrategy.jwt_encode_callback, HandlerAttribute)


def test_assigning_a_callback_attribute_sets_the_handler():
    strategy = JWTStrategy(authenticate, identity)

    def payload(user):
        return {"user_id": user.id}

    strategy.jwt_payload_callback = payload
    assert strategy.handlers.payload is payload
    assert strategy.jwt_payload_callback is payload
    strategy.jwt_payload_callback = None
    assert strategy.jwt_payload_callback == strategy.make_payload


def test_a_wrapped_request_handler_keeps_the_views_realm():
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.request_handler
    def header_or_query():
        return jwt_obj.request_token() or request.args.get("token")

    client = strategy_app(jwt_obj).test_client()
    response = client.get("/staff", headers={"Authorization": "JWT a b"})
    assert response.status_code == 401
    assert response.json["description"] == "Token contains spaces"
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Staff", error="invalid_request",'
        ' error_description="Token contains spaces"'
    )
    response = client.get("/staff")
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Staff"'
    token = login(client)
    assert client.get(f"/staff?token={token}").text == "User(id='1')"


def test_the_realm_reaches_every_step():
    client = strategy_app(JWTStrategy(authenticate, identity)).test_client()
    expired = make_token(claims(exp=int(time.time()) - 60))
    response = client.get("/staff", headers=auth_header(expired))
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Staff", error="invalid_token",'
        ' error_description="Signature has expired"'
    )
    unknown = make_token(claims(identity=99, sub="99"))
    response = client.get("/staff", headers=auth_header(unknown))
    assert response.headers["WWW-Authenticate"].startswith('JWT realm="Staff"')


class RoleStrategy(JWTStrategy):
    def make_payload(self, identity):
        payload = super().make_payload(identity)
        payload["role"] = "admin"
        return payload


def test_a_payload_override_that_calls_super_keeps_the_identity_claim_check():
    client = strategy_app(RoleStrategy(authenticate, identity)).test_client()
    token = login(client)
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["role"] == "admin"
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    # A list in `identity` would crash the identity handler's dict lookup.
    odd = make_token(claims(identity=[1]))
    response = client.get("/protected", headers=auth_header(odd))
    assert response.status_code == 401
    assert response.json["description"] == (
        "Identity claim (identity) must be a string or an integer"
    )


def test_a_payload_handler_with_its_own_layout_works():
    jwt_obj = JWT(None, authenticate, lambda payload: USERID_TABLE.get(payload["uid"]))

    @jwt_obj.jwt_payload_handler
    def make_payload(user):
        now = int(time.time())
        return {"uid": user.id, "iat": now, "nbf": now, "exp": now + 60}

    client = strategy_app(jwt_obj).test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).text == "User(id='1')"


def test_a_decode_handler_with_its_own_layout_reaches_the_identity_handler():
    # Flask-JWT's test_custom_decode_handler: the identity handler receives
    # exactly what the decode handler returned.
    seen = []
    jwt_obj = JWT(None, authenticate)

    @jwt_obj.identity_handler
    def load_user(payload):
        seen.append(payload)
        return USERID_TABLE.get(payload["user_id"])

    @jwt_obj.jwt_decode_handler
    def decode_data(token):
        return {"user_id": 1}

    client = strategy_app(jwt_obj).test_client()
    response = client.get("/protected", headers=auth_header(login(client)))
    assert response.text == "User(id='1')"
    assert seen == [{"user_id": 1}]


def test_a_decode_handler_calling_the_default_behaves_like_it():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_decode_handler(lambda token: jwt_obj.decode_token(token))
    client = strategy_app(jwt_obj).test_client()
    assert (
        client.get("/protected", headers=auth_header(login(client))).status_code == 200
    )
    expired = make_token(claims(exp=int(time.time()) - 60))
    response = client.get("/staff", headers=auth_header(expired))
    assert response.json["description"] == "Signature has expired"
    assert 'realm="Staff"' in response.headers["WWW-Authenticate"]


def test_a_decode_handler_returning_something_else_is_a_server_bug():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_decode_handler(lambda token: "not claims")
    app = strategy_app(jwt_obj, PROPAGATE_EXCEPTIONS=True)
    with pytest.raises(TypeError, match="must return the token's claims as a dict"):
        app.test_client().get("/protected", headers=auth_header(make_token()))


def test_missing_claims_read_by_the_identity_handler_are_a_401():
    # The quickstart's handler reads payload["identity"]; a token without it
    # (another issuer's, or a custom payload's) is refused, not a 500.
    client = create_app().test_client()
    token = make_token(claims(identity=None))
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json == {
        "status_code": 401,
        "error": "Invalid token",
        "description": 'Token is missing the "identity" claim',
    }


# -- async handlers ----------------------------------------------------------


def async_strategy() -> JWTStrategy:
    async def authenticate_async(username, password):
        return authenticate(username, password)

    async def identity_async(payload):
        return USERID_TABLE.get(payload["identity"])

    return JWTStrategy(authenticate_async, identity_async)


def test_async_handlers_are_awaited():
    client = strategy_app(async_strategy()).test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).text == "User(id='1')"
    response = client.post("/auth", json={"username": "user1", "password": "wrong"})
    assert response.status_code == 401


def test_an_async_identity_handler_returning_none_refuses_the_token():
    # A coroutine is never None: before, a deleted user's token was served.
    client = strategy_app(async_strategy()).test_client()
    token = make_token(claims(identity=99, sub="99"))
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "User does not exist"


def test_async_payload_and_revocation_handlers_are_awaited():
    strategy = async_strategy()

    @strategy.jwt_payload_handler
    async def make_payload(user):
        payload = strategy.make_payload(user)
        payload["team"] = "blue"
        return payload

    @strategy.revocation_handler
    async def is_revoked(payload):
        return payload.get("team") != "blue"

    client = strategy_app(strategy).test_client()
    assert (
        client.get("/protected", headers=auth_header(login(client))).status_code == 200
    )
    response = client.get("/protected", headers=auth_header(make_token()))
    assert response.json["description"] == "Token has been revoked"


# -- the steps -------------------------------------------------------------


class QueryStrategy(JWTStrategy):
    """Overrides one step: the token comes from ?access_token=."""

    def locate_token(self, settings):
        token = request.args.get("access_token")
        return None if token is None else (token, "query_string")


def test_a_subclass_overrides_exactly_one_step():
    app = strategy_app(QueryStrategy(authenticate, identity))

    @app.get("/where")
    @jwt_required()
    def where():
        verified = get_verified_token()
        return {"location": verified.location, "sub": current_claims["sub"]}

    client = app.test_client()
    token = login(client)
    assert client.get(f"/where?access_token={token}").json == {
        "location": "query_string",
        "sub": "1",
    }
    assert client.get("/where", headers=auth_header(token)).status_code == 401
    expired = make_token(claims(exp=int(time.time()) - 60))
    response = client.get(f"/where?access_token={expired}")
    assert response.json["description"] == "Signature has expired"


@pytest.mark.parametrize(
    ("token_type", "description"),
    [
        ("refresh", "A refresh token is not accepted here"),
        ("id", "A id token is not accepted here"),
        (7, "Token type (type) must be a string"),
        (None, "Token type (type) must be a string"),
    ],
)
def test_only_access_tokens_open_protected_views(client, token_type, description):
    token = make_token({**claims(), "type": token_type})
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == description
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_typed_and_untyped_access_tokens_are_accepted(client):
    for token in (make_token(claims(type="access")), make_token()):
        assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_the_revocation_handler_is_asked_for_every_verified_token():
    revoked = set()
    asked = []
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.revocation_handler
    def is_revoked(payload):
        asked.append(payload["jti"])
        return payload["jti"] in revoked

    client = strategy_app(jwt_obj).test_client()
    token = login(client)
    jti = jwt.decode(token, SECRET, algorithms=["HS256"])["jti"]
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    revoked.add(jti)
    response = client.get("/staff", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json == {
        "status_code": 401,
        "error": "Invalid token",
        "description": "Token has been revoked",
    }
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Staff", error="invalid_token",'
        ' error_description="Token has been revoked"'
    )
    assert asked == [jti, jti]
    # An invalid token is refused before anyone is asked.
    client.get("/protected", headers=auth_header(token + "x"))
    assert asked == [jti, jti]


def test_an_hmac_app_checks_the_identity_layout_even_without_a_login_route():
    # The secret that verifies also signs: this app's own tokens carry an
    # id in `identity`. (A verify-only RS/ES service accepts any layout: see
    # test_blueprint's verify-only test.)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, JWT_AUTH_URL_RULE=None)
    strategy = JWTStrategy(identity_handler=lambda payload: payload["identity"]["id"])
    app.register_blueprint(JWTBlueprint(strategy))

    @app.get("/whoami")
    @jwt_required()
    def whoami():
        return f"{current_identity}"

    token = make_token(claims(identity={"id": 7}))
    response = app.test_client().get("/whoami", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == (
        "Identity claim (identity) must be a string or an integer"
    )


# -- the verified token on the request -------------------------------------


def test_a_token_a_decode_handler_accepts_without_a_jose_header():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.request_handler(lambda: request.args.get("key"))
    jwt_obj.jwt_decode_handler(lambda token: {"identity": 1} if token == "k1" else {})
    app = strategy_app(jwt_obj)

    @app.get("/opaque")
    @jwt_required()
    def opaque():
        verified = get_verified_token()
        return {"header": verified.header, "repr": repr(verified)}

    client = app.test_client()
    assert client.get("/opaque?key=k1").json == {
        "header": {},
        "repr": f"<VerifiedToken from request_handler for {USERID_TABLE[1]!r}>",
    }
    assert client.get("/opaque?key=k2").json["description"] == (
        'Token is missing the "identity" claim'
    )


def test_the_verified_token_is_on_the_request():
    app = create_app()

    @app.get("/token")
    @jwt_required()
    def token_view():
        verified = get_verified_token()
        assert isinstance(verified, VerifiedToken)
        return jsonify(
            token=verified.token,
            location=verified.location,
            header=verified.header,
            type=verified.type,
            identity=str(verified.identity),
            claims=dict(current_claims),
            jti=current_claims["jti"],
            role=current_claims.get("role"),
        )

    client = app.test_client()
    token = login(client)
    body = client.get("/token", headers=auth_header(token)).json
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert body == {
        "token": token,
        "location": "headers",
        "header": {"alg": "HS256", "typ": "JWT"},
        "type": "access",
        "identity": "User(id='1')",
        "claims": decoded,
        "jti": decoded["jti"],
        "role": None,
    }


def test_reading_a_claim_the_token_lacks_is_a_401():
    app = create_app()

    @app.get("/admin")
    @jwt_required()
    def admin():
        return current_claims["role"]

    client = app.test_client()
    response = client.get("/admin", headers=auth_header(login(client)))
    assert response.status_code == 401
    assert response.json["description"] == 'Token is missing the "role" claim'


def test_nothing_is_kept_outside_a_verified_request(app, client):
    @app.get("/open")
    def open_view():
        return jsonify(
            token=get_verified_token() is None,
            identity=current_identity._get_current_object() is None,
            claims=dict(current_claims),
        )

    token = login(client)
    assert client.get("/open", headers=auth_header(token)).json == {
        "token": True,
        "identity": True,
        "claims": {},
    }
    with app.app_context():
        assert get_verified_token() is None
        assert dict(current_claims) == {}
    with client:
        client.get("/protected", headers=auth_header("a.b.c"))
        assert get_verified_token() is None


def test_verify_jwt_in_request_returns_the_verified_token(app):
    token = make_token()
    with app.test_request_context(headers=auth_header(token)):
        verified = verify_jwt_in_request(realm="API")
        assert verified.token == token
        assert verified.identity is USERID_TABLE[1]
        assert get_verified_token() is verified
        assert current_claims["sub"] == "1"


# -- minting tokens ----------------------------------------------------------


def test_create_access_token_goes_through_the_apps_handlers():
    strategy = RoleStrategy(authenticate, identity)
    app = strategy_app(strategy)
    user = USERID_TABLE[2]
    with app.app_context():
        token = strategy.create_access_token(user, claims={"team": "blue"})
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["role"] == "admin"
    assert payload["team"] == "blue"
    assert payload["identity"] == 2
    assert payload["exp"] - payload["iat"] == 300
    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.text == "User(id='2')"


@pytest.mark.parametrize("delta", [timedelta(hours=2), 7200, 7200.9])
def test_create_access_token_with_its_own_lifetime(app, delta):
    strategy = app.extensions["jwt"]
    with app.app_context():
        before = time.time()
        token = strategy.create_access_token(USERID_TABLE[1], expires_delta=delta)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert math.floor(before + 7200) <= payload["exp"] <= time.time() + 7201


def test_a_negative_lifetime_makes_an_expired_token(app, client):
    strategy = app.extensions["jwt"]
    with app.app_context():
        token = strategy.create_access_token(
            USERID_TABLE[1], expires_delta=timedelta(minutes=-5)
        )
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["description"] == "Signature has expired"


def test_create_access_token_refuses_two_expiries(app):
    with app.app_context(), pytest.raises(TypeError, match="not both"):
        app.extensions["jwt"].create_access_token(
            USERID_TABLE[1], expires_delta=60, claims={"exp": 1}
        )


@pytest.mark.parametrize("delta", [float("nan"), float("inf"), True, "60"])
def test_create_access_token_refuses_a_lifetime_that_is_not_a_duration(app, delta):
    with app.app_context(), pytest.raises((TypeError, ValueError)):
        app.extensions["jwt"].create_access_token(USERID_TABLE[1], expires_delta=delta)


def test_create_access_token_uses_a_custom_encode_handler_that_wraps_the_default():
    jwt_obj = JWT(None, authenticate, identity)
    encoded = []

    @jwt_obj.jwt_encode_handler
    def encode(user):
        encoded.append(user.id)
        return jwt_obj.encode_token(user)

    app = strategy_app(jwt_obj)
    with app.app_context():
        token = jwt_obj.create_access_token(USERID_TABLE[1], expires_delta=-60)
    assert encoded == [1]
    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.json["description"] == "Signature has expired"


def test_the_overrides_end_with_the_call(app):
    strategy = app.extensions["jwt"]
    with app.app_context():
        strategy.create_access_token(USERID_TABLE[1], claims={"team": "blue"})
        payload = strategy.make_payload(USERID_TABLE[1])
        plain = strategy.create_access_token(USERID_TABLE[1])
    assert "team" not in payload
    assert "team" not in jwt.decode(plain, SECRET, algorithms=["HS256"])

"""The verification pipeline: its steps, its handler slots, and the verified
token it leaves on the request."""

from __future__ import annotations

import functools
import math
import time
import types
from datetime import timedelta

import jwt
import pytest
from flask import Flask
from flask import jsonify
from flask import request
from marshmallow import fields

from conftest import auth_header
from conftest import authenticate
from conftest import claims
from conftest import create_app
from conftest import identity
from conftest import login
from conftest import make_token
from conftest import SECRET
from conftest import SECRET_KID
from conftest import USERID_TABLE
from jwt_blueprint import AuthView
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
from jwt_blueprint.schemas import TokenSchema


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


def set_flask_jwt_style_encoder(strategy: JWTStrategy) -> None:
    """Flask-JWT's default encode handler, as apps copied it."""

    @strategy.jwt_encode_handler
    def encode(identity):
        payload = strategy.jwt_payload_callback(identity)
        return jwt.encode(payload, SECRET, algorithm="HS256")


def test_unset_handlers_are_none_and_callbacks_read_the_defaults():
    strategy = JWTStrategy(authenticate, identity)
    handlers = strategy.handlers
    assert handlers.authentication is authenticate
    assert handlers.identity is identity
    for slot in ("payload", "headers", "encode", "decode", "request", "error"):
        assert getattr(handlers, slot) is None
    # Flask-JWT's attribute names still give something callable: the
    # issuing steps, or the handler set, else the default.
    assert strategy.jwt_payload_callback == strategy.build_payload
    assert strategy.jwt_headers_callback == strategy.build_headers
    assert strategy.jwt_encode_callback == strategy.issue_token
    assert strategy.request_callback == strategy.request_token
    assert strategy.jwt_decode_callback == strategy.decode_token
    assert strategy.jwt_error_callback == strategy.error_response
    assert strategy.identity_callback is identity
    assert JWTStrategy(authenticate).identity_callback is None
    assert isinstance(JWTStrategy.jwt_encode_callback, HandlerAttribute)


def test_assigning_a_callback_attribute_sets_the_handler(app):
    strategy = app.extensions["jwt"]

    def payload(user):
        return {**strategy.make_payload(user), "team": "blue"}

    strategy.jwt_payload_callback = payload
    strategy.jwt_decode_callback = strategy.decode_token
    assert strategy.handlers.payload is payload
    assert strategy.jwt_decode_callback == strategy.decode_token
    with app.app_context():
        assert strategy.jwt_payload_callback(USERID_TABLE[1])["team"] == "blue"
        token = strategy.jwt_encode_callback(USERID_TABLE[1])
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["team"] == "blue"
    strategy.jwt_payload_callback = None
    assert strategy.handlers.payload is None


def test_callback_attributes_of_async_handlers_give_results(app):
    strategy = app.extensions["jwt"]

    @strategy.identity_handler
    async def load(payload):
        return USERID_TABLE.get(payload["identity"])

    @strategy.jwt_encode_handler
    async def encode(user):
        return strategy.encode_token(user)

    with app.app_context():
        token = strategy.jwt_encode_callback(USERID_TABLE[1])
        assert strategy.identity_callback({"identity": 2}) is USERID_TABLE[2]
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["identity"] == 1


def test_flask_jwt_style_encode_handler_with_a_payload_handler_gets_overrides(
    app, client
):
    strategy = app.extensions["jwt"]

    @strategy.jwt_payload_handler
    async def payload(user):
        return strategy.make_payload(user)

    set_flask_jwt_style_encoder(strategy)

    with app.app_context():
        token = strategy.create_access_token(
            USERID_TABLE[1], claims={"team": "blue"}, expires_delta=-60
        )
    assert (
        jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})[
            "team"
        ]
        == "blue"
    )
    response = client.get("/protected", headers=auth_header(token))
    assert response.json["description"] == "Signature has expired"
    assert (
        client.get("/protected", headers=auth_header(login(client))).status_code == 200
    )


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
        ("id", "An id token is not accepted here"),
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
        "header": {"alg": "HS256", "typ": "JWT", "kid": SECRET_KID},
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
        payload = strategy.build_payload(USERID_TABLE[1])
        plain = strategy.create_access_token(USERID_TABLE[1])
    assert "team" not in payload
    assert "team" not in jwt.decode(plain, SECRET, algorithms=["HS256"])


def test_a_token_minted_while_minting_another_has_none_of_its_overrides(app):
    strategy = app.extensions["jwt"]
    inner = []

    @strategy.jwt_payload_handler
    def payload(user):
        if user.id == 1:
            inner.append(strategy.create_access_token(USERID_TABLE[2]))
        return strategy.make_payload(user)

    with app.app_context():
        outer = strategy.create_access_token(
            USERID_TABLE[1], claims={"scope": "admin"}, expires_delta=60
        )
    claims_of = [jwt.decode(t, SECRET, algorithms=["HS256"]) for t in (outer, *inner)]
    assert claims_of[0]["scope"] == "admin"
    assert claims_of[1]["identity"] == 2
    assert "scope" not in claims_of[1]
    assert claims_of[1]["exp"] - claims_of[1]["iat"] == 300


def test_overrides_reach_an_encode_handler_written_the_flask_jwt_way(app, client):
    strategy = app.extensions["jwt"]
    set_flask_jwt_style_encoder(strategy)

    with app.app_context():
        expired = strategy.create_access_token(
            USERID_TABLE[1], expires_delta=timedelta(minutes=-1)
        )
    response = client.get("/protected", headers=auth_header(expired))
    assert response.json["description"] == "Signature has expired"


def test_overrides_an_encode_handler_cannot_apply_are_an_error(app):
    strategy = app.extensions["jwt"]
    strategy.jwt_encode_handler(lambda identity: make_token())
    with app.app_context():
        assert strategy.create_access_token(USERID_TABLE[1])  # nothing to apply
        with pytest.raises(RuntimeError, match="did not reach the token"):
            strategy.create_access_token(USERID_TABLE[1], expires_delta=-60)


# -- a handler that calls the default behaves exactly like it ---------------


def wrap_default(jwt_obj: JWT, slot: str) -> None:
    """Set the handler of ``slot`` to one that only calls the default."""
    wrappers = {
        "payload": lambda identity: jwt_obj.make_payload(identity),
        "headers": lambda identity: jwt_obj.make_headers(identity),
        "encode": lambda identity: jwt_obj.encode_token(identity),
        "decode": lambda token: jwt_obj.decode_token(token),
        "request": lambda: jwt_obj.request_token(),
        "revocation": lambda claims: jwt_obj.is_revoked(claims),
        "auth_response": lambda token, identity: jwt_obj.auth_response(token, identity),
        "error": lambda error: jwt_obj.error_response(error),
    }
    setattr(jwt_obj.handlers, slot, wrappers[slot])


class ProfileSchema(TokenSchema):
    user_id = fields.Integer(attribute="identity.id")


class ProfileView(AuthView):
    token_schema = ProfileSchema


def answers(strategy: JWTStrategy) -> list[tuple]:
    """What a client sees, token values aside, over a range of requests."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, JWT_AUTH_HEADER_PREFIX="Bearer")
    app.register_blueprint(JWTBlueprint(strategy, auth_view=ProfileView))

    @app.get("/staff")
    @jwt_required(realm="Staff")
    def staff():
        return {"user": str(current_identity), "header": get_verified_token().header}

    client = app.test_client()
    good = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    token = good.json["access_token"]
    responses = [
        good,
        client.post("/auth", json={"username": "user1", "password": "nope"}),
        client.post("/auth", json={"username": "user1"}),
        client.get("/auth"),
        client.get("/staff", headers=auth_header(token, "Bearer")),
        client.get("/staff"),
        client.get("/staff", headers={"Authorization": "Bearer a b"}),
        client.get("/staff", headers=auth_header(token + "x", "Bearer")),
        client.get("/staff", headers=auth_header(make_token(claims(exp=1)), "Bearer")),
    ]
    seen = []
    for response in responses:
        body = dict(response.json or {})
        if "access_token" in body:
            body["access_token"] = set(
                jwt.decode(body["access_token"], SECRET, ["HS256"])
            )
        seen.append(
            (response.status_code, body, response.headers.get("WWW-Authenticate"))
        )
    return seen


@pytest.mark.parametrize(
    "slot",
    ["payload", "headers", "encode", "decode", "request", "revocation",
     "auth_response", "error"],
)  # fmt: skip
def test_a_handler_that_calls_the_default_behaves_exactly_like_it(slot):
    wrapped = JWT(None, authenticate, identity)
    wrap_default(wrapped, slot)
    assert answers(wrapped) == answers(JWT(None, authenticate, identity))


# -- subclasses override the defaults the steps run -------------------------


class IssuerStrategy(JWTStrategy):
    """Extends the default decode handler with an issuer check."""

    def decode_token(self, token, settings=None):
        claims = super().decode_token(token, settings)
        if claims.get("iss") != "us":
            raise jwt.InvalidIssuerError("Invalid issuer")
        return claims


class CookieOrHeaderStrategy(JWTStrategy):
    """Extends the default request handler with a cookie."""

    def request_token(self, settings=None):
        return request.cookies.get("token") or super().request_token(settings)


def test_a_subclass_overriding_the_default_decode_handler_is_used():
    client = strategy_app(IssuerStrategy(authenticate, identity)).test_client()
    response = client.get("/protected", headers=auth_header(make_token()))
    assert response.status_code == 401
    assert response.json["description"] == "Invalid issuer"
    ours = make_token(claims(iss="us"))
    assert client.get("/protected", headers=auth_header(ours)).status_code == 200


def test_a_subclass_overriding_the_default_request_handler_is_used():
    client = strategy_app(CookieOrHeaderStrategy(authenticate, identity)).test_client()
    client.set_cookie("token", make_token())
    assert client.get("/protected").text == "User(id='1')"
    client.delete_cookie("token")
    assert client.get("/protected").status_code == 401
    assert (
        client.get("/protected", headers=auth_header(make_token())).status_code == 200
    )


@pytest.mark.parametrize("name", ["request_token", "decode_token", "is_revoked"])
def test_an_override_the_steps_cannot_call_fails_when_the_class_is_made(name):
    # Flask-JWT's signatures, without the settings the steps pass.
    overrides = {
        "request_token": lambda self: None,
        "decode_token": lambda self, token: {},
        "is_revoked": lambda self, claims: False,
    }
    with pytest.raises(TypeError, match=f"{name} must accept the settings"):
        type("Legacy", (JWTStrategy,), {name: overrides[name]})


def test_legitimate_override_signatures_are_accepted():
    def adapting(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            return method(*args, **kwargs)

        return wrapper

    class Static(JWTStrategy):
        @staticmethod
        def is_revoked(claims, settings=None):
            return False

    class Class(JWTStrategy):
        @classmethod
        def is_revoked(cls, claims, settings=None):
            return False

    class Decorated(JWTStrategy):
        @adapting
        def decode_token(self, token, *args):
            return super().decode_token(token, *args)

    class Variadic(JWTStrategy):
        def request_token(self, *args):
            return super().request_token(*args)

    token = make_token()
    for kind in (Static, Class, Decorated, Variadic):
        client = strategy_app(kind(authenticate, identity)).test_client()
        response = client.get("/protected", headers=auth_header(token))
        assert response.text == "User(id='1')", kind.__name__


def test_an_old_signature_from_a_mixin_is_refused():
    class Legacy:
        def decode_token(self, token):
            return {}

    with pytest.raises(TypeError, match="decode_token must accept the settings"):
        type("Mixed", (Legacy, JWTStrategy), {})


def test_a_subclass_overriding_the_default_revocation_handler_is_used():
    class Nothing(JWTStrategy):
        def is_revoked(self, claims, settings=None):
            return True

    client = strategy_app(Nothing(authenticate, identity)).test_client()
    response = client.get("/protected", headers=auth_header(make_token()))
    assert response.json["description"] == "Token has been revoked"


def test_a_subclass_overriding_the_default_login_response_is_used():
    class Wrapped(JWTStrategy):
        def auth_response(self, access_token, identity):
            return {"data": {"token": str(access_token)}}

    client = strategy_app(Wrapped(authenticate, identity)).test_client()
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    assert set(response.json["data"]) == {"token"}


# -- async handlers everywhere, and inside async views ---------------------


def test_every_handler_may_be_async():
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.request_handler
    async def find():
        return jwt_obj.request_token()

    @jwt_obj.jwt_decode_handler
    async def decode(token):
        return jwt_obj.decode_token(token)

    @jwt_obj.jwt_headers_handler
    async def headers(user):
        return {"env": "k1"}

    @jwt_obj.jwt_encode_handler
    async def encode(user):
        return jwt_obj.encode_token(user)

    @jwt_obj.auth_response_handler
    async def respond(access_token, user):
        return {"token": str(access_token)}

    @jwt_obj.jwt_error_handler
    async def render(error):
        return {"async": error.description}, error.status_code

    client = strategy_app(jwt_obj).test_client()
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    token = response.json["token"]
    assert jwt.get_unverified_header(token)["env"] == "k1"
    assert client.get("/protected", headers=auth_header(token)).text == "User(id='1')"
    assert client.get("/protected").json == {
        "async": "Request does not contain an access token"
    }


def test_async_handlers_work_inside_async_views_and_hooks():
    app = strategy_app(async_strategy())
    guarded = []

    @app.before_request
    async def guard():
        if request.path == "/hooked":
            verify_jwt_in_request()
            guarded.append(str(current_identity))

    @app.get("/hooked")
    async def hooked():
        return f"{current_identity}"

    @app.get("/inside")
    async def inside():
        return f"{verify_jwt_in_request().identity}"

    client = app.test_client()
    token = login(client)
    assert client.get("/hooked", headers=auth_header(token)).text == "User(id='1')"
    assert guarded == ["User(id='1')"]
    assert client.get("/inside", headers=auth_header(token)).text == "User(id='1')"
    unknown = make_token(claims(identity=99, sub="99"))
    response = client.get("/inside", headers=auth_header(unknown))
    assert response.json["description"] == "User does not exist"


def test_an_encode_handler_must_give_a_token():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_encode_handler(lambda user: {"not": "a token"})
    app = strategy_app(jwt_obj, PROPAGATE_EXCEPTIONS=True)
    with pytest.raises(TypeError, match="must return the token as str or bytes"):
        login(app.test_client())


def test_the_default_login_response_outside_a_login_view(app):
    # Flask-JWT apps called jwt.auth_response_callback(token, identity).
    strategy = app.extensions["jwt"]
    with app.app_context():
        token = strategy.create_access_token(USERID_TABLE[1])
        response = strategy.auth_response_callback(token, USERID_TABLE[1])
    assert response.json == {"access_token": token}


def test_a_generator_based_coroutine_is_awaited_too():
    @types.coroutine
    def lookup(user_id):
        yield from ()
        return USERID_TABLE.get(user_id)

    def identity_handler(payload):
        return lookup(payload["identity"])

    client = strategy_app(JWTStrategy(authenticate, identity_handler)).test_client()
    assert (
        client.get("/protected", headers=auth_header(make_token())).status_code == 200
    )
    unknown = make_token(claims(identity=99, sub="99"))
    response = client.get("/protected", headers=auth_header(unknown))
    assert response.json["description"] == "User does not exist"


def test_without_asyncs_extra_an_async_handler_fails_clearly(monkeypatch):
    app = strategy_app(async_strategy(), PROPAGATE_EXCEPTIONS=True)

    def no_asgiref(func):
        raise RuntimeError("Install Flask with the 'async' extra")

    monkeypatch.setattr(app, "async_to_sync", no_asgiref)
    # No "coroutine was never awaited" warning either: warnings are errors.
    with pytest.raises(RuntimeError, match="'async' extra"):
        app.test_client().get("/protected", headers=auth_header(make_token()))

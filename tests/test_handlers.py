"""Every handler decorator, on the JWT facade and on JWTStrategy."""

from __future__ import annotations

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
from conftest import SECRET_KID
from conftest import USERID_TABLE
from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTError
from jwt_blueprint import JWTStrategy


def seed_app(jwt_obj: JWT, **config) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, **config)
    jwt_obj.init_app(app)

    @app.route("/protected")
    @jwt_required()
    def protected():
        return f"{current_identity}"

    return app


@pytest.mark.parametrize("kind", [JWT, JWTStrategy])
def test_decorators_store_and_return_the_callable(kind):
    strategy = kind()
    names = [
        "authentication_handler",
        "identity_handler",
        "jwt_payload_handler",
        "jwt_headers_handler",
        "jwt_encode_handler",
        "jwt_decode_handler",
        "request_handler",
        "auth_response_handler",
        "jwt_error_handler",
    ]
    for name in names:

        def callback(*args):
            return args

        assert getattr(strategy, name)(callback) is callback
    assert strategy.authentication_callback.__name__ == "callback"
    with pytest.warns(DeprecationWarning, match="auth_request_handler is deprecated"):
        strategy.auth_request_handler(callback)
    assert strategy.auth_request_callback is callback


def test_handlers_registered_by_decorator_after_construction():
    jwt_obj = JWT()
    jwt_obj.authentication_handler(authenticate)
    jwt_obj.identity_handler(identity)
    client = seed_app(jwt_obj).test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).text == "User(id='1')"


def test_identity_handler_may_be_set_after_init_app():
    jwt_obj = JWT(authentication_handler=authenticate)
    client = seed_app(jwt_obj).test_client()
    jwt_obj.identity_handler(identity)
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_without_an_identity_handler_the_identity_is_the_claims():
    app = seed_app(JWT(authentication_handler=authenticate))

    @app.route("/claims")
    @jwt_required()
    def claims_view():
        return jsonify(sub=current_identity["sub"], same=current_identity is not None)

    client = app.test_client()
    token = login(client)
    response = client.get("/claims", headers=auth_header(token))
    assert response.json == {"sub": "1", "same": True}


def test_init_app_without_authentication_handler_fails_at_startup():
    with pytest.raises(RuntimeError, match="authentication handler is required"):
        seed_app(JWT(identity_handler=identity))


def test_default_payload(client):
    token = login(client)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    # With no token store, exactly Flask-JWT's claims and a jti.
    assert set(payload) == {"identity", "sub", "iat", "nbf", "exp", "jti"}
    assert payload["identity"] == 1
    assert payload["sub"] == "1"
    assert payload["nbf"] == payload["iat"]
    assert payload["exp"] == payload["iat"] + 300
    assert all(isinstance(payload[c], int) for c in ("iat", "nbf", "exp"))
    assert len(payload["jti"]) >= 16
    assert (
        jwt.decode(login(client), SECRET, algorithms=["HS256"])["jti"]
        != (payload["jti"])
    )


@pytest.mark.parametrize("user", [{"id": 0, "name": "root"}, {"id": "abc"}])
def test_default_payload_takes_dict_identities_and_id_zero(user):
    jwt_obj = JWT(None, lambda u, p: user, lambda payload: {"id": payload["identity"]})
    client = seed_app(jwt_obj).test_client()
    token = login(client)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["identity"] == user["id"]
    assert payload["sub"] == str(user["id"])
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 200
    assert response.text == str({"id": user["id"]})


def test_identity_without_id_needs_a_payload_handler():
    app = seed_app(
        JWT(None, lambda u, p: object(), identity), PROPAGATE_EXCEPTIONS=True
    )
    with pytest.raises(TypeError, match="no 'id' attribute or key"):
        login(app.test_client())


def test_payload_handler():
    jwt_obj = JWT(
        None, authenticate, lambda payload: USERID_TABLE.get(payload["user_id"])
    )

    @jwt_obj.jwt_payload_handler
    def make_payload(user):
        return claims(identity=None, sub=None, user_id=user.id, role="admin")

    client = seed_app(jwt_obj).test_client()
    token = login(client)
    payload = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert payload["role"] == "admin"
    assert "identity" not in payload
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_payload_missing_a_required_claim_is_a_server_bug():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_payload_handler(lambda user: {"identity": user.id})
    client = seed_app(jwt_obj, PROPAGATE_EXCEPTIONS=True).test_client()
    with pytest.raises(RuntimeError, match="missing claims .*: exp, iat, nbf"):
        login(client)


def test_headers_handler():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_headers_handler(lambda user: {"env": f"key-{user.id}", "kid": "x"})
    client = seed_app(jwt_obj).test_client()
    token = login(client)
    header = jwt.get_unverified_header(token)
    # The kid is the signing key's, whatever the handler says: it is what
    # picks the key that verifies the token.
    assert header == {"alg": "HS256", "typ": "JWT", "env": "key-1", "kid": SECRET_KID}
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_encode_and_decode_handlers():
    jwt_obj = JWT(None, authenticate, identity)
    calls = []

    @jwt_obj.jwt_encode_handler
    def encode(user):
        calls.append("encode")
        return jwt.encode(claims(identity=user.id), SECRET * 2, "HS512")

    @jwt_obj.jwt_decode_handler
    def decode(token):
        calls.append("decode")
        return jwt.decode(token, SECRET * 2, algorithms=["HS512"])

    client = seed_app(jwt_obj).test_client()
    token = login(client)
    assert jwt.get_unverified_header(token)["alg"] == "HS512"
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    response = client.get("/protected", headers=auth_header(token[:-2]))
    assert response.status_code == 401
    assert response.json["error"] == "Invalid token"
    assert calls == ["encode", "decode", "decode"]


def test_encode_handler_returning_bytes_still_works():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_encode_handler(lambda user: make_token().encode("ascii"))
    client = seed_app(jwt_obj).test_client()
    token = login(client)
    assert isinstance(token, str)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_request_handler():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.request_handler(lambda: request.args.get("token"))
    client = seed_app(jwt_obj).test_client()
    token = login(client)
    assert client.get(f"/protected?token={token}").status_code == 200
    assert client.get("/protected", headers=auth_header(token)).status_code == 401


def test_auth_response_handler():
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.auth_response_handler
    def respond(access_token, user):
        return jsonify(token=access_token, user=user.username)

    client = seed_app(jwt_obj).test_client()
    response = client.post("/auth", json={"username": "user1", "password": "abcxyz"})
    assert response.json["user"] == "user1"
    token = response.json["token"]
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_legacy_auth_response_handler_decoding_bytes_keeps_working():
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.auth_response_handler
    def respond(access_token, user):
        # Written for PyJWT 1, whose tokens were bytes.
        return jsonify({"access_token": access_token.decode("utf-8")})

    client = seed_app(jwt_obj).test_client()
    with pytest.warns(DeprecationWarning, match="drop the .decode"):
        token = login(client)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_error_handler_replaces_the_json():
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.jwt_error_handler
    def error_handler(error):
        return "Something bad happened", 400

    client = seed_app(jwt_obj).test_client()
    response = client.get("/protected")
    assert response.status_code == 400
    assert response.text == "Something bad happened"


def test_error_handler_receives_the_error_with_its_challenge():
    jwt_obj = JWT(None, authenticate, identity)
    seen = []

    @jwt_obj.jwt_error_handler
    def error_handler(error):
        seen.append(error)
        return {"oops": error.description}, error.status_code, error.headers

    client = seed_app(jwt_obj).test_client()
    response = client.get("/protected", headers=auth_header("a.b.c"))
    assert response.status_code == 401
    assert response.json == {"oops": seen[0].description}
    assert response.headers["WWW-Authenticate"].startswith('JWT realm="Login Required"')
    assert seen[0].original_error is not None


def test_deprecated_auth_request_handler_replaces_the_endpoint():
    jwt_obj = JWT(identity_handler=identity)
    with pytest.warns(DeprecationWarning):

        @jwt_obj.auth_request_handler
        def auth_request():
            return jsonify(access_token=make_token())

    client = seed_app(jwt_obj).test_client()
    token = client.post("/auth").json["access_token"]
    assert client.get("/protected", headers=auth_header(token)).status_code == 200


def test_strategy_subclass_overrides_defaults():
    class HeaderlessStrategy(JWTStrategy):
        def make_headers(self, identity):
            return {"env": "main"}

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    app.register_blueprint(JWTBlueprint(HeaderlessStrategy(authenticate, identity)))
    token = login(app.test_client())
    assert jwt.get_unverified_header(token)["env"] == "main"


def test_identity_handler_returning_none():
    client = create_app().test_client()
    token = make_token(claims(identity=99, sub="99"))
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 401
    assert response.json == {
        "status_code": 401,
        "error": "Invalid JWT",
        "description": "User does not exist",
    }
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Login Required", error="invalid_token",'
        ' error_description="User does not exist"'
    )


def test_jwt_error_raised_from_any_view(app, client):
    @app.route("/admin")
    def admin():
        raise JWTError("Forbidden", "Admins only", status_code=403)

    @app.route("/again")
    def again():
        raise JWTError("Login again", "Session ended")

    response = client.get("/admin")
    assert response.status_code == 403
    assert response.json == {
        "status_code": 403,
        "error": "Forbidden",
        "description": "Admins only",
    }
    assert "WWW-Authenticate" not in response.headers
    response = client.get("/again")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


def test_default_handlers_can_be_wrapped():
    jwt_obj = JWT(None, authenticate, identity)
    seen = []

    @jwt_obj.request_handler
    def header_or_query():
        return jwt_obj.request_token() or request.args.get("token")

    @jwt_obj.jwt_decode_handler
    def decode(token):
        payload = jwt_obj.decode_token(token)
        seen.append(payload["jti"])
        return payload

    client = seed_app(jwt_obj).test_client()
    token = login(client)
    assert client.get("/protected", headers=auth_header(token)).status_code == 200
    assert client.get(f"/protected?token={token}").status_code == 200
    assert seen == [jwt.decode(token, SECRET, algorithms=["HS256"])["jti"]] * 2


def test_auth_view_calling_the_missing_handler_is_a_clear_error():
    from jwt_blueprint import AuthView

    class CheckedView(AuthView):
        def authenticate(self, credentials):
            return super().authenticate(credentials)

    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, PROPAGATE_EXCEPTIONS=True)
    app.register_blueprint(
        JWTBlueprint(JWTStrategy(identity_handler=identity), auth_view=CheckedView)
    )
    with pytest.raises(RuntimeError, match="needs an authentication handler"):
        login(app.test_client())


def test_error_repr_and_version():
    import jwt_blueprint

    error = JWTError("Forbidden", "Admins only", status_code=403)
    assert str(error) == "Forbidden. Admins only"
    assert repr(error) == "<JWTError 403 Forbidden. Admins only>"
    assert jwt_blueprint.__version__ == "0.1.0"
    with pytest.raises(AttributeError):
        jwt_blueprint.no_such_name  # noqa: B018


def test_authentication_handler_returning_false_is_a_wrong_password():
    # Flask-JWT tested `if identity`, so seed handlers may return False.
    jwt_obj = JWT(
        None,
        lambda username, password: authenticate(username, password) or False,
        identity,
    )
    client = seed_app(jwt_obj).test_client()
    response = client.post("/auth", json={"username": "user1", "password": "nope"})
    assert response.status_code == 401
    assert response.json["description"] == "Invalid credentials"


def test_default_callbacks_can_be_called_like_flask_jwts(app):
    jwt_obj = app.extensions["jwt"]
    user = USERID_TABLE[1]
    with app.test_request_context():
        token = jwt_obj.jwt_encode_callback(user)
        with pytest.warns(DeprecationWarning):
            assert token.decode("utf-8") == token
        response = app.make_response(jwt_obj.auth_response_callback(token, user))
    assert response.json == {"access_token": token}


def test_custom_request_handler_with_non_ascii_token():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.request_handler(lambda: request.args.get("token"))
    client = seed_app(jwt_obj).test_client()
    header, payload, signature = login(client).split(".")
    response = client.get(f"/protected?token={header}.{payload}é.{signature}")
    assert response.status_code == 401
    assert response.json["description"] == "Invalid token: must be ASCII"


def test_custom_challenge_in_any_case_is_kept(app, client):
    @app.get("/custom")
    def custom():
        raise JWTError(
            "Nope", "Go away", headers={"www-authenticate": 'Basic realm="x"'}
        )

    response = client.get("/custom")
    assert response.headers.getlist("WWW-Authenticate") == ['Basic realm="x"']


def test_headers_handler_with_a_non_string_kid_is_a_server_bug():
    jwt_obj = JWT(None, authenticate, identity)
    jwt_obj.jwt_headers_handler(lambda user: {"kid": 7})
    client = seed_app(jwt_obj, PROPAGATE_EXCEPTIONS=True).test_client()
    with pytest.raises(TypeError, match="'kid' header must be a string"):
        login(client)

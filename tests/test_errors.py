"""The error vocabulary: each error knows its status and RFC 6750 code, and
the challenge is built when it is rendered."""

from __future__ import annotations

import time

import jwt
import pytest
from flask import Flask

from conftest import auth_header
from conftest import authenticate
from conftest import claims
from conftest import identity
from conftest import make_token
from conftest import SECRET
from jwt_blueprint import current_claims
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required
from jwt_blueprint import JWTError
from jwt_blueprint.exceptions import AuthorizationRequiredError
from jwt_blueprint.exceptions import BadRequestError
from jwt_blueprint.exceptions import ExpiredTokenError
from jwt_blueprint.exceptions import InvalidCredentialsError
from jwt_blueprint.exceptions import InvalidHeaderError
from jwt_blueprint.exceptions import InvalidTokenError
from jwt_blueprint.exceptions import MethodNotAllowedError
from jwt_blueprint.exceptions import MissingClaimError
from jwt_blueprint.exceptions import RevokedTokenError
from jwt_blueprint.exceptions import UnknownIdentityError
from jwt_blueprint.exceptions import WrongTokenTypeError
from jwt_blueprint.schemas import ErrorSchema


@pytest.mark.parametrize(
    ("error", "status", "title", "code"),
    [
        (AuthorizationRequiredError(), 401, "Authorization Required", None),
        (InvalidHeaderError("Token missing", "invalid_request"), 401,
         "Invalid JWT header", "invalid_request"),
        (InvalidTokenError("Bad"), 401, "Invalid token", "invalid_token"),
        (ExpiredTokenError("Signature has expired"), 401, "Invalid token",
         "invalid_token"),
        (MissingClaimError("role"), 401, "Invalid token", "invalid_token"),
        (WrongTokenTypeError("No"), 401, "Invalid token", "invalid_token"),
        (RevokedTokenError(), 401, "Invalid token", "invalid_token"),
        (UnknownIdentityError(), 401, "Invalid JWT", "invalid_token"),
        (InvalidCredentialsError(), 401, "Bad Request", None),
        (BadRequestError("Nope", {"x": ["Unknown field."]}), 400, "Bad Request", None),
        (BadRequestError("Big", status_code=413), 413, "Request Entity Too Large",
         None),
        (MethodNotAllowedError("GET", ["POST"]), 405, "Method Not Allowed", None),
        (JWTError("Forbidden", "Admins only", 403), 403, "Forbidden", None),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)  # fmt: skip
def test_each_error_knows_its_status_and_code(error, status, title, code):
    assert isinstance(error, JWTError)
    assert error.status_code == status
    assert error.error == title
    assert error.error_code == code
    # Nobody builds a challenge until the error is rendered.
    assert "WWW-Authenticate" not in error.headers


def test_refusals_can_be_told_apart():
    assert issubclass(ExpiredTokenError, InvalidTokenError)
    assert issubclass(RevokedTokenError, InvalidTokenError)
    assert issubclass(WrongTokenTypeError, InvalidTokenError)
    assert issubclass(MissingClaimError, KeyError)
    assert MissingClaimError("role").claim == "role"
    assert str(MissingClaimError("role")) == (
        'Invalid token. Token is missing the "role" claim'
    )


@pytest.mark.parametrize(
    ("error", "challenge"),
    [
        (AuthorizationRequiredError(), 'JWT realm="Login Required"'),
        (
            InvalidTokenError('Bad "quote" \\ here'),
            'JWT realm="Login Required", error="invalid_token",'
            " error_description=\"Bad 'quote'  here\"",
        ),
        (
            InvalidHeaderError("Unsupported authorization type", None),
            'JWT realm="Login Required"',
        ),
        (
            InvalidTokenError("caf\u00e9"),
            'JWT realm="Login Required", error="invalid_token"',
        ),
    ],
)
def test_the_challenge_follows_rfc_6750(error, challenge):
    assert error.challenge("JWT", "Login Required") == challenge


def test_insufficient_scope_is_a_403_with_a_challenge():
    error = JWTError("Forbidden", "Needs admin", status_code=403)
    assert error.get_headers("Bearer", "API") == {}
    error.error_code = "insufficient_scope"
    error.scope = "admin"
    assert error.get_headers("Bearer", "API") == {
        "WWW-Authenticate": 'Bearer realm="API", error="insufficient_scope",'
        ' error_description="Needs admin", scope="admin"'
    }


def test_a_challenge_given_by_the_raiser_is_kept():
    error = JWTError("Nope", "Go away", headers={"www-authenticate": 'Basic realm="x"'})
    assert error.get_headers("JWT", "Login Required") == {
        "www-authenticate": 'Basic realm="x"'
    }


def test_the_error_schema_describes_every_body():
    schema = ErrorSchema()
    assert schema.dump(UnknownIdentityError()) == {
        "status_code": 401,
        "error": "Invalid JWT",
        "description": "User does not exist",
    }
    assert schema.dump(BadRequestError("Nope", {"x": ["Unknown field."]})) == {
        "status_code": 400,
        "error": "Bad Request",
        "description": "Nope",
        "errors": {"x": ["Unknown field."]},
    }


def test_errors_raised_in_views_render_with_the_default_realm(app, client):
    @app.get("/scoped")
    def scoped():
        error = JWTError("Forbidden", "Needs admin", status_code=403)
        error.error_code = "insufficient_scope"
        error.scope = "admin"
        raise error

    response = client.get("/scoped")
    assert response.status_code == 403
    assert response.json == {
        "status_code": 403,
        "error": "Forbidden",
        "description": "Needs admin",
    }
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Login Required", error="insufficient_scope",'
        ' error_description="Needs admin", scope="admin"'
    )


def test_a_custom_error_handler_gets_the_rendered_headers_and_the_fields():
    jwt_obj = JWT(None, authenticate, identity)
    seen = []

    @jwt_obj.jwt_error_handler
    def error_handler(error):
        seen.append(error)
        body = {"message": error.description, "fields": error.errors}
        return body, error.status_code, error.headers

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    jwt_obj.init_app(app)

    @app.get("/staff")
    @jwt_required(realm="Staff")
    def staff():
        return "ok"

    client = app.test_client()
    expired = make_token(claims(exp=int(time.time()) - 60))
    response = client.get("/staff", headers=auth_header(expired))
    assert response.status_code == 401
    assert response.json == {"message": "Signature has expired", "fields": None}
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Staff", error="invalid_token",'
        ' error_description="Signature has expired"'
    )
    assert isinstance(seen[-1], ExpiredTokenError)
    assert isinstance(seen[-1].original_error, jwt.ExpiredSignatureError)
    response = client.post("/auth", json={"username": "user1"})
    assert response.status_code == 400
    assert response.json["fields"] == {"password": ["Missing data for required field."]}


def test_a_custom_handler_can_render_the_default_and_adjust_it():
    jwt_obj = JWT(None, authenticate, identity)

    @jwt_obj.jwt_error_handler
    def error_handler(error):
        body, status, headers = jwt_obj.error_response(error)
        headers["X-Error"] = type(error).__name__
        return body, status, headers

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    jwt_obj.init_app(app)

    @app.get("/protected")
    @jwt_required()
    def protected():
        return "ok"

    response = app.test_client().get("/protected")
    assert response.status_code == 401
    assert response.headers["X-Error"] == "AuthorizationRequiredError"
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'
    assert response.json["error"] == "Authorization Required"


def test_one_error_instance_raised_again_follows_each_view_and_the_config(app, client):
    denied = JWTError("Denied", "Account disabled")

    @app.get("/staff")
    @jwt_required(realm="Staff")
    def staff():
        raise denied

    @app.get("/anyone")
    def anyone():
        raise denied

    assert (
        client.get("/staff", headers=auth_header(make_token())).headers[
            "WWW-Authenticate"
        ]
        == 'JWT realm="Staff"'
    )
    assert client.get("/anyone").headers["WWW-Authenticate"] == (
        'JWT realm="Login Required"'
    )
    app.config["JWT_AUTH_HEADER_PREFIX"] = "Bearer"
    assert client.get("/anyone").headers["WWW-Authenticate"] == (
        'Bearer realm="Login Required"'
    )
    # The raised instance is left as it was raised.
    assert denied.headers == {}
    assert denied.realm is None


def test_a_refusal_inside_a_realm_view_uses_its_realm(app, client):
    @app.get("/role")
    @jwt_required(realm="Staff")
    def role():
        return current_claims["role"]

    response = client.get("/role", headers=auth_header(make_token()))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'JWT realm="Staff", error="invalid_token",'
        " error_description=\"Token is missing the 'role' claim\""
    )


def test_an_errors_own_realm_wins(app, client):
    @app.get("/billing")
    @jwt_required(realm="Staff")
    def billing():
        error = JWTError("Payment Required", "Renew the plan")
        error.realm = "Billing"
        raise error

    response = client.get("/billing", headers=auth_header(make_token()))
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Billing"'


def test_errors_render_outside_a_request(app):
    with app.app_context():
        body, status, headers = app.extensions["jwt"].render_error(
            AuthorizationRequiredError()
        )
    assert status == 401
    assert headers == {"WWW-Authenticate": 'JWT realm="Login Required"'}
    assert body.json["error"] == "Authorization Required"


def test_a_custom_handler_gets_the_errors_cause_traceback_and_slots(app, client):
    seen = []

    class QuotaError(JWTError):
        __slots__ = ("quota",)

        def __init__(self, quota):
            super().__init__("Too Many Requests", "Quota spent", status_code=429)
            self.quota = quota

    @app.extensions["jwt"].jwt_error_handler
    def handler(error):
        seen.append(error)
        return {"error": error.error}, error.status_code

    @app.get("/quota")
    def quota():
        try:
            {}["missing"]
        except KeyError as exc:
            raise QuotaError(5) from exc

    assert client.get("/quota").status_code == 429
    rendered = seen[0]
    assert rendered.quota == 5
    assert isinstance(rendered.__cause__, KeyError)
    assert rendered.__traceback__ is not None
    assert rendered.args == ("Too Many Requests", "Quota spent")

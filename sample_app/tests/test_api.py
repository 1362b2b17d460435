"""The JSON API, with tokens from jwt_blueprint's pytest plugin: no login
round trip, and every way a token can be bad."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from jwt_blueprint.pytest_plugin import BAD_TOKEN_KINDS
from sample_app.users import User


def test_me(client: FlaskClient, jwt_headers, admin: User, member: User):
    response = client.get("/api/me", headers=jwt_headers(admin))
    assert response.json == {"user": "user1", "roles": ["admin"]}
    response = client.get("/api/me", headers=jwt_headers(member))
    assert response.json == {"user": "user2", "roles": []}


def test_admin(client: FlaskClient, jwt_headers, admin: User):
    response = client.get("/api/admin", headers=jwt_headers(admin))
    assert response.status_code == 200
    assert response.json["user"] == "user1"


def test_admin_refuses_a_member(client: FlaskClient, jwt_headers, member: User):
    response = client.get("/api/admin", headers=jwt_headers(member))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_roles_are_read_from_the_token(
    client: FlaskClient, jwt_headers, admin: User, member: User
):
    # Not from the database: a token signed with the role is an admin's,
    # and one without it is not, whoever the user.
    headers = jwt_headers(member, roles=["admin"])
    assert client.get("/api/admin", headers=headers).status_code == 200
    headers = jwt_headers(admin, roles=[])
    assert client.get("/api/admin", headers=headers).status_code == 403


def test_a_user_who_no_longer_exists(client: FlaskClient, jwt_headers):
    response = client.get("/api/me", headers=jwt_headers(User(999, "gone")))
    assert response.status_code == 401
    assert response.json["description"] == "User does not exist"


#: Why each bad token is refused: asserting it, not only the 401, shows the
#: token was read and refused for that reason.
REFUSED = {
    "expired": "Signature has expired",
    "not_yet_valid": "The token is not yet valid (nbf)",
    "wrong_key": "Signature verification failed",
    "tampered": "Signature verification failed",
    "unsigned": "The specified alg value is not allowed",
    "wrong_type": "A refresh token is not accepted here",
    "revoked": "Token has been revoked",
}


def test_every_bad_token_kind_is_tested():
    assert set(REFUSED) == set(BAD_TOKEN_KINDS)


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
@pytest.mark.parametrize("url", ["/api/me", "/api/admin"])
def test_a_bad_token_is_refused(
    client: FlaskClient, jwt_bad_token, jwt_headers, admin: User, url: str, kind: str
):
    token = jwt_bad_token(kind, admin)
    response = client.get(url, headers=jwt_headers(token=token))
    assert response.status_code == 401
    assert response.json["description"] == REFUSED[kind]
    assert response.headers["WWW-Authenticate"].startswith(
        'JWT realm="Login Required", error="invalid_token"'
    )


def test_refresh(client: FlaskClient, jwt_tokens, jwt_headers, admin: User):
    access_token, refresh_token = jwt_tokens(admin)
    response = client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert response.status_code == 200
    headers = jwt_headers(token=response.json["access_token"])
    assert client.get("/api/me", headers=headers).json["user"] == "user1"
    # The refresh token was spent: presenting it again ends the login.
    again = client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert again.status_code == 401
    assert again.json["description"] == "Token has been revoked"
    refused = client.get("/api/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json["description"] == "Token has been revoked"


def test_logout(client: FlaskClient, jwt_tokens, jwt_headers, admin: User):
    access_token, refresh_token = jwt_tokens(admin)
    headers = jwt_headers(token=access_token)
    response = client.post(
        "/auth/revoke", headers=headers, json={"refresh_token": refresh_token}
    )
    assert response.status_code == 204
    refused = client.get("/api/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json["description"] == "Token has been revoked"
    response = client.post("/auth/refresh", json={"refresh_token": refresh_token})
    assert response.status_code == 401
    assert response.json["description"] == "Token has been revoked"
    # Another login is not affected.
    assert client.get("/api/me", headers=jwt_headers(admin)).status_code == 200

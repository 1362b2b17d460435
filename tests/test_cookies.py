"""Token locations, tokens in cookies, and double-submit CSRF."""

from __future__ import annotations

import typing as t

import jwt
import pytest
from flask import Flask

from conftest import auth_header
from conftest import SECRET
from jwt_blueprint import ConfigError
from lifecycle_apps import lifecycle_app

CREDENTIALS = {"username": "user1", "password": "abcxyz"}
COOKIES = ["headers", "cookies"]


def cookie_app(tmp_path: t.Any, **config: t.Any) -> Flask:
    return lifecycle_app(
        {"JWT_TOKEN_STORE": "memory://", "JWT_TOKEN_LOCATION": COOKIES, **config},
        str(tmp_path),
    )


def set_cookies(response: t.Any) -> dict[str, dict[str, str | bool]]:
    """Each ``Set-Cookie`` of ``response``, its attributes one by one."""
    cookies: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = header.split("; ")
        name, _, value = first.partition("=")
        parsed: dict[str, str | bool] = {"value": value}
        for attribute in attributes:
            key, equals, attribute_value = attribute.partition("=")
            parsed[key.lower()] = attribute_value if equals else True
        cookies[name] = parsed
    return cookies


def login(client: t.Any) -> t.Any:
    response = client.post("/auth", json=CREDENTIALS)
    assert response.status_code == 200
    return response


def csrf(client: t.Any, name: str = "csrf_access_token") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None
    return str(cookie.value)


def test_a_login_sets_the_tokens_and_their_csrf_values_as_cookies(tmp_path):
    client = cookie_app(tmp_path).test_client()
    response = login(client)
    cookies = set_cookies(response)
    assert set(cookies) == {
        "access_token_cookie",
        "csrf_access_token",
        "refresh_token_cookie",
        "csrf_refresh_token",
    }
    access, access_csrf = cookies["access_token_cookie"], cookies["csrf_access_token"]
    refresh, refresh_csrf = (
        cookies["refresh_token_cookie"],
        cookies["csrf_refresh_token"],
    )
    # The tokens: HttpOnly; their CSRF values: readable by the page.
    assert access["httponly"] is True and refresh["httponly"] is True
    assert "httponly" not in access_csrf and "httponly" not in refresh_csrf
    for cookie in cookies.values():
        assert cookie["secure"] is True
        assert cookie["samesite"] == "Lax"
        assert "domain" not in cookie
    assert access["path"] == "/" and access_csrf["path"] == "/"
    # Sent to the refresh and the revoke endpoints, nowhere else of ours.
    assert refresh["path"] == "/auth" and refresh_csrf["path"] == "/"
    assert access["max-age"] == "300"
    assert refresh["max-age"] == str(30 * 86400)
    # The body is unchanged, and each cookie's token carries its CSRF value.
    assert set(response.json) == {"access_token", "refresh_token"}
    assert access["value"] == response.json["access_token"]
    claims = jwt.decode(str(access["value"]), SECRET, algorithms=["HS256"])
    assert claims["csrf"] == access_csrf["value"]


def test_cookie_options(tmp_path):
    client = cookie_app(
        tmp_path,
        JWT_COOKIE_SECURE=False,
        JWT_COOKIE_SAMESITE="Strict",
        JWT_COOKIE_DOMAIN="example.com",
        JWT_ACCESS_COOKIE_NAME="at",
        JWT_ACCESS_COOKIE_PATH="/api",
    ).test_client()
    cookies = set_cookies(login(client))
    assert "secure" not in cookies["at"]
    assert cookies["at"]["samesite"] == "Strict"
    assert cookies["at"]["domain"] == "example.com"
    assert cookies["at"]["path"] == "/api"


def test_a_token_in_a_cookie_opens_safe_methods_without_csrf(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    response = client.get("/protected")
    assert response.status_code == 200
    assert response.text == "User(id='1')"


@pytest.mark.parametrize(
    ("headers", "form", "status", "description"),
    [
        ({}, None, 401, "Missing CSRF token"),
        ({"X-CSRF-Token": ""}, None, 401, "Missing CSRF token"),
        ({"X-CSRF-Token": "not-it"}, None, 401, "CSRF token mismatch"),
        ({"X-CSRF-Token": "\udcff"}, None, 401, "CSRF token mismatch"),
        ({"X-CSRF-Token": "RIGHT"}, None, 200, None),
        ({}, {"csrf_token": "RIGHT"}, 200, None),
        ({}, {"csrf_token": "wrong"}, 401, "CSRF token mismatch"),
    ],
)
def test_a_state_changing_request_by_cookie_needs_its_csrf_value(
    tmp_path, headers, form, status, description
):
    client = cookie_app(tmp_path).test_client()
    login(client)
    value = csrf(client)
    headers = {k: value if v == "RIGHT" else v for k, v in headers.items()}
    if form is not None:
        form = {k: value if v == "RIGHT" else v for k, v in form.items()}
    response = client.post("/password", headers=headers, data=form)
    assert response.status_code == status
    if description is not None:
        assert response.json["description"] == description
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_another_tokens_csrf_value_does_not_do(tmp_path):
    app = cookie_app(tmp_path)
    client = app.test_client()
    login(client)
    other = app.test_client()
    login(other)
    response = client.post("/password", headers={"X-CSRF-Token": csrf(other)})
    assert response.json["description"] == "CSRF token mismatch"


def test_a_request_by_header_needs_no_csrf(tmp_path):
    client = cookie_app(tmp_path).test_client()
    token = login(client).json["access_token"]
    fresh_client = client.application.test_client()  # no cookies
    assert fresh_client.post("/password", headers=auth_header(token)).status_code == 200


def test_csrf_protection_can_be_turned_off(tmp_path):
    client = cookie_app(tmp_path, JWT_COOKIE_CSRF_PROTECT=False).test_client()
    login(client)
    assert client.post("/password").status_code == 200


def test_the_first_location_holding_a_token_wins(tmp_path):
    client = cookie_app(
        tmp_path, JWT_TOKEN_LOCATION=["cookies", "headers"]
    ).test_client()
    login(client)  # user1's cookie
    header = auth_header("not-even-a-token")
    assert client.get("/protected", headers=header).status_code == 200
    client.set_cookie("access_token_cookie", "garbage")
    response = client.get("/protected", headers=auth_header(login_token(client)))
    # A malformed token in the first place is refused, not skipped.
    assert response.status_code == 401
    assert response.json["description"] == "Token cookie is not a token"


def login_token(client: t.Any) -> str:
    token: str = (
        client.application.test_client()
        .post("/auth", json=CREDENTIALS)
        .json["access_token"]
    )
    return token


def test_a_malformed_header_first_is_refused_even_with_a_good_cookie(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    response = client.get("/protected", headers={"Authorization": "JWT a b"})
    assert response.status_code == 401
    assert response.json["error"] == "Invalid JWT header"


def test_the_query_string_when_enabled(tmp_path):
    app = cookie_app(tmp_path, JWT_TOKEN_LOCATION=["query_string"])
    client = app.test_client()
    token = login_token(client)
    assert client.get(f"/protected?jwt={token}").status_code == 200
    assert client.get("/protected", headers=auth_header(token)).status_code == 401
    default = cookie_app(tmp_path, JWT_TOKEN_LOCATION=["headers"]).test_client()
    assert default.get(f"/protected?jwt={token}").status_code == 401


def test_refresh_by_cookie_with_its_csrf_value(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    response = client.post("/auth/refresh")
    assert response.status_code == 401
    assert response.json["description"] == "Missing CSRF token"
    response = client.post(
        "/auth/refresh", headers={"X-CSRF-Token": csrf(client, "csrf_refresh_token")}
    )
    # New cookies for the new pair, and no token in a body scripts can read.
    assert response.status_code == 204
    assert response.data == b""
    assert set(set_cookies(response)) >= {"access_token_cookie", "refresh_token_cookie"}
    assert client.get("/protected").status_code == 200


def test_refresh_without_a_body_or_a_cookie(tmp_path):
    client = cookie_app(tmp_path).test_client()
    response = client.post("/auth/refresh")
    assert response.status_code == 401
    assert response.json["error"] == "Authorization Required"


def test_logout_by_cookie_clears_the_cookies(tmp_path):
    client = cookie_app(tmp_path).test_client()
    token = login(client).json["access_token"]
    assert client.post("/auth/revoke").status_code == 401  # no CSRF value
    response = client.post("/auth/revoke", headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert set(cleared) == {
        "access_token_cookie",
        "csrf_access_token",
        "refresh_token_cookie",
        "csrf_refresh_token",
    }
    for cookie in cleared.values():
        assert cookie["value"] == ""
        assert cookie["max-age"] == "0"
    assert client.get_cookie("access_token_cookie") is None
    assert client.get("/protected").status_code == 401
    # And the token itself is revoked, wherever else it was kept.
    assert client.get("/protected", headers=auth_header(token)).status_code == 401


def test_a_request_handler_still_replaces_the_lookup(tmp_path):
    app = cookie_app(tmp_path)
    client = app.test_client()
    token = login_token(client)
    app.extensions["jwt"].request_handler(lambda: token)
    fresh_client = app.test_client()
    assert fresh_client.get("/protected").status_code == 200


def test_without_cookies_nothing_is_set_and_tokens_carry_no_csrf(tmp_path):
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    client = app.test_client()
    response = login(client)
    assert response.headers.getlist("Set-Cookie") == []
    claims = jwt.decode(response.json["access_token"], SECRET, algorithms=["HS256"])
    assert "csrf" not in claims


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("JWT_TOKEN_LOCATION", []),
        ("JWT_TOKEN_LOCATION", ["headers", "headers"]),
        ("JWT_TOKEN_LOCATION", ["body"]),
        ("JWT_TOKEN_LOCATION", 3),
        ("JWT_COOKIE_SAMESITE", "lax"),
        ("JWT_COOKIE_SECURE", "yes"),
        ("JWT_ACCESS_COOKIE_NAME", "a b"),
        ("JWT_ACCESS_COOKIE_NAME", ""),
        ("JWT_REFRESH_CSRF_COOKIE_NAME", "csrf_access_token"),
        ("JWT_ACCESS_COOKIE_PATH", "api"),
        ("JWT_COOKIE_DOMAIN", "a;b"),
        ("JWT_CSRF_METHODS", ["post"]),
        ("JWT_CSRF_HEADER_NAME", "X CSRF"),
        ("JWT_CSRF_FIELD_NAME", ""),
        ("JWT_QUERY_STRING_NAME", ""),
    ],
)
def test_bad_cookie_config_fails_at_startup(tmp_path, key, value):
    with pytest.raises(ConfigError, match=f"^{key}: "):
        cookie_app(tmp_path, **{key: value})


def test_samesite_none_needs_secure(tmp_path):
    with pytest.raises(ConfigError, match="^JWT_COOKIE_SAMESITE: 'None' needs"):
        cookie_app(tmp_path, JWT_COOKIE_SAMESITE="None", JWT_COOKIE_SECURE=False)
    cookie_app(tmp_path, JWT_COOKIE_SAMESITE="None")


def test_logout_with_an_expired_access_cookie_uses_the_refresh_cookie(tmp_path):
    app = cookie_app(tmp_path, JWT_EXPIRATION_DELTA=-60)
    client = app.test_client()
    login(client)
    assert client.get("/protected").status_code == 401  # expired
    response = client.post(
        "/auth/revoke", headers={"X-CSRF-Token": csrf(client, "csrf_refresh_token")}
    )
    assert response.status_code == 204
    assert client.get_cookie("refresh_token_cookie") is None
    # Without its CSRF value, the expired login stays as it was.
    login(client)
    response = client.post("/auth/revoke")
    assert response.status_code == 401


def test_another_schemes_header_does_not_hide_the_cookie(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    basic = {"Authorization": "Basic dXNlcjpwYXNz"}  # a staging proxy's
    assert client.get("/protected", headers=basic).status_code == 200


def test_json_alone_is_no_place_for_access_tokens(tmp_path):
    with pytest.raises(ConfigError, match="^JWT_TOKEN_LOCATION: 'json' carries"):
        cookie_app(tmp_path, JWT_TOKEN_LOCATION=["json"])


def test_a_handler_that_refuses_the_login_sets_no_cookie(tmp_path):
    app = cookie_app(tmp_path)
    app.extensions["jwt"].auth_response_handler(
        lambda token, user: ({"status": "mfa pending"}, 403)
    )
    response = app.test_client().post("/auth", json=CREDENTIALS)
    assert response.status_code == 403
    assert response.headers.getlist("Set-Cookie") == []


def test_the_refresh_cookie_path_follows_the_mount_point(tmp_path):
    app = cookie_app(tmp_path)
    client = app.test_client()
    response = client.post(
        "/auth", json=CREDENTIALS, environ_overrides={"SCRIPT_NAME": "/api"}
    )
    assert set_cookies(response)["refresh_token_cookie"]["path"] == "/api/auth"


def test_an_unreadable_refresh_cookie_does_not_block_logout(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    client.set_cookie("refresh_token_cookie", "garbage", path="/auth")
    response = client.post("/auth/revoke", headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 204
    assert client.get("/protected").status_code == 401


def test_the_csrf_cookies_are_on_every_page_of_the_mount_point(tmp_path):
    app = cookie_app(tmp_path, JWT_ACCESS_COOKIE_PATH="/api/data")
    response = app.test_client().post(
        "/auth", json=CREDENTIALS, environ_overrides={"SCRIPT_NAME": "/app"}
    )
    cookies = set_cookies(response)
    assert cookies["csrf_access_token"]["path"] == "/app/"
    assert cookies["csrf_refresh_token"]["path"] == "/app/"
    assert cookies["access_token_cookie"]["path"] == "/api/data"


def test_refresh_by_cookie_with_the_csrf_value_in_a_form(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    value = csrf(client, "csrf_refresh_token")
    response = client.post("/auth/refresh", data={"csrf_token": value})
    assert response.status_code == 204


def test_a_csrf_failure_on_logout_is_not_retried_with_the_refresh_cookie(tmp_path):
    client = cookie_app(tmp_path).test_client()
    login(client)
    value = csrf(client, "csrf_refresh_token")
    response = client.post("/auth/revoke", headers={"X-CSRF-Token": value})
    assert response.status_code == 401
    assert response.json["description"] == "CSRF token mismatch"

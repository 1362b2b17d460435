"""The token lifecycle over HTTP, on every store: refresh with rotation and
reuse detection, logout, revoke-all, fresh and optional views."""

from __future__ import annotations

import threading
import time
import typing as t

import jwt
import pytest
from flask import Flask

from conftest import auth_header
from conftest import make_token
from conftest import SECRET
from conftest import USERID_TABLE
from lifecycle_apps import lifecycle_app

BACKENDS = ["memory", "sqlite", "redis"]

Client = t.Any


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: t.Any) -> str:
    """The ``JWT_TOKEN_STORE`` of each backend, empty."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tokens.sqlite3'}"
    server = request.getfixturevalue("redis_server")
    server.flushall()
    return str(server.url)


def close_store(app: Flask) -> None:
    store = app.extensions["jwt_blueprint"].settings().store
    if store is not None:
        store.close()


@pytest.fixture
def app(store_url: str, tmp_path: t.Any) -> t.Iterator[Flask]:
    app = lifecycle_app({"JWT_TOKEN_STORE": store_url}, str(tmp_path))
    yield app
    close_store(app)


@pytest.fixture
def client(app: Flask) -> Client:
    return app.test_client()


def login(client: Client, username: str = "user1") -> dict[str, str]:
    response = client.post("/auth", json={"username": username, "password": "abcxyz"})
    assert response.status_code == 200, response.json
    tokens: dict[str, str] = response.json
    return tokens


def refresh(client: Client, refresh_token: str) -> t.Any:
    return client.post("/auth/refresh", json={"refresh_token": refresh_token})


def get(client: Client, token: str, path: str = "/protected") -> t.Any:
    return client.get(path, headers=auth_header(token))


def claims_of(token: str) -> dict[str, t.Any]:
    return jwt.decode(token, SECRET, algorithms=["HS256"])


def assert_refused(response: t.Any, description: str = "Token has been revoked"):
    assert response.status_code == 401, response.json
    assert response.json == {
        "status_code": 401,
        "error": "Invalid token",
        "description": description,
    }
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# -- issuing -----------------------------------------------------------------


def test_login_returns_an_access_and_a_refresh_token_of_one_family(client):
    tokens = login(client)
    assert set(tokens) == {"access_token", "refresh_token"}
    access, refresh_ = (claims_of(tokens[k]) for k in ("access_token", "refresh_token"))
    assert access["type"] == "access"
    assert access["fresh"] is True
    assert refresh_["type"] == "refresh"
    assert "fresh" not in refresh_
    assert access["fam"] == refresh_["fam"]
    assert access["jti"] != refresh_["jti"]
    # 128 random bits, base64url: 22 characters.
    assert len(access["jti"]) >= 22 and len(refresh_["jti"]) >= 22
    assert jwt.get_unverified_header(tokens["refresh_token"])["typ"] == "refresh+jwt"
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "JWT"
    assert refresh_["exp"] == pytest.approx(time.time() + 30 * 86400, abs=5)
    assert get(client, tokens["access_token"]).text == "User(id='1')"


def test_a_refresh_token_is_not_an_access_token(client):
    tokens = login(client)
    assert_refused(
        get(client, tokens["refresh_token"]), "A refresh token is not accepted here"
    )


def test_an_access_token_is_not_a_refresh_token(client):
    tokens = login(client)
    response = refresh(client, tokens["access_token"])
    assert_refused(response, "An access token is not accepted here")
    # It was refused before the store: the access token still works.
    assert get(client, tokens["access_token"]).status_code == 200


# -- refresh -------------------------------------------------------------------


def test_refresh_rotates_and_the_new_access_token_is_not_fresh(client):
    tokens = login(client)
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    new = response.json
    assert set(new) == {"access_token", "refresh_token"}
    old_refresh, new_refresh = (
        claims_of(tokens["refresh_token"]),
        claims_of(new["refresh_token"]),
    )
    assert new_refresh["fam"] == old_refresh["fam"]
    assert new_refresh["jti"] != old_refresh["jti"]
    # Rotation never extends the family past the login's deadline.
    assert new_refresh["exp"] == old_refresh["exp"]
    new_access = claims_of(new["access_token"])
    assert new_access["fresh"] is False
    assert new_access["fam"] == old_refresh["fam"]
    assert get(client, new["access_token"]).text == "User(id='1')"
    # The login's access token lives on: rotation is not a logout.
    assert get(client, tokens["access_token"]).status_code == 200
    # A chain of refreshes keeps going.
    again = refresh(client, new["refresh_token"])
    assert again.status_code == 200
    assert claims_of(again.json["refresh_token"])["exp"] == old_refresh["exp"]


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client):
    victim = login(client)
    rotated = refresh(client, victim["refresh_token"]).json
    other_login = login(client)
    # The thief replays the spent token.
    assert_refused(refresh(client, victim["refresh_token"]))
    for token in (victim["access_token"], rotated["access_token"]):
        assert_refused(get(client, token))
    assert_refused(refresh(client, rotated["refresh_token"]))
    # Another login of the same user is another family.
    assert get(client, other_login["access_token"]).status_code == 200
    assert refresh(client, other_login["refresh_token"]).status_code == 200


def test_a_spent_token_stays_spent_after_the_family_is_revoked(client):
    tokens = login(client)
    assert refresh(client, tokens["refresh_token"]).status_code == 200
    for _ in range(3):
        assert_refused(refresh(client, tokens["refresh_token"]))


def test_concurrent_refreshes_with_one_token_let_exactly_one_through(app):
    tokens = login(app.test_client())
    statuses: list[int] = []
    barrier = threading.Barrier(16)

    def attempt() -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(refresh(client, tokens["refresh_token"]).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 15


def test_an_expired_refresh_token_is_refused(app, client):
    app.config["JWT_REFRESH_EXPIRATION_DELTA"] = 1
    app.config["JWT_LEEWAY"] = 0
    tokens = login(client)
    time.sleep(1.1)
    assert_refused(refresh(client, tokens["refresh_token"]), "Signature has expired")


def test_refresh_checks_the_identity_still_exists(client, monkeypatch):
    tokens = login(client)
    monkeypatch.delitem(USERID_TABLE, 1)
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 401
    assert response.json["description"] == "User does not exist"
    monkeypatch.undo()
    # Refused before it was spent: once the user is back, it still works.
    assert refresh(client, tokens["refresh_token"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "refresh_token"),
        ({"refresh_token": ""}, "refresh_token"),
        ({"refresh_token": 42}, "refresh_token"),
        ({"refresh_token": None}, "refresh_token"),
        ({"refresh_token": "x", "extra": 1}, "extra"),
        ([], "_schema"),
    ],
)
def test_refresh_bodies_that_are_not_a_refresh_request_get_400(client, body, field):
    response = client.post("/auth/refresh", json=body)
    assert response.status_code == 400
    assert response.json["description"] == "Invalid refresh request"
    assert field in response.json["errors"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{", "application/json", 400),
        (b'{"refresh_token": "a", "refresh_token": "b"}', "application/json", 400),
        (b"refresh_token=x", "application/x-www-form-urlencoded", 400),
        (b'{"refresh_token": "' + b"a" * 70_000 + b'"}', "application/json", 413),
    ],
)
def test_refresh_bodies_that_are_not_json_are_refused(
    client, data, content_type, status
):
    response = client.post("/auth/refresh", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.json["status_code"] == status


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", make_token(key="another-secret-of-32-bytes-or-more")]
)
def test_refresh_refuses_tokens_that_are_not_ours(client, token):
    response = refresh(client, token)
    assert response.status_code == 401
    assert response.json["error"] == "Invalid token"


def test_only_the_refresh_endpoint_answers_get_with_a_json_405(client):
    response = client.get("/auth/refresh")
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert response.json["error"] == "Method Not Allowed"


# -- logout --------------------------------------------------------------------


def test_logout_revokes_the_access_token_and_its_login(client):
    tokens = login(client)
    other = login(client)
    response = client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert_refused(get(client, tokens["access_token"]))
    # Its login's refresh token goes with it.
    assert_refused(refresh(client, tokens["refresh_token"]))
    # The same user's other session is untouched.
    assert get(client, other["access_token"]).status_code == 200
    # The revoked token is refused at the endpoint too.
    assert_refused(
        client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    )


def test_logout_with_a_refresh_token_revokes_its_family_too(client):
    first = login(client)
    second = login(client)
    response = client.post(
        "/auth/revoke",
        headers=auth_header(second["access_token"]),
        json={"refresh_token": first["refresh_token"]},
    )
    assert response.status_code == 204
    assert_refused(refresh(client, first["refresh_token"]))
    assert_refused(get(client, first["access_token"]))
    assert_refused(get(client, second["access_token"]))


def test_revoking_twice_is_fine(client):
    first = login(client)
    second = login(client)
    third = login(client)
    for tokens in (second, third):
        response = client.post(
            "/auth/revoke",
            headers=auth_header(tokens["access_token"]),
            json={"refresh_token": first["refresh_token"]},
        )
        assert response.status_code == 204


def test_logout_ignores_an_expired_refresh_token(app, client):
    app.config["JWT_REFRESH_EXPIRATION_DELTA"] = 1
    app.config["JWT_LEEWAY"] = 0
    stale = login(client)
    time.sleep(1.1)
    app.config["JWT_REFRESH_EXPIRATION_DELTA"] = 3600
    fresh = login(client)
    response = client.post(
        "/auth/revoke",
        headers=auth_header(fresh["access_token"]),
        json={"refresh_token": stale["refresh_token"]},
    )
    assert response.status_code == 204


def test_logout_refuses_another_identitys_refresh_token(client):
    mine = login(client, "user1")
    theirs = login(client, "user2")
    response = client.post(
        "/auth/revoke",
        headers=auth_header(mine["access_token"]),
        json={"refresh_token": theirs["refresh_token"]},
    )
    assert_refused(response, "The refresh token belongs to another identity")
    assert refresh(client, theirs["refresh_token"]).status_code == 200
    # Nothing was revoked: the checks come first.
    assert get(client, mine["access_token"]).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {"refresh_token": 42}}, 400),
        ({"json": {"other": "x"}}, 400),
        ({"data": b"{", "content_type": "application/json"}, 400),
        ({"data": b"token", "content_type": "text/plain"}, 400),
        ({"json": {"refresh_token": "not.a.token"}}, 401),
    ],
)
def test_logout_bodies_are_checked_before_anything_is_revoked(client, kwargs, status):
    tokens = login(client)
    response = client.post(
        "/auth/revoke", headers=auth_header(tokens["access_token"]), **kwargs
    )
    assert response.status_code == status
    assert get(client, tokens["access_token"]).status_code == 200


def test_logout_needs_an_access_token(client):
    tokens = login(client)
    response = client.post("/auth/revoke")
    assert response.status_code == 401
    assert response.json["error"] == "Authorization Required"
    assert_refused(
        client.post("/auth/revoke", headers=auth_header(tokens["refresh_token"])),
        "A refresh token is not accepted here",
    )


# -- revoke all ------------------------------------------------------------------


@pytest.mark.parametrize("by", ["object", "id", "text id"])
def test_revoke_all_refuses_every_token_of_an_identity_and_only_those(app, by):
    client = app.test_client()
    first, second = login(client), login(client)
    refreshed = refresh(client, second["refresh_token"]).json
    bystander = login(client, "user2")
    target = {"object": USERID_TABLE[1], "id": 1, "text id": "1"}[by]
    with app.app_context():
        app.extensions["jwt"].revoke_all(target)
    for token in (first["access_token"], refreshed["access_token"]):
        assert_refused(get(client, token))
    for token in (first["refresh_token"], refreshed["refresh_token"]):
        assert_refused(refresh(client, token))
    assert get(client, bystander["access_token"]).status_code == 200
    # A login right after, within the same second, works.
    after = login(client)
    assert get(client, after["access_token"]).status_code == 200
    assert refresh(client, after["refresh_token"]).status_code == 200


def test_revoke_all_again_moves_the_cutoff(app):
    client = app.test_client()
    strategy = app.extensions["jwt"]
    with app.app_context():
        strategy.revoke_all(1)
    between = login(client)
    with app.app_context():
        strategy.revoke_all(1)
    assert_refused(get(client, between["access_token"]))
    assert get(client, login(client)["access_token"]).status_code == 200


# -- fresh and optional ----------------------------------------------------------


def test_fresh_views_take_only_tokens_from_a_login(client):
    tokens = login(client)
    response = client.post("/password", headers=auth_header(tokens["access_token"]))
    assert response.status_code == 200
    refreshed = refresh(client, tokens["refresh_token"]).json
    response = client.post("/password", headers=auth_header(refreshed["access_token"]))
    assert_refused(response, "Fresh token required")
    # Not fresh is still valid elsewhere.
    assert get(client, refreshed["access_token"]).status_code == 200


def test_optional_views_run_without_a_token(client):
    assert client.get("/optional").json == {"user": None}
    tokens = login(client)
    assert get(client, tokens["access_token"], "/optional").json == {
        "user": "User(id='1')"
    }
    response = client.get("/optional", headers={"Authorization": "Basic dTpw"})
    assert response.json == {"user": None}


def test_optional_views_still_refuse_bad_tokens(app, client):
    tokens = login(client)
    client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    assert_refused(get(client, tokens["access_token"], "/optional"))
    response = get(client, "not-a-token", "/optional")
    assert response.status_code == 401
    response = client.get("/optional", headers={"Authorization": "JWT"})
    assert response.status_code == 401
    app.config["JWT_EXPIRATION_DELTA"] = -60
    expired = login(client)["access_token"]
    assert_refused(get(client, expired, "/optional"), "Signature has expired")


# -- the store and the cache -----------------------------------------------------


@pytest.mark.parametrize("cache_size", [8192, 0])
def test_a_revoked_token_is_refused_warm_and_cold(app, cache_size):
    app.config["JWT_VERIFY_CACHE_SIZE"] = cache_size
    client = app.test_client()
    tokens = login(client)
    for _ in range(3):  # warm
        assert get(client, tokens["access_token"]).status_code == 200
    with app.app_context():
        cached = app.extensions["jwt_blueprint"].settings().codec.cached_tokens
    assert cached == (1 if cache_size else 0)
    client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    for _ in range(3):
        assert_refused(get(client, tokens["access_token"]))


def test_tokens_from_before_the_store_still_work_when_they_have_a_jti(client):
    legacy = make_token(
        {
            "identity": 1,
            "iat": int(time.time()),
            "nbf": int(time.time()),
            "exp": int(time.time()) + 60,
            "jti": "legacy-token-id-0123456789",
        }
    )
    assert get(client, legacy).status_code == 200
    response = client.post("/auth/revoke", headers=auth_header(legacy))
    assert response.status_code == 204
    assert_refused(get(client, legacy))


def test_with_a_store_a_token_without_jti_is_refused(client):
    assert_refused(get(client, make_token()), 'Token is missing the "jti" claim')


def test_changing_another_key_keeps_what_was_revoked(app, client):
    tokens = login(client)
    client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    app.config["JWT_DEFAULT_REALM"] = "Elsewhere"
    assert_refused(get(client, tokens["access_token"]))


def signed_refresh_token(**overrides: t.Any) -> str:
    now = int(time.time())
    payload = {
        "identity": 1,
        "sub": "1",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "forged-but-signed-0123456789",
        "type": "refresh",
        "fam": "family-0123456789abcdef",
        "auth_time": now,
    }
    payload.update(overrides)
    return make_token({k: v for k, v in payload.items() if v is not None})


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        ({"fam": None}, 'Token is missing the "fam" claim'),
        ({"fam": 7}, 'Token is missing the "fam" claim'),
        ({"jti": None}, 'Token is missing the "jti" claim'),
        ({"type": ["refresh"]}, "Token type (type) must be a string"),
        ({"type": "Refresh"}, "A Refresh token is not accepted here"),
        ({"identity": 99, "sub": "99"}, None),
    ],
)
def test_refresh_tokens_missing_what_rotation_needs_are_refused(
    client, overrides, description
):
    response = refresh(client, signed_refresh_token(**overrides))
    assert response.status_code == 401
    if description is None:
        assert response.json["description"] == "User does not exist"
    else:
        assert_refused(response, description)


def test_a_signed_refresh_token_of_a_login_the_store_never_saw_is_refused(client):
    # Signed with the key, well formed: but no login started its family.
    assert_refused(refresh(client, signed_refresh_token()))


def test_the_lifecycle_claims_are_the_strategys_own(app, client):
    with app.app_context():
        token = app.extensions["jwt"].create_access_token(
            USERID_TABLE[1],
            claims={"fam": "someone-elses-family", "type": "refresh", "fresh": 1},
            fresh=False,
        )
    claims = claims_of(token)
    assert "fam" not in claims
    assert claims["type"] == "access"
    assert claims["fresh"] is False
    # So logging out with it revokes nobody else's login.
    other = login(client)
    assert client.post("/auth/revoke", headers=auth_header(token)).status_code == 204
    assert get(client, other["access_token"]).status_code == 200


def test_a_token_schema_with_identity_fields_serves_the_refresh_endpoint_too(
    tmp_path,
):
    from marshmallow import fields

    from conftest import authenticate
    from conftest import identity
    from jwt_blueprint import JWTBlueprint
    from jwt_blueprint import JWTStrategy
    from jwt_blueprint.schemas import TokenSchema
    from jwt_blueprint.views import RefreshView

    class UserTokenSchema(TokenSchema):
        username = fields.Function(lambda tokens: tokens["identity"].username)

    class UserRefreshView(RefreshView):
        token_schema = UserTokenSchema

    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(
        SECRET_KEY=SECRET, JWT_TOKEN_STORE="memory://", JWT_REFRESH_ENABLED=True
    )
    strategy = JWTStrategy(authenticate, identity)
    app.register_blueprint(JWTBlueprint(strategy, views={"refresh": UserRefreshView}))
    client = app.test_client()
    tokens = login(client)
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    assert set(response.json) == {"access_token", "refresh_token", "username"}
    assert response.json["username"] == "user1"


def test_a_refresh_that_fails_before_answering_can_be_retried(app):
    # The pair is issued before the old token is spent: a failure while
    # issuing (a payload handler's database, say) leaves it current.
    strategy = app.extensions["jwt"]
    failures: list[Exception] = []
    default_payload = strategy.make_payload

    @strategy.jwt_payload_handler
    def payload(user):
        if failures:
            raise failures.pop()
        return default_payload(user)

    client = app.test_client()
    tokens = login(client)
    failures.append(RuntimeError("the roles database is down"))
    assert refresh(client, tokens["refresh_token"]).status_code == 500
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_a_refresh_racing_revoke_all_cannot_outlive_it(app):
    # revoke_all lands between the refresh's revocation check and its
    # rotation: the pair it issues still carries the login's auth_time.
    strategy = app.extensions["jwt"]
    client = app.test_client()
    tokens = login(client)
    default_identity = strategy.handlers.identity

    @strategy.identity_handler
    def identity_then_revoke_all(payload):
        user = default_identity(payload)
        if payload.get("type") == "refresh":
            strategy.revoke_all(user)
        return user

    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    strategy.handlers.identity = default_identity
    assert_refused(get(client, response.json["access_token"]))
    assert_refused(refresh(client, response.json["refresh_token"]))
    assert (
        claims_of(response.json["access_token"])["auth_time"]
        == (claims_of(tokens["access_token"])["auth_time"])
    )


def test_revoke_all_needs_a_subject_to_match(tmp_path):
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    strategy = app.extensions["jwt"]

    @strategy.jwt_payload_handler
    def payload(user):
        now = int(time.time())
        return {"uid": user.id, "iat": now, "nbf": now, "exp": now + 60}

    strategy.identity_handler(lambda payload: USERID_TABLE.get(payload["uid"]))
    with app.app_context(), pytest.raises(TypeError, match="writes neither"):
        strategy.revoke_all(USERID_TABLE[1])
    # Logging out with a refresh token is refused when neither names who.
    client = app.test_client()
    first, second = login(client), login(client)
    response = client.post(
        "/auth/revoke",
        headers=auth_header(first["access_token"]),
        json={"refresh_token": second["refresh_token"]},
    )
    assert_refused(response, "The refresh token belongs to another identity")


def test_with_a_store_lifetimes_are_capped_at_the_longest_configured(app):
    with app.app_context():
        strategy = app.extensions["jwt"]
        assert strategy.create_access_token(USERID_TABLE[1], expires_delta=86400)
        with pytest.raises(ValueError, match="cannot exceed the longest"):
            strategy.create_access_token(USERID_TABLE[1], expires_delta=40 * 86400)


def test_endpoints_whose_store_was_configured_away_refuse(app, client):
    tokens = login(client)
    app.config["JWT_REFRESH_ENABLED"] = False
    app.config["JWT_TOKEN_STORE"] = None
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 503
    response = client.post("/auth/revoke", headers=auth_header(tokens["access_token"]))
    assert response.status_code == 503


def test_exp_beyond_any_float_is_kept_for_the_longest_lifetime(app):
    from jwt_blueprint.lifecycle import longest_lifetime
    from jwt_blueprint.lifecycle import token_expiry

    with app.app_context():
        settings = app.extensions["jwt_blueprint"].settings()
        expiry = token_expiry({"exp": 10**400}, settings)
    assert expiry == pytest.approx(time.time() + longest_lifetime(settings), abs=5)


def test_strategy_refresh_is_what_the_endpoint_does(app, client):
    tokens = login(client)
    with app.app_context():
        rotated = app.extensions["jwt"].refresh(tokens["refresh_token"])
    assert rotated.refresh_token is not None
    assert claims_of(rotated)["fresh"] is False
    assert get(client, rotated).status_code == 200
    # The endpoint now sees the token as spent.
    assert_refused(refresh(client, tokens["refresh_token"]))


def test_revoke_all_matches_a_subject_of_a_richer_type(tmp_path):
    import uuid

    user_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    strategy = app.extensions["jwt"]
    default_decode = strategy.decode_token

    @strategy.jwt_decode_handler
    def decode(token):
        claims = dict(default_decode(token))
        claims["sub"] = user_id  # as an app's decode handler may type it
        return claims

    token = login(app.test_client())["access_token"]
    client = app.test_client()
    assert get(client, token).status_code == 200
    with app.app_context():
        strategy.revoke_all(str(user_id))
    assert_refused(get(client, token))


def test_a_subject_that_is_not_an_id_is_refused(tmp_path):
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    strategy = app.extensions["jwt"]
    default_decode = strategy.decode_token

    @strategy.jwt_decode_handler
    def decode(token):
        return {**default_decode(token), "sub": {"id": 1}}

    client = app.test_client()
    token = login(client)["access_token"]
    assert_refused(get(client, token), "The subject (sub, else identity) is not an id")


def test_an_exp_a_moment_past_the_limit_is_allowed(tmp_path):
    # The handler runs a moment after the limit is taken, and may round up.
    app = lifecycle_app(
        {
            "JWT_TOKEN_STORE": "memory://",
            "JWT_EXPIRATION_DELTA": 3600,
            "JWT_REFRESH_EXPIRATION_DELTA": 3600,
            "JWT_LEEWAY": 0,
        },
        str(tmp_path),
    )
    strategy = app.extensions["jwt"]
    default_payload = strategy.make_payload

    @strategy.jwt_payload_handler
    def payload(user):
        return {**default_payload(user), "exp": time.time() + 3600.5}

    client = app.test_client()
    assert get(client, login(client)["access_token"]).status_code == 200


def test_refresh_without_an_identity_handler(tmp_path):
    # A service with no user table: the identity is the claims.
    app = lifecycle_app({"JWT_TOKEN_STORE": "memory://"}, str(tmp_path))
    app.extensions["jwt"].handlers.identity = None
    client = app.test_client()
    tokens = login(client)
    response = refresh(client, tokens["refresh_token"])
    assert response.status_code == 200
    assert claims_of(response.json["access_token"])["identity"] == 1

"""The pytest plugin: its fixtures, used as an app's tests use them, on apps
of every shape; and, through pytester, a user's project that installs it."""

from __future__ import annotations

import functools
import re
import time
import typing as t
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint
from flask import Flask
from flask.testing import FlaskClient

import jwt_blueprint.pytest_plugin
from conftest import authenticate
from conftest import create_app
from conftest import SECRET
from conftest import USERNAME_TABLE
from conftest import USERS
from jwt_blueprint import current_identity
from jwt_blueprint import jwt_required
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint.pytest_plugin import BAD_TOKEN_KINDS
from jwt_blueprint.pytest_plugin import TokenFactory
from jwt_blueprint.pytest_plugin import TokenPair
from lifecycle_apps import lifecycle_app

pytest_plugins = ["pytester"]

USER = USERS[0]
ISSUER = "https://auth.example"
AUDIENCE = "https://api.example"


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def payload_handler_app() -> Flask:
    """Tokens that name the user by ``uid`` and carry no ``sub`` or ``jti``."""
    strategy = JWTStrategy(
        authenticate, lambda payload: USERNAME_TABLE.get(payload["uid"])
    )

    @strategy.jwt_payload_handler
    def make_payload(user: t.Any) -> dict[str, t.Any]:
        now = int(time.time())
        return {"uid": user.username, "iat": now, "nbf": now, "exp": now + 60}

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    app.register_blueprint(JWTBlueprint(strategy))

    @app.route("/protected")
    @jwt_required()
    def protected() -> str:
        return f"{current_identity}"

    return app


def api_app() -> Flask:
    """Everything under ``/api``, ``Bearer`` tokens with an issuer and an
    audience."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=SECRET,
        JWT_AUTH_HEADER_PREFIX="Bearer",
        JWT_ENCODE_ISSUER=ISSUER,
        JWT_DECODE_ISSUER=ISSUER,
        JWT_ENCODE_AUDIENCE=AUDIENCE,
        JWT_DECODE_AUDIENCE=AUDIENCE,
    )
    strategy = JWTStrategy(authenticate, lambda payload: USERS[payload["identity"] - 1])
    app.register_blueprint(JWTBlueprint(strategy), url_prefix="/api")
    api = Blueprint("api", __name__, url_prefix="/api")

    @api.route("/protected")
    @jwt_required()
    def protected() -> str:
        return f"{current_identity}"

    app.register_blueprint(api)
    return app


APPS: dict[str, t.Callable[[], Flask]] = {
    "HS256": create_app,
    "RS256": lambda: create_app(
        {"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY": rsa_key()}
    ),
    "ES256": lambda: create_app(
        {
            "JWT_ALGORITHM": "ES256",
            "JWT_PRIVATE_KEY": ec.generate_private_key(ec.SECP256R1()),
        }
    ),
    "payload handler": payload_handler_app,
    "api, Bearer": api_app,
    "token store": lambda: lifecycle_app({"JWT_TOKEN_STORE": "memory://"}),
}


@pytest.fixture(params=list(APPS))
def app(request: pytest.FixtureRequest) -> Flask:
    return APPS[request.param]()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def url(app: Flask) -> str:
    """The path of the app's protected view."""
    return next(
        r.rule for r in app.url_map.iter_rules() if r.endpoint.endswith("protected")
    )


def login(client: FlaskClient, app: Flask) -> dict[str, t.Any]:
    path = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == "jwt.jwt")
    response = client.post(path, json={"username": "user1", "password": "abcxyz"})
    assert response.status_code == 200, response.json
    tokens: dict[str, t.Any] = response.json
    return tokens


def claims_of(token: str) -> dict[str, t.Any]:
    claims: dict[str, t.Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def assert_refused(response: t.Any, app: Flask, description: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.json["error"] == "Invalid token"
    if description is not None:
        assert response.json["description"] == description
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith(app.config["JWT_AUTH_HEADER_PREFIX"] + " ")
    assert 'error="invalid_token"' in challenge


# -- good tokens -----------------------------------------------------------------


def test_a_minted_token_is_accepted(client, url, jwt_headers):
    response = client.get(url, headers=jwt_headers(USER))
    assert response.status_code == 200
    assert response.text == "User(id='1')"


def test_a_minted_token_is_what_a_login_issues(app, client, jwt_token):
    issued = login(client, app)["access_token"]
    minted = jwt_token(USER)
    assert jwt.get_unverified_header(minted) == jwt.get_unverified_header(issued)
    # A login of an app with refresh tokens starts a family ("fam").
    assert set(claims_of(minted)) == set(claims_of(issued)) - {"fam"}


def test_headers_carry_the_apps_prefix(app, client, url, jwt_token, jwt_headers):
    token = jwt_token(USER)
    prefix = app.config["JWT_AUTH_HEADER_PREFIX"]
    assert jwt_headers(token=token) == {"Authorization": f"{prefix} {token}"}
    assert client.get(url, headers=jwt_headers(token=token)).status_code == 200


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((USER,), {"token": "t"}), ((), {"token": "t", "roles": ["admin"]})],
)
def test_headers_take_an_identity_or_a_token(jwt_headers, args, kwargs):
    with pytest.raises(TypeError, match=r"^jwt_headers\(\) "):
        jwt_headers(*args, **kwargs)


def test_claims_are_written_over_the_payload(client, url, jwt_token, jwt_headers):
    token = jwt_token(USER, roles=["admin"], scope="read write")
    claims = claims_of(token)
    assert claims["roles"] == ["admin"]
    assert claims["scope"] == "read write"
    assert client.get(url, headers=jwt_headers(token=token)).status_code == 200


def test_claims_the_strategy_writes_are_written_too(app, client, url, jwt_headers):
    # With a store, the strategy writes "type" over a caller's.
    headers = jwt_headers(USER, type="refresh")
    assert claims_of(headers["Authorization"].split()[1])["type"] == "refresh"
    response = client.get(url, headers=headers)
    assert_refused(response, app, "A refresh token is not accepted here")


@pytest.mark.parametrize("app", ["token store"], indirect=True)
def test_a_token_signed_again_is_valid(client, url, jwt_headers):
    headers = jwt_headers(USER, fam="a login of our own")
    assert claims_of(headers["Authorization"].split()[1])["fam"] == "a login of our own"
    assert client.get(url, headers=headers).status_code == 200


@pytest.mark.parametrize("app", ["api, Bearer"], indirect=True)
def test_issuer_and_audience_can_be_replaced(app, client, url, jwt_headers):
    headers = jwt_headers(USER, aud=[AUDIENCE, "https://other.example"])
    assert client.get(url, headers=headers).status_code == 200
    response = client.get(url, headers=jwt_headers(USER, iss="https://evil.example"))
    assert_refused(response, app, "Invalid issuer")


def test_a_claim_given_none_is_left_out(app, client, url, jwt_headers):
    headers = jwt_headers(USER, exp=None)
    assert "exp" not in claims_of(headers["Authorization"].split()[1])
    response = client.get(url, headers=headers)
    assert_refused(response, app, 'Token is missing the "exp" claim')


def test_expires_delta(app, client, url, jwt_headers):
    response = client.get(url, headers=jwt_headers(USER, expires_delta=-3600))
    assert_refused(response, app, "Signature has expired")


@pytest.mark.parametrize("app", ["HS256", "token store"], indirect=True)
def test_fresh(client, jwt_headers):
    @client.application.post("/fresh-only")
    @jwt_required(fresh=True)
    def fresh_only() -> str:
        return "fresh"

    assert client.post("/fresh-only", headers=jwt_headers(USER)).status_code == 200
    response = client.post("/fresh-only", headers=jwt_headers(USER, fresh=False))
    assert response.status_code == 401
    assert response.json["description"] == "Fresh token required"


# -- a login's pair ----------------------------------------------------------------


@pytest.mark.parametrize("app", ["token store"], indirect=True)
def test_tokens_are_a_login(app, client, url, jwt_tokens, jwt_headers):
    pair = jwt_tokens(USER)
    assert isinstance(pair, TokenPair)
    assert (
        client.get(url, headers=jwt_headers(token=pair.access_token)).status_code == 200
    )
    refreshed = client.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert refreshed.status_code == 200
    access = refreshed.json["access_token"]
    assert client.get(url, headers=jwt_headers(token=access)).status_code == 200
    # Spent: presenting it again revokes the login.
    again = client.post("/auth/refresh", json={"refresh_token": pair.refresh_token})
    assert_refused(again, app, "Token has been revoked")
    assert_refused(client.get(url, headers=jwt_headers(token=access)), app)


@pytest.mark.parametrize("app", ["HS256"], indirect=True)
def test_tokens_need_refresh_tokens(jwt_tokens):
    with pytest.raises(RuntimeError, match="needs JWT_REFRESH_ENABLED"):
        jwt_tokens(USER)


# -- bad tokens --------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in BAD_TOKEN_KINDS if k != "revoked"])
def test_a_bad_token_is_refused(app, client, url, jwt_bad_token, jwt_headers, kind):
    response = client.get(url, headers=jwt_headers(token=jwt_bad_token(kind, USER)))
    assert_refused(response, app)


@pytest.mark.parametrize("app", ["token store"], indirect=True)
def test_a_revoked_token_is_refused(app, client, url, jwt_bad_token, jwt_headers):
    response = client.get(
        url, headers=jwt_headers(token=jwt_bad_token("revoked", USER))
    )
    assert_refused(response, app, "Token has been revoked")
    # Only that one.
    assert client.get(url, headers=jwt_headers(USER)).status_code == 200


@pytest.mark.parametrize("app", ["HS256"], indirect=True)
def test_a_revoked_token_needs_a_store(jwt_bad_token):
    with pytest.raises(ValueError, match="needs a token store"):
        jwt_bad_token("revoked", USER)


@pytest.mark.parametrize("app", ["HS256"], indirect=True)
def test_an_unknown_kind(jwt_bad_token):
    with pytest.raises(ValueError, match="^no bad token kind 'stale': the kinds are"):
        jwt_bad_token("stale", USER)


@pytest.mark.parametrize(
    ("kind", "description"),
    [
        ("expired", "Signature has expired"),
        ("not_yet_valid", "The token is not yet valid (nbf)"),
        ("wrong_key", "Signature verification failed"),
        ("tampered", "Signature verification failed"),
        ("unsigned", "The specified alg value is not allowed"),
        ("wrong_type", "A refresh token is not accepted here"),
    ],
)
@pytest.mark.parametrize("app", ["HS256", "token store"], indirect=True)
def test_why_a_bad_token_is_refused(
    app, client, url, jwt_bad_token, jwt_headers, kind, description
):
    response = client.get(url, headers=jwt_headers(token=jwt_bad_token(kind, USER)))
    assert_refused(response, app, description)


def test_a_token_of_another_key_names_the_apps_key(jwt_token, jwt_bad_token):
    forged = jwt_bad_token("wrong_key", USER)
    assert jwt.get_unverified_header(forged) == jwt.get_unverified_header(
        jwt_token(USER)
    )


@pytest.mark.parametrize(
    ("algorithm", "key"),
    [
        ("HS512", None),
        ("PS384", rsa_key),
        ("ES384", lambda: ec.generate_private_key(ec.SECP384R1())),
        ("EdDSA", ed25519.Ed25519PrivateKey.generate),
        ("EdDSA", ed448.Ed448PrivateKey.generate),
    ],
)
def test_another_key_of_every_kind(algorithm, key):
    config: dict[str, t.Any] = {"JWT_ALGORITHM": algorithm}
    if key is not None:
        config["JWT_PRIVATE_KEY"] = key()
    app = create_app(config)
    tokens = TokenFactory(app)
    forged = tokens.bad_token("wrong_key", USER)
    assert jwt.get_unverified_header(forged)["alg"] == algorithm
    response = app.test_client().get("/protected", headers=tokens.headers(token=forged))
    assert_refused(response, app, "Signature verification failed")


def test_bad_tokens_take_claims(jwt_bad_token):
    assert claims_of(jwt_bad_token("expired", USER, roles=["admin"]))["roles"] == [
        "admin"
    ]
    assert claims_of(jwt_bad_token("tampered", USER, roles=["admin"]))["roles"] == [
        "admin"
    ]
    assert claims_of(jwt_bad_token("tampered", USER))["tampered"] is True


def test_a_tampered_token_always_changes(jwt_token, jwt_bad_token, client, url, app):
    token = jwt_token(USER)
    minted = ("iat", "nbf", "exp", "jti", "auth_time", "fam", "csrf")
    held = {k: v for k, v in claims_of(token).items() if k not in minted}
    for unchanged in (held, {"tampered": None}):
        with pytest.raises(ValueError, match="change its payload"):
            jwt_bad_token("tampered", USER, **unchanged)
    tampered = jwt_bad_token("tampered", USER, roles=["admin"])
    assert tampered.split(".")[1] != token.split(".")[1]
    headers = TokenFactory(app).headers(token=tampered)
    assert_refused(client.get(url, headers=headers), app)


def test_a_tampered_token_can_drop_a_claim(jwt_bad_token):
    assert "exp" not in claims_of(jwt_bad_token("tampered", USER, exp=None))


@pytest.mark.parametrize(
    "app", ["HS256", "payload handler", "token store"], indirect=True
)
def test_expired_and_early_tokens_are_consistent(jwt_token, jwt_bad_token):
    lifetime = claims_of(jwt_token(USER))
    lifetime_s = lifetime["exp"] - lifetime.get("nbf", lifetime["iat"])
    now = time.time()
    expired = claims_of(jwt_bad_token("expired", USER))
    assert expired["exp"] < now - 3600
    assert expired["iat"] <= expired.get("nbf", expired["iat"]) < expired["exp"]
    assert expired["exp"] - expired.get("nbf", expired["iat"]) == lifetime_s
    early = claims_of(jwt_bad_token("not_yet_valid", USER))
    assert early["nbf"] > now + 3600
    assert early["iat"] <= now < early["nbf"] < early["exp"]
    assert early["exp"] - early["nbf"] == lifetime_s


@pytest.mark.parametrize("app", ["HS256", "token store"], indirect=True)
def test_exp_beyond_the_longest_lifetime(app, client, url, jwt_headers, jwt_token):
    exp = int(time.time()) + 400 * 24 * 3600
    assert claims_of(jwt_token(USER, exp=exp))["exp"] == exp
    assert client.get(url, headers=jwt_headers(USER, exp=exp)).status_code == 200
    with pytest.raises(TypeError, match="not both"):
        jwt_token(USER, exp=exp, expires_delta=60)


# -- tokens in cookies -------------------------------------------------------------


def cookies_app(locations: list[str] | None = None) -> Flask:
    app = create_app(
        {
            "JWT_TOKEN_LOCATION": locations or ["cookies"],
            "JWT_REFRESH_ENABLED": True,
            "JWT_ACCESS_COOKIE_NAME": "at",
            "JWT_CSRF_HEADER_NAME": "X-Csrf",
        }
    )

    @app.post("/change")
    @jwt_required()
    def change() -> str:
        return f"{current_identity}"

    return app


def test_headers_need_headers_in_the_token_locations():
    with pytest.raises(RuntimeError, match="jwt_cookies"):
        TokenFactory(cookies_app()).headers(USER)
    with pytest.raises(RuntimeError, match="JWT_TOKEN_LOCATION"):
        TokenFactory(create_app()).cookies(create_app().test_client(), USER)


def test_cookies_authenticate_a_cookies_only_app():
    app = cookies_app()
    client = app.test_client()
    tokens = TokenFactory(app)
    unauthenticated = client.get("/protected")
    assert unauthenticated.json["description"] == (
        "Request does not contain an access token"
    )
    csrf = tokens.cookies(client, USER)
    assert list(csrf) == ["X-Csrf"]
    assert client.get_cookie("at").value.count(".") == 2
    assert client.get_cookie("csrf_access_token").value == csrf["X-Csrf"]
    assert client.get("/protected").status_code == 200
    assert client.post("/change", headers=csrf).status_code == 200
    missing = client.post("/change")
    assert missing.status_code == 401
    assert missing.json["description"] == "Missing CSRF token"
    wrong = client.post("/change", headers={"X-Csrf": "not it"})
    assert wrong.json["description"] == "CSRF token mismatch"


def test_cookies_of_a_bad_token_are_refused():
    app = cookies_app()
    client = app.test_client()
    tokens = TokenFactory(app)
    tokens.cookies(client, token=tokens.bad_token("expired", USER))
    assert_refused(client.get("/protected"), app, "Signature has expired")
    with pytest.raises(TypeError):
        tokens.cookies(client)
    with pytest.raises(TypeError):
        tokens.cookies(client, USER, token="a.b.c")


@pytest.mark.parametrize("app", ["HS256"], indirect=True)
def test_the_cookies_fixture_is_the_factorys(app, jwt_cookies):
    assert jwt_cookies.__func__ is TokenFactory.cookies


def test_tokens_carry_csrf_values_with_cookies():
    app = cookies_app(["headers", "cookies"])
    pair = TokenFactory(app).tokens(USER)
    access_token, refresh_token = pair
    assert pair.csrf_token == claims_of(access_token)["csrf"]
    assert pair.refresh_csrf_token == claims_of(refresh_token)["csrf"]
    without = TokenFactory(create_app({"JWT_REFRESH_ENABLED": True})).tokens(USER)
    assert without.csrf_token is None
    assert without.refresh_csrf_token is None


# -- a user's project, through pytester ------------------------------------------

CONFTEST = """
import pytest
from flask import Flask

from jwt_blueprint import JWT, current_identity, jwt_required


class User:
    def __init__(self, id, name):
        self.id = id
        self.name = name


USERS = {1: User(1, "ada")}


def make_app():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "a pytester secret, 0123456789abcdef0123456789"
    JWT(app, lambda username, password: None, lambda p: USERS.get(p["identity"]))

    @app.get("/me")
    @jwt_required()
    def me():
        return current_identity.name

    return app
"""

USER_TESTS = """
import pytest

import jwt_blueprint.pytest_plugin
from conftest import USERS


def test_entry_point(pytestconfig):
    plugin = pytestconfig.pluginmanager.get_plugin("jwt_blueprint")
    assert plugin is jwt_blueprint.pytest_plugin


def test_me(client, jwt_headers):
    assert client.get("/me", headers=jwt_headers(USERS[1])).text == "ada"


@pytest.mark.parametrize("kind", ["expired", "wrong_key", "tampered"])
def test_refused(client, jwt_headers, jwt_bad_token, kind):
    token = jwt_bad_token(kind, USERS[1])
    assert client.get("/me", headers=jwt_headers(token=token)).status_code == 401
"""

APP_FIXTURES = """

@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
"""


def test_a_project_gets_the_fixtures(pytester: pytest.Pytester):
    pytester.makeconftest(CONFTEST + APP_FIXTURES)
    pytester.makepyfile(USER_TESTS)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=5)


def test_without_an_app_fixture(pytester: pytest.Pytester):
    pytester.makepyfile("def test_me(jwt_token):\n    jwt_token(1)\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "  def jwt_token(jwt_app*",
            "  # No fixture 'app'? Define one that returns your Flask app*",
            "  # or override 'jwt_app' to return it.*",
            "  def jwt_app(app*",
            "E       fixture 'app' not found",
        ]
    )


def test_an_app_fixture_of_another_name(pytester: pytest.Pytester):
    pytester.makeconftest(
        CONFTEST
        + """
@pytest.fixture
def api():
    return make_app()


@pytest.fixture
def jwt_app(api):
    return api
"""
    )
    pytester.makepyfile(
        """
        from conftest import USERS

        def test_me(api, jwt_headers):
            client = api.test_client()
            assert client.get("/me", headers=jwt_headers(USERS[1])).text == "ada"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_an_app_without_jwt_blueprint(pytester: pytest.Pytester):
    pytester.makeconftest(
        """
        import pytest
        from flask import Flask

        @pytest.fixture
        def app():
            return Flask("plain")
        """
    )
    pytester.makepyfile("def test_me(jwt_headers):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "the 'app' fixture (or 'jwt_app'): <Flask 'plain'> is not a Flask app with"
            " jwt_blueprint set up: *"
        ]
    )


def test_the_entry_point_can_be_turned_off(pytester: pytest.Pytester):
    pytester.makeconftest(CONFTEST + APP_FIXTURES)
    pytester.makepyfile("def test_me(jwt_token):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:jwt_blueprint")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'jwt_token' not found*"])


def test_a_fresh_run_with_warnings_as_errors(pytester: pytest.Pytester):
    """In a process of its own, the entry point imports the plugin, and
    jwt_blueprint, without a warning."""
    pytester.makeconftest(CONFTEST + APP_FIXTURES)
    pytester.makepyfile(USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=5)


def test_the_plugin_module_defines_fixtures_only():
    hooks = [
        name for name in vars(jwt_blueprint.pytest_plugin) if name.startswith("pytest_")
    ]
    assert hooks == []


# -- the documented example ------------------------------------------------------

TESTING_PAGE = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def console_files(text: str) -> tuple[dict[str, str], list[str]]:
    """The files ``$ cat``'d in the console blocks of ``text``, by name, and
    the output of each other command."""
    files: dict[str, str] = {}
    outputs: list[str] = []
    for block in re.findall(r"^```console\n(.*?)^```$", text, re.M | re.S):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, _, output = command.partition("\n")
            if line.startswith("cat "):
                files[line[4:]] = output
            else:
                outputs.append(output)
    return files, outputs


def test_the_documented_example(pytester: pytest.Pytester):
    example = TESTING_PAGE.read_text(encoding="utf-8").split("\n## ")[1]
    assert example.startswith("An example\n")
    files, (output,) = console_files(example)
    assert sorted(files) == ["conftest.py", "myapp.py", "test_myapp.py"]
    for name, content in files.items():
        pytester.makefile(Path(name).suffix, **{Path(name).stem: content})
    passed = re.search(r"^(\d+) passed", output, re.M)
    assert passed is not None
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=int(passed.group(1)))


def test_the_documented_override_of_jwt_app(pytester: pytest.Pytester):
    example, _ = console_files(page_section("An example"))
    files, _ = console_files(page_section("The fixtures"))
    # The conftest.py that overrides jwt_app.
    pytester.makepyfile(myapp=example["myapp.py"], conftest=files["conftest.py"])
    pytester.makepyfile(
        """
        from myapp import USERS

        def test_me(api, jwt_headers):
            response = api.test_client().get("/me", headers=jwt_headers(USERS[2]))
            assert response.json == {"user": "bob"}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def page_section(title: str) -> str:
    text = TESTING_PAGE.read_text(encoding="utf-8")
    (section,) = [s for s in text.split("\n## ") if s.startswith(title + "\n")]
    return section


def test_the_documented_cookies_example(pytester: pytest.Pytester):
    example, _ = console_files(page_section("An example"))
    files, (output,) = console_files(page_section("Tokens in cookies"))
    assert sorted(files) == ["test_myapp_cookies.py"]
    pytester.makepyfile(
        myapp=example["myapp.py"],
        conftest=example["conftest.py"],
        **{"test_myapp_cookies": files["test_myapp_cookies.py"]},
    )
    passed = re.search(r"^(\d+) passed", output, re.M)
    assert passed is not None
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=int(passed.group(1)))


def verify_only_app(config: dict[str, t.Any] | None = None) -> Flask:
    return create_app(
        {
            "JWT_ALGORITHM": "RS256",
            "JWT_PUBLIC_KEY": rsa_key().public_key(),
            "JWT_AUTH_URL_RULE": None,
            **(config or {}),
        }
    )


def test_a_verify_only_app_cannot_mint():
    with pytest.raises(RuntimeError):
        TokenFactory(verify_only_app()).token(USER)


def test_the_documented_key_pair_of_a_verify_only_app():
    files, _ = console_files(page_section("Apps that only verify tokens"))
    source = files["conftest.py"]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert '"JWT_PRIVATE_KEY": KEY' in source
    assert '"JWT_PUBLIC_KEY": KEY.public_key()' in source
    app = verify_only_app({"JWT_PRIVATE_KEY": key, "JWT_PUBLIC_KEY": key.public_key()})
    tokens = TokenFactory(app)
    client = app.test_client()
    assert client.get("/protected", headers=tokens.headers(USER)).status_code == 200

"""A resource server that verifies another app's tokens through its JWKS,
both served over real HTTP on loopback."""

from __future__ import annotations

import contextlib
import threading
import time
import typing as t
import uuid

import jwt
import pytest
from flask import Flask
from flask import jsonify
from flask import redirect
from flask import request
from werkzeug.serving import make_server

from conftest import auth_header
from conftest import create_app
from conftest import login
from jwt_blueprint import ConfigError
from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required
from test_keys import pem
from test_keys import PRIVATE_KEYS

JWKS = "/.well-known/jwks.json"


class Served:
    """``app`` served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.hits: list[str] = []
        app.before_request(lambda: self.hits.append(request.path) and None)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def jwks_fetches(self) -> int:
        return self.hits.count(JWKS)


@contextlib.contextmanager
def served(app: Flask) -> t.Iterator[Served]:
    server = Served(app)
    try:
        yield server
    finally:
        server.stop()


ISSUER = "https://issuer.example"


def issuer_app(*keys: bytes) -> Flask:
    return create_app(
        {
            "JWT_ALGORITHM": "ES256",
            "JWT_PRIVATE_KEY": list(keys),
            "JWT_ENCODE_ISSUER": ISSUER,
        }
    )


def resource_app(jwks_url: str, **config: t.Any) -> Flask:
    """A service with no key and no user table of its own."""
    app = Flask(__name__)
    app.config.update(
        JWT_ALGORITHM="ES256",
        JWT_JWKS_URL=jwks_url,
        JWT_DECODE_ISSUER=ISSUER,
        JWT_AUTH_URL_RULE=None,
        JWT_JWKS_COOLDOWN=0.3,
        JWT_JWKS_TIMEOUT=2,
        **config,
    )
    JWT(app)

    @app.route("/data")
    @jwt_required()
    def data() -> t.Any:
        return jsonify(sub=current_identity["sub"])

    return app


def get(client: t.Any, token: str) -> t.Any:
    return client.get("/data", headers=auth_header(token))


def attacker_token(kid: str) -> str:
    now = int(time.time())
    key = PRIVATE_KEYS["ES256"]()
    payload = {"identity": 1, "sub": "1", "iat": now, "nbf": now, "exp": now + 60}
    payload["iss"] = ISSUER
    return jwt.encode(payload, key, "ES256", headers={"kid": kid})


@pytest.fixture
def issuer() -> t.Iterator[Served]:
    with served(issuer_app(pem(PRIVATE_KEYS["ES256"]()))) as server:
        yield server


def test_the_resource_server_verifies_the_issuers_tokens(issuer):
    token = login(issuer.app.test_client())
    client = resource_app(issuer.url + JWKS).test_client()
    response = get(client, token)
    assert response.status_code == 200
    # With no identity handler, the identity is the claims.
    assert response.json == {"sub": "1"}
    for _ in range(5):
        assert get(client, token).status_code == 200
    assert issuer.jwks_fetches() == 1


def test_a_flood_of_unknown_kids_fetches_once_per_cooldown(issuer):
    client = resource_app(issuer.url + JWKS).test_client()
    assert get(client, login(issuer.app.test_client())).status_code == 200
    started = time.monotonic()
    statuses = {
        get(client, attacker_token(str(uuid.uuid4()))).status_code for _ in range(40)
    }
    elapsed = time.monotonic() - started
    assert statuses == {401}
    # One fetch to start with, then at most one per cooldown (0.3 s).
    assert issuer.jwks_fetches() <= 2 + int(elapsed / 0.3)
    response = get(client, attacker_token("made-up"))
    assert response.json["description"] == "Unknown key ID (kid)"


def test_a_rotation_on_the_issuer_is_picked_up(issuer):
    client = resource_app(issuer.url + JWKS).test_client()
    old_token = login(issuer.app.test_client())
    assert get(client, old_token).status_code == 200
    new_key = pem(PRIVATE_KEYS["ES256"]())
    issuer.app.config["JWT_PRIVATE_KEY"] = [
        new_key,
        issuer.app.config["JWT_PRIVATE_KEY"][0],
    ]
    new_token = login(issuer.app.test_client())
    time.sleep(0.35)  # past the cooldown of the first fetch
    assert get(client, new_token).status_code == 200
    assert get(client, old_token).status_code == 200
    # The old key dropped: after the cooldown its tokens are refused.
    issuer.app.config["JWT_PRIVATE_KEY"] = [new_key]
    app = client.application
    app.config["JWT_JWKS_MAX_AGE"] = 0  # refetch on the next request
    time.sleep(0.35)
    assert get(client, new_token).status_code == 200
    assert get(client, old_token).status_code == 401


def test_with_the_issuer_down_known_kids_pass_and_unknown_ones_get_503(caplog):
    issuer = Served(issuer_app(pem(PRIVATE_KEYS["ES256"]())))
    token = login(issuer.app.test_client())
    client = resource_app(issuer.url + JWKS).test_client()
    assert get(client, token).status_code == 200
    issuer.stop()
    time.sleep(0.35)
    assert get(client, token).status_code == 200
    response = get(client, attacker_token("rotated-while-down"))
    assert response.status_code == 503
    # Until the cooldown (0.3 s) lets it try again.
    assert response.headers["Retry-After"] == "1"
    assert response.json == {
        "status_code": 503,
        "error": "Service Unavailable",
        "description": "The token issuer's keys are unavailable; try again later",
    }
    assert "cannot fetch the JWKS" in caplog.text


def jwks_app(document: dict[str, t.Any]) -> Flask:
    app = Flask(__name__)
    app.add_url_rule(JWKS, "jwks", lambda: jsonify(document))
    app.add_url_rule("/moved", "moved", lambda: redirect(JWKS))
    return app


def test_only_signature_keys_of_our_algorithm_are_used():
    issuer_key = PRIVATE_KEYS["ES256"]()
    issuer = issuer_app(pem(issuer_key))
    token = login(issuer.test_client())
    (published,) = issuer.test_client().get(JWKS).json["keys"]
    kid = published["kid"]
    unusable = [
        {**published, "use": "enc"},
        {**published, "key_ops": ["encrypt"]},
        {**published, "alg": "ES384"},
        {key: value for key, value in published.items() if key != "kid"},
        {**published, "crv": "P-384"},
        "not a key",
    ]
    with served(jwks_app({"keys": unusable})) as server:
        client = resource_app(server.url + JWKS).test_client()
        response = get(client, token)
        assert response.status_code == 401
        assert response.json["description"] == "Unknown key ID (kid)"
    with served(jwks_app({"keys": [*unusable, usable_elsewhere(published)]})) as server:
        client = resource_app(server.url + JWKS).test_client()
        response = get(client, token)
        assert response.status_code == 401
        assert response.json["description"] == "Unknown key ID (kid)"
    usable = [{**published, "key_ops": ["verify"]}]
    with served(jwks_app({"keys": usable})) as server:
        client = resource_app(server.url + JWKS).test_client()
        assert get(client, token).status_code == 200
    assert kid == jwt.get_unverified_header(token)["kid"]


def usable_elsewhere(published: dict[str, t.Any]) -> dict[str, t.Any]:
    """Another key, usable, under another kid."""
    other = issuer_app(pem(PRIVATE_KEYS["ES256"]()))
    key: dict[str, t.Any] = other.test_client().get(JWKS).json["keys"][0]
    assert key["kid"] != published["kid"]
    return key


def test_a_redirect_is_not_followed():
    issuer = issuer_app(pem(PRIVATE_KEYS["ES256"]()))
    token = login(issuer.test_client())
    with served(jwks_app(issuer.test_client().get(JWKS).json)) as server:
        client = resource_app(server.url + "/moved").test_client()
        assert get(client, token).status_code == 503
        assert server.hits == ["/moved"]


def test_token_headers_never_fetch_or_pick_keys(issuer):
    client = resource_app(issuer.url + JWKS).test_client()
    token = login(issuer.app.test_client())
    assert get(client, token).status_code == 200
    fetches = issuer.jwks_fetches()
    with served(jwks_app({"keys": []})) as trap:
        for header in ("jku", "x5u"):
            forged = jwt.encode(
                jwt.decode(token, options={"verify_signature": False}),
                PRIVATE_KEYS["ES256"](),
                "ES256",
                headers={header: trap.url + JWKS, "kid": "forged"},
            )
            assert get(client, forged).status_code == 401
        assert trap.hits == []
    assert issuer.jwks_fetches() == fetches


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"JWT_JWKS_URL": "file:///etc/passwd"}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": 7}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": "http://x", "JWT_ALGORITHM": "HS256"}, "JWT_JWKS_URL"),
        ({"JWT_JWKS_URL": "http://x", "JWT_JWKS_COOLDOWN": -1}, "JWT_JWKS_COOLDOWN"),
        ({"JWT_JWKS_URL": "http://x", "JWT_JWKS_COOLDOWN": 0}, "JWT_JWKS_COOLDOWN"),
        ({"JWT_JWKS_URL": "http://x"}, "JWT_DECODE_ISSUER"),
        ({"JWT_JWKS_URL": "http://x", "JWT_JWKS_TIMEOUT": 0}, "JWT_JWKS_TIMEOUT"),
    ],
)
def test_bad_resource_server_config_fails_at_startup(config, key):
    app = Flask(__name__)
    app.config.update({"JWT_ALGORITHM": "ES256", "JWT_AUTH_URL_RULE": None})
    if key != "JWT_DECODE_ISSUER":
        app.config["JWT_DECODE_ISSUER"] = ISSUER
    app.config.update(config)
    with pytest.raises(ConfigError, match=f"^{key}: "):
        JWT(app)


def test_an_app_with_keys_of_its_own_keeps_the_other_issuers_tokens_apart(issuer):
    own_key = pem(PRIVATE_KEYS["ES256"]())
    config = {
        "JWT_ALGORITHM": "ES256",
        "JWT_PRIVATE_KEY": own_key,
        "JWT_JWKS_URL": issuer.url + JWKS,
        "JWT_DECODE_ISSUER": ISSUER,
    }
    with pytest.raises(ConfigError, match="^JWT_ENCODE_ISSUER: must be set"):
        create_app(config)
    with pytest.raises(ConfigError, match="^JWT_ENCODE_ISSUER: must be set"):
        create_app({**config, "JWT_ENCODE_ISSUER": ISSUER})
    app = create_app({**config, "JWT_ENCODE_ISSUER": "https://app.example"})
    client = app.test_client()
    own = login(client)
    other = login(issuer.app.test_client())
    assert client.get("/protected", headers=auth_header(own)).status_code == 200
    assert client.get("/protected", headers=auth_header(other)).status_code == 200
    # A token of the other issuer's key, claiming to be ours: refused.
    now = int(time.time())
    forged_by_partner = jwt.encode(
        {
            "identity": 1,
            "iss": "https://app.example",
            "iat": now,
            "nbf": now,
            "exp": now + 60,
            "jti": "x",
        },
        serialization_key(issuer.app),
        "ES256",
        headers={"kid": jwt.get_unverified_header(other)["kid"]},
    )
    response = client.get("/protected", headers=auth_header(forged_by_partner))
    assert response.status_code == 401
    assert response.json["description"] == "Invalid issuer"


def serialization_key(app: Flask) -> t.Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(app.config["JWT_PRIVATE_KEY"][0], None)


def test_a_key_replaced_behind_its_kid_ends_its_cached_tokens():
    key = PRIVATE_KEYS["ES256"]()
    issuer = issuer_app(pem(key))
    token = login(issuer.test_client())
    published = issuer.test_client().get(JWKS).json
    document = {"keys": [dict(k) for k in published["keys"]]}
    with served(jwks_app_mutable(document)) as server:
        client = resource_app(server.url + JWKS, JWT_JWKS_MAX_AGE=0).test_client()
        assert get(client, token).status_code == 200  # verified and cached
        other = issuer_app(pem(PRIVATE_KEYS["ES256"]()))
        replacement = other.test_client().get(JWKS).json["keys"][0]
        document["keys"][0] = {**replacement, "kid": published["keys"][0]["kid"]}
        time.sleep(0.35)
        assert get(client, token).status_code == 401


def jwks_app_mutable(document: dict[str, t.Any]) -> Flask:
    app = Flask(__name__)
    app.add_url_rule(JWKS, "jwks", lambda: jsonify(document))
    return app


def test_a_jwks_that_is_not_json_is_an_outage_not_a_500():
    issuer = issuer_app(pem(PRIVATE_KEYS["ES256"]()))
    token = login(issuer.test_client())
    app = Flask(__name__)
    app.add_url_rule(JWKS, "jwks", lambda: "<html>maintenance</html>")
    with served(app) as server:
        client = resource_app(server.url + JWKS).test_client()
        assert get(client, token).status_code == 503


def test_a_jwks_with_no_usable_key_withdraws_them_and_a_broken_one_keeps_them(
    caplog,
):
    issuer = issuer_app(pem(PRIVATE_KEYS["ES256"]()))
    token = login(issuer.test_client())
    document = dict(issuer.test_client().get(JWKS).json)
    held = document["keys"]
    with served(jwks_app_mutable(document)) as server:
        client = resource_app(server.url + JWKS, JWT_JWKS_MAX_AGE=0).test_client()
        assert get(client, token).status_code == 200
        # Not a JWKS: an outage, and the keys held still verify.
        document["keys"] = "maintenance"
        time.sleep(0.35)
        assert get(client, token).status_code == 200
        assert "cannot fetch the JWKS" in caplog.text
        document["keys"] = held
        time.sleep(0.35)
        assert get(client, token).status_code == 200
        assert "answers again" in caplog.text
        # A JWKS with no key: the issuer withdrew them (a leaked key, say).
        document["keys"] = []
        time.sleep(0.35)
        response = get(client, token)
        assert response.status_code == 401
        assert response.json["description"] == "Unknown key ID (kid)"


def test_the_issuers_public_key_may_be_pinned_beside_its_jwks(issuer):
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(
        issuer.app.config["JWT_PRIVATE_KEY"][0], None
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    client = resource_app(issuer.url + JWKS, JWT_PUBLIC_KEY=public).test_client()
    token = login(issuer.app.test_client())
    assert get(client, token).status_code == 200
    assert issuer.jwks_fetches() == 0  # the pinned key answered

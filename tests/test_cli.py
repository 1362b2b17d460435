"""The ``flask jwt`` commands, through Flask's CliRunner: keys made by
``keygen`` sign the app's tokens, ``jwks`` publishes them, ``token`` issues
what the app accepts, ``decode`` says why it refuses; bad input gets a
message, never a traceback."""

from __future__ import annotations

import json
import os
import stat
import typing as t
from pathlib import Path

import click
import jwt
import pytest
from click.testing import Result
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from flask import Flask

import sample_app
from conftest import auth_header
from conftest import authenticate
from conftest import claims
from conftest import create_app
from conftest import login
from conftest import make_token
from jwt_blueprint import JWT
from jwt_blueprint.cli import jwt_cli

ASYMMETRIC = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES256K",
    "ES384",
    "ES512",
    "EdDSA",
]
#: The members of a JWK that are private, or a secret.
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}
#: The public members of each key type, as RFC 7518 and RFC 8037 name them.
PUBLIC_MEMBERS = {"RSA": {"n", "e"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    """``flask jwt ARGS`` on ``app``; a traceback fails the test."""
    result = app.test_cli_runner().invoke(args=["jwt", *args], input=input)
    if result.exception is not None and not isinstance(
        result.exception, SystemExit
    ):  # pragma: no cover - shown when a test fails
        raise result.exception
    assert "Traceback" not in result.output
    return result


def keygen(
    tmp_path: Path, algorithm: str, *options: str
) -> tuple[Path, dict[str, t.Any]]:
    """Make a key with the CLI: its file and its printed JWK."""
    path = tmp_path / f"{algorithm}-{len(list(tmp_path.iterdir()))}.pem"
    if algorithm.startswith(("RS", "PS")) and "--bits" not in options:
        options = (*options, "--bits", "2048")  # fast; 3072 is tested once
    result = run(
        create_app(), "keygen", "--alg", algorithm, "--out", str(path), *options
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Wrote a new {algorithm} private key to {path}.\n"
    return path, json.loads(result.stdout)


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def decoded(app: Flask, token: str) -> dict[str, t.Any]:
    result = run(app, "decode", token)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document: dict[str, t.Any] = json.loads(result.stdout)
    return document


def refused(app: Flask, token: str, reason: str, input: str | None = None) -> None:
    result = run(app, "decode", token, input=input)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Invalid token: {reason}\n"


# -- the group ---------------------------------------------------------------


def test_the_blueprint_adds_the_group():
    result = create_app().test_cli_runner().invoke(args=["jwt", "--help"])
    assert result.exit_code == 0
    for command in ("keygen", "jwks", "token", "decode"):
        assert command in result.output


def test_an_app_command_named_jwt_is_kept():
    app = Flask(__name__)

    @app.cli.command("jwt")
    def own() -> None:
        click.echo("the app's own")

    app.config["SECRET_KEY"] = "s" * 64
    JWT(app, authenticate)
    assert app.cli.commands["jwt"] is own
    assert app.test_cli_runner().invoke(args=["jwt"]).output == "the app's own\n"


def test_without_jwt_blueprint_the_commands_say_so():
    app = Flask(__name__)
    app.cli.add_command(jwt_cli)
    for args in (["jwks"], ["token", "1"], ["decode", "x.y.z"]):
        result = run(app, *args)
        assert result.exit_code == 1
        assert "jwt_blueprint is not set up on this app" in result.stderr


def test_an_invalid_config_is_named():
    app = create_app()
    app.config["JWT_ALGORITHM"] = "XS256"
    result = run(app, "jwks")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: JWT_ALGORITHM: 'XS256' is not one of")


# -- keygen, and the key in an app ------------------------------------------------


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
def test_a_generated_key_signs_the_apps_tokens(tmp_path: Path, algorithm: str):
    path, jwk = keygen(tmp_path, algorithm)
    assert mode_of(path) == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")  # PKCS#8
    assert set(jwk) == {"kty", "kid", "use", "alg"} | PUBLIC_MEMBERS[jwk["kty"]]
    assert jwk["use"] == "sig"
    assert jwk["alg"] == algorithm

    app = create_app({"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": pem})
    client = app.test_client()
    assert kid_of(login(client)) == jwk["kid"]

    result = run(app, "jwks")
    assert result.exit_code == 0, result.output
    jwks = json.loads(result.stdout)
    assert jwks == {"keys": [jwk]}
    assert not PRIVATE_MEMBERS & set(jwks["keys"][0])
    assert client.get("/.well-known/jwks.json").json == jwks

    result = run(app, "token", "1")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert kid_of(token) == jwk["kid"]
    response = client.get("/protected", headers=auth_header(token))
    assert response.status_code == 200
    assert response.text == "User(id='1')"
    document = decoded(app, token)
    assert document["header"] == {"alg": algorithm, "kid": jwk["kid"], "typ": "JWT"}
    assert document["claims"]["identity"] == 1


def test_a_kid_given_is_the_tokens(tmp_path: Path):
    path, jwk = keygen(tmp_path, "ES256", "--kid", "2025-06 signing")
    assert jwk["kid"] == "2025-06 signing"
    key = {"kid": "2025-06 signing", "key": path.read_bytes()}
    app = create_app({"JWT_ALGORITHM": "ES256", "JWT_PRIVATE_KEY": key})
    assert kid_of(login(app.test_client())) == "2025-06 signing"
    assert json.loads(run(app, "jwks").stdout) == {"keys": [jwk]}


def test_without_out_the_key_goes_to_stdout_and_the_jwk_to_stderr():
    result = run(create_app(), "keygen", "--alg", "EdDSA")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert result.stdout.endswith("-----END PRIVATE KEY-----\n")
    load_pem_private_key(result.stdout.encode(), None)
    jwk = json.loads(result.stderr)
    app = create_app({"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY": result.stdout})
    assert kid_of(login(app.test_client())) == jwk["kid"]


def test_rsa_keys_are_3072_bits_by_default(tmp_path: Path):
    path, jwk = keygen(tmp_path, "PS256", "--bits", "3072")
    key = load_pem_private_key(path.read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 3072
    result = run(create_app(), "keygen", "--alg", "RS256")
    assert result.exit_code == 0, result.output
    key = load_pem_private_key(result.stdout.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 3072


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_a_secret_for_hmac(tmp_path: Path, algorithm: str):
    result = run(create_app(), "keygen", "--alg", algorithm)
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert len(secret) == 64
    assert result.stderr == ""  # no JWK: a secret has none
    app = create_app({"JWT_ALGORITHM": algorithm, "JWT_SECRET_KEY": secret})
    assert decoded(app, login(app.test_client()))["header"]["alg"] == algorithm

    path = tmp_path / "secret"
    result = run(create_app(), "keygen", "--alg", algorithm, "--out", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"Wrote a new {algorithm} secret to {path}.\n"
    assert mode_of(path) == 0o600
    assert len(path.read_text()) == 64  # no newline to strip
    assert path.read_text() != secret


def test_keygen_refuses_to_overwrite(tmp_path: Path):
    path = tmp_path / "key.pem"
    path.write_text("keep me")
    for algorithm in ("ES256", "HS256"):
        result = run(create_app(), "keygen", "--alg", algorithm, "--out", str(path))
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == (
            f"Error: {path} already exists; refusing to overwrite it\n"
        )
        assert path.read_text() == "keep me"


def test_keygen_does_not_follow_a_link(tmp_path: Path):
    link = tmp_path / "key.pem"
    link.symlink_to(tmp_path / "elsewhere.pem")
    result = run(create_app(), "keygen", "--alg", "ES256", "--out", str(link))
    assert result.exit_code == 1
    assert "already exists; refusing to overwrite it" in result.stderr
    assert not (tmp_path / "elsewhere.pem").exists()


def test_keygen_into_a_missing_folder(tmp_path: Path):
    path = tmp_path / "missing" / "key.pem"
    result = run(create_app(), "keygen", "--alg", "ES256", "--out", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot create {path}: No such file or directory\n"
    )


@pytest.mark.parametrize("algorithm", ["XS256", "none", "ES521", "es256", ""])
def test_keygen_refuses_an_unknown_algorithm(algorithm: str):
    result = run(create_app(), "keygen", "--alg", algorithm)
    assert result.exit_code == 2
    assert "Invalid value for '--alg'" in result.stderr
    assert "'ES256'" in result.stderr  # the choices are listed
    assert result.stdout == ""


def test_keygen_needs_an_algorithm():
    result = run(create_app(), "keygen")
    assert result.exit_code == 2
    assert "Missing option '--alg'" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--alg", "RS256", "--bits", "1024"], "1024 is not in the range 2048<=x"),
        (["--alg", "RS256", "--bits", "2047"], "2047 is not in the range 2048<=x"),
        (["--alg", "RS256", "--bits", "many"], "'many' is not a valid integer"),
        (["--alg", "ES256", "--bits", "4096"], "--bits is for RSA keys (RS*, PS*)"),
        (["--alg", "HS256", "--bits", "4096"], "--bits is for RSA keys (RS*, PS*)"),
        (["--alg", "HS256", "--kid", "k1"], "--kid is for asymmetric keys"),
        (["--alg", "ES256", "--kid", ""], "must be printable ASCII, 1 to 256"),
        (["--alg", "ES256", "--kid", "k\u00e9y"], "must be printable ASCII"),
        (["--alg", "ES256", "--kid", "a\tb"], "must be printable ASCII"),
        (["--alg", "ES256", "--kid", "k" * 257], "must be printable ASCII"),
    ],
)
def test_keygen_refuses_bad_options(tmp_path: Path, options: list[str], message: str):
    path = tmp_path / "key.pem"
    result = run(create_app(), "keygen", *options, "--out", str(path))
    assert result.exit_code == 2
    assert message in result.stderr
    assert not path.exists()


# -- jwks ------------------------------------------------------------------------


def test_jwks_of_an_hmac_app_is_an_error():
    result = run(create_app(), "jwks")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "Error: this app signs with HS256, whose keys are secrets: they have no JWKS"
    )


def test_jwks_lists_every_key_that_verifies(tmp_path: Path):
    new, new_jwk = keygen(tmp_path, "ES384")
    old, old_jwk = keygen(tmp_path, "ES384", "--kid", "old")
    config = {
        "JWT_ALGORITHM": "ES384",
        "JWT_PRIVATE_KEY": [new.read_bytes(), {"kid": "old", "key": old.read_bytes()}],
    }
    result = run(create_app(config), "jwks")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"keys": [new_jwk, old_jwk]}


# -- token -----------------------------------------------------------------------


def test_token_is_accepted_by_the_app():
    app = create_app()
    result = run(app, "token", "2")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    token = result.stdout.strip()
    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.status_code == 200
    assert response.text == "User(id='2')"


def test_token_expires():
    app = create_app()
    token = run(app, "token", "1", "--expires", "600").stdout.strip()
    document = decoded(app, token)["claims"]
    assert document["exp"] - document["iat"] in (600, 601)

    token = run(app, "token", "1", "--expires", "-60").stdout.strip()
    refused(app, token, "Signature has expired")
    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.status_code == 401


@pytest.mark.parametrize("identity_id", ["3", "0", "-1", "01", "user1", ""])
def test_token_for_an_unknown_identity(identity_id: str):
    result = run(create_app(), "token", "--", identity_id)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: no identity with id {identity_id!r}: the identity handler"
        " returned None\n"
    )


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("soon", "'soon' is not a valid integer"),
        ("1.5", "'1.5' is not a valid integer"),
    ],
)
def test_token_refuses_a_bad_lifetime(expires: str, message: str):
    result = run(create_app(), "token", "1", "--expires", expires)
    assert result.exit_code == 2
    assert message in result.stderr


def test_token_with_a_lifetime_beyond_any_date():
    result = run(create_app(), "token", "1", "--expires", "1" + "0" * 400)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot issue the token:")


def test_token_beyond_what_the_store_keeps():
    app = create_app({"JWT_TOKEN_STORE": "memory://"})
    result = run(app, "token", "1", "--expires", str(10**9))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: cannot issue the token: with a token store, a token's exp"
    )
    token = run(app, "token", "1").stdout.strip()
    assert decoded(app, token)["claims"]["type"] == "access"


def test_token_without_an_identity_handler():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s" * 64
    JWT(app, authenticate)
    for given, identity in [("42", 42), ("alice", "alice"), ("007", "007")]:
        token = run(app, "token", given).stdout.strip()
        document = decoded(app, token)["claims"]
        assert document["identity"] == identity
        assert document["sub"] == given


def test_token_when_the_identity_handler_needs_another_claim():
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "s" * 64
    JWT(app, authenticate, lambda payload: payload["role"])
    result = run(app, "token", "1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the identity handler refused '1': Invalid token: Token is missing"
        ' the "role" claim\n'
    )


def test_token_on_a_service_that_only_verifies(tmp_path: Path):
    path, _ = keygen(tmp_path, "EdDSA")
    key = load_pem_private_key(path.read_bytes(), None)
    config = {
        "JWT_ALGORITHM": "EdDSA",
        "JWT_PUBLIC_KEY": key.public_key(),
        "JWT_AUTH_URL_RULE": None,
    }
    app = create_app(config)
    result = run(app, "token", "1")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: this app only verifies tokens: it has no JWT_PRIVATE_KEY to sign with\n"
    )


def test_token_on_the_sample_app(tmp_path: Path):
    app = sample_app.create_app(
        {"TESTING": True, "SECRET_KEY": "x" * 64, "DATABASE": tmp_path / "db"},
        instance_path=tmp_path / "instance",
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    token = run(app, "token", "1").stdout.strip()
    response = app.test_client().get("/protected", headers=auth_header(token))
    assert response.status_code == 200
    assert run(app, "token", "999").stderr.startswith("Error: no identity with id")


# -- decode ----------------------------------------------------------------------


def test_decode_prints_the_header_and_claims():
    app = create_app()
    token = login(app.test_client())
    document = decoded(app, token)
    assert document["header"] == jwt.get_unverified_header(token)
    assert document["claims"] == jwt.decode(token, app.config["SECRET_KEY"], ["HS256"])


def test_decode_reads_stdin():
    app = create_app()
    token = login(app.test_client())
    result = run(app, "decode", "-", input=token + "\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["claims"]["identity"] == 1
    refused(app, "-", "Not enough segments", input="garbage\n")
    refused(app, "-", "Not enough segments", input="")
    refused(app, "-", "Invalid token: must be ASCII", input="\u00e9.a.b")


def tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    forged = jwt.utils.base64url_encode(
        json.dumps({**claims(), "identity": 2}).encode()
    ).decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (tamper, "Signature verification failed"),
        (
            lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BA"),
            "Signature verification failed",
        ),
        (lambda token: "garbage", "Not enough segments"),
        (lambda token: "a.b.c.d", "Too many segments"),
        (lambda token: "%%%.a.b", "Invalid header padding"),
        (lambda token: make_token(claims(exp=1)), "Signature has expired"),
        (
            lambda token: make_token(key="another-secret" * 4),
            "Signature verification failed",
        ),
        (lambda token: make_token(headers={"kid": "nope"}), "Unknown key ID (kid)"),
        (
            lambda token: make_token(algorithm="none", key=None),
            "The specified alg value is not allowed",
        ),
        (lambda token: make_token(claims(aud="them")), "Invalid audience"),
    ],
)
def test_decode_says_why_a_token_is_refused(make: t.Callable[[str], str], reason: str):
    app = create_app()
    token = login(app.test_client())
    refused(app, make(token), reason)


def test_decode_without_a_compact_header():
    app = create_app()
    app.extensions["jwt"].jwt_decode_handler(lambda token: {"identity": 1})
    document = decoded(app, "opaque")
    assert document == {"header": None, "claims": {"identity": 1}}


def test_decode_needs_a_token():
    result = run(create_app(), "decode")
    assert result.exit_code == 2
    assert "Missing argument 'TOKEN'" in result.stderr


def test_an_id_longer_than_any_int_stays_text():
    result = run(create_app(), "token", "1" * 5000)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no identity with id '1111")

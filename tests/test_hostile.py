"""Hostile input, over HTTP only.

Apps are built the way the README tells users to (``JWT(app, authenticate,
identity)``, see ``conftest.create_app``) and driven with Flask's test client.
Every case checks the status, the JSON body (``status_code``, ``error``,
``description``) and, for a 401, the exact ``WWW-Authenticate`` challenge.
Nothing may answer 500, answer HTML, or let a bad token in.

Header values: a WSGI server hands the app each header as the latin-1 decoding
of the bytes on the wire (PEP 3333), while Werkzeug's test client puts the
``str`` it is given into the environ unchanged. Non-ASCII cases are therefore
sent both ways: as the ``str`` itself and as :func:`wsgi` renders it. Every
case also records what reached the app, so a case cannot pass because the
test client cleaned it up first.
"""

from __future__ import annotations

import base64
import functools
import hmac
import io
import json
import re
import time
import typing as t
import warnings
from dataclasses import dataclass
from functools import partial

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask import request

from conftest import auth_header
from conftest import claims
from conftest import create_app
from conftest import login
from conftest import make_token
from conftest import SECRET

KEY = SECRET.encode()
ATTACKER_SECRET = b"attacker-secret-0123456789abcdef0123456789abcdef"
HS256 = {"alg": "HS256", "typ": "JWT"}
REALM = "Login Required"

NOT_ALLOWED = "The specified alg value is not allowed"
BAD_SIGNATURE = "Signature verification failed"
UNKNOWN_KID = "Unknown key ID (kid)"
NOT_ENOUGH_SEGMENTS = "Not enough segments"
TOO_MANY_SEGMENTS = "Too many segments"


# -- expected responses ------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """What a refusal of ``GET /protected`` must look like."""

    error: str
    #: The exact description, or a pattern it must match in full (for text
    #: that quotes Python's JSON parser, which varies between versions).
    description: str | re.Pattern[str]
    #: RFC 6750's error code in the challenge: ``invalid_token`` for a bad
    #: token, ``invalid_request`` for a malformed header, none when no token
    #: was presented at all.
    rfc6750_error: str | None = "invalid_token"
    status: int = 401


def header_refused(
    description: str, rfc6750_error: str | None = "invalid_request"
) -> Refused:
    return Refused("Invalid JWT header", description, rfc6750_error)


def token_refused(description: str | re.Pattern[str]) -> Refused:
    return Refused("Invalid token", description)


UNSUPPORTED = header_refused("Unsupported authorization type", rfc6750_error=None)
TOKEN_MISSING = header_refused("Token missing")
TOO_LARGE = header_refused("Token is too large", "invalid_token")
SPACES = header_refused("Token contains spaces")
INVALID_CHARACTERS = header_refused("Token contains invalid characters")
NO_TOKEN = Refused(
    "Authorization Required", "Request does not contain an access token", None
)
UNKNOWN_USER = Refused("Invalid JWT", "User does not exist")
INVALID_HEADER_JSON = token_refused(re.compile(r"Invalid header string: .+"))
INVALID_PAYLOAD_JSON = token_refused(re.compile(r"Invalid payload string: .+"))
HEADER_NOT_OBJECT = token_refused("Invalid header string: must be a json object")
PAYLOAD_NOT_OBJECT = token_refused("Invalid payload string: must be a json object")
#: The offending list is not echoed back: it is the attacker's text.
CRIT = token_refused(
    re.compile(r"Unsupported critical extension|Invalid 'crit' header: must be a list")
)


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def challenge(
    scheme: str = "JWT",
    description: str | None = None,
    error: str = "invalid_token",
    realm: str = REALM,
) -> str:
    """RFC 6750's challenge, built independently of the library."""
    value = f"{scheme} realm={quoted(realm)}"
    if description is not None:
        value += f", error={quoted(error)}"
        # RFC 6750 section 3: no quote or backslash in error_description.
        description = description.replace('"', "'").replace("\\", "")
        if description.isascii() and description.isprintable():
            value += f', error_description="{description}"'
    return value


def show(response: t.Any) -> str:
    return f"{response.status} {response.get_data(as_text=True)[:300]!r}"


def assert_refused(response: t.Any, refused: Refused, scheme: str = "JWT") -> None:
    assert response.status_code == refused.status, show(response)
    assert response.mimetype == "application/json", show(response)
    body = response.get_json()
    assert set(body) == {"status_code", "error", "description"}, body
    assert body["status_code"] == refused.status
    assert body["error"] == refused.error, body
    description = body["description"]
    if isinstance(refused.description, re.Pattern):
        assert refused.description.fullmatch(description), body
    else:
        assert description == refused.description, body
    expected = (
        challenge(scheme)
        if refused.rfc6750_error is None
        else challenge(scheme, description, refused.rfc6750_error)
    )
    assert response.headers.getlist("WWW-Authenticate") == [expected]


def assert_accepted(response: t.Any, user: str = "User(id='1')") -> None:
    assert response.status_code == 200, show(response)
    assert response.text == user
    assert "WWW-Authenticate" not in response.headers


# -- building requests ---------------------------------------------------------


def wsgi(text: str) -> str:
    """``text`` as a WSGI server puts it in the environ: its UTF-8 bytes on
    the wire, decoded as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def recording_client(config: dict[str, t.Any] | None = None) -> tuple[t.Any, list]:
    """A client for ``create_app(config)``, and the list of the raw
    ``Authorization`` values that reached the app."""
    app = create_app(config)
    seen: list[str | None] = []

    @app.before_request
    def record() -> None:
        seen.append(request.environ.get("HTTP_AUTHORIZATION"))

    return app.test_client(), seen


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def part(value: t.Any) -> str:
    """A JSON value (or raw bytes) as a base64url segment."""
    if not isinstance(value, bytes):
        value = json.dumps(value, separators=(",", ":")).encode()
    return b64(value)


def hs_signature(signing_input: str, key: bytes = KEY, digest: str = "sha256") -> str:
    return b64(hmac.digest(key, signing_input.encode("ascii"), digest))


def forge(
    header: t.Any = HS256,
    payload: t.Any = None,
    key: bytes = KEY,
    digest: str = "sha256",
) -> str:
    """HMAC-sign any header and payload, bypassing every check PyJWT's
    encoder makes. ``payload=None`` means valid claims for user1."""
    signing_input = f"{part(header)}.{part(claims() if payload is None else payload)}"
    return f"{signing_input}.{hs_signature(signing_input, key, digest)}"


def signed_claims(**overrides: t.Any) -> str:
    """Valid claims with ``overrides`` (``None`` removes a claim), signed with
    the app's own secret, so only the claim checks can refuse them."""
    return forge(payload=claims(**overrides))


def signed_null(claim: str) -> str:
    return forge(payload={**claims(), claim: None})


def signed_literal(claim: str, literal: str) -> str:
    """Claims where ``claim`` is the raw JSON text ``literal``."""
    others = {k: v for k, v in claims().items() if k != claim}
    text = json.dumps(others, separators=(",", ":"))[:-1] + f',"{claim}":{literal}}}'
    return forge(payload=text.encode())


def resign(header_segment: str, payload_segment: str) -> str:
    signing_input = f"{header_segment}.{payload_segment}"
    return f"{signing_input}.{hs_signature(signing_input)}"


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def non_canonical(segment: str) -> str:
    """The same bytes, spelled with a non-zero unused bit in the last
    character (RFC 4648 section 3.5)."""
    assert len(segment) % 4 in (2, 3)
    last = _ALPHABET.index(segment[-1])
    assert last & 1 == 0
    return segment[:-1] + _ALPHABET[last | 1]


def with_loose_end(value: dict[str, t.Any]) -> str:
    """``value`` as a segment whose length leaves unused bits at the end."""
    for size in range(4):
        segment = part({**value, "pad": "x" * size})
        if len(segment) % 4 == 2:
            return segment
    raise AssertionError("unreachable")  # pragma: no cover


def nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


# -- the Authorization header --------------------------------------------------


def header_case(name: str, make: t.Callable[[str], str], refused: Refused) -> t.Any:
    return pytest.param(make, refused, id=name)


FULLWIDTH_JWT = "\uff2a\uff37\uff34"  # "ＪＷＴ"

AUTHORIZATION_CASES = [
    # The separator is exactly one ASCII space.
    header_case("tab-separator", lambda tok: f"JWT\t{tok}", UNSUPPORTED),
    header_case("vertical-tab-separator", lambda tok: f"JWT\v{tok}", UNSUPPORTED),
    header_case("tab-after-space", lambda tok: f"JWT \t{tok}", INVALID_CHARACTERS),
    header_case("nbsp-separator", lambda tok: f"JWT\xa0{tok}", UNSUPPORTED),
    header_case("nbsp-separator-wsgi", lambda tok: wsgi(f"JWT\xa0{tok}"), UNSUPPORTED),
    header_case("nbsp-after-token", lambda tok: f"JWT {tok}\xa0", INVALID_CHARACTERS),
    header_case("ideographic-space", lambda tok: f"JWT\u3000{tok}", UNSUPPORTED),
    header_case(
        "ideographic-space-wsgi", lambda tok: wsgi(f"JWT\u3000{tok}"), UNSUPPORTED
    ),
    header_case("two-spaces", lambda tok: f"JWT  {tok}", SPACES),
    header_case("trailing-space", lambda tok: f"JWT {tok} ", SPACES),
    header_case("space-inside-token", lambda tok: f"JWT {tok[:20]} {tok[20:]}", SPACES),
    header_case("leading-space", lambda tok: f" JWT {tok}", UNSUPPORTED),
    # Control characters.
    header_case("nul-in-scheme", lambda tok: f"JWT\x00 {tok}", UNSUPPORTED),
    header_case(
        "nul-in-token", lambda tok: f"JWT {tok[:10]}\x00{tok[10:]}", INVALID_CHARACTERS
    ),
    header_case("escape-in-token", lambda tok: f"JWT \x1b[2J{tok}", INVALID_CHARACTERS),
    header_case("del-after-token", lambda tok: f"JWT {tok}\x7f", INVALID_CHARACTERS),
    header_case("c1-nel-after-token", lambda tok: f"JWT {tok}\x85", INVALID_CHARACTERS),
    header_case(
        "form-feed-after-token", lambda tok: f"JWT {tok}\f", INVALID_CHARACTERS
    ),
    # Look-alike schemes.
    header_case("fullwidth-scheme", lambda tok: f"{FULLWIDTH_JWT} {tok}", UNSUPPORTED),
    header_case(
        "fullwidth-scheme-wsgi", lambda tok: wsgi(f"{FULLWIDTH_JWT} {tok}"), UNSUPPORTED
    ),
    header_case("cyrillic-t-scheme", lambda tok: f"JW\u0422 {tok}", UNSUPPORTED),
    header_case("scheme-with-colon", lambda tok: f"JWT: {tok}", UNSUPPORTED),
    header_case("scheme-with-suffix", lambda tok: f"JWTX {tok}", UNSUPPORTED),
    header_case("scheme-truncated", lambda tok: f"JW {tok}", UNSUPPORTED),
    # Other schemes, or none.
    header_case("bearer", lambda tok: f"Bearer {tok}", UNSUPPORTED),
    header_case("bearer-x", lambda tok: "Bearer x", UNSUPPORTED),
    header_case("basic", lambda tok: "Basic dXNlcjE6YWJjeHl6", UNSUPPORTED),
    header_case("token-without-scheme", lambda tok: tok, UNSUPPORTED),
    header_case("space-only", lambda tok: " ", UNSUPPORTED),
    # The scheme without a token.
    header_case("scheme-only", lambda tok: "JWT", TOKEN_MISSING),
    header_case("scheme-and-space", lambda tok: "JWT ", TOKEN_MISSING),
    header_case("lowercase-scheme-only", lambda tok: "jwt", TOKEN_MISSING),
    # Several tokens in one header.
    header_case("comma-joined", lambda tok: f"JWT {tok}, JWT {tok}", SPACES),
    header_case("comma-joined-no-space", lambda tok: f"JWT {tok},JWT {tok}", SPACES),
    header_case(
        "comma-joined-bare", lambda tok: f"JWT {tok},{tok}", INVALID_CHARACTERS
    ),
    header_case("comma-joined-bearer", lambda tok: f"JWT {tok}, Bearer {tok}", SPACES),
    header_case("bearer-then-jwt", lambda tok: f"Bearer x, JWT {tok}", UNSUPPORTED),
    # Characters outside base64url and dots.
    header_case("base64-padding", lambda tok: f"JWT {tok}=", INVALID_CHARACTERS),
    header_case("base64-plus", lambda tok: f"JWT {tok[:-1]}+", INVALID_CHARACTERS),
    header_case("base64-slash", lambda tok: f"JWT {tok[:-1]}/", INVALID_CHARACTERS),
    header_case("quoted-token", lambda tok: f'JWT "{tok}"', INVALID_CHARACTERS),
    header_case(
        "percent-encoded-dots",
        lambda tok: f"JWT {tok.replace('.', '%2E')}",
        INVALID_CHARACTERS,
    ),
    header_case("latin1-letter", lambda tok: f"JWT {tok}\xe9", INVALID_CHARACTERS),
    header_case(
        "fullwidth-letter-in-token", lambda tok: f"JWT \uff45{tok}", INVALID_CHARACTERS
    ),
    header_case(
        "fullwidth-letter-in-token-wsgi",
        lambda tok: wsgi(f"JWT \uff45{tok}"),
        INVALID_CHARACTERS,
    ),
    header_case("kelvin-in-token", lambda tok: f"JWT \u212a{tok}", INVALID_CHARACTERS),
    header_case(
        "emoji-in-token", lambda tok: f"JWT {tok}\U0001f600", INVALID_CHARACTERS
    ),
    header_case("line-separator", lambda tok: f"JWT {tok}\u2028", INVALID_CHARACTERS),
    # Nothing at all.
    header_case("empty-value", lambda tok: "", NO_TOKEN),
]


@pytest.mark.parametrize(("make_value", "refused"), AUTHORIZATION_CASES)
def test_malformed_authorization_header_is_refused(make_value, refused):
    # A valid token inside a malformed header must still be refused.
    client, seen = recording_client()
    value = make_value(make_token())
    response = client.get("/protected", headers={"Authorization": value})
    assert seen == [value]
    assert_refused(response, refused)


#: Values the test client will not put in a header (it refuses CR and LF);
#: a lenient server or proxy could still pass them on.
ENVIRON_CASES = [
    header_case("crlf-after-token", lambda tok: f"JWT {tok}\r\n", INVALID_CHARACTERS),
    header_case("lf-separator", lambda tok: f"JWT\n{tok}", UNSUPPORTED),
    header_case("obs-fold", lambda tok: f"JWT\r\n {tok}", UNSUPPORTED),
    header_case(
        "header-injection",
        lambda tok: f"JWT {tok}\r\nX-Admin: 1",
        SPACES,
    ),
]


@pytest.mark.parametrize(("make_value", "refused"), ENVIRON_CASES)
def test_line_breaks_in_authorization_are_refused(make_value, refused):
    client, seen = recording_client()
    value = make_value(make_token())
    response = client.get("/protected", environ_overrides={"HTTP_AUTHORIZATION": value})
    assert seen == [value]
    assert_refused(response, refused)


@pytest.mark.parametrize("scheme", ["JWT", "jwt", "Jwt", "jWt", "JwT"])
def test_scheme_is_case_insensitive(scheme):
    client, _ = recording_client()
    response = client.get("/protected", headers=auth_header(make_token(), scheme))
    assert_accepted(response)


def test_no_authorization_header():
    client, seen = recording_client()
    response = client.get("/protected")
    assert seen == [None]
    assert_refused(response, NO_TOKEN)


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        pytest.param(["JWT {tok}", "JWT {tok}"], SPACES, id="same-token-twice"),
        pytest.param(["JWT {tok}", "JWT {other}"], SPACES, id="two-tokens"),
        pytest.param(["JWT {tok}", "Bearer x"], SPACES, id="jwt-then-bearer"),
        pytest.param(["Bearer x", "JWT {tok}"], UNSUPPORTED, id="bearer-then-jwt"),
        pytest.param(["JWT {tok}", ""], SPACES, id="token-then-empty"),
        pytest.param(["", "JWT {tok}"], UNSUPPORTED, id="empty-then-token"),
    ],
)
def test_duplicate_authorization_headers_are_refused(values, refused):
    client, seen = recording_client()
    tokens = {"tok": make_token(), "other": make_token(claims(identity=2, sub="2"))}
    headers = [("Authorization", value.format(**tokens)) for value in values]
    response = client.get("/protected", headers=headers)
    # Werkzeug joins repeated headers with ", ", as most servers do.
    assert seen == [", ".join(value for _, value in headers)]
    assert_refused(response, refused)


KELVIN_TOKEN = "To\u212aen"  # "\u212a".lower() == "k"


@pytest.mark.parametrize(
    ("make_value", "refused"),
    [
        header_case("kelvin", lambda tok: f"{KELVIN_TOKEN} {tok}", UNSUPPORTED),
        header_case(
            "kelvin-wsgi", lambda tok: wsgi(f"{KELVIN_TOKEN} {tok}"), UNSUPPORTED
        ),
        header_case("long-s", lambda tok: f"Token\u017f {tok}", UNSUPPORTED),
        header_case("dotless-i", lambda tok: f"Tok\u0131n {tok}", UNSUPPORTED),
        header_case("default-scheme", lambda tok: f"JWT {tok}", UNSUPPORTED),
        header_case("prefix-only", lambda tok: "TOKEN", TOKEN_MISSING),
    ],
)
def test_unicode_case_folding_does_not_reach_the_scheme(make_value, refused):
    assert KELVIN_TOKEN.lower() == "token"  # the trick this case is about
    client, seen = recording_client({"JWT_AUTH_HEADER_PREFIX": "Token"})
    value = make_value(make_token())
    response = client.get("/protected", headers={"Authorization": value})
    assert seen == [value]
    assert_refused(response, refused, scheme="Token")


@pytest.mark.parametrize("scheme", ["Token", "TOKEN", "token"])
def test_configured_scheme_is_case_insensitive(scheme):
    client, _ = recording_client({"JWT_AUTH_HEADER_PREFIX": "Token"})
    response = client.get("/protected", headers=auth_header(make_token(), scheme))
    assert_accepted(response)


# -- size cap ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "refused"),
    [
        pytest.param("a" * 8193, TOO_LARGE, id="one-over-default"),
        # The size is checked first: before spaces, characters or decoding.
        pytest.param("!" * 8193, TOO_LARGE, id="invalid-characters"),
        pytest.param("a " * 4097, TOO_LARGE, id="spaces"),
        pytest.param("a" * 1024 * 1024, TOO_LARGE, id="one-megabyte"),
        pytest.param(
            "a" * 8192, token_refused(NOT_ENOUGH_SEGMENTS), id="at-default-is-decoded"
        ),
    ],
)
def test_token_size_cap(client, token, refused):
    assert_refused(client.get("/protected", headers=auth_header(token)), refused)


def test_configured_size_cap_applies_to_valid_tokens():
    token = make_token()
    client, _ = recording_client({"JWT_MAX_TOKEN_SIZE": len(token)})
    assert_accepted(client.get("/protected", headers=auth_header(token)))
    client, _ = recording_client({"JWT_MAX_TOKEN_SIZE": len(token) - 1})
    assert_refused(client.get("/protected", headers=auth_header(token)), TOO_LARGE)


def test_deeply_nested_payload_is_refused_by_size_before_parsing(client):
    token = forge(payload=nested(100_000))
    assert len(token) > 8192
    assert_refused(client.get("/protected", headers=auth_header(token)), TOO_LARGE)


# -- tokens --------------------------------------------------------------------


def token_case(name: str, make: t.Callable[[], str], refused: Refused) -> t.Any:
    return pytest.param(make, refused, id=name)


def unsigned(alg: str) -> str:
    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims())}."


def with_signature(transform: t.Callable[[bytes], bytes]) -> str:
    header, payload, signature = make_token().split(".")
    return f"{header}.{payload}.{b64(transform(unb64(signature)))}"


def tampered_payload() -> str:
    header, _, signature = make_token().split(".")
    return f"{header}.{part(claims(identity=2, sub='2'))}.{signature}"


def tampered_header() -> str:
    _, payload, signature = make_token().split(".")
    return f"{part({'alg': 'HS256', 'typ': 'JWS'})}.{payload}.{signature}"


def swapped_signature() -> str:
    header, payload, _ = make_token().split(".")
    other = make_token(claims(identity=2, sub="2")).split(".")[2]
    return f"{header}.{payload}.{other}"


def weak_key_token(key: str) -> str:
    # PyJWT warns about short HMAC keys; the short key is the point here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(claims(), key, algorithm="HS256")


def non_canonical_header() -> str:
    return resign(non_canonical(with_loose_end(HS256)), part(claims()))


def non_canonical_payload() -> str:
    return resign(part(HS256), non_canonical(with_loose_end(claims())))


def non_canonical_signature() -> str:
    header, payload, signature = make_token().split(".")
    assert len(signature) % 4 == 3  # 32 bytes of HMAC-SHA256
    return f"{header}.{payload}.{non_canonical(signature)}"


def extra_character(segment_index: int) -> str:
    segments = make_token().split(".")
    segments[segment_index] += "A" * ((1 - len(segments[segment_index])) % 4)
    assert len(segments[segment_index]) % 4 == 1
    if segment_index < 2:
        return resign(segments[0], segments[1])
    return ".".join(segments)


def duplicate_alg_header() -> str:
    # RFC 7515 section 4: either refuse duplicates or take the last one.
    header = b'{"alg":"HS256","typ":"JWT","alg":"none"}'
    return forge(header=header)


TOKEN_CASES = [
    # alg "none", in every casing, with and without a signature.
    *(
        token_case(
            f"alg-{alg}-unsigned", partial(unsigned, alg), token_refused(NOT_ALLOWED)
        )
        for alg in ("none", "None", "NONE", "nOnE")
    ),
    *(
        token_case(
            f"alg-{alg}-signed",
            partial(forge, {"alg": alg, "typ": "JWT"}),
            token_refused(NOT_ALLOWED),
        )
        for alg in ("none", "None", "NONE", "nOnE")
    ),
    token_case(
        "alg-none-duplicate-key", duplicate_alg_header, token_refused(NOT_ALLOWED)
    ),
    # Other algorithms than the configured one.
    *(
        token_case(
            f"alg-{name}",
            partial(forge, {"alg": alg, "typ": "JWT"}),
            token_refused(NOT_ALLOWED),
        )
        for name, alg in [
            ("HS257", "HS257"),
            ("null", None),
            ("empty", ""),
            ("list", ["HS256"]),
            ("object", {"alg": "HS256"}),
            ("number", 256),
            ("true", True),
            ("lowercase", "hs256"),
            ("trailing-space", "HS256 "),
            ("RS256", "RS256"),
            ("ES256", "ES256"),
        ]
    ),
    token_case(
        "alg-HS384-signed-with-secret",
        partial(forge, {"alg": "HS384", "typ": "JWT"}, digest="sha384"),
        token_refused(NOT_ALLOWED),
    ),
    token_case(
        "alg-HS512-signed-with-secret",
        partial(forge, {"alg": "HS512", "typ": "JWT"}, digest="sha512"),
        token_refused(NOT_ALLOWED),
    ),
    token_case(
        "alg-missing",
        partial(forge, {"typ": "JWT"}),
        token_refused(re.compile(r"Algorithm not specified|" + NOT_ALLOWED)),
    ),
    # Signatures.
    token_case(
        "signature-empty",
        lambda: make_token().rsplit(".", 1)[0] + ".",
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "signature-stripped",
        lambda: make_token().rsplit(".", 1)[0],
        token_refused(NOT_ENOUGH_SEGMENTS),
    ),
    token_case(
        "signature-truncated",
        partial(with_signature, lambda sig: sig[:16]),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "signature-one-byte",
        partial(with_signature, lambda sig: sig[:1]),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "signature-extended",
        partial(with_signature, lambda sig: sig + b"\x00"),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "signature-bit-flipped",
        partial(with_signature, lambda sig: bytes([sig[0] ^ 1]) + sig[1:]),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "signature-zeros",
        partial(with_signature, lambda sig: bytes(len(sig))),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "signature-of-other-token", swapped_signature, token_refused(BAD_SIGNATURE)
    ),
    token_case("payload-tampered", tampered_payload, token_refused(BAD_SIGNATURE)),
    token_case("header-tampered", tampered_header, token_refused(BAD_SIGNATURE)),
    token_case(
        "wrong-secret",
        partial(make_token, None, ATTACKER_SECRET.decode()),
        token_refused(BAD_SIGNATURE),
    ),
    token_case("empty-key", partial(forge, key=b""), token_refused(BAD_SIGNATURE)),
    token_case(
        "short-key", partial(weak_key_token, "secret"), token_refused(BAD_SIGNATURE)
    ),
    # crit, and RFC 7797's b64.
    token_case(
        "crit-unknown",
        partial(forge, {**HS256, "crit": ["x-custom"], "x-custom": 1}),
        CRIT,
    ),
    token_case(
        "crit-unknown-absent", partial(forge, {**HS256, "crit": ["x-custom"]}), CRIT
    ),
    token_case(
        "crit-registered-name",
        partial(forge, {**HS256, "crit": ["exp"], "exp": 1}),
        CRIT,
    ),
    token_case("crit-string", partial(forge, {**HS256, "crit": "x-custom"}), CRIT),
    token_case("crit-empty-list", partial(forge, {**HS256, "crit": []}), CRIT),
    token_case("crit-not-strings", partial(forge, {**HS256, "crit": [1]}), CRIT),
    token_case("crit-object", partial(forge, {**HS256, "crit": {"b64": False}}), CRIT),
    token_case(
        "b64-false-detached",
        partial(forge, {**HS256, "b64": False, "crit": ["b64"]}, b""),
        CRIT,
    ),
    token_case(
        "b64-false-attached",
        partial(forge, {**HS256, "b64": False, "crit": ["b64"]}),
        CRIT,
    ),
    # RFC 7797 section 6: "b64" MUST be listed in "crit"; a token that says
    # b64=false and does not is malformed, whatever its payload.
    token_case(
        "b64-false-without-crit",
        partial(forge, {**HS256, "b64": False}),
        token_refused(
            "The 'b64' header parameter requires 'b64' to be listed in 'crit'."
        ),
    ),
    # Header parameters that try to choose the key.
    token_case(
        "embedded-jwk-oct",
        partial(
            forge,
            {**HS256, "jwk": {"kty": "oct", "k": b64(ATTACKER_SECRET)}},
            key=ATTACKER_SECRET,
        ),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "jku",
        partial(
            forge,
            {**HS256, "jku": "https://attacker.example/jwks.json", "kid": "a"},
            key=ATTACKER_SECRET,
        ),
        token_refused(UNKNOWN_KID),
    ),
    token_case(
        "x5u",
        partial(
            forge,
            {**HS256, "x5u": "https://attacker.example/cert.pem"},
            key=ATTACKER_SECRET,
        ),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "x5c",
        partial(
            forge, {**HS256, "x5c": [b64(b"not a certificate")]}, key=ATTACKER_SECRET
        ),
        token_refused(BAD_SIGNATURE),
    ),
    token_case(
        "kid-path-traversal-empty-key",
        partial(forge, {**HS256, "kid": "../../../../../../dev/null"}, key=b""),
        token_refused(UNKNOWN_KID),
    ),
    token_case(
        "kid-sql-injection",
        partial(forge, {**HS256, "kid": "x' UNION SELECT 'attacker"}, key=b"attacker"),
        token_refused(UNKNOWN_KID),
    ),
    # RFC 7515 section 4.1.4: kid is a string (PyJWT refuses anything else).
    token_case(
        "kid-number",
        partial(forge, {**HS256, "kid": 1}),
        token_refused("Key ID header parameter must be a string"),
    ),
    # Base64url.
    token_case(
        "header-non-canonical",
        non_canonical_header,
        token_refused("Invalid header padding"),
    ),
    token_case(
        "payload-non-canonical",
        non_canonical_payload,
        token_refused("Invalid payload padding"),
    ),
    token_case(
        "signature-non-canonical",
        non_canonical_signature,
        token_refused("Invalid crypto padding"),
    ),
    token_case(
        "header-impossible-length",
        partial(extra_character, 0),
        token_refused("Invalid header padding"),
    ),
    token_case(
        "payload-impossible-length",
        partial(extra_character, 1),
        token_refused("Invalid payload padding"),
    ),
    token_case(
        "signature-impossible-length",
        partial(extra_character, 2),
        token_refused("Invalid crypto padding"),
    ),
    # JSON that is not a JSON object.
    token_case("header-not-json", partial(forge, b"not json"), INVALID_HEADER_JSON),
    token_case("header-empty", partial(forge, b""), INVALID_HEADER_JSON),
    token_case(
        "header-invalid-utf8", partial(forge, b'{"alg":"\xff"}'), INVALID_HEADER_JSON
    ),
    token_case(
        "header-utf16",
        partial(forge, json.dumps(HS256).encode("utf-16")),
        INVALID_HEADER_JSON,
    ),
    token_case(
        "header-trailing-garbage",
        partial(forge, b'{"alg":"HS256","typ":"JWT"}x'),
        INVALID_HEADER_JSON,
    ),
    token_case(
        "payload-not-json", partial(forge, HS256, b"not json"), INVALID_PAYLOAD_JSON
    ),
    token_case("payload-empty", partial(forge, HS256, b""), INVALID_PAYLOAD_JSON),
    token_case(
        "payload-invalid-utf8",
        partial(forge, HS256, b'{"a":"\xff"}'),
        INVALID_PAYLOAD_JSON,
    ),
    token_case(
        "payload-utf16",
        lambda: forge(HS256, json.dumps(claims()).encode("utf-16")),
        INVALID_PAYLOAD_JSON,
    ),
    *(
        token_case(f"header-{name}", partial(forge, value), HEADER_NOT_OBJECT)
        for name, value in [
            ("list", ["HS256"]),
            ("string", "HS256"),
            ("number", 1),
            ("null", b"null"),
            ("true", True),
        ]
    ),
    *(
        token_case(f"payload-{name}", partial(forge, HS256, value), PAYLOAD_NOT_OBJECT)
        for name, value in [
            ("list", [claims()]),
            ("string", "claims"),
            ("number", 1),
            ("null", b"null"),
            ("true", True),
        ]
    ),
    # Segments.
    token_case("one-segment", lambda: "abc", token_refused(NOT_ENOUGH_SEGMENTS)),
    token_case(
        "one-segment-header",
        lambda: make_token().split(".")[0],
        token_refused(NOT_ENOUGH_SEGMENTS),
    ),
    token_case(
        "two-segments",
        lambda: ".".join(make_token().split(".")[:2]),
        token_refused(NOT_ENOUGH_SEGMENTS),
    ),
    token_case(
        "four-segments",
        lambda: make_token() + "." + make_token().split(".")[2],
        token_refused(TOO_MANY_SEGMENTS),
    ),
    token_case(
        "four-segments-trailing-dot",
        lambda: make_token() + ".",
        token_refused(TOO_MANY_SEGMENTS),
    ),
    token_case(
        "five-segments-jwe-shape",
        lambda: make_token() + ".AAAA.AAAA",
        token_refused(TOO_MANY_SEGMENTS),
    ),
    token_case("only-dot", lambda: ".", token_refused(NOT_ENOUGH_SEGMENTS)),
    token_case("only-dots", lambda: "..", INVALID_HEADER_JSON),
    token_case("three-dots", lambda: "...", token_refused(TOO_MANY_SEGMENTS)),
    token_case(
        "empty-header-segment",
        lambda: "." + make_token().split(".", 1)[1],
        INVALID_HEADER_JSON,
    ),
    token_case(
        "empty-payload-segment", lambda: resign(part(HS256), ""), INVALID_PAYLOAD_JSON
    ),
]


@pytest.mark.parametrize(("make", "refused"), TOKEN_CASES)
def test_hostile_token_is_refused(client, make, refused):
    response = client.get("/protected", headers=auth_header(make()))
    assert_refused(response, refused)


# -- claims --------------------------------------------------------------------

EXPIRED = token_refused("Signature has expired")
NBF_FUTURE = token_refused("The token is not yet valid (nbf)")
IAT_FUTURE = token_refused("The token is not yet valid (iat)")

CLAIM_LABELS = {"exp": "Expiration Time", "nbf": "Not Before", "iat": "Issued At"}


def not_numeric(claim: str) -> Refused:
    return token_refused(f"{CLAIM_LABELS[claim]} claim ({claim}) must be an integer.")


def huge(claim: str) -> Refused:
    """Out of a float's range: refused as such, or for what the value means."""
    semantic = {"exp": EXPIRED, "nbf": NBF_FUTURE, "iat": IAT_FUTURE}[claim]
    options = (not_numeric(claim).description, semantic.description)
    return token_refused(re.compile("|".join(map(re.escape, options))))


def missing(claim: str) -> Refused:
    return token_refused(f'Token is missing the "{claim}" claim')


#: JSON values that are not a NumericDate (RFC 7519 section 2: a JSON number).
NOT_NUMERIC_VALUES = [
    ("string", "abc"),
    ("empty-string", ""),
    ("numeric-string", "9999999999"),
    ("zero-string", "0"),
    ("true", True),
    ("false", False),
    ("empty-list", []),
    ("list", [9999999999]),
    ("object", {"exp": 9999999999}),
]
#: Number literals that do not fit a NumericDate (NaN and Infinity are not
#: even JSON, but Python's parser accepts them).
NOT_NUMERIC_LITERALS = [
    ("NaN", "NaN"),
    ("Infinity", "Infinity"),
    ("minus-Infinity", "-Infinity"),
    ("1e400", "1e400"),
]


def now() -> int:
    return int(time.time())


CLAIM_CASES = [
    token_case("expired", lambda: signed_claims(exp=now() - 3600), EXPIRED),
    token_case("expired-past-leeway", lambda: signed_claims(exp=now() - 30), EXPIRED),
    token_case("exp-zero", lambda: signed_claims(exp=0), EXPIRED),
    token_case("exp-negative", lambda: signed_claims(exp=-1), EXPIRED),
    token_case("nbf-future", lambda: signed_claims(nbf=now() + 3600), NBF_FUTURE),
    token_case("iat-future", lambda: signed_claims(iat=now() + 3600), IAT_FUTURE),
    *(
        token_case(
            f"{claim}-missing", partial(signed_claims, **{claim: None}), missing(claim)
        )
        for claim in ("exp", "iat", "nbf")
    ),
    *(
        token_case(f"{claim}-null", partial(signed_null, claim), missing(claim))
        for claim in ("exp", "iat", "nbf")
    ),
    *(
        token_case(
            f"{claim}-{name}",
            partial(signed_claims, **{claim: value}),
            not_numeric(claim),
        )
        for claim in ("exp", "iat", "nbf")
        for name, value in NOT_NUMERIC_VALUES
    ),
    *(
        token_case(
            f"{claim}-{name}",
            partial(signed_literal, claim, literal),
            not_numeric(claim),
        )
        for claim in ("exp", "iat", "nbf")
        for name, literal in NOT_NUMERIC_LITERALS
    ),
    # Huge integers: JSON has no limit, but a float overflows past 1.8e308.
    # Refusing them as out of range is as good as the semantic refusal.
    token_case("exp-huge", partial(signed_claims, exp=10**400), not_numeric("exp")),
    token_case("nbf-huge", partial(signed_claims, nbf=10**400), huge("nbf")),
    token_case("iat-huge", partial(signed_claims, iat=10**400), huge("iat")),
    token_case(
        "exp-huge-negative",
        partial(signed_claims, exp=-(10**400)),
        huge("exp"),
    ),
    token_case(
        "nbf-5000-digits",
        partial(signed_literal, "nbf", "9" * 5000),
        # Python refuses to parse integers this long (CVE-2020-10735); where
        # it does not, the value is in the future.
        token_refused(
            re.compile(
                r"Invalid payload string: .+|" + re.escape(NBF_FUTURE.description)
            )
        ),
    ),
    token_case("identity-huge", partial(signed_claims, identity=10**400), UNKNOWN_USER),
    # Registered claims of the wrong type.
    *(
        token_case(
            f"sub-{name}",
            partial(signed_claims, sub=value),
            token_refused("Subject must be a string"),
        )
        for name, value in [("number", 1), ("list", ["1"]), ("object", {"id": 1})]
    ),
    token_case(
        "sub-null",
        partial(signed_null, "sub"),
        token_refused("Subject must be a string"),
    ),
    *(
        token_case(
            f"jti-{name}",
            partial(signed_claims, jti=value),
            token_refused("JWT ID must be a string"),
        )
        for name, value in [("number", 1), ("list", ["a"]), ("object", {"a": 1})]
    ),
    token_case(
        "jti-null",
        partial(signed_null, "jti"),
        token_refused("JWT ID must be a string"),
    ),
    # No audience is configured: a token meant for one is not for us
    # (RFC 7519 section 4.1.3), even when the claim is empty.
    *(
        token_case(
            f"aud-{name}",
            partial(signed_claims, aud=value),
            token_refused("Invalid audience"),
        )
        for name, value in [
            ("string", "https://other.example"),
            ("list", ["https://other.example"]),
            ("empty-string", ""),
            ("empty-list", []),
        ]
    ),
    # Nesting that only the JSON parser can refuse (the size cap is raised).
    token_case(
        "payload-nested-lists",
        partial(forge, HS256, nested(100_000)),
        token_refused(re.compile(r"Invalid payload string: .*recursion.*")),
    ),
    token_case(
        "payload-nested-objects",
        partial(forge, HS256, b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        token_refused(re.compile(r"Invalid payload string: .*recursion.*")),
    ),
    token_case(
        "claim-nested-lists",
        partial(signed_literal, "x", nested(100_000).decode()),
        token_refused(re.compile(r"Invalid payload string: .*recursion.*")),
    ),
    token_case(
        "header-nested-lists",
        partial(forge, nested(100_000)),
        token_refused(re.compile(r"Invalid header string: .*recursion.*")),
    ),
]


@pytest.mark.parametrize(("make", "refused"), CLAIM_CASES)
def test_hostile_claims_are_refused(make, refused):
    client, _ = recording_client({"JWT_MAX_TOKEN_SIZE": 1024 * 1024})
    response = client.get("/protected", headers=auth_header(make()))
    assert_refused(response, refused)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: signed_claims(exp=now() - 5), id="expired-within-leeway"),
        pytest.param(lambda: signed_claims(nbf=now() + 5), id="nbf-within-leeway"),
        pytest.param(lambda: signed_claims(exp=1.5e300), id="exp-float-huge"),
        pytest.param(lambda: signed_claims(jti="a" * 100), id="jti-string"),
    ],
)
def test_edge_claims_that_are_valid(client, make):
    # Controls for the claim cases: edges that a correct verifier accepts.
    assert_accepted(client.get("/protected", headers=auth_header(make())))


@pytest.mark.parametrize(
    "identity",
    [99, 0, -1, "1", "user1", "", 2**64],
    ids=["unknown-id", "zero", "negative", "string-id", "username", "empty", "2**64"],
)
def test_valid_token_for_unknown_identity(client, identity):
    token = make_token(claims(identity=identity))
    assert_refused(client.get("/protected", headers=auth_header(token)), UNKNOWN_USER)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(partial(signed_claims, identity=None), id="identity-missing"),
        pytest.param(partial(signed_null, "identity"), id="identity-null"),
        pytest.param(partial(signed_claims, identity=[1]), id="identity-list"),
        pytest.param(partial(signed_claims, identity={"id": 1}), id="identity-object"),
    ],
)
def test_identity_claim_of_the_wrong_shape(client, make):
    # Signed with the app's own secret; the README's identity handler reads
    # payload["identity"]. Which layer refuses is open, but it must be a
    # JSON 401, never a 500.
    response = client.get("/protected", headers=auth_header(make()))
    assert response.status_code == 401, show(response)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status_code"] == 401
    assert body["error"] in {"Invalid token", "Invalid JWT"}
    assert isinstance(body["description"], str) and body["description"]
    assert response.headers["WWW-Authenticate"] == challenge("JWT", body["description"])


# -- asymmetric keys -----------------------------------------------------------


@functools.cache
def private_key(kind: str) -> t.Any:
    if kind.startswith("RS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(kind: str) -> bytes:
    return private_key(kind).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(kind: str, public_format: t.Any = None) -> bytes:
    return (
        private_key(kind)
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            public_format or serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )


def attacker(alg: str) -> str:
    return f"{alg}-attacker"


def public_jwk(kind: str) -> dict[str, t.Any]:
    algorithm = jwt.get_algorithm_by_name("RS256" if kind.startswith("RS") else "ES256")
    return t.cast(dict, algorithm.to_jwk(private_key(kind).public_key(), as_dict=True))


def hs256_with_public_key(alg: str, public_format: t.Any = None) -> str:
    # The classic confusion: the verifier's public key used as an HMAC secret.
    return forge(key=public_pem(alg, public_format))


def signed_by_attacker(alg: str, **header: t.Any) -> str:
    return jwt.encode(
        claims(), private_key(attacker(alg)), algorithm=alg, headers=header
    )


def with_embedded_jwk(alg: str) -> str:
    return signed_by_attacker(alg, jwk=public_jwk(attacker(alg)))


def sibling_alg(alg: str) -> str:
    # Signed by the real key, under an algorithm the app does not use.
    if alg == "RS256":
        return jwt.encode(claims(), private_key(alg), algorithm="PS256")
    _, payload, signature = jwt.encode(claims(), private_key(alg), "ES256").split(".")
    return f"{part({'alg': 'ES384', 'typ': 'JWT'})}.{payload}.{signature}"


def asymmetric_tampered(alg: str) -> str:
    header, _, signature = jwt.encode(claims(), private_key(alg), alg).split(".")
    return f"{header}.{part(claims(identity=2, sub='2'))}.{signature}"


def ecdsa_der_signature(alg: str) -> str:
    signing_input = f"{part({'alg': 'ES256', 'typ': 'JWT'})}.{part(claims())}"
    der = private_key(alg).sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{signing_input}.{b64(der)}"


def ecdsa_zero_signature(alg: str) -> str:
    # CVE-2022-21449 ("psychic signatures"): r = s = 0.
    return f"{part({'alg': 'ES256', 'typ': 'JWT'})}.{part(claims())}.{b64(bytes(64))}"


ASYMMETRIC_CASES = [
    ("hs256-with-public-pem", hs256_with_public_key, NOT_ALLOWED),
    ("embedded-jwk", with_embedded_jwk, BAD_SIGNATURE),
    (
        "jku",
        lambda alg: signed_by_attacker(alg, jku="https://attacker.example/jwks.json"),
        BAD_SIGNATURE,
    ),
    (
        "x5u",
        lambda alg: signed_by_attacker(alg, x5u="https://attacker.example/c.pem"),
        BAD_SIGNATURE,
    ),
    ("kid", lambda alg: signed_by_attacker(alg, kid="attacker"), UNKNOWN_KID),
    ("alg-none", lambda alg: unsigned("none"), NOT_ALLOWED),
    ("sibling-alg", sibling_alg, NOT_ALLOWED),
    ("payload-tampered", asymmetric_tampered, BAD_SIGNATURE),
    (
        "signature-empty",
        lambda alg: jwt.encode(claims(), private_key(alg), alg).rsplit(".", 1)[0] + ".",
        BAD_SIGNATURE,
    ),
]


@pytest.fixture(scope="module", params=["RS256", "ES256"])
def asymmetric_alg(request):
    return request.param


@functools.cache
def asymmetric_app(alg: str) -> Flask:
    return create_app({"JWT_ALGORITHM": alg, "JWT_PRIVATE_KEY": private_pem(alg)})


def asymmetric_client(alg: str) -> t.Any:
    return asymmetric_app(alg).test_client()


@pytest.mark.parametrize(
    ("make", "description"),
    [
        pytest.param(make, description, id=name)
        for name, make, description in ASYMMETRIC_CASES
    ],
)
def test_asymmetric_app_refuses(asymmetric_alg, make, description):
    client = asymmetric_client(asymmetric_alg)
    response = client.get("/protected", headers=auth_header(make(asymmetric_alg)))
    assert_refused(response, token_refused(description))


def test_rsa_app_refuses_hs256_with_pkcs1_public_key():
    client = asymmetric_client("RS256")
    token = hs256_with_public_key("RS256", serialization.PublicFormat.PKCS1)
    assert_refused(
        client.get("/protected", headers=auth_header(token)), token_refused(NOT_ALLOWED)
    )


@pytest.mark.parametrize("make", [ecdsa_der_signature, ecdsa_zero_signature])
def test_ec_app_refuses_malformed_ecdsa_signatures(make):
    client = asymmetric_client("ES256")
    response = client.get("/protected", headers=auth_header(make("ES256")))
    assert_refused(response, token_refused(BAD_SIGNATURE))


def test_asymmetric_app_accepts_its_own_tokens(asymmetric_alg):
    # The control for the refusals above.
    client = asymmetric_client(asymmetric_alg)
    token = jwt.encode(claims(), private_key(asymmetric_alg), asymmetric_alg)
    assert_accepted(client.get("/protected", headers=auth_header(token)))
    assert_accepted(client.get("/protected", headers=auth_header(login(client))))


# -- POST /auth ----------------------------------------------------------------


@dataclass(frozen=True)
class AuthRefused:
    status: int
    description: str
    #: The fields named in ``errors``; ``None`` when there is no ``errors``.
    fields: frozenset[str] | None


NOT_JSON_TYPE = AuthRefused(400, "Request body must be JSON", frozenset({"_body"}))
NOT_JSON = AuthRefused(400, "Request body is not valid JSON", frozenset({"_body"}))
BODY_TOO_LARGE = AuthRefused(413, "Request body is too large", frozenset({"_body"}))
BAD_CREDENTIALS = AuthRefused(401, "Invalid credentials", None)


def invalid(*fields: str) -> AuthRefused:
    return AuthRefused(400, "Invalid credentials", frozenset(fields))


def assert_auth_refused(response: t.Any, refused: AuthRefused) -> None:
    assert response.status_code == refused.status, show(response)
    assert response.mimetype == "application/json", show(response)
    body = response.get_json()
    assert body["status_code"] == refused.status
    # The reason phrase of the status; a wrong password keeps Flask-JWT's.
    expected_error = (
        "Request Entity Too Large" if refused.status == 413 else "Bad Request"
    )
    assert body["error"] == expected_error, body
    assert body["description"] == refused.description, body
    if refused.fields is None:
        assert set(body) == {"status_code", "error", "description"}
    else:
        assert set(body) == {"status_code", "error", "description", "errors"}
        assert set(body["errors"]) == refused.fields, body
    if refused.status == 401:
        assert response.headers.getlist("WWW-Authenticate") == [challenge()]
    else:
        assert "WWW-Authenticate" not in response.headers


def raw(data: bytes | str, content_type: str = "application/json") -> dict[str, t.Any]:
    return {"data": data, "content_type": content_type}


CREDENTIALS = '{"username":"user1","password":"abcxyz"}'


def credentials(username: t.Any = "user1", password: t.Any = "abcxyz") -> dict:
    return {"json": {"username": username, "password": password}}


def auth_case(name: str, kwargs: dict[str, t.Any], refused: AuthRefused) -> t.Any:
    return pytest.param(kwargs, refused, id=name)


AUTH_CASES = [
    # Not JSON at all.
    auth_case(
        "form-data",
        {"data": {"username": "user1", "password": "abcxyz"}},
        NOT_JSON_TYPE,
    ),
    auth_case(
        "multipart",
        {
            "data": {"username": "user1", "password": "abcxyz"},
            "content_type": "multipart/form-data",
        },
        NOT_JSON_TYPE,
    ),
    auth_case("text-plain", raw(CREDENTIALS, "text/plain"), NOT_JSON_TYPE),
    auth_case(
        "xml", raw("<username>user1</username>", "application/xml"), NOT_JSON_TYPE
    ),
    auth_case("no-body", {}, NOT_JSON_TYPE),
    auth_case("no-body-json-type", raw(b""), NOT_JSON),
    # Broken JSON.
    auth_case("broken", raw('{"username":'), NOT_JSON),
    auth_case("trailing-garbage", raw(CREDENTIALS + " x"), NOT_JSON),
    auth_case("two-documents", raw(CREDENTIALS + CREDENTIALS), NOT_JSON),
    auth_case(
        "single-quotes", raw("{'username':'user1','password':'abcxyz'}"), NOT_JSON
    ),
    auth_case(
        "trailing-comma", raw('{"username":"user1","password":"abcxyz",}'), NOT_JSON
    ),
    auth_case("comment", raw('{"username":"user1",/**/"password":"abcxyz"}'), NOT_JSON),
    # RFC 8259 section 6: NaN and Infinity are not JSON.
    auth_case("nan", raw('{"username":NaN,"password":"abcxyz"}'), NOT_JSON),
    auth_case("infinity", raw('{"username":"user1","password":Infinity}'), NOT_JSON),
    auth_case(
        "minus-infinity", raw('{"username":"user1","password":-Infinity}'), NOT_JSON
    ),
    # Bytes that are not UTF-8 (RFC 8259 section 8.1).
    auth_case(
        "invalid-utf8", raw(b'{"username":"\xff","password":"abcxyz"}'), NOT_JSON
    ),
    auth_case(
        "overlong-utf8", raw(b'{"username":"\xc0\xaf","password":"x"}'), NOT_JSON
    ),
    auth_case("utf16-with-bom", raw(CREDENTIALS.encode("utf-16")), NOT_JSON),
    auth_case("utf16-le", raw(CREDENTIALS.encode("utf-16-le")), NOT_JSON),
    auth_case("utf32", raw(CREDENTIALS.encode("utf-32")), NOT_JSON),
    # JSON, but not an object.
    *(
        auth_case(f"json-{name}", raw(text), invalid("_schema"))
        for name, text in [
            ("array", "[]"),
            ("array-of-credentials", f"[{CREDENTIALS}]"),
            ("string", '"user1"'),
            ("number", "1"),
            ("null", "null"),
            ("true", "true"),
            ("false", "false"),
        ]
    ),
    # Objects of the wrong shape.
    auth_case("empty-object", raw("{}"), invalid("username", "password")),
    auth_case("missing-password", {"json": {"username": "user1"}}, invalid("password")),
    auth_case(
        "missing-username", {"json": {"password": "abcxyz"}}, invalid("username")
    ),
    auth_case(
        "extra-field",
        {"json": {"username": "user1", "password": "abcxyz", "admin": True}},
        invalid("admin"),
    ),
    auth_case(
        "duplicate-key",
        raw('{"username":"user2","username":"user1","password":"abcxyz"}'),
        NOT_JSON,
    ),
    *(
        auth_case(
            f"both-{name}", credentials(value, value), invalid("username", "password")
        )
        for name, value in [
            ("null", None),
            ("number", 1),
            ("float", 1.5),
            ("true", True),
            ("list", ["user1"]),
            ("object", {"username": "user1"}),
            ("empty-string", ""),
        ]
    ),
    auth_case("username-number", credentials(1), invalid("username")),
    auth_case("password-list", credentials(password=["abcxyz"]), invalid("password")),
    auth_case("password-object", credentials(password={}), invalid("password")),
    # Text that cannot be stored or hashed safely.
    auth_case(
        "username-lone-surrogate",
        raw('{"username":"\\ud800","password":"abcxyz"}'),
        invalid("username"),
    ),
    auth_case(
        "password-lone-low-surrogate",
        raw('{"username":"user1","password":"abc\\udfffxyz"}'),
        invalid("password"),
    ),
    *(
        auth_case(f"username-{name}", credentials(f"user1{char}"), invalid("username"))
        for name, char in [
            ("nul", "\x00"),
            ("newline", "\n"),
            ("escape", "\x1b"),
            ("del", "\x7f"),
            ("c1-nel", "\x85"),
        ]
    ),
    auth_case("password-nul", credentials(password="abc\x00xyz"), invalid("password")),
    # Sizes.
    auth_case("username-too-long", credentials("u" * 257), invalid("username")),
    auth_case(
        "password-too-long", credentials(password="p" * 1025), invalid("password")
    ),
    auth_case("username-megabyte", credentials("u" * 1024 * 1024), BODY_TOO_LARGE),
    auth_case(
        "password-megabyte", credentials(password="p" * 1024 * 1024), BODY_TOO_LARGE
    ),
    auth_case("body-over-64k", raw(CREDENTIALS + " " * (64 * 1024)), BODY_TOO_LARGE),
    auth_case("nested-100000", raw("[" * 100_000), BODY_TOO_LARGE),
    auth_case("nested-50000", raw("[" * 50_000), NOT_JSON),
    auth_case(
        "nested-in-username",
        raw('{"username":' + "[" * 30_000 + "]" * 30_000 + ',"password":"x"}'),
        NOT_JSON,
    ),
    auth_case(
        "streamed-over-64k-without-length",
        {
            "input_stream": io.BytesIO(CREDENTIALS.encode() + b" " * (64 * 1024)),
            "content_type": "application/json",
        },
        BODY_TOO_LARGE,
    ),
    # Well-formed, wrong.
    auth_case("wrong-password", credentials(password="wrong"), BAD_CREDENTIALS),
    auth_case("unknown-user", credentials("nobody"), BAD_CREDENTIALS),
    auth_case("username-other-case", credentials("USER1"), BAD_CREDENTIALS),
    auth_case("username-trailing-space", credentials("user1 "), BAD_CREDENTIALS),
    auth_case(
        "password-trailing-space", credentials(password="abcxyz "), BAD_CREDENTIALS
    ),
    auth_case(
        "password-of-other-field", credentials("abcxyz", "user1"), BAD_CREDENTIALS
    ),
]


@pytest.mark.parametrize(("kwargs", "refused"), AUTH_CASES)
def test_hostile_auth_body_is_refused(client, kwargs, refused):
    assert_auth_refused(client.post("/auth", **kwargs), refused)


# Every RFC 9110 method but POST, HEAD (answered as GET) and OPTIONS.
OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT"]


@pytest.mark.parametrize("method", OTHER_METHODS)
def test_other_methods_on_auth_are_json(client, method):
    response = client.open("/auth", method=method, **credentials())
    assert response.status_code == 405, show(response)
    assert response.mimetype == "application/json", show(response)
    assert response.get_json() == {
        "status_code": 405,
        "error": "Method Not Allowed",
        "description": f"This endpoint accepts POST, not {method}",
    }
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert "WWW-Authenticate" not in response.headers


def test_body_of_exactly_64k_is_read(client):
    body = CREDENTIALS + " " * (64 * 1024 - len(CREDENTIALS))
    assert len(body.encode()) == 64 * 1024
    response = client.post("/auth", **raw(body))
    assert response.status_code == 200, show(response)
    assert set(response.get_json()) == {"access_token"}


def test_utf8_bom_is_ignored_or_refused(client):
    # RFC 8259 section 8.1: a parser MAY ignore a byte order mark.
    response = client.post("/auth", **raw(b"\xef\xbb\xbf" + CREDENTIALS.encode()))
    if response.status_code == 200:
        token = response.get_json()["access_token"]
        assert_accepted(client.get("/protected", headers=auth_header(token)))
    else:
        assert_auth_refused(response, NOT_JSON)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(("nobody", "abcxyz"), ("user1", "wrong"), id="user-vs-password"),
        pytest.param(("nobody", "wrong"), ("user1", "wrong"), id="both-vs-password"),
        pytest.param(("nobody", "abcxyz"), ("user2", "ABCXYZ"), id="user-vs-case"),
    ],
)
def test_wrong_username_and_wrong_password_look_the_same(client, first, second):
    one = client.post("/auth", **credentials(*first))
    two = client.post("/auth", **credentials(*second))
    assert_auth_refused(one, BAD_CREDENTIALS)
    assert (one.status, one.get_data()) == (two.status, two.get_data())
    assert one.headers.to_wsgi_list() == two.headers.to_wsgi_list()

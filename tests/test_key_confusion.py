"""Algorithm confusion and key-selection tricks, over HTTP only.

Apps are built the way the README tells users to (``conftest.create_app``) and
driven with Flask's test client, ``GET /protected`` with ``Authorization: JWT
<token>``. Tokens are forged by hand (``hmac`` and base64), since PyJWT
refuses to sign HS* with a PEM key, or to put a non-string ``kid`` in a
header.

1. HS256/384/512 tokens whose HMAC secret is our own public key, in every
   encoding an attacker could fetch or guess (PEM with and without the final
   newline, PKCS#1, DER, OpenSSH, the points, the JWK text as published by
   ``GET /.well-known/jwks.json``), for each key of a set of two, with and
   without our ``kid``: refused for the ``alg``. The same HMAC signature under
   the app's own ``alg``: refused for the signature.
2. ``kid`` tricks (path traversal, SQL, URLs, very long, empty, control and
   non-ASCII characters, non-string values) and ``jku``/``x5u``/``jwk``/``x5c``
   headers on an HS256 and an ES256 app: 401, never 500, and no file opened
   and no connection attempted while the app handles them.
3. A ``kid`` picks its key, and only that key is tried.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import functools
import hashlib
import hmac
import io
import json
import os
import pathlib
import socket
import typing as t
import urllib.request
from dataclasses import dataclass

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from conftest import auth_header
from conftest import claims
from conftest import create_app
from conftest import login
from conftest import SECRET
from test_keys import pem
from test_keys import PRIVATE_KEYS
from test_keys import RSA_OTHER

ANOTHER_SECRET = "another-secret-of-at-least-32-bytes!!"
ATTACKER_SECRET = b"attacker-secret-0123456789abcdef0123456789abcdef"
ATTACKER_EC_KEY = ec.generate_private_key(ec.SECP256R1())

HMAC_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
ASYMMETRIC_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]

NOT_ALLOWED = "The specified alg value is not allowed"
BAD_SIGNATURE = "Signature verification failed"
UNKNOWN_KID = "Unknown key ID (kid)"
KID_NOT_STRING = "Key ID header parameter must be a string"
TOO_LARGE = "Token is too large"
#: The ``error`` of each refusal: the last is refused before any decoding.
ERRORS = {TOO_LARGE: "Invalid JWT header"}


# -- forging -------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def part(value: t.Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def forge(header: dict[str, t.Any], key: t.Any, signer: str) -> str:
    """Valid claims for user1 under any ``header``, signed by ``signer``
    (``HS256``... with ``key`` as the HMAC secret whatever it is, or an
    asymmetric algorithm with the private ``key``), bypassing PyJWT's encoder."""
    signing_input = f"{part(header)}.{part(claims())}"
    message = signing_input.encode("ascii")
    if signer in HMAC_DIGESTS:
        signature = hmac.digest(key, message, HMAC_DIGESTS[signer])
    else:
        signature = jwt.get_algorithm_by_name(signer).sign(message, key)
    return f"{signing_input}.{b64(signature)}"


def header(alg: str, **extra: t.Any) -> dict[str, t.Any]:
    """A JOSE header; ``kid=None`` leaves ``kid`` out (a JSON null ``kid`` is
    written out by hand, in part 2)."""
    value = {"typ": "JWT", "alg": alg, **extra}
    if value.get("kid", 0) is None:
        del value["kid"]
    return value


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


# -- no file, no network -----------------------------------------------------


@contextlib.contextmanager
def no_file_or_network_access() -> t.Iterator[list[tuple[str, str]]]:
    """Record every file opened (then open it, so a legitimate use shows up
    here rather than as a 500) and refuse every connection or name lookup
    attempted inside the block. Restored on exit, through monkeypatch."""
    touched: list[tuple[str, str]] = []

    def recording(name: str, original: t.Callable[..., t.Any]) -> t.Any:
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            touched.append((name, repr(args[:1])[:200]))
            return original(*args, **kwargs)

        return wrapper

    def refusing(name: str, method: bool = False) -> t.Any:
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            touched.append((name, repr(args[1:2] if method else args[:1])[:200]))
            raise OSError(f"{name} during a request under test")

        return wrapper

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "open", recording("open", builtins.open))
        patch.setattr(io, "open", recording("io.open", io.open))
        patch.setattr(os, "open", recording("os.open", os.open))
        patch.setattr(socket.socket, "connect", refusing("connect", method=True))
        patch.setattr(socket.socket, "connect_ex", refusing("connect_ex", True))
        patch.setattr(socket, "create_connection", refusing("create_connection"))
        patch.setattr(socket, "getaddrinfo", refusing("getaddrinfo"))
        patch.setattr(urllib.request, "urlopen", refusing("urlopen"))
        # PyJWKClient fetches through an opener, not urlopen.
        patch.setattr(
            urllib.request.OpenerDirector, "open", refusing("opener", method=True)
        )
        yield touched


def get_protected(client: t.Any, tokens: list[str]) -> list[t.Any]:
    """``GET /protected`` with each token, asserting that none of the
    requests opened a file or tried the network."""
    with no_file_or_network_access() as touched:
        responses = [
            client.get("/protected", headers=auth_header(token)) for token in tokens
        ]
    assert touched == [], touched
    return responses


def show(response: t.Any) -> str:
    return f"{response.status} {response.get_data(as_text=True)[:300]!r}"


def assert_refused(response: t.Any, description: str | frozenset[str]) -> None:
    assert response.status_code == 401, show(response)
    assert response.mimetype == "application/json", show(response)
    body = response.get_json()
    allowed = {description} if isinstance(description, str) else description
    assert body["description"] in allowed, body
    assert body == {
        "status_code": 401,
        "error": ERRORS.get(body["description"], "Invalid token"),
        "description": body["description"],
    }
    assert response.headers.getlist("WWW-Authenticate") == [
        'JWT realm="Login Required", error="invalid_token",'
        f' error_description="{body["description"]}"'
    ]


def assert_accepted(response: t.Any) -> None:
    assert response.status_code == 200, show(response)
    assert response.text == "User(id='1')"


# -- the apps ----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An app with a key set of two, and what anyone can learn of it."""

    algorithm: str
    client: t.Any
    #: Our private keys, the signing one first (to sign controls only).
    private_keys: tuple[t.Any, ...]
    #: The ``kid`` of each key: the first from a real login token's header.
    kids: tuple[str, ...]
    #: The JWKS document exactly as ``GET /.well-known/jwks.json`` serves it.
    jwks_text: bytes
    #: Each key's JWK in that document, in the order of :attr:`private_keys`.
    jwks: tuple[dict[str, t.Any], ...]

    @property
    def public_keys(self) -> tuple[t.Any, ...]:
        return tuple(key.public_key() for key in self.private_keys)


def two_private_keys(algorithm: str) -> tuple[t.Any, t.Any]:
    if algorithm.startswith(("RS", "PS")):
        return PRIVATE_KEYS[algorithm](), RSA_OTHER
    # Fresh keys per call: two of the same kind (two Ed25519 for EdDSA).
    return PRIVATE_KEYS[algorithm](), PRIVATE_KEYS[algorithm]()


@functools.cache
def asymmetric_target(algorithm: str) -> Target:
    keys = two_private_keys(algorithm)
    app = create_app(
        {"JWT_ALGORITHM": algorithm, "JWT_PRIVATE_KEY": [pem(key) for key in keys]}
    )
    client = app.test_client()
    token = login(client)
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200, show(response)
    document = response.get_json()
    assert len(document["keys"]) == 2
    algo = jwt.get_algorithm_by_name(algorithm)
    for key, jwk in zip(keys, document["keys"], strict=True):
        # The published JWK is that key's (the keys, in order).
        public = algo.to_jwk(key.public_key(), as_dict=True)
        assert thumbprint_input(jwk) == thumbprint_input(public)
    kids = tuple(jwk["kid"] for jwk in document["keys"])
    assert kid_of(token) == kids[0]
    return Target(algorithm, client, keys, kids, response.data, document["keys"])


@functools.cache
def hmac_app() -> tuple[Flask, tuple[str, str]]:
    """An HS256 app with two secrets, and their kids, read from login tokens."""
    app = create_app({"JWT_SECRET_KEY": [SECRET, ANOTHER_SECRET]})
    reversed_app = create_app({"JWT_SECRET_KEY": [ANOTHER_SECRET, SECRET]})
    kids = login(app.test_client()), login(reversed_app.test_client())
    return app, (kid_of(kids[0]), kid_of(kids[1]))


# -- 1. our public keys as HMAC secrets ---------------------------------------

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo
PKCS1 = serialization.PublicFormat.PKCS1


def spki_pem(key: t.Any) -> bytes:
    return bytes(key.public_bytes(PEM, SPKI))


def as_published(jwk: dict[str, t.Any]) -> bytes:
    return json.dumps(jwk, sort_keys=True).encode()


def thumbprint_input(jwk: dict[str, t.Any]) -> bytes:
    """The RFC 7638 canonical JSON, another text anyone can compute."""
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}
    names = members.get(jwk["kty"], ("crv", "kty", "x"))
    return json.dumps(
        {name: jwk[name] for name in names}, separators=(",", ":"), sort_keys=True
    ).encode()


#: Each encoding: (public key, its published JWK, the JWKS text) -> bytes.
Encoder = t.Callable[[t.Any, dict[str, t.Any], bytes], bytes]

COMMON_ENCODINGS: dict[str, Encoder] = {
    "spki-pem": lambda key, jwk, doc: spki_pem(key),
    "spki-pem-no-newline": lambda key, jwk, doc: spki_pem(key).rstrip(b"\n"),
    "spki-pem-crlf": lambda key, jwk, doc: spki_pem(key).replace(b"\n", b"\r\n"),
    "spki-der": lambda key, jwk, doc: key.public_bytes(DER, SPKI),
    "openssh": lambda key, jwk, doc: key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ),
    "openssh-newline": lambda key, jwk, doc: (
        key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        + b"\n"
    ),
    "jwk-compact": lambda key, jwk, doc: json.dumps(
        jwk, separators=(",", ":")
    ).encode(),
    "jwk-pretty": lambda key, jwk, doc: json.dumps(jwk, indent=2).encode(),
    "jwk-as-published": lambda key, jwk, doc: as_published(jwk),
    "jwk-thumbprint-input": lambda key, jwk, doc: thumbprint_input(jwk),
    "jwks-document": lambda key, jwk, doc: doc,
}
FAMILY_ENCODINGS: dict[str, dict[str, Encoder]] = {
    "RSA": {
        "pkcs1-pem": lambda key, jwk, doc: key.public_bytes(PEM, PKCS1),
        "pkcs1-pem-no-newline": lambda key, jwk, doc: key.public_bytes(
            PEM, PKCS1
        ).rstrip(b"\n"),
        "pkcs1-der": lambda key, jwk, doc: key.public_bytes(DER, PKCS1),
        "rsa-modulus": lambda key, jwk, doc: key.public_numbers().n.to_bytes(
            key.key_size // 8, "big"
        ),
    },
    "EC": {
        "x962-uncompressed": lambda key, jwk, doc: key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        ),
        "x962-compressed": lambda key, jwk, doc: key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        ),
    },
    "OKP": {
        "ed25519-raw": lambda key, jwk, doc: key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ),
    },
}
FAMILIES = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}


def encodings(algorithm: str) -> dict[str, Encoder]:
    return {**COMMON_ENCODINGS, **FAMILY_ENCODINGS[FAMILIES[algorithm]]}


CONFUSION_CASES = [
    pytest.param(algorithm, name, id=f"{algorithm}-{name}")
    for algorithm in ASYMMETRIC_ALGORITHMS
    for name in encodings(algorithm)
]


@pytest.mark.parametrize(("algorithm", "encoding"), CONFUSION_CASES)
def test_hmac_signed_with_our_public_key_is_refused(algorithm, encoding):
    target = asymmetric_target(algorithm)
    encode = encodings(algorithm)[encoding]
    refused_for_alg: list[str] = []
    refused_for_signature: list[str] = []
    for index, public_key in enumerate(target.public_keys):
        secret = encode(public_key, target.jwks[index], target.jwks_text)
        assert secret, encoding
        if encoding == "jwk-as-published":
            assert secret in target.jwks_text  # byte for byte what we serve
        # No kid (the signing key is tried), this key's, and the other one's.
        for kid in (None, target.kids[index], target.kids[1 - index]):
            for hs in HMAC_DIGESTS:
                refused_for_alg.append(forge(header(hs, kid=kid), secret, hs))
                # The same HMAC, under the alg the app does use.
                refused_for_signature.append(
                    forge(header(algorithm, kid=kid), secret, hs)
                )
    responses = get_protected(target.client, refused_for_alg + refused_for_signature)
    for response in responses[: len(refused_for_alg)]:
        assert_refused(response, NOT_ALLOWED)
    for response in responses[len(refused_for_alg) :]:
        assert_refused(response, BAD_SIGNATURE)


@pytest.mark.parametrize("algorithm", ASYMMETRIC_ALGORITHMS)
def test_our_own_tokens_pass_so_the_refusals_mean_something(algorithm):
    # The forger and the kids are right: a token signed by either key of the
    # set, with its kid, is accepted, through the same helpers.
    target = asymmetric_target(algorithm)
    tokens = [login(target.client)] + [
        forge(header(algorithm, kid=kid), key, algorithm)
        for key, kid in zip(target.private_keys, target.kids, strict=True)
    ]
    for response in get_protected(target.client, tokens):
        assert_accepted(response)


# -- 2. kid, jku, jwk, x5u, x5c ---------------------------------------------------


@dataclass(frozen=True)
class KidTrick:
    name: str
    #: The kid, or a function of our signing key's kid.
    kid: t.Any
    expected: str | frozenset[str]
    #: The HMAC secret an attacker pairs with this kid (the contents of the
    #: file named, the value an injection would select).
    attacker_secret: bytes = ATTACKER_SECRET
    #: Marks for the case signed with our own key.
    ours_marks: tuple[t.Any, ...] = ()


KID_TRICKS = [
    KidTrick("path-traversal", "../../../../etc/passwd", UNKNOWN_KID),
    KidTrick("dev-null", "/dev/null", UNKNOWN_KID, attacker_secret=b""),
    KidTrick("dev-null-traversal", "../../../../../../dev/null", UNKNOWN_KID, b""),
    KidTrick("proc-self-environ", "/proc/self/environ", UNKNOWN_KID),
    KidTrick("file-url", "file:///etc/passwd", UNKNOWN_KID),
    KidTrick("sql-or", "x' OR '1'='1", UNKNOWN_KID, attacker_secret=b"1"),
    KidTrick("sql-union", "x' UNION SELECT 'attacker' --", UNKNOWN_KID, b"attacker"),
    KidTrick("url", "https://attacker.example/k.json", UNKNOWN_KID),
    KidTrick("loopback-url", "http://127.0.0.1:1/jwks.json", UNKNOWN_KID),
    KidTrick("metadata-url", "http://169.254.169.254/latest/", UNKNOWN_KID),
    KidTrick("shell", "$(touch /tmp/pwned)`id`;|", UNKNOWN_KID),
    KidTrick("very-long", "k" * 10_000, TOO_LARGE),
    KidTrick("long-within-token-limit", "k" * 4_000, UNKNOWN_KID),
    KidTrick("empty", "", UNKNOWN_KID, attacker_secret=b""),
    KidTrick("nul", "\u0000", UNKNOWN_KID),
    KidTrick("nul-suffix", lambda kid: kid + "\u0000", UNKNOWN_KID),
    KidTrick("crlf", "a\r\nX-Injected: 1", UNKNOWN_KID),
    KidTrick("unicode", "ключ-🔑", UNKNOWN_KID),
    KidTrick("lone-surrogate", "\ud800", UNKNOWN_KID),
    KidTrick("ours-uppercased", lambda kid: kid.upper(), UNKNOWN_KID),
    KidTrick("ours-with-space", lambda kid: f" {kid}", UNKNOWN_KID),
    KidTrick("ours-truncated", lambda kid: kid[:-1], UNKNOWN_KID),
    KidTrick("int", 1, KID_NOT_STRING),
    KidTrick("float", 1.5, KID_NOT_STRING),
    KidTrick("true", True, KID_NOT_STRING),
    KidTrick("list", [], KID_NOT_STRING),
    KidTrick("list-of-ours", lambda kid: [kid], KID_NOT_STRING),
    KidTrick("object", {}, KID_NOT_STRING),
    KidTrick("object-of-ours", lambda kid: {"kid": kid}, KID_NOT_STRING),
    # RFC 7515 section 4.1.4: null is not "no kid", as PyJWT agrees.
    KidTrick("null", None, KID_NOT_STRING),
]


@dataclass(frozen=True)
class KeyPointerTrick:
    """Header parameters that would bring or point to a key."""

    name: str
    #: Extra header parameters, given the attacker's public JWK.
    params: t.Callable[[dict[str, t.Any]], dict[str, t.Any]]


ATTACKER_URL = "https://attacker.example/.well-known/jwks.json"
KEY_POINTER_TRICKS = [
    KeyPointerTrick("jku", lambda jwk: {"jku": ATTACKER_URL}),
    KeyPointerTrick("jku-loopback", lambda jwk: {"jku": "http://127.0.0.1:1/k"}),
    KeyPointerTrick("jku-file", lambda jwk: {"jku": "file:///etc/passwd"}),
    KeyPointerTrick("jku-not-string", lambda jwk: {"jku": {"keys": [jwk]}}),
    KeyPointerTrick("x5u", lambda jwk: {"x5u": "https://attacker.example/c.pem"}),
    KeyPointerTrick("x5u-file", lambda jwk: {"x5u": "file:///etc/ssl/cert.pem"}),
    KeyPointerTrick("jwk", lambda jwk: {"jwk": jwk}),
    KeyPointerTrick("jwk-not-object", lambda jwk: {"jwk": json.dumps(jwk)}),
    KeyPointerTrick("jwks-inline", lambda jwk: {"jwks": {"keys": [jwk]}}),
    KeyPointerTrick("x5c-garbage", lambda jwk: {"x5c": [b64(b"not a certificate")]}),
    KeyPointerTrick("x5c-not-base64", lambda jwk: {"x5c": ["!!!", "%%%"]}),
    KeyPointerTrick("x5c-not-list", lambda jwk: {"x5c": "MIIB"}),
    KeyPointerTrick("x5c-non-strings", lambda jwk: {"x5c": [1, None, {}]}),
    KeyPointerTrick("x5c-empty", lambda jwk: {"x5c": []}),
    KeyPointerTrick("x5t", lambda jwk: {"x5t": "AAAA", "x5t#S256": "AAAA"}),
    KeyPointerTrick(
        "all-at-once",
        lambda jwk: {
            "jku": ATTACKER_URL,
            "x5u": "https://attacker.example/c.pem",
            "jwk": jwk,
            "x5c": [b64(b"garbage")],
        },
    ),
]


@dataclass(frozen=True)
class Victim:
    """One app of part 2, and how our key and the attacker's sign for it."""

    algorithm: str
    client: t.Any
    our_key: t.Any
    our_kid: str
    attacker_key: t.Any
    attacker_kid: str
    attacker_jwk: dict[str, t.Any]

    def sign(self, header: dict[str, t.Any], by: str, secret: bytes | None = None):
        if by == "ours":
            return forge(header, self.our_key, self.algorithm)
        key = self.attacker_key if secret is None else secret
        return forge(header, key, self.algorithm)


@functools.cache
def victim(algorithm: str) -> Victim:
    if algorithm == "HS256":
        app, kids = hmac_app()
        return Victim(
            algorithm,
            app.test_client(),
            SECRET.encode(),
            kids[0],
            ATTACKER_SECRET,
            "attacker",
            {"kty": "oct", "k": b64(ATTACKER_SECRET), "kid": "attacker"},
        )
    target = asymmetric_target(algorithm)
    algo = jwt.get_algorithm_by_name(algorithm)
    jwk = algo.to_jwk(ATTACKER_EC_KEY.public_key(), as_dict=True)
    # The attacker's RFC 7638 thumbprint, as our own kids are made.
    attacker_kid = b64(hashlib.sha256(thumbprint_input(jwk)).digest())
    return Victim(
        algorithm,
        target.client,
        target.private_keys[0],
        target.kids[0],
        ATTACKER_EC_KEY,
        attacker_kid,
        {**jwk, "kid": attacker_kid, "alg": algorithm, "use": "sig"},
    )


VICTIMS = ["HS256", "ES256"]


def kid_cases() -> list[t.Any]:
    cases = []
    for algorithm in VICTIMS:
        for trick in KID_TRICKS:
            for by in ("ours", "attacker"):
                expected = trick.expected
                cases.append(
                    pytest.param(
                        algorithm,
                        trick,
                        by,
                        expected,
                        id=f"{algorithm}-{trick.name}-signed-by-{by}",
                        marks=trick.ours_marks if by == "ours" else (),
                    )
                )
    return cases


@pytest.mark.parametrize(("algorithm", "trick", "by", "expected"), kid_cases())
def test_kid_tricks_are_refused_without_file_or_network(algorithm, trick, by, expected):
    target = victim(algorithm)
    kid = trick.kid(target.our_kid) if callable(trick.kid) else trick.kid
    token_header = {"typ": "JWT", "alg": algorithm, "kid": kid}
    secret = trick.attacker_secret if algorithm == "HS256" else None
    token = target.sign(token_header, by, secret)
    (response,) = get_protected(target.client, [token])
    assert_refused(response, expected)


@pytest.mark.parametrize("algorithm", VICTIMS)
@pytest.mark.parametrize("trick", KEY_POINTER_TRICKS, ids=lambda trick: trick.name)
def test_key_pointers_are_never_followed(algorithm, trick):
    # Signed by the attacker's key, which the header brings or points to.
    target = victim(algorithm)
    params = trick.params(target.attacker_jwk)
    expectations = [
        (None, BAD_SIGNATURE),  # no kid: our signing key is tried
        (target.our_kid, BAD_SIGNATURE),
        (target.attacker_kid, UNKNOWN_KID),
    ]
    tokens = [
        target.sign(header(algorithm, **params, kid=kid), "attacker")
        for kid, _ in expectations
    ]
    for response, (_, expected) in zip(
        get_protected(target.client, tokens), expectations, strict=True
    ):
        assert_refused(response, expected)


@pytest.mark.parametrize("algorithm", VICTIMS)
@pytest.mark.parametrize("trick", KEY_POINTER_TRICKS, ids=lambda trick: trick.name)
def test_key_pointers_in_our_own_tokens_are_ignored(algorithm, trick):
    # Neither used nor fetched: our own signature with our kid still passes,
    # with nothing opened or fetched on the way.
    target = victim(algorithm)
    token_header = {
        "typ": "JWT",
        "alg": algorithm,
        **trick.params(target.attacker_jwk),
        "kid": target.our_kid,
    }
    (response,) = get_protected(target.client, [target.sign(token_header, "ours")])
    assert_accepted(response)


def test_the_guard_sees_files_and_network():
    # The guard itself: what it patches is what a fetch or a read goes through.
    originals = builtins.open, os.open, socket.socket.connect, socket.getaddrinfo
    with no_file_or_network_access() as touched:
        with open(os.devnull, "rb"):
            pass
        with io.open(os.devnull, "rb"):  # noqa: UP020 - the patched name itself
            pass
        os.close(os.open(os.devnull, os.O_RDONLY))
        pathlib.Path(os.devnull).read_bytes()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", 9), timeout=0.1)
        with pytest.raises(OSError):
            socket.getaddrinfo("attacker.example", 443)
        with socket.socket() as sock, pytest.raises(OSError):
            sock.connect(("127.0.0.1", 9))
        with pytest.raises(OSError):
            urllib.request.urlopen("http://127.0.0.1:9/", timeout=0.1)
        with pytest.raises((OSError, jwt.PyJWKClientError)):
            jwt.PyJWKClient("http://127.0.0.1:9/jwks.json", timeout=0.1).fetch_data()
    names = [name for name, _ in touched]
    assert {"open", "io.open", "os.open", "create_connection", "getaddrinfo"} <= set(
        names
    )
    assert {"connect", "urlopen", "opener"} <= set(names)
    # And it is gone afterwards.
    assert (builtins.open, os.open, socket.socket.connect, socket.getaddrinfo) == (
        originals
    )
    assert io.open is builtins.open


# -- 3. the kid picks the key ------------------------------------------------


def kid_cross_cases(algorithm: str) -> tuple[t.Any, list[tuple[str, str | None]]]:
    """The client, and (token, expected description or None for a 200)."""
    if algorithm == "HS256":
        app, kids = hmac_app()
        keys: tuple[t.Any, ...] = (SECRET.encode(), ANOTHER_SECRET.encode())
        client = app.test_client()
    else:
        target = asymmetric_target(algorithm)
        client, keys, kids = target.client, target.private_keys, target.kids
    first, second = keys

    def sign(key: t.Any, kid: str | None) -> str:
        return forge(header(algorithm, kid=kid), key, algorithm)

    return client, [
        (sign(first, kids[1]), BAD_SIGNATURE),
        (sign(second, kids[0]), BAD_SIGNATURE),
        (sign(second, None), BAD_SIGNATURE),  # no kid: the signing key only
        (sign(first, kids[0]), None),
        (sign(second, kids[1]), None),
        (sign(first, None), None),
    ]


@pytest.mark.parametrize("algorithm", ["HS256", *ASYMMETRIC_ALGORITHMS])
def test_the_kid_picks_the_key_and_no_other_is_tried(algorithm):
    client, cases = kid_cross_cases(algorithm)
    responses = get_protected(client, [token for token, _ in cases])
    for response, (_, expected) in zip(responses, cases, strict=True):
        if expected is None:
            assert_accepted(response)
        else:
            assert_refused(response, expected)


def test_the_two_secrets_have_distinct_kids():
    _, kids = hmac_app()
    assert kids[0] != kids[1]
    assert SECRET not in kids[0] and ANOTHER_SECRET not in kids[1]


def test_rsa_keys_of_the_set_differ():
    # PRIVATE_KEYS gives one RSA key for every RS*/PS*; the set must hold two.
    first, second = two_private_keys("RS256")
    assert isinstance(first, rsa.RSAPrivateKey)
    assert first.public_key().public_numbers() != second.public_key().public_numbers()

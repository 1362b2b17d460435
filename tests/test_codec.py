"""TokenCodec against PyJWT: it never accepts what PyJWT refuses.

The codec parses tokens itself for speed (see ``jwt_blueprint/tokens.py``), so
here it is checked against PyJWT's own decoder on valid tokens, on thousands
of mutations of them, and on tokens with odd claims.
"""

from __future__ import annotations

import base64
import json
import random
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import claims
from conftest import make_token
from conftest import SECRET
from jwt_blueprint.tokens import TokenCodec

REQUIRED = ["exp", "iat", "nbf"]
KEY = SECRET.encode()


def hs256() -> TokenCodec:
    return TokenCodec(
        algorithm="HS256", signing_key=KEY, verifying_key=KEY, required_claims=REQUIRED
    )


def pyjwt_decode(token: str, key=SECRET, algorithm="HS256") -> dict | None:
    try:
        return jwt.decode(
            token, key, algorithms=[algorithm], options={"require": REQUIRED}
        )
    except (jwt.PyJWTError, RecursionError, ValueError, TypeError):
        return None


def ours_decode(codec: TokenCodec, token: str) -> dict | None:
    try:
        return codec.decode(token)
    except jwt.PyJWTError:
        return None


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(header: dict | bytes, payload: dict | bytes, key: bytes = KEY) -> str:
    """A token with any header and payload bytes, correctly HS256-signed."""
    import hashlib
    import hmac

    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw_payload = (
        payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    )
    signing_input = b64(raw_header) + "." + b64(raw_payload)
    signature = hmac.digest(key, signing_input.encode(), hashlib.sha256)
    return signing_input + "." + b64(signature)


def test_round_trip_matches_pyjwt():
    codec = hs256()
    token = codec.encode(claims(role="admin"), {"kid": "k1"})
    assert jwt.get_unverified_header(token) == {
        "alg": "HS256",
        "typ": "JWT",
        "kid": "k1",
    }
    assert codec.decode(token) == pyjwt_decode(token)
    assert codec.decode(make_token()) == pyjwt_decode(make_token())


def test_extra_headers_cannot_change_the_algorithm():
    token = hs256().encode(claims(), {"alg": "none"})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert pyjwt_decode(token) is not None


def test_datetime_claims_are_encoded_as_numeric_dates():
    from datetime import datetime
    from datetime import timedelta
    from datetime import timezone

    now = datetime.now(timezone.utc)
    token = hs256().encode(
        {"identity": 1, "iat": now, "nbf": now, "exp": now + timedelta(minutes=5)}
    )
    payload = pyjwt_decode(token)
    assert payload is not None
    assert payload["exp"] - payload["iat"] == 300


def mutations(token: str, rng: random.Random, count: int):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
    for _ in range(count):
        chars = list(token)
        kind = rng.randrange(4)
        position = rng.randrange(len(chars))
        if kind == 0:
            chars[position] = rng.choice(alphabet)
        elif kind == 1:
            del chars[position]
        elif kind == 2:
            chars.insert(position, rng.choice(alphabet))
        else:
            chars = chars[:position]
        yield "".join(chars)


def test_mutated_tokens_are_never_accepted_when_pyjwt_refuses():
    rng = random.Random(8725)
    codec = hs256()
    token = make_token()
    disagreements = []
    for mutated in mutations(token, rng, 3000):
        ours, theirs = ours_decode(codec, mutated), pyjwt_decode(mutated)
        if ours is not None and ours != theirs:
            disagreements.append(mutated)
    assert disagreements == []


def test_mutations_are_mostly_refused_by_both():
    # The mutation test above would pass vacuously if nothing were accepted
    # or everything refused for the wrong reason; check both outcomes occur.
    rng = random.Random(7519)
    codec = hs256()
    token = make_token()
    outcomes = {ours_decode(codec, m) is None for m in mutations(token, rng, 500)}
    assert outcomes == {True, False}


ODD_CLAIMS = [
    {"exp": "soon"},
    {"exp": None},
    {"exp": True},
    {"exp": [1]},
    {"exp": 1e400},
    {"exp": 10**400},
    {"iat": -(10**400)},
    {"nbf": "0"},
    {"iat": {"a": 1}},
    {"sub": 5},
    {"jti": 5},
    {"aud": "someone"},
    {"aud": ["a", "b"]},
]


@pytest.mark.parametrize("overrides", ODD_CLAIMS, ids=repr)
def test_odd_claims_are_refused_by_us(overrides):
    token = signed({"alg": "HS256", "typ": "JWT"}, claims(**overrides))
    assert ours_decode(hs256(), token) is None


ODD_TOKENS = {
    "nan-exp": lambda: signed(
        {"alg": "HS256"}, json.dumps({**claims(), "exp": float("nan")}).encode()
    ),
    "utf16-payload": lambda: signed(
        {"alg": "HS256"}, json.dumps(claims()).encode("utf-16")
    ),
    "bom-payload": lambda: signed(
        {"alg": "HS256"}, b"\xef\xbb\xbf" + json.dumps(claims()).encode()
    ),
    "list-payload": lambda: signed({"alg": "HS256"}, b"[1, 2]"),
    "deep-payload": lambda: signed({"alg": "HS256"}, b"[" * 100000 + b"]" * 100000),
    "list-header": lambda: signed(b"[]", claims()),
    "crit-b64": lambda: signed(
        {"alg": "HS256", "b64": False, "crit": ["b64"]}, claims()
    ),
    "crit-unknown": lambda: signed({"alg": "HS256", "crit": ["exp"]}, claims()),
    "crit-string": lambda: signed({"alg": "HS256", "crit": "exp"}, claims()),
    "alg-none": lambda: signed({"alg": "none"}, claims()).rsplit(".", 1)[0] + ".",
    "alg-list": lambda: signed({"alg": ["HS256"]}, claims()),
    "alg-lower": lambda: signed({"alg": "hs256"}, claims()),
    "four-segments": lambda: make_token() + ".e30",
    "two-segments": lambda: make_token().rsplit(".", 1)[0],
    "padded": lambda: make_token() + "=",
    "non-canonical": lambda: noncanonical(make_token()),
    "bytes": lambda: make_token().encode(),
}


def noncanonical(token: str) -> str:
    """The same signature bytes with the unused low bits of the last
    character set: a second spelling of one token."""
    header, payload, signature = token.split(".")
    index = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = index[index.index(signature[-1]) | 1]
    return f"{header}.{payload}.{signature[:-1]}{last}"


@pytest.mark.parametrize("kind", sorted(ODD_TOKENS))
def test_odd_tokens_are_refused_with_a_pyjwt_error(kind):
    token = ODD_TOKENS[kind]()
    with pytest.raises(jwt.PyJWTError):
        hs256().decode(token)


def test_token_size_cap():
    codec = TokenCodec(
        algorithm="HS256", signing_key=KEY, verifying_key=KEY, max_token_size=100
    )
    with pytest.raises(jwt.DecodeError, match="Token is too large"):
        codec.decode(make_token())


def test_verify_only_codec_cannot_sign():
    codec = TokenCodec(algorithm="HS256", signing_key=None, verifying_key=KEY)
    with pytest.raises(RuntimeError, match="JWT_PRIVATE_KEY"):
        codec.encode(claims())


ASYMMETRIC = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "PS384": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "ES512": lambda: ec.generate_private_key(ec.SECP521R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


@pytest.mark.parametrize("algorithm", sorted(ASYMMETRIC))
def test_asymmetric_round_trip_and_cross_check(algorithm):
    private = ASYMMETRIC[algorithm]()
    codec = TokenCodec(
        algorithm=algorithm,
        signing_key=private,
        verifying_key=private.public_key(),
        required_claims=REQUIRED,
    )
    ours = codec.encode(claims())
    theirs = jwt.encode(claims(), private, algorithm=algorithm)
    for token in (ours, theirs):
        assert codec.decode(token) == pyjwt_decode(
            token, private.public_key(), algorithm
        )
    header, payload, signature = ours.split(".")
    tampered = f"{header}.{b64(json.dumps(claims(identity=2)).encode())}.{signature}"
    with pytest.raises(jwt.InvalidSignatureError):
        codec.decode(tampered)
    assert pyjwt_decode(tampered, private.public_key(), algorithm) is None


def test_leeway_and_time_checks_follow_pyjwt():
    now = int(time.time())
    codec = TokenCodec(algorithm="HS256", signing_key=KEY, verifying_key=KEY, leeway=10)
    for exp in (now - 11, now - 9, now + 5):
        token = make_token(claims(iat=now - 100, nbf=now - 100, exp=exp))
        theirs = (
            jwt.decode(token, SECRET, algorithms=["HS256"], leeway=10)
            if (exp > now - 10)
            else None
        )
        assert ours_decode(codec, token) == theirs


@pytest.mark.parametrize("fraction", [0.001, 0.5, 0.999999])
def test_fractional_time_claims_are_truncated_as_pyjwt_does(fraction):
    # PyJWT compares int(exp): exp = now's whole second plus a fraction has
    # already expired, with no leeway, though the float is still ahead.
    now = time.time()
    codec = TokenCodec(algorithm="HS256", signing_key=KEY, verifying_key=KEY)
    expiring = make_token(claims(exp=int(now) + fraction))
    assert pyjwt_decode(expiring) is None
    with pytest.raises(jwt.ExpiredSignatureError):
        codec.decode(expiring)
    starting = make_token(claims(nbf=int(now) + 1 + fraction, iat=int(now)))
    with pytest.raises(jwt.ImmatureSignatureError):
        codec.decode(starting)
    valid = make_token(claims(exp=int(now) + 2 + fraction, iat=now, nbf=now))
    assert codec.decode(valid) == pyjwt_decode(valid)


def test_claims_come_back_in_the_claims_type():
    class Claims(dict):
        pass

    codec = TokenCodec(
        algorithm="HS256", signing_key=KEY, verifying_key=KEY, claims_type=Claims
    )
    token = make_token()
    decoded = codec.decode(token)
    assert type(decoded) is Claims
    assert decoded == pyjwt_decode(token)

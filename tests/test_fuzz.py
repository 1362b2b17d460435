"""Property-based fuzzing of the HTTP surface, with hypothesis.

Arbitrary ``Authorization`` values, hand-built tokens (any JOSE header, any
claims, signed with the right key, a wrong one or none), arbitrary login and
refresh bodies, and a state machine over login, refresh, logout and
revoke-all. Nothing may answer 5xx, nothing but a valid token of ours may get
a 200, and a protected view never runs on a refusal.

Example counts are small by default, so that ``make test`` stays fast;
``JWT_FUZZ_EXAMPLES`` (``make fuzz``) raises them. Generation is derandomized:
a run is the same on every machine.
"""

from __future__ import annotations

import base64
import hmac
import json
import math
import os
import string
import time
import typing as t
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

import pytest
from flask import Flask
from flask import jsonify
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import run_state_machine_as_test

from conftest import auth_header
from conftest import create_app
from conftest import SECRET
from conftest import SECRET_KID
from conftest import USERID_TABLE
from conftest import USERNAME_TABLE
from jwt_blueprint import current_identity
from jwt_blueprint import get_current_identity
from jwt_blueprint import jwt_required
from lifecycle_apps import lifecycle_app

#: ``make fuzz`` sets it: every property test runs at least this many
#: examples (the state machine a tenth as many runs, each of many steps).
FUZZ_EXAMPLES = int(os.environ.get("JWT_FUZZ_EXAMPLES") or 0)
LEEWAY = 10
PASSWORD = "abcxyz"
#: The throttling of issue 10, once it lands, must not turn the valid
#: logins of these tests into 429s.
NO_THROTTLING: dict[str, t.Any] = {
    "JWT_AUTH_RATE_LIMIT_PER_USERNAME": None,
    "JWT_AUTH_RATE_LIMIT_PER_ADDRESS": None,
}


def fuzz_settings(default: int, scale: int = 1) -> settings:
    """``default`` examples, or more under ``make fuzz``; reproducible."""
    return settings(
        max_examples=max(default, FUZZ_EXAMPLES // scale),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
    )


def user_text(user_id: int) -> str:
    return str(USERID_TABLE[user_id])


def show(response: t.Any) -> str:
    return f"{response.status} {response.get_data()[:300]!r}"


def assert_refusal(response: t.Any) -> None:
    """A refusal of a protected view: 401 JSON with a challenge."""
    assert response.status_code == 401, show(response)
    assert response.mimetype == "application/json", show(response)
    assert response.json["status_code"] == 401
    assert "WWW-Authenticate" in response.headers


# -- JSON values -----------------------------------------------------------------

#: Text a careless parser trips on: controls, separators, a BOM, look-alikes,
#: a lone surrogate (JSON can escape one; UTF-8 cannot encode it).
ODD_TEXT = st.sampled_from(
    ["", " ", "\x00", "\n", "\u2028", "\ufeff", "\uff2a\uff37\uff34", "\ud800", "é"]
)
TEXT = st.one_of(st.text(max_size=12), ODD_TEXT)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**1100), max_value=2**1100),
    st.floats(),  # NaN and infinities too: Python's json writes and reads them
    TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(TEXT, children, max_size=3),
    ),
    max_leaves=6,
)

NOT_OBJECTS = st.one_of(JSON_SCALARS, st.lists(JSON_VALUES, max_size=3))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: t.Any) -> str:
    """A JSON value (or raw bytes) as a base64url segment."""
    if not isinstance(value, bytes):
        value = json.dumps(value, separators=(",", ":")).encode()
    return b64(value)


def latin1(data: bytes) -> str:
    """Bytes on the wire as a WSGI server puts them in the environ."""
    return data.decode("latin-1")


# -- 1. Authorization values -------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """An app's test client, and how often its counted views ran."""

    app: Flask
    client: t.Any
    required_calls: Callable[[], int]
    optional_calls: Callable[[], int]


def counting_app(app: Flask) -> Counted:
    """``app`` with a counted required view (``/counted``) and a counted
    optional one (``/counted-optional``)."""
    required_calls = optional_calls = 0

    @app.route("/counted")
    @jwt_required()
    def counted() -> str:
        nonlocal required_calls
        required_calls += 1
        return f"{current_identity}"

    @app.route("/counted-optional")
    @jwt_required(optional=True)
    def counted_optional() -> t.Any:
        nonlocal optional_calls
        optional_calls += 1
        user = get_current_identity()
        return jsonify(user=None if user is None else str(user))

    return Counted(
        app, app.test_client(), lambda: required_calls, lambda: optional_calls
    )


@pytest.fixture(scope="module")
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def plain() -> Counted:
    """The quickstart app, without a store; kept across examples."""
    return counting_app(create_app(NO_THROTTLING))


@pytest.fixture(scope="module")
def with_store(instance_path: str) -> t.Iterator[Counted]:
    """The lifecycle app on a memory store; kept across examples."""
    counted = counting_app(lifecycle_app(STORE_APP_CONFIG, instance_path))
    yield counted
    close_store(counted.app)


def close_store(app: Flask) -> None:
    app.extensions["jwt_blueprint"].settings().store.close()


@pytest.fixture(scope="module")
def access_tokens(plain: Counted) -> list[str]:
    """An access token of user1, then one of user2."""
    return [
        plain.client.post(
            "/auth", json={"username": f"user{n}", "password": PASSWORD}
        ).json["access_token"]
        for n in (1, 2)
    ]


TOKEN_ALPHABET = string.ascii_letters + string.digits + "-_."
PREFIXES = ["JWT ", "jwt ", "Jwt ", "JWT  ", "JWT\t", "Bearer ", "", " JWT ", "JWT"]


@dataclass(frozen=True)
class Mutation:
    """An edit of an issued token: ``kind`` at ``index`` with ``char``."""

    kind: str
    index: int
    char: str

    def apply(self, token: str) -> str:
        i = self.index % (len(token) + 1)
        if self.kind == "delete":
            return token[:i] + token[i + 1 :]
        if self.kind == "replace":
            return token[:i] + self.char + token[i + 1 :]
        if self.kind == "insert":
            return token[:i] + self.char + token[i:]
        if self.kind == "truncate":
            return token[:i]
        return token.swapcase()


AUTHORIZATION_SPECS = st.one_of(
    # Anything at all, as text and as raw bytes.
    TEXT.map(lambda text: ("raw", text)),
    st.text().map(lambda text: ("raw", text)),
    st.binary(max_size=40).map(lambda data: ("raw", latin1(data))),
    st.binary(max_size=40).map(lambda data: ("raw", latin1(b"JWT " + data))),
    # A scheme, then something shaped like a token.
    st.tuples(
        st.sampled_from(PREFIXES), st.text(alphabet=TOKEN_ALPHABET, max_size=60)
    ).map(lambda pair: ("raw", pair[0] + pair[1])),
    # An issued token, as it should be sent, or with another scheme, or
    # edited.
    st.tuples(st.just("JWT "), st.sampled_from([0, 1]), st.none(), st.just("text")),
    st.tuples(
        st.sampled_from(PREFIXES),
        st.sampled_from([0, 1]),
        st.none()
        | st.builds(
            Mutation,
            st.sampled_from(["delete", "replace", "insert", "truncate", "swapcase"]),
            st.integers(min_value=0, max_value=400),
            st.one_of(st.sampled_from(TOKEN_ALPHABET), st.characters()),
        ),
        st.sampled_from(["text", "utf-8 bytes"]),
    ),
)


def authorization_value(spec: t.Any, tokens: list[str]) -> str:
    if spec[0] == "raw":
        return t.cast(str, spec[1])
    prefix, which, mutation, spelling = spec
    token = tokens[which] if mutation is None else mutation.apply(tokens[which])
    value = prefix + token
    if spelling == "utf-8 bytes":
        return latin1(value.encode("utf-8", "surrogatepass"))
    return value


def accepted_as(value: str, tokens: list[str]) -> int | None:
    """The user an ``Authorization`` value must authenticate: the scheme,
    in any ASCII case, one space, and an issued token exactly."""
    scheme, space, token = value.partition(" ")
    if space and scheme.isascii() and scheme.lower() == "jwt" and token in tokens:
        return tokens.index(token) + 1
    return None


@fuzz_settings(300)
@given(spec=AUTHORIZATION_SPECS)
def test_arbitrary_authorization_values(
    plain: Counted, access_tokens: list[str], spec: t.Any
) -> None:
    value = authorization_value(spec, access_tokens)
    user = accepted_as(value, access_tokens)
    environ = {"HTTP_AUTHORIZATION": value}
    before = plain.required_calls()
    response = plain.client.get("/counted", environ_overrides=environ)
    assert response.status_code < 500, show(response)
    if user is None:
        assert_refusal(response)
        assert plain.required_calls() == before
    else:
        assert response.status_code == 200, show(response)
        assert response.text == user_text(user)
        assert plain.required_calls() == before + 1
    # An optional view runs without a token, or with a valid one; a bad
    # token of ours is still refused before it runs.
    before = plain.optional_calls()
    optional = plain.client.get("/counted-optional", environ_overrides=environ)
    assert optional.status_code < 500, show(optional)
    if optional.status_code == 200:
        assert plain.optional_calls() == before + 1
        assert optional.json == {"user": None if user is None else user_text(user)}
    else:
        assert user is None
        assert_refusal(optional)
        assert plain.optional_calls() == before
    event(f"required view {response.status_code}, optional {optional.status_code}")


# -- 2. Hand-built tokens ----------------------------------------------------------


class Absent:
    """A claim or header parameter left out."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()


@dataclass(frozen=True)
class Rel:
    """A NumericDate ``offset`` seconds from the moment the token is made."""

    offset: int | float


def maybe_absent(strategy: st.SearchStrategy[t.Any]) -> st.SearchStrategy[t.Any]:
    return st.one_of(strategy, st.just(ABSENT))


ALGS = st.one_of(
    st.just("HS256"),
    st.sampled_from(
        ["HS384", "HS512", "none", "None", "NONE", "RS256", "ES256", "hs256", ""]
    ),
    st.sampled_from(["HS256 ", " HS256", "HS256\x00", "HS2560"]),
    JSON_VALUES,
    st.just(ABSENT),
)
KIDS = st.one_of(
    st.just(SECRET_KID),
    st.sampled_from(["", "other", SECRET_KID.lower(), SECRET_KID + " ", "\ud800"]),
    JSON_VALUES,
)
ODD_HEADERS = st.fixed_dictionaries(
    {"alg": ALGS},
    optional={
        "kid": KIDS,
        "typ": st.one_of(st.sampled_from(["JWT", "jwt", "refresh+jwt"]), JSON_VALUES),
        "crit": JSON_VALUES,
        "b64": JSON_VALUES,
        "jku": st.one_of(st.just("https://attacker.example/jwks"), JSON_VALUES),
        "jwk": JSON_VALUES,
        "x5u": JSON_VALUES,
        "x5c": JSON_VALUES,
        "cty": JSON_VALUES,
        "zip": st.one_of(st.just("DEF"), JSON_VALUES),
    },
)
#: Headers as we issue them (``kid`` and ``typ`` may be left out).
OUR_HEADERS = st.fixed_dictionaries(
    {"alg": st.just("HS256")},
    optional={"kid": st.just(SECRET_KID), "typ": st.just("JWT")},
)
HEADERS = st.one_of(
    OUR_HEADERS,
    st.tuples(st.dictionaries(TEXT, JSON_VALUES, max_size=3), ODD_HEADERS).map(
        lambda pair: {**pair[0], **pair[1]}
    ),
    # Not a JSON object, or not JSON at all.
    NOT_OBJECTS,
    st.binary(max_size=20),
)

TIMES = st.one_of(
    st.builds(Rel, st.integers(min_value=-(10**7), max_value=10**7)),
    st.builds(Rel, st.floats(min_value=-(10**7), max_value=10**7)),
    st.builds(Rel, st.sampled_from([-11, -10, -9, -1, 0, 1, 9, 10, 11, 300])),
    JSON_VALUES,
    st.just(ABSENT),
)
IDENTITIES = st.one_of(
    st.sampled_from([1, 2]),
    st.sampled_from([0, 3, -1, "1", "2", True, 1.0, 2**64 + 1, None, [1], {"id": 1}]),
    JSON_VALUES,
    st.just(ABSENT),
)
VALID_CLAIMS = st.fixed_dictionaries(
    {
        "identity": st.sampled_from([1, 2]),
        "iat": st.builds(Rel, st.integers(min_value=-200, max_value=0)),
        "nbf": st.builds(Rel, st.integers(min_value=-200, max_value=0)),
        "exp": st.builds(Rel, st.integers(min_value=20, max_value=3000)),
        "jti": st.text(alphabet=TOKEN_ALPHABET[:-1], min_size=1, max_size=30),
    },
    optional={"fresh": st.booleans(), "type": st.just("access")},
)
ODD_CLAIMS = st.fixed_dictionaries(
    {"identity": IDENTITIES, "iat": TIMES, "nbf": TIMES, "exp": TIMES},
    optional={
        "sub": st.one_of(st.sampled_from(["1", "2"]), JSON_VALUES),
        "jti": st.one_of(st.just("a" * 22), JSON_VALUES),
        "aud": JSON_VALUES,
        "iss": JSON_VALUES,
        "type": st.one_of(
            st.sampled_from(["access", "refresh", "Access"]), JSON_VALUES
        ),
        "fresh": JSON_VALUES,
        "fam": JSON_VALUES,
        "auth_time": st.one_of(TIMES, JSON_VALUES),
        "roles": JSON_VALUES,
        "csrf": JSON_VALUES,
    },
)
CLAIMS = st.one_of(
    VALID_CLAIMS,
    ODD_CLAIMS,
    st.tuples(st.dictionaries(TEXT, JSON_VALUES, max_size=3), ODD_CLAIMS).map(
        lambda pair: {**pair[0], **pair[1]}
    ),
    NOT_OBJECTS,
    st.binary(max_size=20),
)
#: How the token is signed: only ``right`` is HMAC-SHA256 with our secret.
SIGNINGS = st.one_of(
    st.just("right"),
    st.sampled_from(
        ["hs384", "hs512", "wrong key", "empty", "garbage", "truncated", "flipped"]
    ),
)

#: ``(header, claims, signing)``: valid, one of them arbitrary, or all.
TOKEN_SPECS = st.one_of(
    st.tuples(OUR_HEADERS, VALID_CLAIMS, st.just("right")),
    st.tuples(OUR_HEADERS, VALID_CLAIMS, SIGNINGS),
    st.tuples(HEADERS, VALID_CLAIMS, st.just("right")),
    st.tuples(OUR_HEADERS, CLAIMS, st.just("right")),
    st.tuples(HEADERS, CLAIMS, SIGNINGS),
)


def materialize(value: t.Any, now: int) -> t.Any:
    """The spec as JSON: :class:`Rel` dates made absolute, absent keys gone."""
    if isinstance(value, Rel):
        return now + value.offset
    if isinstance(value, dict):
        return {k: materialize(v, now) for k, v in value.items() if v is not ABSENT}
    return value


def sign(signing_input: str, how: str, garbage: bytes) -> str:
    key = SECRET.encode()
    data = signing_input.encode("ascii")
    if how == "empty":
        return ""
    if how == "garbage":
        return b64(garbage)
    if how == "wrong key":
        return b64(hmac.digest(b"attacker-secret-0123456789abcdef", data, "sha256"))
    if how in ("hs384", "hs512"):
        return b64(hmac.digest(key, data, "sha" + how[2:]))
    signature = hmac.digest(key, data, "sha256")
    if how == "truncated":
        return b64(signature[:-1])
    if how == "flipped":
        return b64(bytes([signature[0] ^ 1]) + signature[1:])
    return b64(signature)


def numeric_date(value: t.Any) -> float | None:
    """What the codec takes for a NumericDate: an int within any float, or
    a finite float truncated to whole seconds; ``None`` for anything else."""
    if type(value) is int and abs(value) < int(1.7e308):
        return float(value)
    if type(value) is float and math.isfinite(value):
        return float(int(value))
    return None


def valid_at(header: t.Any, claims: t.Any, when: float) -> int | None:
    """The user a token with a right signature authenticates at ``when``,
    worked out from RFC 7515/7519 and the README, not from the library."""
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    if header.get("alg") != "HS256" or "crit" in header or "b64" in header:
        return None
    if "kid" in header and header["kid"] != SECRET_KID:
        return None
    dates = {name: numeric_date(claims.get(name)) for name in ("exp", "nbf", "iat")}
    if None in dates.values():  # required, and NumericDates
        return None
    exp, nbf, iat = dates["exp"], dates["nbf"], dates["iat"]
    assert exp is not None and nbf is not None and iat is not None
    if exp <= when - LEEWAY or nbf > when + LEEWAY or iat > when + LEEWAY:
        return None
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            return None
    if "aud" in claims or claims.get("type", "access") != "access":
        return None
    identity = claims.get("identity")
    if type(identity) is not int or identity not in USERID_TABLE:
        return None
    return identity


def storable(value: t.Any) -> bool:
    """Whether a store can keep ``value`` as an id: short UTF-8 text."""
    if not isinstance(value, str) or len(value) > 512:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def store_accepts(claims: dict[str, t.Any]) -> bool:
    """What a token store adds: a ``jti`` to revoke the token by, and
    ids (``jti``, ``fam``) it can keep."""
    if not storable(claims.get("jti")):
        return False
    return not isinstance(claims.get("fam"), str) or storable(claims["fam"])


def expected_user(header: t.Any, claims: t.Any, how: str, now: int) -> t.Any:
    """The user the token must authenticate, ``None`` if it must be
    refused, ``ABSENT`` if that depends on the exact moment of the check
    (a date within a few seconds of its limit)."""
    if how != "right":
        return None
    # The request is made within a moment of ``now`` (truncated): if the
    # verdict is the same at both ends, it is the verdict.
    first, last = valid_at(header, claims, now), valid_at(header, claims, now + 3)
    return first if first == last else ABSENT


STORE_APP_CONFIG = {"JWT_TOKEN_STORE": "memory://", **NO_THROTTLING}


@pytest.mark.parametrize("store", [False, True], ids=["no store", "memory store"])
@fuzz_settings(300)
@given(spec=TOKEN_SPECS, garbage=st.binary(min_size=1, max_size=40))
def test_arbitrary_tokens(
    request: pytest.FixtureRequest,
    store: bool,
    spec: tuple[t.Any, t.Any, str],
    garbage: bytes,
) -> None:
    counted: Counted = request.getfixturevalue("with_store" if store else "plain")
    header, claims, how = spec
    now = int(time.time())
    header, claims = materialize(header, now), materialize(claims, now)
    signing_input = f"{segment(header)}.{segment(claims)}"
    token = f"{signing_input}.{sign(signing_input, how, garbage)}"
    expected = expected_user(header, claims, how, now)
    before = counted.required_calls()
    response = counted.client.get("/counted", headers=auth_header(token))
    assert response.status_code < 500, show(response)
    event(f"status {response.status_code}")
    if response.status_code == 200:
        assert how == "right" and header.get("alg") == "HS256"
        assert counted.required_calls() == before + 1
        if store:  # with a store, a token that cannot be revoked is refused
            assert isinstance(claims.get("jti"), str)
    else:
        assert_refusal(response)
        assert counted.required_calls() == before
    if expected is ABSENT:
        return
    if expected is not None and store and not store_accepts(claims):
        expected = None
    if expected is None:
        assert response.status_code == 401, show(response)
    else:
        assert response.status_code == 200, show(response)
        assert response.text == user_text(expected)


# -- 3. Login and refresh bodies -----------------------------------------------------

JSON_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.api+json",
    ]
)
CONTENT_TYPES = st.one_of(
    JSON_CONTENT_TYPES,
    st.sampled_from(
        [
            "application/jsonx",
            "text/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "",
        ]
    ),
    st.text(alphabet=string.printable, max_size=30),
    st.binary(max_size=30).map(latin1),
)
USERNAMES = st.one_of(
    st.sampled_from(["user1", "user2"]),
    st.sampled_from(["user3", "USER1", "user1 ", " user1", "user1\x00", "", "ｕser1"]),
    JSON_VALUES,
)
PASSWORDS = st.one_of(
    st.just(PASSWORD),
    st.sampled_from(["ABCXYZ", PASSWORD + " ", PASSWORD[:-1], "", PASSWORD + "\x00"]),
    JSON_VALUES,
)
CREDENTIALS = st.fixed_dictionaries(
    {"username": maybe_absent(USERNAMES), "password": maybe_absent(PASSWORDS)},
    optional={"extra": JSON_VALUES},
)


def json_bytes(value: t.Any, ascii_only: bool) -> bytes:
    text = json.dumps(materialize(value, 0), ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


#: ``(body, content type)``: a login, nearly right, or anything.
LOGINS = st.one_of(
    st.tuples(
        st.builds(
            json_bytes,
            st.fixed_dictionaries(
                {"username": st.sampled_from(["user1", "user2"]), "password": PASSWORDS}
            ),
            st.booleans(),
        ),
        JSON_CONTENT_TYPES,
    ),
    st.tuples(
        st.one_of(
            st.builds(json_bytes, CREDENTIALS, st.booleans()),
            st.builds(json_bytes, JSON_VALUES, st.booleans()),
            st.binary(max_size=60),
        ),
        CONTENT_TYPES,
    ),
)


def parsed(body: bytes) -> t.Any:
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError:
        return None


def is_json(content_type: str) -> bool:
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


@fuzz_settings(300)
@given(login=LOGINS)
def test_arbitrary_login_bodies(plain: Counted, login: tuple[bytes, str]) -> None:
    body, content_type = login
    response = plain.client.post(
        "/auth", data=body, environ_overrides={"CONTENT_TYPE": content_type}
    )
    assert response.status_code < 500, show(response)
    event(f"status {response.status_code}")
    data = parsed(body)
    right = (
        isinstance(data, dict)
        and data.get("username") in tuple(USERNAME_TABLE)
        and data.get("password") == PASSWORD
    )
    if response.status_code == 200:
        assert right, (body, content_type)
        assert "access_token" in response.json
    else:
        assert response.mimetype == "application/json", show(response)
    if right and is_json(content_type) and set(data) == {"username", "password"}:
        assert response.status_code == 200, show(response)


#: Stands for the refresh token just issued, wherever a body has it.
OURS = "<the refresh token>"
#: Stands for the access token issued with it: no refresh token.
OURS_ACCESS = "<the access token>"
#: ``(body, content type)``: a refresh, nearly right, or anything.
REFRESHES = st.one_of(
    st.tuples(st.just({"refresh_token": OURS}), JSON_CONTENT_TYPES),
    st.tuples(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "refresh_token": st.one_of(
                        st.just(OURS), st.just(OURS_ACCESS), JSON_VALUES
                    )
                },
                optional={"extra": JSON_VALUES, "access_token": st.just(OURS)},
            ),
            JSON_VALUES,
            st.binary(max_size=60),
        ),
        CONTENT_TYPES,
    ),
)


@fuzz_settings(200)
@given(refresh=REFRESHES, ascii_only=st.booleans())
def test_arbitrary_refresh_bodies(
    with_store: Counted, refresh: tuple[t.Any, str], ascii_only: bool
) -> None:
    body, content_type = refresh
    client = with_store.client
    login = client.post("/auth", json={"username": "user1", "password": PASSWORD})
    ours = login.json["refresh_token"]
    if not isinstance(body, bytes):
        text = json.dumps(body, ensure_ascii=ascii_only)
        text = text.replace(json.dumps(OURS), json.dumps(ours))
        text = text.replace(
            json.dumps(OURS_ACCESS), json.dumps(login.json["access_token"])
        )
        body = text.encode("utf-8", "surrogatepass")
    response = client.post(
        "/auth/refresh", data=body, environ_overrides={"CONTENT_TYPE": content_type}
    )
    assert response.status_code < 500, show(response)
    event(f"status {response.status_code}")
    data = parsed(body)
    right = isinstance(data, dict) and data.get("refresh_token") == ours
    if response.status_code == 200:
        assert right, (body, content_type)
        assert set(response.json) == {"access_token", "refresh_token"}
    else:
        assert response.mimetype == "application/json", show(response)
    if right and is_json(content_type) and set(data) == {"refresh_token"}:
        assert response.status_code == 200, show(response)


# -- 4. The token lifecycle as a state machine -------------------------------------


@dataclass(eq=False)
class Family:
    """One login: its tokens, and whether they were all revoked."""

    user: int
    revoked: bool = False


@dataclass(eq=False)
class Issued:
    token: str
    family: Family
    #: Access tokens: minted by a login. Refresh tokens: presented once.
    fresh: bool = False
    spent: bool = False


@dataclass
class Model:
    access: list[Issued] = field(default_factory=list)
    refresh: list[Issued] = field(default_factory=list)
    logins: int = 0


REVOKED = "Token has been revoked"


def description(response: t.Any) -> str:
    return t.cast(str, response.json["description"])


class Lifecycle(RuleBasedStateMachine):
    """Login, refresh, logout and revoke-all against a memory store, with
    a model of which tokens are live; every access token is checked after
    every step."""

    instance_path = ""

    def __init__(self) -> None:
        super().__init__()
        self.app = lifecycle_app(STORE_APP_CONFIG, self.instance_path)
        self.client = self.app.test_client()
        self.model = Model()

    def teardown(self) -> None:
        close_store(self.app)

    def issue(self, tokens: dict[str, str], family: Family, fresh: bool) -> None:
        self.model.access.append(Issued(tokens["access_token"], family, fresh=fresh))
        self.model.refresh.append(Issued(tokens["refresh_token"], family))

    # A few logins are enough, and leave the steps to the other rules.
    @precondition(lambda self: self.model.logins < 6)
    @rule(user=st.sampled_from([1, 2]))
    def login(self, user: int) -> None:
        response = self.client.post(
            "/auth", json={"username": f"user{user}", "password": PASSWORD}
        )
        assert response.status_code == 200, show(response)
        self.model.logins += 1
        self.issue(response.json, Family(user), fresh=True)

    @precondition(lambda self: self.model.refresh)
    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        issued = data.draw(st.sampled_from(self.model.refresh), label="refresh token")
        response = self.client.post(
            "/auth/refresh", json={"refresh_token": issued.token}
        )
        if issued.family.revoked or issued.spent:
            assert response.status_code == 401, show(response)
            assert description(response) == REVOKED
            # Reuse of a spent token: the whole login is revoked.
            issued.family.revoked = True
        else:
            assert response.status_code == 200, show(response)
            issued.spent = True
            self.issue(response.json, issued.family, fresh=False)

    @precondition(lambda self: self.model.access)
    @rule(data=st.data())
    def logout(self, data: st.DataObject) -> None:
        issued = data.draw(st.sampled_from(self.model.access), label="access token")
        also = data.draw(
            st.none() | st.sampled_from(self.model.refresh), label="refresh token"
        )
        body = None if also is None else {"refresh_token": also.token}
        response = self.client.post(
            "/auth/revoke", headers=auth_header(issued.token), json=body
        )
        if issued.family.revoked:
            assert response.status_code == 401, show(response)
            assert description(response) == REVOKED
        elif also is not None and also.family.user != issued.family.user:
            assert response.status_code == 401, show(response)
            assert description(response) == (
                "The refresh token belongs to another identity"
            )
        else:
            assert response.status_code == 204, show(response)
            issued.family.revoked = True
            if also is not None:
                also.family.revoked = True

    @rule(user=st.sampled_from([1, 2]))
    def revoke_all(self, user: int) -> None:
        with self.app.app_context():
            self.app.extensions["jwt"].revoke_all(user)
        for issued in self.model.access:
            if issued.family.user == user:
                issued.family.revoked = True

    @precondition(lambda self: self.model.access)
    @rule(data=st.data())
    def fresh_view(self, data: st.DataObject) -> None:
        issued = data.draw(st.sampled_from(self.model.access), label="access token")
        response = self.client.post("/password", headers=auth_header(issued.token))
        if issued.fresh and not issued.family.revoked:
            assert response.status_code == 200, show(response)
        else:
            assert_refusal(response)

    @invariant()
    def access_tokens_are_accepted_exactly_while_live(self) -> None:
        for issued in self.model.access:
            response = self.client.get("/protected", headers=auth_header(issued.token))
            if issued.family.revoked:
                assert_refusal(response)
                assert description(response) == REVOKED
            else:
                assert response.status_code == 200, show(response)
                assert response.text == user_text(issued.family.user)

    @invariant()
    def refresh_tokens_are_no_access_tokens(self) -> None:
        for issued in self.model.refresh:
            response = self.client.get("/protected", headers=auth_header(issued.token))
            assert_refusal(response)
            assert description(response) == "A refresh token is not accepted here"

    @invariant()
    def revoked_refresh_tokens_stay_revoked(self) -> None:
        # Presenting a token of a revoked login changes nothing: safe here.
        for issued in self.model.refresh:
            if issued.family.revoked:
                response = self.client.post(
                    "/auth/refresh", json={"refresh_token": issued.token}
                )
                assert response.status_code == 401, show(response)
                assert description(response) == REVOKED


def test_token_lifecycle_state_machine(instance_path: str) -> None:
    class Machine(Lifecycle):
        pass

    Machine.instance_path = instance_path

    run_state_machine_as_test(
        Machine,
        settings=settings(fuzz_settings(50, scale=10), stateful_step_count=25),
    )

"""Wycheproof's JSON Web Signature vectors, sent over HTTP.

The vectors are vendored, unmodified, in
``tests/data/wycheproof/json_web_signature_test.json``: the C2SP/wycheproof
project's ``testvectors_v1/json_web_signature_test.json``, licensed under the
Apache License 2.0 (see ``README.md`` and ``LICENSE`` in that directory).

Each test group's key is configured the way a deployment would: an ``oct``
key's ``k`` becomes ``JWT_SECRET_KEY``, an RSA or EC key becomes a PEM
``JWT_PUBLIC_KEY``, and ``JWT_ALGORITHM`` is the key's declared ``alg``. Every
vector then goes to a protected view as ``Authorization: Bearer <jws>``.

The payloads are not JSON objects (``foo``, a sentence, zero bytes), so even
a vector that passes the signature check is refused when its payload is
parsed. That is what tells the two layers apart over HTTP:

* a ``valid`` vector must get past the signature: a 200 if its payload is a
  JSON object, else a 401 whose description is ``Invalid payload string: ...``
  (the payload is parsed only after the signature verified);
* an ``invalid`` vector must be a 401 that stops before that point.

Where our judgement differs from the label, :data:`OVERRIDES` says why:

* 346, 350: the key declares PS256, the token says PS384. The app is
  configured with the key's algorithm and the token's header never chooses
  it, so they are refused.
* 347, 351: the key declares ``ES521``, which names no JWA algorithm (PyJWT
  keeps it as a legacy alias); the only one for a P-521 key is ES512, which
  the token uses. Configured as ES512 they verify, as labelled, so they need
  no override.
* 367, 370 ("invalid base64 padding") are byte-identical to the valid 357 in
  this copy of the file: the padding they are about is gone, so they verify.
* 372, 373 are labelled valid but carry a ``?`` inside a base64url segment;
  RFC 7515 section 2 allows only the base64url alphabet, and the header
  parser refuses them.

Not sent: the groups whose key is meant for encryption (``use: enc`` or
``key_ops`` without ``verify``: 353 to 356). A PEM key has no usage, so the
library cannot know; not configuring such a key is the deployment's job.
The JSON-serialised vector (17) is sent as it is; it is not a compact token
and must be refused.
"""

from __future__ import annotations

import base64
import functools
import json
import typing as t
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask import jsonify

from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required

VECTORS_FILE = (
    Path(__file__).resolve().parent
    / "data"
    / "wycheproof"
    / "json_web_signature_test.json"
)

SCHEME = "Bearer"
#: What our judgement expects where it differs from the label (see above).
OVERRIDES = {
    346: "invalid",
    350: "invalid",
    367: "valid",
    370: "valid",
    372: "invalid",
    373: "invalid",
}
#: The one JWA algorithm for each curve, for keys whose "alg" names none.
CURVE_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
#: JWS algorithms registered by RFC 7518 section 3.1 and RFC 8037. PyJWT
#: also knows "ES521", a legacy alias of ES512 that no JOSE registry lists.
JWA_ALGORITHMS = {
    *(
        f"{family}{bits}"
        for family in ("HS", "RS", "ES", "PS")
        for bits in (256, 384, 512)
    ),
    "EdDSA",
}
#: Groups left out, by the tcIds of their tests; see the module docstring.
NOT_CONFIGURABLE = {353, 354, 355, 356}


def load_groups() -> list[dict[str, t.Any]]:
    groups: list[dict[str, t.Any]] = json.loads(VECTORS_FILE.read_text())["testGroups"]
    return groups


GROUPS = load_groups()


def group_key(group: dict[str, t.Any]) -> dict[str, t.Any]:
    key: dict[str, t.Any] = group.get("public") or group["private"]
    return key


def configured_algorithm(key: dict[str, t.Any]) -> str | None:
    """The ``JWT_ALGORITHM`` a deployment would set for ``key``; ``None`` for
    a key that is not for signatures."""
    if key.get("use", "sig") != "sig" or "verify" not in key.get("key_ops", ["verify"]):
        return None
    declared = key.get("alg")
    if declared in JWA_ALGORITHMS:
        return t.cast(str, declared)
    if key.get("kty") == "EC":
        return CURVE_ALGORITHMS[key["crv"]]
    return None  # pragma: no cover - every other key declares its alg


class Verifier:
    """The one identity of a verify-only service."""

    id = "wycheproof"


def identity(payload: dict[str, t.Any]) -> Verifier:
    return Verifier()


@functools.cache
def group_app(index: int) -> Flask:
    """A verify-only app for test group ``index``, built as the README says."""
    key = group_key(GROUPS[index])
    algorithm = configured_algorithm(key)
    assert algorithm is not None
    config: dict[str, t.Any] = {
        "JWT_ALGORITHM": algorithm,
        "JWT_AUTH_HEADER_PREFIX": SCHEME,
        # No auth endpoint: there is no private key to sign with.
        "JWT_AUTH_URL_RULE": None,
        # The payloads carry no claims; the signature is what is tested.
        "JWT_REQUIRED_CLAIMS": [],
    }
    if key["kty"] == "oct":
        setting, material = (
            "JWT_SECRET_KEY",
            base64.urlsafe_b64decode(key["k"] + "=="),
        )
    else:
        public = {k: v for k, v in key.items() if k not in ("alg", "d", "key_ops")}
        public_key = jwt.PyJWK(public, algorithm=algorithm).key
        if hasattr(public_key, "public_key"):
            public_key = public_key.public_key()
        setting, material = (
            "JWT_PUBLIC_KEY",
            public_key.public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo,
            ),
        )
    # The key under its own kid, as the vectors' tokens name it.
    config[setting] = (
        [{"kid": key["kid"], "key": material}] if "kid" in key else material
    )

    app = Flask(__name__)
    app.config.update(config)
    JWT(app, None, identity)

    @app.route("/protected")
    @jwt_required()
    def protected() -> t.Any:
        return jsonify(identity=current_identity.id)

    return app


def vectors() -> t.Iterator[t.Any]:
    for index, group in enumerate(GROUPS):
        if configured_algorithm(group_key(group)) is None:
            continue
        for test in group["tests"]:
            expected = OVERRIDES.get(test["tcId"], test["result"])
            name = f"{test['tcId']}-{group['comment']}-{test['comment']}"
            yield pytest.param(index, test, expected, id=name)


VECTORS = list(vectors())


def compact(jws: str | dict[str, t.Any]) -> str:
    if isinstance(jws, str):
        return jws
    # The JSON serialisation, sent as it is.
    return json.dumps(jws, separators=(",", ":"))


def payload_is_object(jws: str) -> bool:
    segment = jws.split(".")[1]
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return isinstance(json.loads(data.decode("utf-8")), dict)
    except ValueError:
        return False


#: Header errors that RFC 6750 calls a malformed request, not a bad token.
MALFORMED_REQUEST = {
    "Token missing",
    "Token contains spaces",
    "Token contains invalid characters",
}


def challenge(description: str) -> str:
    # RFC 6750 section 3: no quote or backslash in error_description.
    cleaned = description.replace('"', "'").replace("\\", "")
    error = "invalid_request" if description in MALFORMED_REQUEST else "invalid_token"
    return (
        f'{SCHEME} realm="Login Required", error="{error}",'
        f' error_description="{cleaned}"'
    )


def test_every_vector_is_accounted_for():
    sent = {param.values[1]["tcId"] for param in VECTORS}
    every = {test["tcId"] for group in GROUPS for test in group["tests"]}
    assert sent | NOT_CONFIGURABLE == every
    assert not sent & NOT_CONFIGURABLE
    assert set(OVERRIDES) <= sent


@pytest.mark.parametrize(
    "group_index",
    [
        pytest.param(index, id=f"{index}-{group['comment']}")
        for index, group in enumerate(GROUPS)
        if "private" in group and configured_algorithm(group_key(group)) is not None
    ],
)
def test_group_key_signs_tokens_the_app_accepts(group_index):
    # The control for the vectors: no valid vector has a JSON object payload,
    # so show with the group's private key that the app is configured right.
    group = GROUPS[group_index]
    algorithm = configured_algorithm(group_key(group))
    private = {k: v for k, v in group["private"].items() if k != "alg"}
    key = jwt.PyJWK(private, algorithm=algorithm).key
    token = jwt.encode(
        {"identity": "wycheproof", "sub": "wycheproof"}, key, algorithm=algorithm
    )
    client = group_app(group_index).test_client()
    response = client.get("/protected", headers={"Authorization": f"{SCHEME} {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"identity": "wycheproof"}


@pytest.mark.parametrize(("group_index", "test", "expected"), VECTORS)
def test_vector(group_index, test, expected):
    jws = compact(test["jws"])
    client = group_app(group_index).test_client()
    response = client.get("/protected", headers={"Authorization": f"{SCHEME} {jws}"})
    detail = f"{response.status} {response.get_data(as_text=True)[:300]!r}"
    assert response.mimetype == "application/json", detail

    if expected == "valid" and payload_is_object(jws):
        assert response.status_code == 200, detail
        assert response.get_json() == {"identity": "wycheproof"}
        return

    assert response.status_code == 401, detail
    body = response.get_json()
    assert set(body) == {"status_code", "error", "description"}, body
    assert body["status_code"] == 401
    description = body["description"]
    assert response.headers.getlist("WWW-Authenticate") == [challenge(description)]
    past_signature = description.startswith("Invalid payload string: ")
    if expected == "valid":
        # Refused only because the payload is not a JSON object.
        assert body["error"] == "Invalid token", body
        assert past_signature, body
    else:
        assert body["error"] in {"Invalid JWT header", "Invalid token"}, body
        assert not past_signature, body

"""The contender apps, built the way each library's docs tell users to.

Protected request, same route body everywhere (``str(user)`` of user 1):

* **A** a bare Flask route, no authentication at all;
* **B** Flask with inline PyJWT: read ``Authorization``, split, ``jwt.decode``;
* **C** Flask-JWT-Extended ``@jwt_required()`` with a ``user_lookup_loader``;
* **D** jwt_blueprint ``@jwt_required()``, the same token every request (warm);
* **E** jwt_blueprint, a different token every request and
  ``JWT_VERIFY_CACHE_SIZE = 0`` (cold);
* **D3**, **E3** D and E with a key set of three (the signing key first, two
  more that verify), timing tokens of the signing key.

Issuance: jwt_blueprint's ``POST /auth`` against a Flask-JWT-Extended login
view that reads the same JSON body and returns ``{"access_token": ...}``.

:func:`protected_contenders` and :func:`issuance_contenders` return them ready
to time; :func:`http_app` is the gunicorn entry point.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

import jwt
from flask import abort
from flask import Flask
from flask import request
from flask_jwt_extended import create_access_token
from flask_jwt_extended import current_user
from flask_jwt_extended import jwt_required as fjwte_required
from flask_jwt_extended import JWTManager

from jwt_blueprint import current_identity
from jwt_blueprint import JWT
from jwt_blueprint import jwt_required

from .common import authenticate
from .common import EXPECTED_BODY
from .common import identity
from .common import KeySet
from .common import make_claims
from .common import make_keys
from .common import PASSWORD
from .common import PROTECTED_PATH
from .common import SECRET
from .common import spare_keys
from .common import TOKEN_LIFETIME
from .common import USERID_TABLE
from .common import USERNAME
from .common import USERSUB_TABLE
from .wsgi import call
from .wsgi import Environ
from .wsgi import json_body
from .wsgi import make_environ
from .wsgi import Response

#: jwt_blueprint's ``Authorization`` scheme (``JWT_AUTH_HEADER_PREFIX``).
JWT_SCHEME = "JWT"
#: The scheme of inline PyJWT and Flask-JWT-Extended.
BEARER_SCHEME = "Bearer"
#: The cache key the cold contender turns off (ignored if the library lacks it).
CACHE_KEY = "JWT_VERIFY_CACHE_SIZE"
#: How many keys D3 and E3 verify with.
KEY_SET_SIZE = 3
#: The login body posted by every issuance contender.
LOGIN_BODY = json_body({"username": USERNAME, "password": PASSWORD})


@dataclass
class Contender:
    """One thing to time: an app, the environs to cycle through, a check.

    :param key: the short name in the table, e.g. ``"D"``.
    :param label: what it is, in words.
    :param app: the Flask app; its ``wsgi_app`` is called.
    :param environs: one is used per call, in order, cycling.
    :param body: the POST body, given a fresh ``wsgi.input`` per call.
    :param validate: raises :class:`AssertionError` if a response is not
        what the benchmark means to measure.
    :param probe: further proof that the app does what the label says (that
        its store is consulted, say); raises :class:`AssertionError`.
    """

    key: str
    label: str
    app: Flask
    environs: list[Environ]
    validate: Callable[[Response], None]
    body: bytes | None = None
    notes: list[str] = field(default_factory=list)
    probe: Callable[[], None] | None = None

    def check(self) -> None:
        """Call once per distinct environ (up to 3) and validate the answer,
        then run the probe.

        :raises AssertionError: naming the contender.
        """
        for environ in self.environs[:3]:
            response = call(self.app.wsgi_app, environ, self.body)
            try:
                self.validate(response)
            except AssertionError as exc:
                raise AssertionError(
                    f"contender {self.key} ({self.label}) answered"
                    f" {response.status} {response.body[:200]!r}: {exc}"
                ) from None
        if self.probe is not None:
            try:
                self.probe()
            except AssertionError as exc:
                raise AssertionError(
                    f"contender {self.key} ({self.label}): {exc}"
                ) from None


# -- validation ----------------------------------------------------------


def expect_protected(response: Response) -> None:
    """The protected route served user 1."""
    assert response.status == 200, "expected 200"
    assert response.body == EXPECTED_BODY, f"expected {EXPECTED_BODY!r}"


def expect_token(keys: KeySet) -> Callable[[Response], None]:
    """A login answer: 200 and a token for user 1 signed with ``keys``."""

    def validate(response: Response) -> None:
        assert response.status == 200, "expected 200"
        token = json.loads(response.body)["access_token"]
        claims = jwt.decode(token, keys.public_key, algorithms=[keys.algorithm])
        assert claims["sub"] == "1", "expected a token for user 1"

    return validate


# -- the apps --------------------------------------------------------------


def _flask(name: str) -> Flask:
    app = Flask(name)
    app.testing = False
    app.config["SECRET_KEY"] = SECRET
    return app


def bare_app() -> Flask:
    """A: the route alone, no token read, the same body."""
    app = _flask("bench_bare")

    @app.get(PROTECTED_PATH)
    def protected() -> str:
        return f"{USERID_TABLE[1]}"

    return app


def inline_app(keys: KeySet) -> Flask:
    """B: the obvious hand-written check with PyJWT."""
    app = _flask("bench_inline")
    verifying_key = keys.public_key
    algorithms = [keys.algorithm]

    @app.get(PROTECTED_PATH)
    def protected() -> str:
        try:
            scheme, token = request.headers["Authorization"].split()
            if scheme != BEARER_SCHEME:
                abort(401)
            payload = jwt.decode(token, verifying_key, algorithms=algorithms)
        except (KeyError, ValueError, jwt.PyJWTError):
            abort(401)
        user = USERID_TABLE.get(payload["identity"])
        if user is None:
            abort(401)
        return f"{user}"

    return app


def fjwte_app(keys: KeySet, key_objects: bool = False) -> Flask:
    """C: Flask-JWT-Extended, headers only, with a ``user_lookup_loader``.

    :param key_objects: give it prepared ``cryptography`` keys instead of the
        PEM text its docs show (asymmetric algorithms only).
    """
    app = _flask("bench_fjwte")
    app.config.update(
        JWT_SECRET_KEY=SECRET,
        JWT_ALGORITHM=keys.algorithm,
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ACCESS_TOKEN_EXPIRES=TOKEN_LIFETIME,
        # Header tokens need no CSRF claim; leaving it out keeps the claims
        # the same as everyone else's (and saves C a uuid4 per token).
        JWT_COOKIE_CSRF_PROTECT=False,
    )
    if not keys.symmetric:
        app.config["JWT_PRIVATE_KEY"] = (
            keys.private_key if key_objects else keys.private_pem
        )
        app.config["JWT_PUBLIC_KEY"] = (
            keys.public_key if key_objects else keys.public_pem
        )
    manager = JWTManager(app)

    @manager.user_lookup_loader
    def user_lookup(jwt_header: dict[str, t.Any], jwt_data: dict[str, t.Any]) -> t.Any:
        return USERSUB_TABLE.get(jwt_data["sub"])

    @app.get(PROTECTED_PATH)
    @fjwte_required()
    def protected() -> str:
        return f"{current_user}"

    @app.post("/login")
    def login() -> t.Any:
        data = request.get_json()
        user = authenticate(data["username"], data["password"])
        if user is None:
            return {"msg": "Bad username or password"}, 401
        return {"access_token": fjwte_token_for(user.id)}

    return app


def fjwte_token_for(user_id: int) -> str:
    """A Flask-JWT-Extended access token with the common claims."""
    token: str = create_access_token(
        identity=str(user_id), additional_claims={"identity": user_id}
    )
    return token


def blueprint_app(keys: KeySet, config: dict[str, t.Any] | None = None) -> Flask:
    """D/E: jwt_blueprint as its quickstart shows, plus ``config``."""
    app = _flask("bench_blueprint")
    app.config.update(
        JWT_ALGORITHM=keys.algorithm,
        JWT_EXPIRATION_DELTA=TOKEN_LIFETIME,
        # Every timed login and refresh comes from one address, as one
        # user: the throttle would refuse all but the first few. The
        # others have none, so the issuance figures compare like with like.
        JWT_AUTH_RATE_LIMIT_PER_USERNAME=None,
        JWT_AUTH_RATE_LIMIT_PER_ADDRESS=None,
    )
    if not keys.symmetric:
        app.config["JWT_PRIVATE_KEY"] = keys.private_pem
        app.config["JWT_PUBLIC_KEY"] = keys.public_pem
    app.config.update(config or {})
    JWT(app, authenticate, identity)

    @app.get(PROTECTED_PATH)
    @jwt_required()
    def protected() -> str:
        return f"{current_identity}"

    return app


def has_verify_cache(app: Flask) -> bool:
    """Whether this jwt_blueprint knows ``JWT_VERIFY_CACHE_SIZE`` (it sets a
    default for every key it knows when the blueprint is registered)."""
    return CACHE_KEY in app.config


def key_set_config(listed: Sequence[KeySet]) -> dict[str, t.Any]:
    """A key set of ``listed``, the first signing: secrets for HS*, else
    private keys as PEM text (each verifies with its public half)."""
    if listed[0].symmetric:
        return {"JWT_SECRET_KEY": [k.private_pem for k in listed]}
    return {
        "JWT_PRIVATE_KEY": [k.private_pem for k in listed],
        "JWT_PUBLIC_KEY": None,
    }


def codec_of(app: Flask) -> t.Any:
    """The app's :class:`jwt_blueprint.tokens.TokenCodec`."""
    return app.extensions["jwt_blueprint"].settings().codec


class KeySetProof:
    """What D3 and E3 check beyond a 200: that the app verifies with the
    whole set, that timed tokens are the signing key's, and that a token of
    the last key passes while one of a key not listed does not.

    :param one_key: an app with only the signing key (D), whose ``kid`` the
        timed tokens must carry.
    :param last: the key listed last.
    :param unlisted: a key of the same algorithm that the set does not list.
    """

    def __init__(self, one_key: Flask, last: KeySet, unlisted: KeySet) -> None:
        self.first_kid: str = codec_of(one_key).signing_kid
        last_app = blueprint_app(last, key_set_config([last]))
        self.last_kid: str = codec_of(last_app).signing_kid
        self.last_token = login_token(last_app)
        unlisted_app = blueprint_app(unlisted, key_set_config([unlisted]))
        self.unlisted_token = login_token(unlisted_app)
        # The same claims and the key not listed, under a listed key's kid:
        # refused by the signature, not by the lookup.
        self.forged_token = jwt.encode(
            jwt.decode(self.unlisted_token, options={"verify_signature": False}),
            unlisted.private_key,
            algorithm=unlisted.algorithm,
            headers={"kid": self.first_kid},
        )

    def probe(self, app: Flask, environs: list[Environ]) -> Callable[[], None]:
        """The check of the contender that serves ``environs`` with ``app``."""

        def check() -> None:
            kids = list(codec_of(app).verifying_keys)
            assert len(kids) == KEY_SET_SIZE, (
                f"expected {KEY_SET_SIZE} verifying keys, got {kids}"
            )
            assert (kids[0], kids[-1]) == (self.first_kid, self.last_kid), (
                f"expected the signing key first and the last key last: {kids}"
            )
            for environ in environs[:3]:
                token = environ["HTTP_AUTHORIZATION"].split()[1]
                kid = jwt.get_unverified_header(token).get("kid")
                assert kid == self.first_kid, f"timed token with kid {kid!r}"
            last = call(app.wsgi_app, protected_environ(JWT_SCHEME, self.last_token))
            expect_protected(last)
            for name in ("unlisted_token", "forged_token"):
                environ = protected_environ(JWT_SCHEME, getattr(self, name))
                refused = call(app.wsgi_app, environ)
                assert refused.status == 401, f"{name} got {refused.status}"

        return check


# -- tokens ---------------------------------------------------------------


def blueprint_tokens(app: Flask, count: int) -> list[str]:
    """``count`` distinct tokens from the app's own ``strategy.encode_token``."""
    strategy = app.extensions["jwt"]
    user = USERID_TABLE[1]
    with app.app_context():
        tokens = [strategy.encode_token(user) for _ in range(count)]
    if len(set(tokens)) != count:
        raise AssertionError("expected distinct tokens (each has a random jti)")
    return tokens


def login_token(app: Flask) -> str:
    """A token from the app's auth endpoint, the way a client gets one."""
    response = call(
        app.wsgi_app, make_environ("/auth", "POST", body=LOGIN_BODY), LOGIN_BODY
    )
    assert response.status == 200, response
    token: str = json.loads(response.body)["access_token"]
    return token


def fjwte_token(app: Flask) -> str:
    with app.app_context():
        return fjwte_token_for(1)


def protected_environ(scheme: str, token: str) -> Environ:
    return make_environ(PROTECTED_PATH, authorization=f"{scheme} {token}")


# -- the contender sets ------------------------------------------------------


def protected_contenders(
    keys: KeySet, cold_tokens: int, fjwte_key_objects: bool = False
) -> list[Contender]:
    """A to E, D3 and E3 for ``keys``; E and E3 cycle through ``cold_tokens``
    distinct tokens.

    With ``fjwte_key_objects`` (asymmetric only) another contender, ``C*``,
    is Flask-JWT-Extended given prepared key objects instead of PEM text.
    """
    inline = inline_app(keys)
    fjwte = fjwte_app(keys)
    warm = blueprint_app(keys)
    cold = blueprint_app(keys, {CACHE_KEY: 0})
    second, third, unlisted = spare_keys(keys.algorithm)
    key_set = key_set_config([keys, second, third])
    warm3 = blueprint_app(keys, key_set)
    cold3 = blueprint_app(keys, {**key_set, CACHE_KEY: 0})
    proof = KeySetProof(warm, third, unlisted)
    warm3_environs = [protected_environ(JWT_SCHEME, login_token(warm3))]
    cold3_environs = [
        protected_environ(JWT_SCHEME, token)
        for token in blueprint_tokens(cold3, cold_tokens)
    ]
    key_set_notes = [
        f"{KEY_SET_SIZE} keys: "
        + ("3 secrets" if keys.symmetric else "3 private keys as PEM text")
        + ", timed tokens signed by the first; its check: 3 verifying keys, a"
        " token of the last passes, one of a key not listed is refused (401)"
    ]
    cold_notes = [f"{CACHE_KEY}=0: every request verifies the signature"]
    if not has_verify_cache(warm):
        cold_notes.append(
            f"this jwt_blueprint has no {CACHE_KEY} (no verification cache):"
            " D and E take the same path; E only varies the token"
        )
    inline_token = keys.sign(make_claims())
    contenders = [
        Contender(
            "A",
            "bare Flask route",
            bare_app(),
            [protected_environ(JWT_SCHEME, login_token(warm))],
            expect_protected,
        ),
        Contender(
            "B",
            "Flask + inline jwt.decode",
            inline,
            [protected_environ(BEARER_SCHEME, inline_token)],
            expect_protected,
        ),
        Contender(
            "C",
            "Flask-JWT-Extended @jwt_required()",
            fjwte,
            [protected_environ(BEARER_SCHEME, fjwte_token(fjwte))],
            expect_protected,
            notes=[] if keys.symmetric else ["configured with PEM text"],
        ),
        Contender(
            "D",
            "jwt_blueprint @jwt_required(), same token (warm)",
            warm,
            [protected_environ(JWT_SCHEME, login_token(warm))],
            expect_protected,
            notes=["default config"],
        ),
        Contender(
            "D3",
            "jwt_blueprint, 3 keys, same token (warm)",
            warm3,
            warm3_environs,
            expect_protected,
            notes=key_set_notes,
            probe=proof.probe(warm3, warm3_environs),
        ),
        Contender(
            "E",
            "jwt_blueprint @jwt_required(), new token each call (cold)",
            cold,
            [
                protected_environ(JWT_SCHEME, token)
                for token in blueprint_tokens(cold, cold_tokens)
            ],
            expect_protected,
            notes=cold_notes,
        ),
        Contender(
            "E3",
            "jwt_blueprint, 3 keys, new token each call (cold)",
            cold3,
            cold3_environs,
            expect_protected,
            notes=[
                f"the keys and check of D3, {CACHE_KEY}=0; a token of the last"
                " key listed costs the same: its key is found by kid in one"
                " dict lookup, not by trying each key",
            ],
            probe=proof.probe(cold3, cold3_environs),
        ),
    ]
    if fjwte_key_objects and not keys.symmetric:
        prepared = fjwte_app(keys, key_objects=True)
        contenders.insert(
            3,
            Contender(
                "C*",
                "Flask-JWT-Extended, prepared key objects",
                prepared,
                [protected_environ(BEARER_SCHEME, fjwte_token(prepared))],
                expect_protected,
                notes=["JWT_PRIVATE_KEY/JWT_PUBLIC_KEY as cryptography objects"],
            ),
        )
    return contenders


def issuance_contenders(
    keys: KeySet, fjwte_key_objects: bool = False
) -> list[Contender]:
    """jwt_blueprint's auth endpoint against Flask-JWT-Extended's login view."""
    validate = expect_token(keys)
    contenders = [
        Contender(
            "ours",
            "jwt_blueprint POST /auth",
            blueprint_app(keys),
            [make_environ("/auth", "POST", body=LOGIN_BODY)],
            validate,
            body=LOGIN_BODY,
        ),
        Contender(
            "fjwte",
            "Flask-JWT-Extended login view",
            fjwte_app(keys),
            [make_environ("/login", "POST", body=LOGIN_BODY)],
            validate,
            body=LOGIN_BODY,
            notes=[] if keys.symmetric else ["configured with PEM text"],
        ),
    ]
    if fjwte_key_objects and not keys.symmetric:
        contenders.append(
            Contender(
                "fjwte*",
                "Flask-JWT-Extended login view, prepared key objects",
                fjwte_app(keys, key_objects=True),
                [make_environ("/login", "POST", body=LOGIN_BODY)],
                validate,
                body=LOGIN_BODY,
                notes=["JWT_PRIVATE_KEY/JWT_PUBLIC_KEY as cryptography objects"],
            )
        )
    return contenders


# -- HTTP ----------------------------------------------------------------------

#: The HTTP contenders with a token store; :mod:`.lifecycle` builds them.
STORE_KEYS = ("C-redis", "D-sqlite", "D-redis")
#: Takes a store's ``close``: ``Backends.on_close``, ``ExitStack.callback``.
OnClose = Callable[[Callable[[], object]], object]


class HttpHeaders(t.NamedTuple):
    """The ``Authorization`` headers of one HTTP contender.

    :param valid: the one wrk sends; answered 200.
    :param revoked: a store contender's revoked token, answered 401: proof
        that the server consults the store (``None`` without a store).
    """

    valid: str
    revoked: str | None = None


def http_app(
    key: str,
    store_url: str | None = None,
    on_close: OnClose | None = None,
) -> Flask:
    """The gunicorn entry point: ``benchmarks.apps:http_app('D')``, or for a
    store contender ``benchmarks.apps:http_app('D-redis', 'redis://...')``.

    HS256 only, so the server and the load generator share the secret.

    :param on_close: given the store's ``close``; without it the store lives
        as long as the process (a gunicorn worker).
    """
    keys = make_keys("HS256")
    if key in STORE_KEYS:
        from . import lifecycle  # which imports this module

        return lifecycle.http_store_app(key, keys, _store_url(key, store_url), on_close)
    if key == "A":
        return bare_app()
    if key == "C":
        return fjwte_app(keys)
    if key == "D":
        return blueprint_app(keys)
    raise ValueError(f"no HTTP app {key!r}")


def http_headers(key: str, store_url: str | None = None) -> HttpHeaders:
    """The headers for :func:`http_app` ``(key, store_url)``, minted here by an
    app with the same config (on the same store, which it writes to)."""
    keys = make_keys("HS256")
    if key in STORE_KEYS:
        from . import lifecycle  # which imports this module

        return lifecycle.http_store_headers(key, keys, _store_url(key, store_url))
    if key == "C":
        return HttpHeaders(f"{BEARER_SCHEME} {fjwte_token(fjwte_app(keys))}")
    return HttpHeaders(f"{JWT_SCHEME} {login_token(blueprint_app(keys))}")


def http_authorization(key: str, store_url: str | None = None) -> str:
    """The ``Authorization`` header wrk sends to :func:`http_app` ``(key)``."""
    return http_headers(key, store_url).valid


def _store_url(key: str, store_url: str | None) -> str:
    if store_url is None:
        raise ValueError(f"HTTP app {key!r} needs its store URL")
    return store_url

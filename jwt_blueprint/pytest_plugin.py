"""Fixtures for an app's own tests: tokens minted through the app's strategy.

Installing jwt_blueprint registers this module with pytest (the ``pytest11``
entry point ``jwt_blueprint``). The fixtures mint tokens for the Flask app
your ``app`` fixture returns, as its login would: through its payload,
headers and encode handlers, with its keys, ``kid``, issuer, audience and
token store. Each fixture is a method of a :class:`TokenFactory` for that
app:

- ``jwt_token(identity, **claims)``: :meth:`TokenFactory.token`;
- ``jwt_headers(identity, **claims)``: :meth:`TokenFactory.headers`;
- ``jwt_cookies(client, identity, **claims)``: :meth:`TokenFactory.cookies`;
- ``jwt_tokens(identity)``: :meth:`TokenFactory.tokens`;
- ``jwt_bad_token(kind, identity, **claims)``: :meth:`TokenFactory.bad_token`.

They take the app from the ``jwt_app`` fixture, which returns your ``app``
fixture (the pytest-flask convention); override ``jwt_app`` if yours has
another name. The fixtures are function-scoped; for a wider scope, make a
:class:`TokenFactory` in a fixture of that scope. Disable the plugin with
``-p no:jwt_blueprint`` (or every plugin entry point with
``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import secrets
import time
import typing as t
from calendar import timegm
from datetime import datetime
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa

from .cookies import CSRF_CLAIM
from .state import get_state
from .state import STATE_KEY

if t.TYPE_CHECKING:  # pragma: no cover
    from flask import Flask
    from flask.testing import FlaskClient

    from .config import Settings
    from .strategy import JWTStrategy

#: What :meth:`TokenFactory.bad_token` makes, each refused by a protected
#: view for its own reason. ``"revoked"`` needs a token store.
BAD_TOKEN_KINDS = (
    "expired",
    "not_yet_valid",
    "wrong_key",
    "tampered",
    "unsigned",
    "wrong_type",
    "revoked",
)

#: How far outside its validity, beyond ``JWT_LEEWAY``, an expired or
#: not-yet-valid token is.
_OUTSIDE_SECONDS = 3600

_NO_IDENTITY: t.Any = object()


class _Pair(t.NamedTuple):
    access_token: str
    refresh_token: str


class TokenPair(_Pair):
    """What a login issues with ``JWT_REFRESH_ENABLED``: a named tuple
    ``(access_token, refresh_token)``, with the CSRF values of the two
    tokens as attributes when the app sets tokens in cookies."""

    #: The access token's CSRF value (its ``csrf`` claim), which a login
    #: sets in the ``JWT_ACCESS_CSRF_COOKIE_NAME`` cookie and a
    #: state-changing request sends back in ``JWT_CSRF_HEADER_NAME``;
    #: ``None`` without ``"cookies"`` in ``JWT_TOKEN_LOCATION``.
    csrf_token: str | None = None
    #: The refresh token's, in ``JWT_REFRESH_CSRF_COOKIE_NAME``.
    refresh_csrf_token: str | None = None


class TokenFactory:
    """Mints tokens for ``app`` through its strategy, in an app context of
    its own. The ``jwt_*`` fixtures are its methods.

    :param app: a Flask app with jwt_blueprint set up.
    :raises TypeError: if it is not one.
    """

    def __init__(self, app: Flask) -> None:
        if STATE_KEY not in getattr(app, "extensions", {}):
            raise TypeError(
                f"{app!r} is not a Flask app with jwt_blueprint set up: register"
                " a JWTBlueprint on it, or call JWT(app) / jwt.init_app(app)"
            )
        self.app = app

    def token(
        self,
        identity: t.Any,
        /,
        *,
        fresh: bool = True,
        expires_delta: timedelta | float | None = None,
        **claims: t.Any,
    ) -> str:
        """An access token for ``identity``, as the app's login issues it
        (:meth:`~jwt_blueprint.JWTStrategy.create_access_token`), with
        ``claims`` written over the payload handler's.

        The token holds exactly the claims given, even those the strategy
        writes itself (``type``, ``fresh``, ``iss``, ``aud``, ...): it is
        then signed again, with the app's key and header. So is ``exp``,
        written in after minting: with a token store, it may be later than
        the strategy would issue (beyond the longest lifetime, for which
        revocations are kept). A claim given as ``None`` is left out.

        :param identity: what the app's payload handler takes.
        :param fresh: whether it counts as minted by a login, for
            ``jwt_required(fresh=True)``.
        :param expires_delta: its lifetime, instead of
            ``JWT_EXPIRATION_DELTA``.
        :raises TypeError: for both ``expires_delta`` and an ``exp`` claim.
        """
        with self.app.app_context():
            return self._token(identity, claims, fresh, expires_delta)

    def headers(
        self,
        identity: t.Any = _NO_IDENTITY,
        /,
        *,
        token: str | None = None,
        fresh: bool = True,
        expires_delta: timedelta | float | None = None,
        **claims: t.Any,
    ) -> dict[str, str]:
        """``{"Authorization": "<JWT_AUTH_HEADER_PREFIX> <token>"}``, for a
        token of ``identity`` (see :meth:`token`) or for ``token``.

        :raises TypeError: for both an identity and a token, or neither.
        :raises RuntimeError: if the app does not read tokens from headers
            (``"headers"`` is not in ``JWT_TOKEN_LOCATION``): it would ignore
            the header, and refuse any request for a missing token.
        """
        with self.app.app_context():
            settings = self._settings()
        if "headers" not in settings.token_locations:
            raise RuntimeError(
                'jwt_headers() needs "headers" in JWT_TOKEN_LOCATION (the app\'s'
                f" is {list(settings.token_locations)}); use jwt_cookies() for"
                " tokens in cookies"
            )
        token = self._given_or_minted(
            "jwt_headers", identity, token, fresh, expires_delta, claims
        )
        return {"Authorization": f"{settings.header_prefix} {token}"}

    def _given_or_minted(
        self,
        caller: str,
        identity: t.Any,
        token: str | None,
        fresh: bool,
        expires_delta: timedelta | float | None,
        claims: dict[str, t.Any],
    ) -> str:
        """``token``, or one minted for ``identity``: one of the two."""
        if token is not None:
            if identity is not _NO_IDENTITY or claims:
                raise TypeError(f"{caller}() takes an identity and claims, or a token=")
            return token
        if identity is _NO_IDENTITY:
            raise TypeError(f"{caller}() needs an identity or a token=")
        return self.token(identity, fresh=fresh, expires_delta=expires_delta, **claims)

    def cookies(
        self,
        client: FlaskClient,
        identity: t.Any = _NO_IDENTITY,
        /,
        *,
        token: str | None = None,
        fresh: bool = True,
        expires_delta: timedelta | float | None = None,
        **claims: t.Any,
    ) -> dict[str, str]:
        """Set a token of ``identity`` (see :meth:`token`), or ``token``, on
        the test ``client`` as a login does: in the
        ``JWT_ACCESS_COOKIE_NAME`` cookie, on ``JWT_ACCESS_COOKIE_PATH`` and
        ``JWT_COOKIE_DOMAIN``, and its CSRF value (its ``csrf`` claim) in the
        ``JWT_ACCESS_CSRF_COOKIE_NAME`` cookie.

        :return: ``{"<JWT_CSRF_HEADER_NAME>": "<csrf value>"}``, the headers
            a state-changing request sends back; ``{}`` for a token without
            a ``csrf`` claim.
        :raises TypeError: for both an identity and a token, or neither.
        :raises RuntimeError: if the app does not read tokens from cookies
            (``"cookies"`` is not in ``JWT_TOKEN_LOCATION``).
        """
        with self.app.app_context():
            settings = self._settings()
        cookies = settings.cookies
        if cookies is None:
            raise RuntimeError(
                'jwt_cookies() needs "cookies" in JWT_TOKEN_LOCATION (the app\'s'
                f" is {list(settings.token_locations)})"
            )
        token = self._given_or_minted(
            "jwt_cookies", identity, token, fresh, expires_delta, claims
        )
        # A cookie with a Domain attribute goes to its subdomains too.
        where: dict[str, t.Any] = {"domain": cookies.domain or "localhost"}
        where["origin_only"] = cookies.domain is None
        client.set_cookie(
            cookies.access_name,
            str(token),
            path=cookies.access_path,
            httponly=True,
            secure=cookies.secure,
            samesite=cookies.samesite,
            **where,
        )
        csrf = _payload(token).get(CSRF_CLAIM)
        if not isinstance(csrf, str):
            return {}
        # On every page of the app, as cookies.py sets it.
        root = (self.app.config.get("APPLICATION_ROOT") or "/").rstrip("/")
        client.set_cookie(
            cookies.access_csrf_name,
            csrf,
            path=root + "/",
            secure=cookies.secure,
            samesite=cookies.samesite,
            **where,
        )
        return {cookies.csrf_header: csrf}

    def tokens(self, identity: t.Any, /) -> TokenPair:
        """The access and refresh tokens a login of ``identity`` gets
        (:meth:`~jwt_blueprint.JWTStrategy.create_tokens`), its login
        recorded in the token store.

        :raises RuntimeError: if the app has no ``JWT_REFRESH_ENABLED``.
        """
        with self.app.app_context():
            access = self._strategy().create_tokens(identity)
        if access.refresh_token is None:
            raise RuntimeError(
                "jwt_tokens() needs JWT_REFRESH_ENABLED: without it a login"
                " issues no refresh token; use jwt_token() for an access token"
            )
        pair = TokenPair(str(access), str(access.refresh_token))
        pair.csrf_token = access.csrf_token
        pair.refresh_csrf_token = getattr(access.refresh_token, "csrf_token", None)
        return pair

    def bad_token(self, kind: str, identity: t.Any, /, **claims: t.Any) -> str:
        """A token for ``identity`` that the app's protected views refuse,
        with ``claims`` as :meth:`token` takes them. ``kind`` says why:

        - ``"expired"``: its ``exp`` passed, ``JWT_LEEWAY`` and an hour ago,
          its ``iat`` and ``nbf`` as much earlier;
        - ``"not_yet_valid"``: its ``nbf`` is as far ahead, its ``exp`` as
          much later;
        - ``"wrong_key"``: signed with another key of the app's algorithm,
          under the app's own ``kid``;
        - ``"tampered"``: signed, then ``claims`` written into its payload
          (``tampered: true`` if there are none), ``None`` leaving one out;
        - ``"unsigned"``: ``alg`` ``none``, with no signature;
        - ``"wrong_type"``: a refresh token (a login's, with
          ``JWT_REFRESH_ENABLED``), where an access token is needed;
        - ``"revoked"``: revoked in the app's token store.

        :raises ValueError: for another ``kind``, ``"revoked"`` on an app
            without a token store, or ``"tampered"`` with claims the token
            already holds (its payload would be unchanged, and valid).
        """
        if kind not in BAD_TOKEN_KINDS:
            raise ValueError(
                f"no bad token kind {kind!r}: the kinds are"
                f" {', '.join(BAD_TOKEN_KINDS)}"
            )
        with self.app.app_context():
            return self._bad_token(kind, identity, claims)

    # -- in an app context ---------------------------------------------------

    def _strategy(self) -> JWTStrategy:
        return get_state().strategy

    def _settings(self) -> Settings:
        return get_state().settings()

    def _token(
        self,
        identity: t.Any,
        claims: dict[str, t.Any],
        fresh: bool = True,
        expires_delta: timedelta | float | None = None,
    ) -> str:
        if expires_delta is not None and "exp" in claims:
            raise TypeError("pass expires_delta or an 'exp' claim, not both")
        # exp is written in after minting: with a token store, the strategy
        # refuses one beyond the longest lifetime.
        given = _json_claims(
            {k: v for k, v in claims.items() if v is not None and k != "exp"}
        )
        token = self._strategy().create_access_token(
            identity, expires_delta=expires_delta, claims=given or None, fresh=fresh
        )
        return self._rewritten(token, claims)

    def _rewritten(self, token: str, claims: dict[str, t.Any]) -> str:
        """``token`` with ``claims`` written in and signed again, if it does
        not have them as they are."""
        payload = _payload(token)
        wanted = _json_claims(claims)
        if all(_holds(payload, name, value) for name, value in wanted.items()):
            return str(token)
        for name, value in wanted.items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return self._signed(_header_segment(token), payload)

    def _signed(self, header: str, payload: dict[str, t.Any], key: t.Any = None) -> str:
        codec = self._settings().codec
        signing_input = f"{header}.{_encode_segment(payload)}"
        signature = codec.algorithm_object.sign(
            signing_input.encode("ascii"),
            codec.signing_key if key is None else key,
        )
        return f"{signing_input}.{_b64encode(signature)}"

    def _bad_token(self, kind: str, identity: t.Any, claims: dict[str, t.Any]) -> str:
        settings = self._settings()
        now = time.time()
        outside = settings.codec.leeway + _OUTSIDE_SECONDS
        if kind in ("expired", "not_yet_valid"):
            token = self._token(identity, claims)
            return self._rewritten(token, _shifted(_payload(token), kind, now, outside))
        if kind == "wrong_type":
            if settings.refresh_enabled and settings.store is not None:
                refresh = self._strategy().create_tokens(identity).refresh_token
                assert refresh is not None
                return self._rewritten(refresh, claims)
            return self._token(identity, {**claims, "type": "refresh"})
        if kind == "revoked":
            if settings.store is None:
                raise ValueError(
                    "a revoked token needs a token store: set JWT_TOKEN_STORE"
                    " or JWT_REFRESH_ENABLED on the app"
                )
            token = self._token(identity, claims)
            self._strategy().revoke(_payload(token))
            return token
        if kind == "tampered":
            token = self._token(identity, {})
            header, _, signature = token.split(".")
            signed = _payload(token)
            payload = dict(signed)
            for name, value in _json_claims(claims or {"tampered": True}).items():
                if value is None:
                    payload.pop(name, None)
                else:
                    payload[name] = value
            if payload == signed:
                raise ValueError(
                    "a tampered token needs claims that change its payload:"
                    f" the token already holds {claims!r}"
                )
            return f"{header}.{_encode_segment(payload)}.{signature}"
        token = self._token(identity, claims)
        if kind == "unsigned":
            header = _encode_segment({"alg": "none", "typ": "JWT"})
            return f"{header}.{token.split('.')[1]}."
        # "wrong_key"
        key = _other_key(settings.codec.signing_key)
        return self._signed(_header_segment(token), _payload(token), key)


# -- the fixtures --------------------------------------------------------------


@pytest.fixture
# No fixture 'app'? Define one that returns your Flask app (in conftest.py),
# or override 'jwt_app' to return it. (pytest shows these lines then.)
def jwt_app(app: Flask) -> Flask:
    """The app the ``jwt_*`` fixtures mint tokens for: what your ``app``
    fixture returns. Without one, pytest reports ``fixture 'app' not
    found``: define it, or override this fixture to return your app."""
    return app


@pytest.fixture
def jwt_token(jwt_app: Flask) -> t.Callable[..., str]:
    """``jwt_token(identity, *, fresh=True, expires_delta=None, **claims)``:
    an access token for ``identity``, minted through the app's strategy, with
    ``claims`` over its payload. See :meth:`TokenFactory.token`."""
    return _factory(jwt_app).token


@pytest.fixture
def jwt_headers(jwt_app: Flask) -> t.Callable[..., dict[str, str]]:
    """``jwt_headers(identity, **claims)`` or ``jwt_headers(token=token)``:
    the ``Authorization`` header with the app's ``JWT_AUTH_HEADER_PREFIX``.
    See :meth:`TokenFactory.headers`."""
    return _factory(jwt_app).headers


@pytest.fixture
def jwt_cookies(jwt_app: Flask) -> t.Callable[..., dict[str, str]]:
    """``jwt_cookies(client, identity, **claims)`` or
    ``jwt_cookies(client, token=token)``: set the token and its CSRF cookie
    on the test ``client``; returns the CSRF header to send with
    state-changing requests. See :meth:`TokenFactory.cookies`."""
    return _factory(jwt_app).cookies


@pytest.fixture
def jwt_tokens(jwt_app: Flask) -> t.Callable[[t.Any], TokenPair]:
    """``jwt_tokens(identity)``: the ``(access_token, refresh_token)`` a
    login issues, with ``JWT_REFRESH_ENABLED``. See
    :meth:`TokenFactory.tokens`."""
    return _factory(jwt_app).tokens


@pytest.fixture
def jwt_bad_token(jwt_app: Flask) -> t.Callable[..., str]:
    """``jwt_bad_token(kind, identity, **claims)``: a token the app refuses,
    ``kind`` one of :data:`BAD_TOKEN_KINDS`. See
    :meth:`TokenFactory.bad_token`."""
    return _factory(jwt_app).bad_token


def _factory(app: Flask) -> TokenFactory:
    try:
        return TokenFactory(app)
    except TypeError as exc:
        pytest.fail(f"the 'app' fixture (or 'jwt_app'): {exc}", pytrace=False)


# -- compact JWS, for the tokens the strategy would not make --------------------


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _encode_segment(value: dict[str, t.Any]) -> str:
    return _b64encode(json.dumps(value, separators=(",", ":")).encode())


def _header_segment(token: str) -> str:
    return token.split(".", 1)[0]


def _payload(token: str) -> dict[str, t.Any]:
    """The claims of a token minted here, unverified."""
    segment = token.split(".")[1]
    payload: dict[str, t.Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return payload


def _shifted(
    payload: dict[str, t.Any], kind: str, now: float, outside: float
) -> dict[str, t.Any]:
    """The time claims of an ``"expired"`` or ``"not_yet_valid"`` token,
    moved together so that they stay in order (``iat`` <= ``nbf`` < ``exp``)
    and only the one named fails, whatever the order of the checks."""
    times = {
        name: payload[name]
        for name in ("iat", "nbf", "exp")
        if isinstance(payload.get(name), (int, float))
    }
    if kind == "expired":
        # Issued, valid and expired in the past, over the token's lifetime.
        target = math.floor(now - outside)
        if "exp" not in times:
            return {"exp": target}
        delta = target - times["exp"]
        return {name: value + delta for name, value in times.items()}
    # Issued now, valid from later, for the token's lifetime from then.
    target = math.ceil(now + outside)
    start = times.get("nbf", times.get("iat"))
    if start is None:
        return {"nbf": target}
    shifted = {"nbf": target}
    if "exp" in times:
        shifted["exp"] = times["exp"] + target - start
    return shifted


def _holds(payload: dict[str, t.Any], name: str, value: t.Any) -> bool:
    """Whether ``payload`` has claim ``name`` as ``value``, ``None`` meaning
    absent."""
    if value is None:
        return name not in payload
    return name in payload and payload[name] == value


def _json_claims(claims: dict[str, t.Any]) -> dict[str, t.Any]:
    """``claims`` as they read back from a token: datetimes as NumericDates,
    tuples as lists."""
    plain = {
        name: timegm(value.utctimetuple()) if isinstance(value, datetime) else value
        for name, value in claims.items()
    }
    decoded: dict[str, t.Any] = json.loads(json.dumps(plain))
    return decoded


def _other_key(key: t.Any) -> t.Any:
    """A new signing key of the same kind as ``key``: same algorithm family,
    size and curve."""
    if isinstance(key, bytes):
        return secrets.token_bytes(max(len(key), 64))
    if isinstance(key, rsa.RSAPrivateKey):
        return _rsa_key(key.key_size)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _ec_key(type(key.curve))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return ed25519.Ed25519PrivateKey.generate()
    if isinstance(key, ed448.Ed448PrivateKey):
        return ed448.Ed448PrivateKey.generate()
    raise TypeError(  # pragma: no cover - keys.py prepares no other kind
        f"cannot make another key like {type(key).__name__}"
    )


# Generated once per run: an RSA key takes a good part of a second.
@functools.cache
def _rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def _ec_key(curve: type[ec.EllipticCurve]) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(curve())

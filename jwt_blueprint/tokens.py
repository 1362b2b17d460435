"""Sign and verify compact JWS tokens. No Flask in here.

:class:`TokenCodec` is built once per app from the validated settings, with
the keys already prepared, and takes every input as an argument, so it is easy
to test and benchmark on its own.

The cryptography is PyJWT's algorithm objects (HMAC through :func:`hmac.digest`,
the same primitive they use). The parsing around it is our own because it runs
on every request: PyJWT's :func:`jwt.decode` spends most of its time outside
the signature check. Errors are PyJWT's exception classes with PyJWT's
messages, so callers catch :class:`jwt.PyJWTError` either way, and the test
suite checks that both accept and refuse the same tokens.
"""

from __future__ import annotations

import binascii
import copy
import functools
import hmac
import json
import math
import re
import sys
import time
import typing as t
import warnings
from base64 import urlsafe_b64decode
from base64 import urlsafe_b64encode
from calendar import timegm
from collections.abc import Mapping
from datetime import datetime

from jwt.algorithms import get_default_algorithms
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import DecodeError
from jwt.exceptions import ExpiredSignatureError
from jwt.exceptions import ImmatureSignatureError
from jwt.exceptions import InvalidAlgorithmError
from jwt.exceptions import InvalidAudienceError
from jwt.exceptions import InvalidIssuedAtError
from jwt.exceptions import InvalidIssuerError
from jwt.exceptions import InvalidSignatureError
from jwt.exceptions import InvalidSubjectError
from jwt.exceptions import InvalidTokenError
from jwt.exceptions import MissingRequiredClaimError

from .typing import Claims

#: The base64url alphabet (RFC 4648 section 5), without padding.
_BASE64URL = re.compile(r"[A-Za-z0-9_\-]*")
#: Final characters whose unused low bits are zero, by ``len(segment) % 4``.
#: Any other final character is a second spelling of the same bytes.
_CANONICAL_LAST = {
    2: frozenset("AQgw"),
    3: frozenset("AEIMQUYcgkosw048"),
}
_HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
_TIME_CLAIMS = ("exp", "iat", "nbf")
#: Integers beyond this are beyond any float, and refused like infinity.
_FLOAT_MAX = int(sys.float_info.max)
_TIME_CLAIM_LABELS = {"exp": "Expiration Time", "iat": "Issued At", "nbf": "Not Before"}
#: A verified token: its claims, whether any claim is a list or an object,
#: its ``exp``, ``nbf`` and ``iat`` (``None`` when absent or not verified),
#: its ``kid``, and the remote key that verified it (``None`` for ours).
_Verified = tuple[
    Claims, bool, "float | None", "float | None", "float | None", "str | None", t.Any
]


class AccessToken(str):
    """A token is text. ``decode()`` is kept for Flask-JWT response handlers
    written for PyJWT 1, which returned bytes: it warns and returns the token.
    """

    #: The refresh token issued with this access token, by a login or a
    #: refresh with ``JWT_REFRESH_ENABLED``; ``None`` otherwise. A response
    #: handler reads it from the ``access_token`` it is given.
    refresh_token: str | None = None
    #: The CSRF value bound to it (its ``csrf`` claim), with cookies on.
    csrf_token: str | None = None

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        warnings.warn(
            "access tokens are str since PyJWT 2; drop the .decode() call",
            DeprecationWarning,
            stacklevel=2,
        )
        return str(self)


def _b64encode(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(segment: str, name: str) -> bytes:
    remainder = len(segment) % 4
    if (
        remainder == 1
        or _BASE64URL.fullmatch(segment) is None
        or (remainder and segment[-1] not in _CANONICAL_LAST[remainder])
    ):
        raise DecodeError(f"Invalid {name} padding")
    try:
        return urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error:  # pragma: no cover - excluded by the checks above
        raise DecodeError(f"Invalid {name} padding") from None


def _json_object(data: bytes, name: str) -> Claims:
    try:
        # RFC 7519 section 7.2: UTF-8 only, where json.loads would also
        # guess UTF-16 and UTF-32 from bytes.
        value = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"Invalid {name} string: {exc}") from exc
    if not isinstance(value, dict):
        raise DecodeError(f"Invalid {name} string: must be a json object")
    return value


def _numeric_date(claims: Claims, claim: str) -> float | None:
    """The claim as whole seconds, ``None`` when absent.

    Truncated with ``int()``, as PyJWT compares them: ``exp`` 100.9 has
    expired at 100.5. Returned as a float, which compares faster with the
    clock and is exact for any date before the year 285 million.
    """
    if claim not in claims:
        return None
    value = claims[claim]
    if type(value) is int and -_FLOAT_MAX < value < _FLOAT_MAX:
        return float(value)
    if type(value) is float and math.isfinite(value):
        return float(int(value))
    error = InvalidIssuedAtError if claim == "iat" else DecodeError
    raise error(f"{_TIME_CLAIM_LABELS[claim]} claim ({claim}) must be an integer.")


def unverified_header(token: str) -> Claims:
    """The JOSE header of a compact token, parsed as strictly as when
    verifying, but without checking anything else.

    :raises jwt.DecodeError: if ``token`` is not three base64url segments
        whose first is a JSON object.
    """
    return _json_object(_b64decode(_split(token)[0], "header"), "header")


def _split(token: str) -> list[str]:
    segments = token.split(".")
    if len(segments) != 3:
        raise DecodeError(
            "Not enough segments" if len(segments) < 3 else "Too many segments"
        )
    return segments


class TokenCodec:
    """Sign and verify tokens with one algorithm and one key pair.

    Only ``algorithm`` is accepted; a token's own header never chooses the key
    or the algorithm (RFC 8725 section 3.1). Tokens that declare critical
    extensions (``crit``) are refused, as RFC 7515 requires of extensions the
    recipient does not implement.

    Verified tokens are kept in a bounded LRU cache keyed by the exact token
    string, so a token seen again skips base64, JSON and the signature. Time
    claims (``exp``, ``nbf``, ``iat``) are checked against the clock on every
    call, hit or miss. Tokens that fail verification are never cached, and
    nothing is cached when the signature is not checked, so a client cannot
    grow the cache with tokens of its own making.

    :param algorithm: the one JWS algorithm, e.g. ``"HS256"``.
    :param signing_key: the prepared key to sign with, ``None`` for a
        verify-only service.
    :param verifying_key: the prepared key that verifies a token without
        ``kid`` (and any token, when ``verifying_keys`` is empty).
    :param signing_kid: the ``kid`` written into every token signed.
    :param verifying_keys: the prepared keys that verify, by ``kid``: a
        token's ``kid`` picks one of these, and only these.
    :param leeway: seconds of clock skew allowed for ``exp``, ``nbf``, ``iat``.
    :param required_claims: claims a token must carry, not null.
    :param max_token_size: longer tokens are refused before any decoding.
    :param cache_size: how many verified tokens to remember; 0 disables it.
    :param claims_type: the dict type :meth:`decode` returns the claims in.
    :param issuer: the ``iss`` every token must have, exactly.
    :param audience: ``aud`` values, one of which every token must name.
    :param key_source: looks up a ``kid`` none of ``verifying_keys`` has
        (another issuer's published keys), raising a :class:`jwt.PyJWTError`
        if it has none either. It returns the same object for as long as a
        key is unchanged: a cached token whose key it no longer returns is
        verified again.
    :param remote_issuer: the ``iss`` of every token a ``key_source`` key
        verifies (``issuer`` is then the app's own tokens').
    """

    def __init__(
        self,
        *,
        algorithm: str,
        signing_key: t.Any,
        verifying_key: t.Any,
        signing_kid: str | None = None,
        verifying_keys: Mapping[str, t.Any] | None = None,
        leeway: float = 0,
        required_claims: t.Sequence[str] = (),
        verify_signature: bool = True,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        verify_iat: bool = True,
        max_token_size: int = 8192,
        cache_size: int = 0,
        claims_type: type[Claims] = dict,
        issuer: str | None = None,
        audience: t.Sequence[str] | None = None,
        key_source: t.Callable[[str], t.Any] | None = None,
        remote_issuer: str | None = None,
    ) -> None:
        self.algorithm = algorithm
        self.signing_key = signing_key
        self.verifying_key = verifying_key
        self.signing_kid = signing_kid
        self.verifying_keys = dict(verifying_keys or {})
        self.leeway = leeway
        self.required_claims = tuple(required_claims)
        self.verify_signature = verify_signature
        self.max_token_size = max_token_size
        self._claims_type = claims_type
        self.issuer = issuer
        self.key_source = key_source
        self.remote_issuer = remote_issuer
        self.audience = None if audience is None else frozenset(audience)
        self._algorithm = get_default_algorithms()[algorithm]
        self._hmac_hash = (
            _HMAC_HASHES[algorithm]
            if isinstance(self._algorithm, HMACAlgorithm)
            else None
        )
        self._time_checks = tuple(
            claim
            for claim, on in zip(
                _TIME_CLAIMS, (verify_exp, verify_iat, verify_nbf), strict=True
            )
            if on
        )
        self._header_segment = self._encode_header({})
        self._verified: t.Callable[[str], _Verified]
        if cache_size and verify_signature:
            self._verified = functools.lru_cache(maxsize=cache_size)(self._verify)
        else:
            self._verified = self._verify

    # -- signing ---------------------------------------------------------

    def encode(self, claims: Mapping[str, t.Any], headers: Claims | None = None) -> str:
        """Sign ``claims`` and return the compact token.

        ``datetime`` values of ``exp``, ``iat`` and ``nbf`` become NumericDates.
        ``headers`` are added to the JOSE header; they cannot change ``alg``.

        :raises RuntimeError: if the codec has no signing key, or ``claims``
            lack a required claim (a bug in the payload handler).
        """
        if self.signing_key is None:
            raise RuntimeError(
                f"cannot sign {self.algorithm} tokens: set JWT_PRIVATE_KEY"
            )
        missing = [claim for claim in self.required_claims if claims.get(claim) is None]
        if missing:
            raise RuntimeError(
                "the payload is missing claims that JWT_REQUIRED_CLAIMS requires: "
                + ", ".join(missing)
            )
        payload = dict(claims)
        for claim in _TIME_CLAIMS:
            value = payload.get(claim)
            if isinstance(value, datetime):
                payload[claim] = timegm(value.utctimetuple())
        if headers and not isinstance(headers.get("kid", ""), str):
            raise TypeError(
                "the 'kid' header must be a string (RFC 7515 section 4.1.4)"
            )
        header = self._encode_header(headers) if headers else self._header_segment
        body = _b64encode(json.dumps(payload, separators=(",", ":")).encode())
        signing_input = f"{header}.{body}".encode("ascii")
        return f"{header}.{body}.{_b64encode(self._sign(signing_input))}"

    def _encode_header(self, extra: Claims) -> str:
        header = {"typ": "JWT", **extra, "alg": self.algorithm}
        if self.signing_kid is not None:
            # Ours, over a headers handler's: it is what verifies the token.
            header["kid"] = self.signing_kid
        data = json.dumps(header, separators=(",", ":"), sort_keys=True)
        return _b64encode(data.encode())

    def _sign(self, message: bytes) -> bytes:
        if self._hmac_hash is not None:
            return hmac.digest(self.signing_key, message, self._hmac_hash)
        signature: bytes = self._algorithm.sign(message, self.signing_key)
        return signature

    # -- verifying -------------------------------------------------------

    def decode(self, token: str) -> Claims:
        """Verify ``token`` and return a fresh dict of its claims (of
        ``claims_type``).

        :raises jwt.PyJWTError: for any token that is not valid.
        """
        if not isinstance(token, str):
            raise DecodeError("Invalid token type: must be a string")
        if len(token) > self.max_token_size:
            raise DecodeError("Token is too large")
        claims, nested, exp, nbf, iat, kid, remote_key = self._verified(token)
        if remote_key is not None and self._remote_key(kid) is not remote_key:
            # The issuer dropped or replaced the key since: verify again.
            claims, nested, exp, nbf, iat, kid, remote_key = self._verify(token)
        now = time.time()
        leeway = self.leeway
        if exp is not None and exp <= now - leeway:
            raise ExpiredSignatureError("Signature has expired")
        if nbf is not None and nbf > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (nbf)")
        if iat is not None and iat > now + leeway:
            raise ImmatureSignatureError("The token is not yet valid (iat)")
        # A copy, so a handler that changes it cannot change the cache; deep
        # only when needed, which the default claims never are.
        return self._claims_type(copy.deepcopy(claims) if nested else claims)

    @property
    def algorithm_object(self) -> t.Any:
        """PyJWT's object for :attr:`algorithm`."""
        return self._algorithm

    def keys_match(self) -> bool:
        """Whether the verifying key accepts what the signing key signs."""
        probe = b"jwt_blueprint key check"
        return self._verify_signature(probe, self._sign(probe), self.verifying_key)

    @property
    def cached_tokens(self) -> int:
        """How many verified tokens the cache holds now."""
        cache_info = getattr(self._verified, "cache_info", None)
        return 0 if cache_info is None else int(cache_info().currsize)

    def clear_cache(self) -> None:
        """Forget every verified token."""
        cache_clear = getattr(self._verified, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()

    def _verify(self, token: str) -> _Verified:
        # Everything about a token that does not depend on the clock; the
        # time claims are returned checked and parsed, for decode to compare.
        if not token.isascii():
            # A custom request handler may pass anything; a JWS is ASCII.
            raise DecodeError("Invalid token: must be ASCII")
        segments = token.split(".")
        if len(segments) != 3:
            _split(token)  # raises the error that says which
        header_segment, payload_segment, signature_segment = segments
        header = _json_object(_b64decode(header_segment, "header"), "header")
        if "crit" in header:
            crit = header["crit"]
            if not isinstance(crit, list):
                raise InvalidTokenError("Invalid 'crit' header: must be a list")
            # Not echoed: it is the attacker's text, unverified and unbounded.
            raise InvalidTokenError("Unsupported critical extension")
        if "b64" in header:
            raise InvalidTokenError(
                "The 'b64' header parameter requires 'b64' to be listed in 'crit'."
            )
        kid = header.get("kid")
        if "kid" in header and not isinstance(kid, str):  # null too
            raise InvalidTokenError("Key ID header parameter must be a string")
        remote_key = None
        if self.verify_signature:
            if header.get("alg") != self.algorithm:
                raise InvalidAlgorithmError("The specified alg value is not allowed")
            key = self._key_for(kid)
            if kid is not None and kid not in self.verifying_keys and self.key_source:
                remote_key = key
            signature = _b64decode(signature_segment, "crypto")
            signing_input = token[: len(header_segment) + len(payload_segment) + 1]
            if not self._verify_signature(
                signing_input.encode("ascii"), signature, key
            ):
                raise InvalidSignatureError("Signature verification failed")
        claims = _json_object(_b64decode(payload_segment, "payload"), "payload")
        for claim in self.required_claims:
            if claims.get(claim) is None:
                raise MissingRequiredClaimError(claim)
        if "sub" in claims and not isinstance(claims["sub"], str):
            raise InvalidSubjectError("Subject must be a string")
        if "jti" in claims and not isinstance(claims["jti"], str):
            raise InvalidTokenError("JWT ID must be a string")
        self._check_audience(claims)
        # Another issuer's key verifies only that issuer's tokens.
        expected_issuer = self.issuer if remote_key is None else self.remote_issuer
        if expected_issuer is None and not self.verify_signature:
            expected_issuer = self.remote_issuer  # no key told whose it is
        if expected_issuer is not None:
            issuer = claims.get("iss")
            if issuer is None:
                raise MissingRequiredClaimError("iss")
            if issuer != expected_issuer:
                raise InvalidIssuerError("Invalid issuer")
        checks = self._time_checks
        return (
            claims,
            any(isinstance(value, (list, dict)) for value in claims.values()),
            _numeric_date(claims, "exp") if "exp" in checks else None,
            _numeric_date(claims, "nbf") if "nbf" in checks else None,
            _numeric_date(claims, "iat") if "iat" in checks else None,
            kid,
            remote_key,
        )

    def _check_audience(self, claims: Claims) -> None:
        """With no audience configured, a token meant for one is not ours
        (RFC 7519 section 4.1.3), even an empty one. With one, the token's
        ``aud`` (a string or a list of them) must name it exactly."""
        if self.audience is None:
            if "aud" in claims:
                raise InvalidAudienceError("Invalid audience")
            return
        audience = claims.get("aud")
        if audience is None:
            raise MissingRequiredClaimError("aud")
        named = [audience] if isinstance(audience, str) else audience
        if not isinstance(named, list) or not all(isinstance(a, str) for a in named):
            raise InvalidAudienceError("Invalid claim format in token")
        if self.audience.isdisjoint(named):
            raise InvalidAudienceError("Audience doesn't match")

    def _remote_key(self, kid: str | None) -> t.Any:
        assert self.key_source is not None and kid is not None
        return self.key_source(kid)

    def _key_for(self, kid: str | None) -> t.Any:
        """The configured key a token's ``kid`` names: never one the token
        brings or points to (``jwk``, ``jku``, ``x5u``, ``x5c`` are not read).

        :raises InvalidTokenError: for a ``kid`` of no configured key.
        """
        if kid is None:
            if self.verifying_key is None:  # only another issuer's keys
                raise InvalidTokenError("Token has no key ID (kid)")
            return self.verifying_key
        key = self.verifying_keys.get(kid)
        if key is not None:
            return key
        if self.key_source is not None:
            return self.key_source(kid)
        if not self.verifying_keys:
            return self.verifying_key
        # Not echoed: it is the sender's text, unverified.
        raise InvalidTokenError("Unknown key ID (kid)")

    def _verify_signature(self, message: bytes, signature: bytes, key: t.Any) -> bool:
        if self._hmac_hash is not None:
            expected = hmac.digest(key, message, self._hmac_hash)
            return hmac.compare_digest(expected, signature)
        verified: bool = self._algorithm.verify(message, key, signature)
        return verified

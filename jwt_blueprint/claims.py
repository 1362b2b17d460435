"""What a verified token carries, and the checks on claims the app relies on.

Nothing here imports Flask.
"""

from __future__ import annotations

import functools
import math
import time
import typing as t
from collections.abc import Mapping

import jwt

from .exceptions import InvalidTokenError
from .exceptions import MissingClaimError
from .tokens import unverified_header
from .typing import Claims

#: The ``type`` of a token that does not say: every token issued before
#: token types existed is an access token.
ACCESS = "access"
#: The ``type`` of a refresh token.
REFRESH = "refresh"
#: The ``typ`` header of a refresh token (RFC 8725 section 3.11), so that no
#: other verifier mistakes it for an access token.
REFRESH_TYP = "refresh+jwt"

#: The claims the strategy writes into every token it issues, whatever the
#: payload handler returns: the token type, whether a login minted it, and
#: the login (family) it descends from.
TYPE_CLAIM = "type"
FRESH_CLAIM = "fresh"
FAMILY_CLAIM = "fam"
#: When the login a token descends from happened (as in OpenID Connect),
#: to the microsecond: what :meth:`~jwt_blueprint.JWTStrategy.revoke_all`
#: compares, so that a refresh cannot carry a login past it.
AUTH_TIME_CLAIM = "auth_time"
#: Claims only the strategy writes, with a token store: a payload
#: handler's or a caller's are dropped.
RESERVED_CLAIMS = (TYPE_CLAIM, FRESH_CLAIM, FAMILY_CLAIM, AUTH_TIME_CLAIM)


def identity_id_of(identity: t.Any) -> t.Any:
    """The identity's ``id`` attribute, else its ``["id"]`` item; for the
    claims a token was verified with (the identity of an app without an
    identity handler), its ``identity`` claim, else its ``sub``."""
    if isinstance(identity, TokenClaims):
        for claim in ("identity", "sub"):
            if identity.get(claim) is not None:
                return identity[claim]
    elif isinstance(identity, Mapping):
        if "id" in identity:
            return identity["id"]
    elif hasattr(identity, "id"):
        return identity.id
    raise TypeError(
        f"the identity {type(identity).__name__!r} has no 'id' attribute or key;"
        " set a jwt_payload_handler that says how to put it in a token"
    )


def subject_of(claims: Mapping[str, t.Any]) -> str | None:
    """The identity a token speaks for, as revocation keys it: ``sub``, else
    the ``identity`` claim, as text; ``None`` when it has neither.

    :raises InvalidTokenError: if the one it has cannot be a key: an object
        or a list, a boolean, or an integer too long to write out.
    """
    subject = claims.get("sub")
    if subject is None:
        subject = claims.get("identity")
        if subject is None:
            return None
    if isinstance(subject, (bool, dict, list)):
        raise InvalidTokenError("The subject (sub, else identity) is not an id")
    try:
        return str(subject)
    except ValueError:  # an integer beyond sys.get_int_max_str_digits()
        raise InvalidTokenError(
            "The subject (sub, else identity) is not an id"
        ) from None


#: The longest id a store is asked to look up; ours are 22 characters.
MAX_KEY_LENGTH = 512
#: How far in the future a login time may be before it is not believed.
_MAX_CLOCK_SKEW = 24 * 60 * 60


def store_key(value: str, claim: str) -> str:
    """``value``, checked to be an id a store can keep: short, and text
    that UTF-8 can encode (no lone surrogates).

    :raises InvalidTokenError: naming ``claim``, if it is not.
    """
    if len(value) > MAX_KEY_LENGTH or not (value.isascii() or _encodable(value)):
        raise InvalidTokenError(f'The "{claim}" claim is not a valid identifier')
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def login_time(claims: Mapping[str, t.Any]) -> float | None:
    """When the login a token descends from happened: ``auth_time``, else
    ``iat``; ``None`` (before any revocation) when that is not a finite
    number of seconds, or lies more than a day ahead."""
    value = claims.get(AUTH_TIME_CLAIM)
    if value is None:
        value = claims.get("iat")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    if not math.isfinite(seconds) or seconds > time.time() + _MAX_CLOCK_SKEW:
        return None
    return seconds


def revocation_keys(
    claims: Mapping[str, t.Any],
) -> tuple[str, str | None, str | None, float | None]:
    """What a store looks a token up by: ``(jti, family, subject,
    issued_at)``, ``issued_at`` being the :func:`login_time`.

    :raises MissingClaimError: if the token has no ``jti``: with a store,
        a token that cannot be revoked is not accepted.
    :raises InvalidTokenError: if an id is not one a store can keep.
    """
    jti = claims.get("jti")
    if jti is None:
        raise MissingClaimError("jti")
    if not isinstance(jti, str):
        raise InvalidTokenError("JWT ID must be a string")
    family = claims.get(FAMILY_CLAIM)
    subject = subject_of(claims)
    return (
        store_key(jti, "jti"),
        store_key(family, FAMILY_CLAIM) if isinstance(family, str) else None,
        None if subject is None else store_key(subject, "sub"),
        login_time(claims),
    )


class TokenClaims(dict[str, t.Any]):
    """A token's claims: a :class:`dict` whose missing keys raise
    :class:`~jwt_blueprint.exceptions.MissingClaimError`.

    That error is a :class:`KeyError` too, so ``claims.get(...)``, ``in`` and
    ``except KeyError`` work as on any dict; but a handler or a view that
    reads ``claims["role"]`` from a token without it answers 401 ``Token is
    missing the "role" claim``, not 500.
    """

    __slots__ = ()

    def __missing__(self, claim: str) -> t.NoReturn:
        raise MissingClaimError(claim)


class VerifiedToken:
    """The token that authenticated the current request.

    Made by the verification that :func:`~jwt_blueprint.jwt_required` runs,
    kept on the request, and returned by
    :func:`~jwt_blueprint.get_verified_token`.
    """

    __slots__ = ("token", "claims", "location", "identity", "__dict__")

    def __init__(
        self, token: str, claims: TokenClaims, location: str, identity: t.Any
    ) -> None:
        #: The token as the client sent it.
        self.token = token
        #: Its verified claims (or what the decode handler returned).
        self.claims = claims
        #: Where it was found: ``"headers"``, ``"request_handler"`` when a
        #: custom request handler supplied it, or ``"json"`` for a refresh
        #: token in the body of the refresh or revoke endpoint.
        self.location = location
        #: What the identity handler returned for it.
        self.identity = identity

    def __repr__(self) -> str:
        return f"<VerifiedToken from {self.location} for {self.identity!r}>"

    @functools.cached_property
    def header(self) -> Claims:
        """The token's JOSE header (``alg``, ``typ``, ``kid``...); empty
        when a custom decode handler accepted something that is not a
        compact JWS."""
        try:
            return unverified_header(self.token)
        except jwt.DecodeError:
            return {}

    @property
    def type(self) -> str:
        """The token's ``type`` claim, ``"access"`` when it has none."""
        kind: str = self.claims.get("type", ACCESS)
        return kind

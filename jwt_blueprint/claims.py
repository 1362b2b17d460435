"""What a verified token carries, and the checks on claims the app relies on.

Nothing here imports Flask.
"""

from __future__ import annotations

import functools
import typing as t

import jwt

from .exceptions import MissingClaimError
from .tokens import unverified_header
from .typing import Claims

#: The ``type`` of a token that does not say: every token issued before
#: token types existed is an access token.
ACCESS = "access"


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
        #: Where it was found: ``"headers"``, or ``"request_handler"`` when a
        #: custom request handler supplied it.
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

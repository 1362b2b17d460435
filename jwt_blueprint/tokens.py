"""Encode and decode tokens with PyJWT. No Flask in here.

:class:`TokenCodec` is built once per app from the validated settings, with the
keys already prepared, and takes every input as an argument, so it is easy to
test and benchmark on its own.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

import jwt
from jwt.types import Options

from .typing import Claims


class TokenCodec:
    """Sign and verify tokens with one algorithm and one key pair.

    Only ``algorithm`` is accepted when decoding; the token's own header never
    chooses the key or the algorithm (RFC 8725 section 3.1).

    :param algorithm: the one JWS algorithm, e.g. ``"HS256"``.
    :param signing_key: the prepared key to sign with, ``None`` for a
        verify-only service.
    :param verifying_key: the prepared key to verify with.
    :param leeway: seconds of clock skew allowed for ``exp``, ``nbf``, ``iat``.
    :param required_claims: claims a token must carry, not null.
    """

    def __init__(
        self,
        *,
        algorithm: str,
        signing_key: t.Any,
        verifying_key: t.Any,
        leeway: float = 0,
        required_claims: t.Sequence[str] = (),
        verify_signature: bool = True,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        verify_iat: bool = True,
    ) -> None:
        self.algorithm = algorithm
        self.signing_key = signing_key
        self.verifying_key = verifying_key
        self.leeway = leeway
        self.required_claims = tuple(required_claims)
        self._algorithms = [algorithm]
        # PyJWT reads verify_signature only from the per-call options.
        self._options: Options = {
            "verify_signature": verify_signature,
            "verify_exp": verify_exp,
            "verify_nbf": verify_nbf,
            "verify_iat": verify_iat,
            "require": list(self.required_claims),
        }
        self._decoder = jwt.PyJWT(self._options)

    def encode(self, claims: Mapping[str, t.Any], headers: Claims | None = None) -> str:
        """Sign ``claims`` and return the compact token.

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
        return jwt.encode(
            dict(claims), self.signing_key, algorithm=self.algorithm, headers=headers
        )

    def decode(self, token: str) -> Claims:
        """Verify ``token`` and return its claims.

        :raises jwt.PyJWTError: for any token that is not valid.
        """
        return self._decoder.decode(
            token,
            self.verifying_key,
            algorithms=self._algorithms,
            options=self._options,
            leeway=self.leeway,
        )

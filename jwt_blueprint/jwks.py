"""The public half of the app's key set, as a JSON Web Key Set (RFC 7517)."""

from __future__ import annotations

import typing as t

from jwt.algorithms import HMACAlgorithm

from .keys import THUMBPRINT_MEMBERS
from .tokens import TokenCodec


def is_symmetric(codec: TokenCodec) -> bool:
    """Whether the codec's keys are secrets, which no JWKS may show."""
    return isinstance(codec.algorithm_object, HMACAlgorithm)


def public_jwks(codec: TokenCodec) -> dict[str, list[dict[str, t.Any]]]:
    """``{"keys": [...]}``: for every key that verifies, its ``kty``,
    ``kid``, ``use``, ``alg`` and public parameters, and nothing else (no
    ``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``).

    :raises ValueError: for an HMAC algorithm: its keys are secrets.
    """
    if is_symmetric(codec):
        raise ValueError(f"{codec.algorithm} keys are secrets: they have no JWKS")
    algorithm = codec.algorithm_object
    keys = []
    for kid, key in codec.verifying_keys.items():
        jwk = algorithm.to_jwk(key, as_dict=True)
        public = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
        keys.append({**public, "kid": kid, "use": "sig", "alg": codec.algorithm})
    return {"keys": keys}

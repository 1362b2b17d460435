"""The keys of another issuer, fetched from its JWKS URL: what a resource
server verifies with. No Flask in here.

Fetching is PyJWT's :class:`jwt.PyJWKClient` (``http`` and ``https`` only,
no redirects, a timeout); what is kept, and when to fetch again, is decided
here, so that a flood of tokens with made-up ``kid`` values cannot make the
service fetch more than once per cooldown, even while the issuer is down,
and a slow issuer never holds up a request whose key is in hand.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import typing as t

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import get_default_algorithms

from .keys import MIN_RSA_BITS
from .keys import same_key

logger = logging.getLogger("jwt_blueprint")


class KeySetUnavailableError(jwt.PyJWTError):
    """The issuer's JWKS could not be fetched, and the token's ``kid`` is
    not among the keys fetched before.

    :param retry_after: seconds until the next fetch may be tried.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RemoteKeys:
    """The verifying keys published at ``url``, by ``kid``.

    A key is used only if it is for signatures (``use`` absent or
    ``"sig"``; ``key_ops``, if any, includes ``"verify"``), names no other
    algorithm than ``algorithm``, and is a valid key for it (its family and
    curve; RSA of 2048 bits or more), as our own keys must be.

    :param url: the issuer's JWKS URL, ``http`` or ``https``.
    :param algorithm: ``JWT_ALGORITHM``.
    :param cooldown: the least seconds between two fetches, however many
        unknown ``kid`` values arrive.
    :param max_age: seconds after which a fetched set is fetched again (on
        the next request, after the cooldown).
    :param timeout: seconds a fetch may wait on the network.
    :raises jwt.PyJWKClientError: if the URL is not ``http`` or ``https``.
    """

    def __init__(
        self,
        url: str,
        algorithm: str,
        *,
        cooldown: float = 30.0,
        max_age: float = 300.0,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.algorithm = algorithm
        self.cooldown = cooldown
        self.max_age = max_age
        self.timeout = timeout
        # Its own cache is off: what is kept, and for how long, is ours.
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._algorithm = get_default_algorithms()[algorithm]
        self._lock = threading.Lock()
        self._keys: dict[str, t.Any] = {}
        self._fetch_after = 0.0
        self._stale_after = 0.0
        self._reachable = True
        #: How many times the set was fetched (or tried).
        self.fetches = 0
        #: Called when a fetch drops or replaces keys, e.g. to clear a
        #: verification cache.
        self.on_change: t.Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"<RemoteKeys {self.url!r} {sorted(self._keys)}>"

    @property
    def kids(self) -> list[str]:
        """The ``kid`` of every key held now."""
        return list(self._keys)

    def get(self, kid: str) -> t.Any:
        """The key ``kid`` names: the same object for as long as the issuer
        publishes the same key.

        :raises jwt.InvalidTokenError: if the issuer does not publish it.
        :raises KeySetUnavailableError: if it was not fetched before and the
            issuer cannot be reached now.
        """
        now = time.monotonic()
        key = self._keys.get(kid)
        if key is not None:
            if now >= self._stale_after and now >= self._fetch_after:
                # Refresh a stale set, but never wait for it with a key in
                # hand: if another request is fetching, this one goes on.
                if self._lock.acquire(blocking=False):
                    try:
                        # Unless another request fetched meanwhile.
                        now = time.monotonic()
                        if now >= self._stale_after and now >= self._fetch_after:
                            self._fetch(now)
                    finally:
                        self._lock.release()
                key = self._keys.get(kid)
            if key is not None:
                return key
            raise jwt.InvalidTokenError("Unknown key ID (kid)")
        # An unknown kid waits for a fetch in progress, but not for ever.
        if not self._lock.acquire(timeout=self.timeout * 2):
            raise self._unavailable()
        try:
            if time.monotonic() >= self._fetch_after:
                self._fetch(time.monotonic())
            key = self._keys.get(kid)
            if key is not None:
                return key
            if not self._reachable:
                raise self._unavailable()
        finally:
            self._lock.release()
        raise jwt.InvalidTokenError("Unknown key ID (kid)")

    def _unavailable(self) -> KeySetUnavailableError:
        return KeySetUnavailableError(
            "The issuer's keys cannot be fetched; try again later",
            retry_after=max(1, math.ceil(self._fetch_after - time.monotonic())),
        )

    def _fetch(self, now: float) -> None:
        self._fetch_after = now + self.cooldown
        self.fetches += 1
        try:
            document = self._client.fetch_data()
        except Exception as exc:  # unreachable, not JSON, not UTF-8, too deep
            self._failed(exc)
            return
        old = self._keys
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            self._failed("the document is not a JWKS")
            return
        # A JWKS with no usable key withdraws them all: an issuer may have to.
        keys = self._usable(document["keys"])
        if not self._reachable:
            logger.warning("jwt_blueprint: the JWKS at %s answers again", self.url)
        changed = set(old) - set(keys)
        for kid, key in keys.items():
            if kid in old:
                if same_key(old[kid], key):
                    keys[kid] = old[kid]  # the same object: cached tokens hold
                else:
                    changed.add(kid)
        self._keys = keys
        self._reachable = True
        self._stale_after = now + self.max_age
        if changed and self.on_change is not None:
            self.on_change()

    def _failed(self, reason: object) -> None:
        # The keys fetched before still verify the tokens they signed.
        if self._reachable:
            logger.error(
                "jwt_blueprint: cannot fetch the JWKS at %s: %s", self.url, reason
            )
        self._reachable = False

    def _usable(self, entries: list[t.Any]) -> dict[str, t.Any]:
        keys: dict[str, t.Any] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
                continue
            operations = entry.get("key_ops", ["verify"])
            if (
                entry.get("use", "sig") != "sig"
                or not isinstance(operations, list)
                or "verify" not in operations
                or entry.get("alg", self.algorithm) != self.algorithm
            ):
                continue
            try:
                key = jwt.PyJWK(entry, algorithm=self.algorithm).key
                if hasattr(key, "public_key"):
                    key = key.public_key()  # a private JWK published by mistake
                # As for our own keys: the algorithm's family and curve.
                key = self._algorithm.prepare_key(key)
            except (jwt.PyJWTError, ValueError, TypeError):
                continue
            if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
                continue
            keys.setdefault(entry["kid"], key)
        return keys

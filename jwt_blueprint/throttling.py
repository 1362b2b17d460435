"""Login throttling: failed logins per username, requests per client address.

Counting is done by `limits`_, the engine of Flask-Limiter, with its moving
window: the same notation (``"5/minute"``, ``"5/minute;100/day"``) and the
same storage URLs (``memory://``, ``redis://...``). Every count is taken
*before* the work it guards, in one atomic step of the storage, so that a
burst of concurrent requests cannot slip past a limit between a check and
a count.

.. _limits: https://limits.readthedocs.io/
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import threading
import time
import typing as t
import unicodedata

from limits import parse_many
from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from .exceptions import ThrottleUnavailableError
from .exceptions import TooManyRequestsError

logger = logging.getLogger("jwt_blueprint")

#: The first identifier of every key the throttle counts under.
KEY_NAMESPACE = "jwt_blueprint"

#: IPv6 clients are counted by network: one host is given a whole /64.
IPV6_PREFIX_LENGTH = 64


class RateLimitStorage:
    """A `limits` storage, and whether it is failing: an outage is logged
    once when it starts and once when it ends, not once per request.

    :param storage: a storage opened with ``wrap_exceptions=True``, so
        that every failure is a :class:`limits.errors.StorageError`.
    """

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        #: Counts with the moving window: a limit of 5 per minute refuses
        #: the 6th request of any 60 seconds.
        self.limiter = MovingWindowRateLimiter(storage)
        self._failing = False
        self._lock = threading.Lock()

    def failed(self, error: StorageError) -> ThrottleUnavailableError:
        """Note an outage (logging its start) and return the 503 to raise."""
        with self._lock:
            started, self._failing = not self._failing, True
        if started:
            logger.error(
                "jwt_blueprint: the rate limit storage failed; logins and"
                " refreshes are refused until it answers again: %r",
                error.storage_error,
            )
        return ThrottleUnavailableError()

    def answered(self) -> None:
        """Note that the storage answered, logging the end of an outage."""
        if self._failing:
            with self._lock:
                ended, self._failing = self._failing, False
            if ended:
                logger.warning("jwt_blueprint: the rate limit storage answers again")


class Throttle:
    """The limits of one app's settings, counted in a shared storage.

    :param storage: where the counts are kept.
    :param per_username: the limits on failed logins per username.
    :param per_address: the limits on requests per client address, to each
        throttled endpoint.
    """

    def __init__(
        self,
        storage: RateLimitStorage,
        per_username: tuple[RateLimitItem, ...],
        per_address: tuple[RateLimitItem, ...],
    ) -> None:
        self.storage = storage
        self.per_username = per_username
        self.per_address = per_address

    def count_request(self, endpoint: str, address: str | None) -> None:
        """Count one request from ``address`` to ``endpoint``.

        :raises TooManyRequestsError: when it is one too many.
        :raises ThrottleUnavailableError: when the storage fails.
        """
        if self.per_address:
            key = address_key(address)
            self._count(self.per_address, (endpoint, key), "Too many requests")

    def count_login(self, username: str) -> None:
        """Count a login attempt for ``username`` as failed, before it is
        tried: :meth:`forget_failures` takes it back if it succeeds.

        :raises TooManyRequestsError: when ``username`` has failed too often.
        :raises ThrottleUnavailableError: when the storage fails.
        """
        if self.per_username:
            self._count(
                self.per_username,
                ("login", username_key(username)),
                "Too many failed logins",
            )

    def forget_failures(self, username: str) -> None:
        """Clear the count of ``username``, which has just logged in.

        A storage failure is logged, not raised: the login succeeded, and
        stays counted.
        """
        if not self.per_username:
            return
        identifiers = (KEY_NAMESPACE, "login", username_key(username))
        try:
            for item in self.per_username:
                self.storage.limiter.clear(item, *identifiers)
        except StorageError as exc:
            self.storage.failed(exc)
        else:
            self.storage.answered()

    def _count(
        self, items: tuple[RateLimitItem, ...], identifiers: tuple[str, ...], what: str
    ) -> None:
        limiter = self.storage.limiter
        identifiers = (KEY_NAMESPACE, *identifiers)
        try:
            for item in items:
                if not limiter.hit(item, *identifiers):
                    reset_time = limiter.get_window_stats(item, *identifiers).reset_time
                    # The window lets a request in once strictly past it.
                    retry_after = max(1, math.floor(reset_time - time.time()) + 1)
                    raise TooManyRequestsError(what, retry_after)
        except StorageError as exc:
            raise self.storage.failed(exc) from None
        self.storage.answered()


def username_key(username: str) -> str:
    """What failed logins of ``username`` are counted under.

    Usernames that most apps treat as one (``"Alice"``, ``"alice"``, and
    the same letters in other Unicode forms) share a count, so changing
    the case does not buy more guesses. Hashed, so that the storage holds
    neither usernames nor keys of unbounded length.
    """
    folded = unicodedata.normalize("NFKC", username).casefold()
    # A JSON body may carry lone surrogates, which UTF-8 cannot encode.
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def address_key(address: str | None) -> str:
    """What requests from ``address`` (``request.remote_addr``) are counted
    under: the address itself, the /64 network of an IPv6 address (one
    host is given a whole /64, so counting one address would count
    nothing), or the IPv4 address an IPv6 one maps."""
    if not address:
        return "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        # Not an address (a Unix socket, or a proxy's oddity): counted as
        # given, hashed to bound the key.
        return (
            "other-"
            + hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:32]
        )
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        network = ipaddress.IPv6Network((ip, IPV6_PREFIX_LENGTH), strict=False)
        return str(network)
    return str(ip)


def parse_limits(value: t.Any) -> tuple[RateLimitItem, ...]:
    """The limits of a Flask-Limiter limit string, ``"5/minute;100/day"``.

    :raises ValueError: for anything else.
    """
    if not isinstance(value, str):
        raise ValueError("must be a limit string such as '5/minute', or None")
    items = tuple(parse_many(value))
    if not items or any(item.amount < 1 for item in items):
        raise ValueError(f"{value!r} must allow at least one request")
    return items

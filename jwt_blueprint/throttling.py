"""Login throttling: failed logins per username, requests per client address.

Counting is done by `limits`_, the engine of Flask-Limiter, with its moving
window: the same notation (``"5/minute"``, ``"5/minute;100/day"``) and the
same storage URLs (``memory://``, ``redis://...``).

A request to a throttled endpoint is counted for its address before it is
served. A login is checked against its username's failures before it is
tried, and counted once it has failed, so that a successful login never
counts, and nothing ever clears a count: a count that successes could clear
would tell an attacker when a user logged in, and let two names that share
a count clear each other's. Only one attempt per username runs at a time,
so that its failure is counted before the next one is checked.

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
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.storage import MovingWindowSupport
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from .exceptions import ThrottleUnavailableError
from .exceptions import TooManyRequestsError

logger = logging.getLogger("jwt_blueprint")

_T = t.TypeVar("_T")

#: The first identifier of every key the throttle counts under.
KEY_NAMESPACE = "jwt_blueprint"

#: IPv6 clients are counted by network: one host is given a whole /64.
IPV6_PREFIX_LENGTH = 64

#: The most requests one limit may allow: the moving window keeps one entry
#: per request counted.
MAX_AMOUNT = 100_000
#: The longest window of a limit, in seconds.
MAX_WINDOW = 366 * 24 * 60 * 60

#: How often, in calls, the memory storage forgets the windows that passed.
PRUNE_EVERY = 1024

#: One login attempt per username at a time: taken with a hit, given back
#: with a clear; it lapses by itself after this window, should a worker die
#: holding it.
ATTEMPT_LOCK = RateLimitItemPerSecond(1, 10)
#: What a login refused for another attempt of its username is told to wait.
ATTEMPT_RETRY_AFTER = 1


class RateLimitStorage:
    """A `limits` storage, and whether it is failing: an outage is logged
    once when it starts and once when it ends, not once per request.

    :param storage: a storage opened with ``wrap_exceptions=True``, so
        that every failure is a :class:`limits.errors.StorageError`.
    """

    def __init__(self, storage: Storage) -> None:
        if not isinstance(storage, MovingWindowSupport):
            raise ValueError(
                f"the {type(storage).__name__} of the limits library has no"
                " moving window; use memory:// or a Redis URL"
            )
        self.storage = storage
        #: Counts with the moving window: a limit of 5 per minute refuses
        #: the 6th request of any 60 seconds.
        self.limiter = MovingWindowRateLimiter(storage)
        self._failing = False
        self._lock = threading.Lock()
        self._memory = storage if isinstance(storage, MemoryStorage) else None
        self._calls = 0

    @staticmethod
    def _prune(memory: MemoryStorage) -> None:
        # limits' memory storage empties the windows that passed but keeps
        # their keys, one per username and address ever counted: forget
        # them, under the key's lock, as the storage itself does.
        now = time.time()
        for key in list(memory.events):
            with memory.locks[key]:
                events = memory.events.get(key)
                if not events or events[0].expiry <= now:  # newest first
                    memory.events.pop(key, None)

    def failed(self, error: Exception) -> ThrottleUnavailableError:
        """Note an outage (logging its start) and return the 503 to raise."""
        with self._lock:
            started, self._failing = not self._failing, True
        if started:
            logger.error(
                "jwt_blueprint: the rate limit storage failed; logins and"
                " refreshes are refused until it answers again: %r",
                getattr(error, "storage_error", error),
            )
        return ThrottleUnavailableError()

    def answered(self) -> None:
        """Note that the storage answered, logging the end of an outage."""
        if self._memory is not None:
            self._calls += 1
            if self._calls % PRUNE_EVERY == 0:
                self._prune(self._memory)
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
        """Count one request from ``address`` to ``endpoint``, before it is
        served: every request counts, whatever its outcome.

        :raises TooManyRequestsError: when it is one too many.
        :raises ThrottleUnavailableError: when the storage fails.
        """
        if not self.per_address:
            return
        identifiers = (KEY_NAMESPACE, endpoint, address_key(address))
        limiter = self.storage.limiter
        # Each limit is tested before any is hit: a request refused by one
        # must not use up another (a refused burst would eat the day's).
        # The hits decide, atomically, when requests race.
        self._refuse_if_over(self.per_address, identifiers, "Too many requests")
        refused = self._guarded(
            lambda: [
                item for item in self.per_address if not limiter.hit(item, *identifiers)
            ]
        )
        if refused:
            raise self._too_many(refused, identifiers, "Too many requests")

    def begin_login(self, username: str) -> None:
        """Start a login attempt for ``username``: refuse it if the username
        failed too often, or if another attempt for it is running.

        One attempt per username at a time: its failure is counted before
        the next is checked, so that concurrent guesses cannot all pass a
        check made before any of them failed. :meth:`end_login` must
        follow.

        :raises TooManyRequestsError: when ``username`` failed too often,
            or an attempt for it is running.
        :raises ThrottleUnavailableError: when the storage fails.
        """
        identifiers = (KEY_NAMESPACE, "login", username_key(username))
        lock = (KEY_NAMESPACE, "login-running", identifiers[2])
        limiter = self.storage.limiter
        if not self._guarded(lambda: limiter.hit(ATTEMPT_LOCK, *lock)):
            raise TooManyRequestsError(
                "A login for this username is in progress", ATTEMPT_RETRY_AFTER
            )
        try:
            self._refuse_if_over(
                self.per_username, identifiers, "Too many failed logins"
            )
        except BaseException:
            self._release(lock)
            raise

    def end_login(self, username: str, *, failed: bool) -> None:
        """End the attempt :meth:`begin_login` started, counting it if it
        ``failed``. A login that succeeds never counts.

        :raises ThrottleUnavailableError: when the storage fails.
        """
        identifiers = (KEY_NAMESPACE, "login", username_key(username))
        lock = (KEY_NAMESPACE, "login-running", identifiers[2])
        limiter = self.storage.limiter
        try:
            if failed:
                self._guarded(
                    lambda: [
                        limiter.hit(item, *identifiers) for item in self.per_username
                    ]
                )
        finally:
            self._release(lock)

    def _release(self, lock: tuple[str, ...]) -> None:
        limiter = self.storage.limiter
        self._guarded(lambda: limiter.clear(ATTEMPT_LOCK, *lock))

    def _refuse_if_over(
        self, items: tuple[RateLimitItem, ...], identifiers: tuple[str, ...], what: str
    ) -> None:
        limiter = self.storage.limiter
        refused = self._guarded(
            lambda: [item for item in items if not limiter.test(item, *identifiers)]
        )
        if refused:
            raise self._too_many(refused, identifiers, what)

    def _too_many(
        self, refused: list[RateLimitItem], identifiers: tuple[str, ...], what: str
    ) -> TooManyRequestsError:
        limiter = self.storage.limiter
        reset_time = self._guarded(
            lambda: max(
                limiter.get_window_stats(item, *identifiers).reset_time
                for item in refused
            )
        )
        # The window lets a request in once strictly past its reset time.
        retry_after = max(1, math.floor(reset_time - time.time()) + 1)
        return TooManyRequestsError(what, retry_after)

    def _guarded(self, call: t.Callable[[], _T]) -> _T:
        """``call()``, with any failure of the storage turned into a 503."""
        try:
            result = call()
        except Exception as exc:  # StorageError, or a client's own error
            raise self.storage.failed(exc) from None
        self.storage.answered()
        return result


def username_key(username: str) -> str:
    """What failed logins of ``username`` are counted under.

    Names that an app may well treat as one share a count: the same
    letters in another case or Unicode form, with or without accents (as
    accent-insensitive database collations compare them), with spaces or
    invisible characters added. Folding more than the app does only makes
    more names share a count, never gives a name more guesses. Hashed, so
    that the storage holds neither usernames in clear nor keys of unbounded
    length.
    """
    # Decomposed, so that accents are marks of their own; decomposed again
    # after case folding, which may compose.
    folded = unicodedata.normalize(
        "NFKD", unicodedata.normalize("NFKD", username).casefold()
    )
    folded = "".join(
        c
        for c in folded
        if unicodedata.category(c) not in ("Mn", "Me")
        and unicodedata.category(c)[0] not in "ZC"
    ).casefold()
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
    if any(
        item.amount > MAX_AMOUNT or item.get_expiry() > MAX_WINDOW for item in items
    ):
        raise ValueError(
            f"{value!r}: at most {MAX_AMOUNT} requests in a window of at most a year"
        )
    return items

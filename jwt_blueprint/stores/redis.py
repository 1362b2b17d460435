"""``redis://`` and ``rediss://``: token state in Redis, shared by every
worker and host that uses the same server.

Needs redis-py: ``pip install jwt_blueprint[redis]``. Every write is one atomic
command or script, never a read then a write, safe to repeat when redis-py
retries it, and every key expires with the tokens it describes, so memory
stays bounded.
"""

from __future__ import annotations

import math
import typing as t

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .base import refused_since

# Sets the key to the larger of its value and ARGV[1], expiring at the later
# of its expiry and ARGV[2] (ms): revocations only ever widen.
_WIDEN = """
local value = ARGV[1]
local old = redis.call('GET', KEYS[1])
if old and tonumber(old) and tonumber(old) > tonumber(value) then
    value = old
end
local at = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left > 0 then
    local now = redis.call('TIME')
    local old_at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
        + left
    if old_at > at then
        at = old_at
    end
end
redis.call('SET', KEYS[1], value, 'PXAT', at)
"""

# Moves a family to its next refresh token if the presented one is current;
# matching the next one too makes a retried call succeed again.
_ROTATE = """
local current = redis.call('GET', KEYS[1])
if current and (current == ARGV[1] or current == ARGV[2]) then
    redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
    return 1
end
return 0
"""

#: Used unless the URL sets ``socket_timeout``/``socket_connect_timeout``: a
#: stalled server must fail a request (503) soon, not hang a worker.
DEFAULT_TIMEOUT = 1.0


def _ms(timestamp: float) -> int:
    return math.ceil(timestamp * 1000)


class RedisStore:
    """A :class:`~jwt_blueprint.stores.TokenStore` in Redis (6.2 or later).

    :param client: a ``redis.Redis`` client, or use :meth:`from_url`.
    :param prefix: put before every key, to share a database with others.
    """

    def __init__(self, client: redis.Redis, prefix: str = "jwt_blueprint:") -> None:
        self.client = client
        self.prefix = prefix
        self._jti = f"{prefix}revoked:jti:"
        self._family = f"{prefix}revoked:family:"
        self._subject = f"{prefix}revoked:subject:"
        self._family_current = f"{prefix}family:"
        self._widen = client.register_script(_WIDEN)
        self._rotate = client.register_script(_ROTATE)

    @classmethod
    def from_url(cls, url: str, **options: t.Any) -> RedisStore:
        """A store on a new client for ``url``
        (``redis://[user:password@]host:port/db`` or ``rediss://`` for TLS;
        query parameters as redis-py reads them)."""
        options.setdefault("socket_timeout", DEFAULT_TIMEOUT)
        options.setdefault("socket_connect_timeout", DEFAULT_TIMEOUT)
        # One immediate retry on a lost connection reconnects after a server
        # restart. Not on a timeout: a stalled server would hold the worker
        # twice as long. redis-py's default backs off for seconds.
        options.setdefault(
            "retry", Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
        )
        # The URL's own parameters win over these defaults.
        return cls(redis.Redis.from_url(url, **options))

    def __repr__(self) -> str:
        return f"<RedisStore {self.client!r}>"

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        key = self._family_current + family
        self.client.set(key, refresh_jti, pxat=_ms(expires_at))

    def rotate(
        self, family: str, refresh_jti: str, next_jti: str, expires_at: float
    ) -> bool:
        keys = [self._family_current + family]
        args: list[str | int] = [refresh_jti, next_jti, _ms(expires_at)]
        try:
            rotated = self._rotate(keys=keys, args=args)
        except redis.TimeoutError:
            # The script may have run, and only its reply been late: running
            # it again answers the same (it accepts its own next_jti), where
            # a 503 would make the client's retry look like a reuse.
            rotated = self._rotate(keys=keys, args=args)
        return bool(rotated)

    def revoke_token(self, jti: str, expires_at: float) -> None:
        self._widen(keys=[self._jti + jti], args=[0, _ms(expires_at)])

    def revoke_family(self, family: str, expires_at: float) -> None:
        self._widen(keys=[self._family + family], args=[0, _ms(expires_at)])

    def revoke_subject(
        self, subject: str, issued_before: float, expires_at: float
    ) -> None:
        self._widen(
            keys=[self._subject + subject], args=[repr(issued_before), _ms(expires_at)]
        )

    def is_revoked(
        self,
        jti: str,
        family: str | None,
        subject: str | None,
        issued_at: float | None,
    ) -> bool:
        keys = [self._jti + jti]
        if family is not None:
            keys.append(self._family + family)
        if subject is not None:
            keys.append(self._subject + subject)
        values = t.cast("list[bytes | None]", self.client.mget(keys))
        if values[0] is not None or (family is not None and values[1] is not None):
            return True
        if subject is None or values[-1] is None:
            return False
        return refused_since(float(values[-1]), issued_at)

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()

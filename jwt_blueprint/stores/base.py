"""The protocol every token store implements.

A store remembers what a signed token cannot say about itself: which refresh
token is the current one of each login (*family*), and what was revoked.
Everything else (the identity, the family, the deadline) is in the tokens'
own verified claims. Storage is one entry per live login and one per
revocation, each expiring with the tokens it describes.

All times are seconds since the epoch, as floats.
"""

from __future__ import annotations

import typing as t


@t.runtime_checkable
class TokenStore(t.Protocol):
    """Where token state lives, shared by every worker that uses it.

    Write one to keep the state in your own database: six methods, each one
    round trip. Raise any exception when the backend cannot answer;
    jwt_blueprint then refuses the request with a 503 (it fails closed) and
    logs the outage once.
    """

    def start_family(self, family: str, refresh_jti: str, expires_at: float) -> None:
        """Record a login: ``refresh_jti`` is the current refresh token of
        ``family``, until ``expires_at``."""

    def rotate(
        self, family: str, refresh_jti: str, next_jti: str, expires_at: float
    ) -> bool:
        """Make ``next_jti`` the current refresh token of ``family`` if
        ``refresh_jti`` is, atomically, and return whether it was.

        Two concurrent calls with the same ``refresh_jti`` must never both
        get ``True``. A call repeated with the same ``next_jti`` (a client
        library retrying after a lost reply) gets ``True`` again. An unknown
        or expired family gets ``False``.
        """

    def revoke_token(self, jti: str, expires_at: float) -> None:
        """Refuse the token ``jti`` until ``expires_at``."""

    def revoke_family(self, family: str, expires_at: float) -> None:
        """Refuse every token of the login ``family`` until ``expires_at``."""

    def revoke_subject(
        self, subject: str, issued_before: float, expires_at: float
    ) -> None:
        """Refuse every token of ``subject`` whose login was at or before
        ``issued_before``, until ``expires_at``. A later call with a later
        ``issued_before`` widens an earlier one; nothing narrows it."""

    def is_revoked(
        self,
        jti: str,
        family: str | None,
        subject: str | None,
        issued_at: float | None,
    ) -> bool:
        """Whether the token is refused: ``jti`` or ``family`` revoked, or
        ``subject`` revoked for logins at ``issued_at`` (``None``: before any
        revocation). One round trip: it runs on every protected request."""


def refused_since(issued_before: float | None, issued_at: float | None) -> bool:
    """Whether a token whose login was at ``issued_at`` falls under a
    revoke-all of its subject made at ``issued_before``."""
    if issued_before is None:
        return False
    return issued_at is None or issued_at <= issued_before

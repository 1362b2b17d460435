"""The protocol every token store implements.

A store remembers what a signed token cannot say about itself: that it was
revoked, or (for a refresh token) spent. Everything else (the identity, the
family, the deadline) is in the token's own verified claims, so a store never
records the tokens it issues, only the few that were revoked or spent. Every
entry expires with the tokens it describes, so storage stays bounded.

All times are seconds since the epoch, as floats.
"""

from __future__ import annotations

import typing as t


@t.runtime_checkable
class TokenStore(t.Protocol):
    """Where token state lives, shared by every worker that uses it.

    Write one to keep the state in your own database: five methods, each
    one round trip. Raise any exception when the backend cannot answer;
    jwt_blueprint then refuses the request with a 503 (it fails closed) and
    logs the outage once.
    """

    def spend(self, jti: str, expires_at: float) -> bool:
        """Mark the refresh token ``jti`` as used, atomically: ``True`` the
        first time, ``False`` ever after (until ``expires_at``). Two
        concurrent calls must never both get ``True``."""

    def revoke_token(self, jti: str, expires_at: float) -> None:
        """Refuse the token ``jti`` until ``expires_at``."""

    def revoke_family(self, family: str, expires_at: float) -> None:
        """Refuse every token of the login ``family`` until ``expires_at``."""

    def revoke_subject(
        self, subject: str, issued_before: float, expires_at: float
    ) -> None:
        """Refuse every token of ``subject`` issued at or before
        ``issued_before``, until ``expires_at``. A later call with a later
        ``issued_before`` replaces an earlier one."""

    def is_revoked(
        self,
        jti: str,
        family: str | None,
        subject: str | None,
        issued_at: float | None,
    ) -> bool:
        """Whether the token is refused: ``jti`` or ``family`` revoked, or
        ``subject`` revoked for tokens issued at ``issued_at`` (a token
        without ``iat`` counts as issued before any revocation). One round
        trip: it runs on every protected request."""


def refused_since(issued_before: float | None, issued_at: float | None) -> bool:
    """Whether a token issued at ``issued_at`` falls under a revoke-all of
    its subject made at ``issued_before``."""
    if issued_before is None:
        return False
    return issued_at is None or issued_at <= issued_before

"""The token lifecycle: refresh with rotation and reuse detection, logout,
and revoking every token of an identity. Mixed into
:class:`~jwt_blueprint.JWTStrategy`; the state lives in its token store.

A login starts a *family*: the access token and the refresh token it gets
carry the same ``fam`` claim, and so does every token a refresh descends
from them. Refreshing spends the refresh token presented, atomically, and
issues a new pair in the same family, the refresh token expiring at the
family's first deadline. Presenting a spent refresh token again means that
two parties hold it (RFC 9700 section 4.14.2): the whole family is revoked.
"""

from __future__ import annotations

import logging
import time
import typing as t
from collections.abc import Mapping

from .claims import FAMILY_CLAIM
from .claims import identity_id_of
from .claims import REFRESH
from .claims import subject_of
from .claims import TYPE_CLAIM
from .exceptions import ExpiredTokenError
from .exceptions import InvalidTokenError
from .exceptions import MissingClaimError
from .exceptions import RevokedTokenError
from .locations import JSON
from .pipeline import REFRESH_REQUIREMENTS
from .pipeline import VerificationPipeline
from .state import get_state
from .tokens import AccessToken
from .typing import Claims

if t.TYPE_CHECKING:  # pragma: no cover
    from .claims import VerifiedToken
    from .config import Settings
    from .stores import GuardedStore

logger = logging.getLogger("jwt_blueprint")


def require_store(settings: Settings) -> GuardedStore:
    """The app's token store.

    :raises RuntimeError: if ``JWT_TOKEN_STORE`` is not configured.
    """
    if settings.store is None:
        raise RuntimeError(
            "revoking and refreshing tokens needs a token store: set"
            " JWT_TOKEN_STORE (or JWT_REFRESH_ENABLED)"
        )
    return settings.store


def _expiry(claims: Mapping[str, t.Any], settings: Settings) -> float:
    """Until when a store must remember ``claims``'s token: its ``exp``
    plus the leeway, or, without ``exp``, the longest configured lifetime."""
    leeway = settings.codec.leeway
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        return float(exp) + leeway
    return time.time() + _longest_lifetime(settings)


def _longest_lifetime(settings: Settings) -> float:
    return (
        max(settings.expiration_delta, settings.refresh_expiration_delta)
        + settings.codec.leeway
    )


def _family_expiry(claims: Mapping[str, t.Any], settings: Settings) -> float:
    """Until when a family stays revoked: until its last refresh token has
    expired, and the last access token minted from it too."""
    deadline = time.time() + settings.refresh_expiration_delta
    if claims.get(TYPE_CLAIM) == REFRESH:
        deadline = max(deadline, _expiry(claims, settings))
    return deadline + settings.expiration_delta + settings.codec.leeway


class TokenLifecycle(VerificationPipeline):
    """Refresh, logout and revoke-all: mixed into
    :class:`~jwt_blueprint.JWTStrategy`."""

    if t.TYPE_CHECKING:  # pragma: no cover - JWTStrategy's

        def build_payload(self, identity: t.Any) -> Claims: ...

        def _issue_pair(
            self,
            identity: t.Any,
            family: str,
            deadline: float,
            fresh: bool,
            settings: Settings,
        ) -> AccessToken: ...

    def refresh(self, refresh_token: str) -> AccessToken:
        """Spend ``refresh_token`` and return a new access token (not fresh)
        with a new refresh token of the same family: :meth:`verify_token`
        then :meth:`rotate`, as the refresh endpoint does.

        :raises RevokedTokenError: if it was spent before: the whole family
            is revoked, the thief's tokens and the victim's alike.
        :raises JWTError: if it is not a valid, unrevoked refresh token of a
            known identity.
        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        verified = self.verify_token(
            refresh_token, JSON, settings, REFRESH_REQUIREMENTS
        )
        return self.rotate(verified)

    def rotate(self, verified: VerifiedToken) -> AccessToken:
        """Spend the verified refresh token, atomically, and issue the next
        pair of its family; a token spent before revokes the family instead.

        :param verified: a refresh token that passed :meth:`verify_token`
            with :data:`~jwt_blueprint.pipeline.REFRESH_REQUIREMENTS`.
        :raises RevokedTokenError: if it was spent before.
        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        store = require_store(settings)
        claims = verified.claims
        family = claims.get(FAMILY_CLAIM)
        if not isinstance(family, str):
            raise MissingClaimError(FAMILY_CLAIM)
        deadline = claims["exp"]
        if not store.spend(str(claims["jti"]), _expiry(claims, settings)):
            store.revoke_family(family, _family_expiry(claims, settings))
            logger.warning(
                "jwt_blueprint: a spent refresh token of %r was presented"
                " again; every token of its login is revoked",
                subject_of(claims),
            )
            raise RevokedTokenError()
        return self._issue_pair(verified.identity, family, deadline, False, settings)

    def revoke(
        self, claims: Mapping[str, t.Any], refresh_token: str | None = None
    ) -> None:
        """Log out: refuse the token of ``claims`` (e.g.
        :data:`~jwt_blueprint.current_claims`) from now on, and every token
        of its login; with ``refresh_token``, that token's login too.
        Revoking twice is harmless.

        :raises InvalidTokenError: if ``refresh_token`` is not a refresh
            token signed here, or is another identity's. An expired one is
            already useless, and ignored.
        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        store = require_store(settings)
        refresh_claims = None
        if refresh_token is not None:
            refresh_claims = self._refresh_claims(refresh_token, claims, settings)
        jti = claims.get("jti")
        if jti is None:
            raise MissingClaimError("jti")
        store.revoke_token(str(jti), _expiry(claims, settings))
        for revoked in (claims, refresh_claims):
            if revoked is None:
                continue
            family = revoked.get(FAMILY_CLAIM)
            if isinstance(family, str):
                store.revoke_family(family, _family_expiry(revoked, settings))

    def _refresh_claims(
        self, refresh_token: str, claims: Mapping[str, t.Any], settings: Settings
    ) -> Claims | None:
        # Verified, but not looked up in the store: revoking a revoked or
        # spent token again is fine.
        try:
            refresh_claims = self.decode(refresh_token, settings)
        except ExpiredTokenError:
            return None
        self.check_token_type(refresh_claims, REFRESH_REQUIREMENTS)
        if subject_of(refresh_claims) != subject_of(claims):
            raise InvalidTokenError("The refresh token belongs to another identity")
        return refresh_claims

    def revoke_all(self, identity: t.Any) -> None:
        """Refuse every token of ``identity`` issued up to now, access and
        refresh alike; logins from now on work. For a password change or a
        compromised account.

        :param identity: the identity object, whose tokens' subject the
            payload handler decides, or its id (what the tokens' ``sub``, or
            else ``identity``, claim holds).
        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        store = require_store(settings)
        if isinstance(identity, (str, int)) and not isinstance(identity, bool):
            subject = str(identity)
        else:
            subject = subject_of(self.build_payload(identity)) or str(
                identity_id_of(identity)
            )
        now = time.time()
        store.revoke_subject(subject, now, now + _longest_lifetime(settings))

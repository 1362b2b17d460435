"""The token lifecycle: refresh with rotation and reuse detection, logout,
and revoking every token of an identity. Mixed into
:class:`~jwt_blueprint.JWTStrategy`; the state lives in its token store.

A login starts a *family*: the access token and the refresh token it gets
carry the same ``fam`` claim and the login's ``auth_time``, and so does
every token a refresh descends from them. The store records which refresh
token is the family's current one. Refreshing issues the next pair, then
moves the family to it, atomically, if the token presented is the current
one. Presenting a refresh token that is no longer current means that two
parties hold it (RFC 9700 section 4.14.2): the whole family is revoked.
"""

from __future__ import annotations

import logging
import math
import time
import typing as t
from collections.abc import Mapping

from .claims import AUTH_TIME_CLAIM
from .claims import FAMILY_CLAIM
from .claims import login_time
from .claims import revocation_keys
from .claims import subject_of
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


#: Seconds a token's ``exp`` may be past the limit: a payload handler runs
#: a moment after the limit is taken, and may round up.
LIFETIME_SLACK = 1.0


def _lifetime(settings: Settings) -> float:
    lifetime = max(settings.expiration_delta, settings.refresh_expiration_delta)
    return lifetime + LIFETIME_SLACK


def latest_exp(settings: Settings) -> float:
    """The latest ``exp`` a token issued now may have, with a store: now plus
    the longest configured lifetime, and :data:`LIFETIME_SLACK`."""
    return time.time() + _lifetime(settings)


def longest_lifetime(settings: Settings) -> float:
    """How long, in seconds, a token issued now may still be accepted: to
    :func:`latest_exp`, plus the leeway. A revocation is kept that long, to
    outlive what it refuses."""
    return _lifetime(settings) + settings.codec.leeway


def token_expiry(claims: Mapping[str, t.Any], settings: Settings) -> float:
    """Until when a store must remember ``claims``'s token: its ``exp``
    plus the leeway, or, without a usable ``exp``, the longest lifetime."""
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        try:
            expiry = float(exp) + settings.codec.leeway
        except OverflowError:  # an integer beyond any float
            expiry = math.inf
        if math.isfinite(expiry):
            return expiry
    return time.time() + longest_lifetime(settings)


def family_expiry(deadline: float, settings: Settings) -> float:
    """Until when a family must be remembered: its refresh tokens expire at
    ``deadline``, and the last access token minted from one of them a
    lifetime later."""
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
            auth_time: float,
            fresh: bool,
            settings: Settings,
        ) -> tuple[AccessToken, str]: ...

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
        """Issue the next pair of the verified refresh token's family, and
        make it the family's current one if the token is; if it is not (it
        was spent before), revoke the family instead.

        The pair is issued first, so that nothing can fail between spending
        the token and answering (but the response itself). The new refresh
        token expires with the family, never later; the login's
        ``auth_time`` carries over.

        :param verified: a refresh token that passed :meth:`verify_token`
            with :data:`~jwt_blueprint.pipeline.REFRESH_REQUIREMENTS`.
        :raises RevokedTokenError: if it was spent before.
        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        store = require_store(settings)
        claims = verified.claims
        jti, family, _, _ = revocation_keys(claims)
        if family is None:
            raise MissingClaimError(FAMILY_CLAIM)
        deadline = claims["exp"]
        auth_time = login_time({AUTH_TIME_CLAIM: claims[AUTH_TIME_CLAIM]})
        if auth_time is None:
            raise InvalidTokenError("Login time (auth_time) must be a number")
        access, next_jti = self._issue_pair(
            verified.identity, family, deadline, auth_time, False, settings
        )
        expiry = family_expiry(token_expiry(claims, settings), settings)
        if not store.rotate(family, jti, next_jti, expiry):
            store.revoke_family(family, expiry)
            logger.warning(
                "jwt_blueprint: a refresh token of %r that is not its login's"
                " current one was presented (reused, or the store lost the"
                " login); every token of that login is revoked",
                subject_of(claims),
            )
            raise RevokedTokenError()
        return access

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
        jti = revocation_keys(claims)[0]
        families = [
            revocation_keys(revoked)[1]
            for revoked in (claims, refresh_claims)
            if revoked is not None
        ]
        store.revoke_token(jti, token_expiry(claims, settings))
        for family in families:
            if family is not None:
                # A family lives until its login's deadline, at most a
                # refresh lifetime from now.
                deadline = time.time() + settings.refresh_expiration_delta
                store.revoke_family(family, family_expiry(deadline, settings))

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
        subject = subject_of(refresh_claims)
        if subject is None or subject != subject_of(claims):
            raise InvalidTokenError("The refresh token belongs to another identity")
        return refresh_claims

    def revoke_all(self, identity: t.Any) -> None:
        """Refuse every token of ``identity`` from a login up to now, access
        and refresh alike, and every token refreshed from one; logins from
        now on work. For a password change or a compromised account.

        :param identity: the identity object, whose tokens' subject the
            payload handler decides, or its id (what the tokens' ``sub``, or
            else ``identity``, claim holds).
        :raises TypeError: if the payload handler's claims name no subject
            (neither ``sub`` nor ``identity``): there would be nothing to
            match the tokens by.
        :raises StoreUnavailableError: if the store does not answer.
        """
        settings = get_state().settings()
        store = require_store(settings)
        subject: str | None
        if isinstance(identity, (str, int)) and not isinstance(identity, bool):
            subject = str(identity)
        else:
            try:
                subject = subject_of(self.build_payload(identity))
            except InvalidTokenError:
                subject = None
        if subject is None:
            raise TypeError(
                "revoke_all matches tokens by their 'sub' (else 'identity')"
                " claim, and the payload handler writes neither; pass the id"
                f" of {type(identity).__name__!r} as the tokens hold it"
            )
        now = time.time()
        store.revoke_subject(subject, now, now + longest_lifetime(settings))

"""The whole error vocabulary of jwt_blueprint.

Every failure a client can cause is a :class:`JWTError`. Each error knows its
HTTP status and its RFC 6750 ``error`` code; the ``WWW-Authenticate``
challenge is built from them once, when the error is rendered, in the realm
of the view that refused the request. One app-wide handler renders them all
as the same JSON shape (:class:`~jwt_blueprint.schemas.ErrorSchema`).
Nothing here imports Flask.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

#: Characters a quoted-string (RFC 9110 section 5.6.4) may hold unescaped. We are
#: stricter than the RFC: printable ASCII only, so a header can never be split.
_PRINTABLE = frozenset(chr(c) for c in range(0x20, 0x7F))


class ConfigError(ValueError):
    """A ``JWT_*`` configuration value is missing or invalid.

    Raised when the blueprint is registered, so a bad deployment fails at
    startup. :attr:`key` names the offending key and starts the message.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        #: The configuration key at fault, e.g. ``"JWT_ALGORITHM"``.
        self.key = key


def quote_header_value(value: str) -> str:
    """Return ``value`` as an HTTP quoted-string.

    :raises ValueError: if ``value`` holds anything but printable ASCII.
    """
    if not _PRINTABLE.issuperset(value):
        raise ValueError(f"{value!r} must be printable ASCII to go into a header")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _description_parameter(name: str, value: str) -> str:
    # RFC 6750 section 3 keeps quotes and backslashes out of these values, so
    # quotes become apostrophes and backslashes are dropped; a value with
    # anything else outside printable ASCII is left out.
    value = value.replace('"', "'").replace("\\", "")
    if not _PRINTABLE.issuperset(value):
        return ""
    return f', {name}="{value}"'


def make_challenge(
    scheme: str,
    realm: str,
    error: str | None = None,
    description: str | None = None,
    scope: str | None = None,
) -> str:
    """Build a ``WWW-Authenticate`` value: ``JWT realm="Login Required"``.

    ``error``, ``description`` and ``scope`` add RFC 6750's ``error``,
    ``error_description`` and ``scope`` parameters; the last two only with an
    ``error``.
    """
    challenge = f"{scheme} realm={quote_header_value(realm)}"
    if error is not None:
        challenge += f", error={quote_header_value(error)}"
        if description is not None:
            challenge += _description_parameter("error_description", description)
        if scope is not None:
            challenge += _description_parameter("scope", scope)
    return challenge


def _slot_names(cls: type[t.Any]) -> t.Iterator[str]:
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"  # mangled
            yield name


class JWTError(Exception):
    """An authentication failure, rendered as a JSON error response.

    Raise it from any view; the app-wide handler renders it::

        raise JWTError("Forbidden", "Admins only", status_code=403)

    :param error: a short title, the body's ``error``.
    :param description: what went wrong, the body's ``description``.
    :param status_code: the HTTP status, 401 by default.
    :param headers: extra response headers. A 401 without a
        ``WWW-Authenticate`` header gets a challenge when rendered.
    """

    #: The HTTP status.
    status_code: int = 401
    #: RFC 6750's ``error`` code for the challenge: ``"invalid_request"``,
    #: ``"invalid_token"`` or ``"insufficient_scope"``; ``None`` when no
    #: token was presented, which the challenge then does not mention.
    error_code: str | None = None
    #: For ``insufficient_scope``: the scope the resource needs.
    scope: str | None = None
    #: Field-level validation messages, ``{field: [message, ...]}``, for the
    #: body's ``errors``; ``None`` for every error but a bad request body.
    errors: dict[str, t.Any] | None = None
    #: The realm of the challenge; ``None`` means ``JWT_DEFAULT_REALM``. The
    #: check run by ``jwt_required(realm=...)`` sets it on its errors.
    realm: str | None = None

    def __init__(
        self,
        error: str,
        description: str,
        status_code: int | None = None,
        headers: t.Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(error, description)
        #: The short title, the body's ``error``.
        self.error = error
        #: What went wrong, the body's ``description``.
        self.description = description
        if status_code is not None:
            self.status_code = status_code
        #: Extra response headers. The challenge is not in here: it is added
        #: by :meth:`get_headers` when the error is rendered.
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        return f"{self.error}. {self.description}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} {self}>"

    def __copy__(self) -> JWTError:
        # Subclasses take other arguments than ``args`` holds, so rebuild
        # the state rather than call __init__: attributes, slots, the
        # traceback and the chain a handler may log.
        cls = type(self)
        clone = cls.__new__(cls)
        clone.args = self.args
        clone.__dict__.update(self.__dict__)
        for name in _slot_names(cls):
            if hasattr(self, name):
                setattr(clone, name, getattr(self, name))
        clone.__cause__ = self.__cause__
        clone.__context__ = self.__context__
        clone.__suppress_context__ = self.__suppress_context__
        clone.headers = dict(self.headers)
        return clone.with_traceback(self.__traceback__)

    @property
    def needs_challenge(self) -> bool:
        """Whether the response carries ``WWW-Authenticate``: every 401, and
        a 403 for ``insufficient_scope`` (RFC 6750 section 3.1)."""
        return self.status_code == 401 or self.error_code == "insufficient_scope"

    def challenge(self, scheme: str, default_realm: str) -> str:
        """The ``WWW-Authenticate`` value for this error.

        :param scheme: the auth scheme, ``JWT_AUTH_HEADER_PREFIX``.
        :param default_realm: the realm when :attr:`realm` is not set.
        """
        return make_challenge(
            scheme,
            self.realm or default_realm,
            self.error_code,
            self.description,
            self.scope,
        )

    def get_headers(self, scheme: str, default_realm: str) -> dict[str, str]:
        """:attr:`headers`, plus the challenge when the error needs one and
        the headers do not already carry one (in any case)."""
        headers = dict(self.headers)
        if self.needs_challenge and not any(
            name.lower() == "www-authenticate" for name in headers
        ):
            headers["WWW-Authenticate"] = self.challenge(scheme, default_realm)
        return headers


class AuthorizationRequiredError(JWTError):
    """The request carries no token at all."""

    def __init__(self) -> None:
        super().__init__(
            "Authorization Required", "Request does not contain an access token"
        )


class InvalidHeaderError(JWTError):
    """The ``Authorization`` header is present but malformed.

    :param error_code: ``"invalid_request"`` for a malformed value,
        ``"invalid_token"`` for one too large; ``None`` for another scheme's
        credentials, which for us are no token at all.
    """

    def __init__(self, description: str, error_code: str | None) -> None:
        super().__init__("Invalid JWT header", description)
        self.error_code = error_code


class InvalidTokenError(JWTError):
    """The token was refused: it failed to decode or verify, or it may not
    be used here.

    :attr:`original_error` is the PyJWT exception, when there was one.
    """

    error_code = "invalid_token"

    def __init__(
        self, description: str, original_error: BaseException | None = None
    ) -> None:
        super().__init__("Invalid token", description)
        #: The exception that made the token invalid.
        self.original_error = original_error


class ExpiredTokenError(InvalidTokenError):
    """The token's ``exp`` has passed."""


class MissingClaimError(InvalidTokenError, KeyError):
    """The token lacks a claim that was asked for.

    It is also a :class:`KeyError`, which is what reading a missing claim
    from :data:`~jwt_blueprint.current_claims` or an identity handler's
    ``payload`` raises: a token without a claim the app needs is refused with
    a 401, not a 500.
    """

    def __init__(self, claim: str, original_error: BaseException | None = None) -> None:
        super().__init__(f'Token is missing the "{claim}" claim', original_error)
        #: The name of the missing claim.
        self.claim = claim


class WrongTokenTypeError(InvalidTokenError):
    """The token is of a type this endpoint does not accept, e.g. a refresh
    token on a protected view."""


class RevokedTokenError(InvalidTokenError):
    """The token was revoked before it expired."""

    def __init__(self) -> None:
        super().__init__("Token has been revoked")


class FreshTokenRequiredError(InvalidTokenError):
    """The view asks for a token minted by a login (``fresh``), and this one
    was minted by a refresh."""

    def __init__(self) -> None:
        super().__init__("Fresh token required")


class StoreUnavailableError(JWTError):
    """The token store did not answer, so the request is refused rather
    than let through: 503, with ``Retry-After``."""

    status_code = 503
    #: Seconds the client is told to wait, in ``Retry-After``.
    retry_after = 5
    #: The description: what did not answer.
    unavailable = "The token store is unavailable; try again later"

    def __init__(self) -> None:
        super().__init__(
            "Service Unavailable",
            self.unavailable,
            headers={"Retry-After": str(self.retry_after)},
        )


class IssuerUnavailableError(JWTError):
    """The token names a key of another issuer that was not fetched before,
    and the issuer's JWKS cannot be fetched now: 503, with ``Retry-After``,
    rather than a token let through or refused for good."""

    status_code = 503

    def __init__(self, retry_after: int = 30) -> None:
        super().__init__(
            "Service Unavailable",
            "The token issuer's keys are unavailable; try again later",
            headers={"Retry-After": str(retry_after)},
        )


class TooManyRequestsError(JWTError):
    """A login or refresh over one of the throttle's limits: 429, with
    ``Retry-After``.

    :param what: what there was too much of, the start of the description.
    :param retry_after: seconds until the limit allows a request again.
    """

    status_code = 429

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(
            "Too Many Requests",
            f"{what}; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )
        #: Seconds the client is told to wait, in ``Retry-After``.
        self.retry_after = retry_after


class ThrottleUnavailableError(StoreUnavailableError):
    """The storage of the login throttle did not answer, so the login or
    refresh is refused rather than let through uncounted: 503, with
    ``Retry-After``."""

    unavailable = "The rate limit storage is unavailable; try again later"


class CSRFError(InvalidTokenError):
    """A state-changing request authenticated by a cookie did not send the
    CSRF value of its token back: 401, ``Missing CSRF token`` or ``CSRF
    token mismatch``."""


class InsufficientScopeError(JWTError):
    """A valid token that lacks a role or a scope the view asks for: 403,
    with an ``insufficient_scope`` challenge naming what is needed (RFC 6750
    section 3.1).

    :param kind: ``"role"`` or ``"scope"``.
    :param missing: what the token lacks.
    """

    status_code = 403
    error_code = "insufficient_scope"

    def __init__(self, kind: str, missing: t.Sequence[str]) -> None:
        plural = "s" if len(missing) > 1 else ""
        super().__init__(
            "Forbidden", f"The token lacks the {kind}{plural}: {', '.join(missing)}"
        )
        if kind == "scope":  # RFC 6750's scope parameter is for scopes only
            self.scope = " ".join(missing)


class UnknownIdentityError(JWTError):
    """The token is valid but the identity handler found nobody."""

    error_code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("Invalid JWT", "User does not exist")


class InvalidCredentialsError(JWTError):
    """The username or password is wrong, or the user does not exist.

    Both cases give the same body and headers, so the response does not tell
    an attacker which usernames exist.
    """

    def __init__(self) -> None:
        super().__init__("Bad Request", "Invalid credentials")


class BadRequestError(JWTError):
    """The request body is not what the endpoint accepts (400, or 413 when
    too large); ``error`` is the status's reason phrase.

    :attr:`errors` maps each offending field to its messages.
    """

    def __init__(
        self,
        description: str,
        errors: dict[str, t.Any] | None = None,
        status_code: int = 400,
    ) -> None:
        super().__init__(HTTPStatus(status_code).phrase, description, status_code)
        self.errors = errors


class MethodNotAllowedError(JWTError):
    """A method the endpoint does not serve; ``Allow`` lists those it does."""

    status_code = 405

    def __init__(self, method: str, allowed: t.Iterable[str]) -> None:
        methods = sorted(allowed)
        # OPTIONS and HEAD go without saying; the description names the rest.
        served = [m for m in methods if m not in ("HEAD", "OPTIONS")] or methods
        super().__init__(
            "Method Not Allowed",
            f"This endpoint accepts {', '.join(served)}, not {method}",
            headers={"Allow": ", ".join(methods)},
        )

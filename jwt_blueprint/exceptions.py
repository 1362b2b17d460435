"""The whole error vocabulary of jwt_blueprint.

Every failure a client can cause is a :class:`JWTError`. One app-wide error
handler renders them all as the same JSON shape, and every 401 carries a
``WWW-Authenticate`` challenge (RFC 7235, with RFC 6750's ``error`` parameter
when a token was presented). Nothing here imports Flask.
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


def make_challenge(
    scheme: str,
    realm: str,
    error: str | None = None,
    description: str | None = None,
) -> str:
    """Build a ``WWW-Authenticate`` value: ``JWT realm="Login Required"``.

    ``error`` and ``description`` add RFC 6750's ``error`` and
    ``error_description`` parameters. RFC 6750 section 3 keeps quotes and
    backslashes out of the description, so quotes become apostrophes and
    backslashes are dropped; a description with anything else outside
    printable ASCII is left out.
    """
    challenge = f"{scheme} realm={quote_header_value(realm)}"
    if error is not None:
        challenge += f", error={quote_header_value(error)}"
        if description is not None:
            description = description.replace('"', "'").replace("\\", "")
            if _PRINTABLE.issuperset(description):
                challenge += f', error_description="{description}"'
    return challenge


class JWTError(Exception):
    """An authentication failure, rendered as a JSON error response.

    Raise it from any view; the app-wide handler renders it::

        raise JWTError("Forbidden", "Admins only", status_code=403)

    :param error: a short title, the body's ``error``.
    :param description: what went wrong, the body's ``description``.
    :param status_code: the HTTP status, 401 by default.
    :param headers: extra response headers. A 401 without a
        ``WWW-Authenticate`` header gets the default challenge when rendered.
    """

    #: Field-level validation messages, ``{field: [message, ...]}``.
    errors: dict[str, t.Any] | None = None

    def __init__(
        self,
        error: str,
        description: str,
        status_code: int = 401,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error, description)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers: dict[str, str] = dict(headers or {})

    def __str__(self) -> str:
        return f"{self.error}. {self.description}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code} {self}>"

    def to_dict(self) -> dict[str, t.Any]:
        """The JSON body: ``status_code``, ``error``, ``description`` and,
        for validation failures, ``errors``."""
        body: dict[str, t.Any] = {
            "status_code": self.status_code,
            "error": self.error,
            "description": self.description,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class AuthorizationRequired(JWTError):
    """The request carries no token at all."""

    def __init__(self, challenge: str) -> None:
        super().__init__(
            "Authorization Required",
            "Request does not contain an access token",
            headers={"WWW-Authenticate": challenge},
        )


class InvalidHeaderError(JWTError):
    """The ``Authorization`` header is present but malformed."""

    def __init__(self, description: str, challenge: str) -> None:
        super().__init__(
            "Invalid JWT header", description, headers={"WWW-Authenticate": challenge}
        )


class InvalidTokenError(JWTError):
    """The token failed to decode or verify.

    :attr:`original_error` is the PyJWT exception, when there was one.
    """

    def __init__(
        self,
        description: str,
        challenge: str,
        original_error: BaseException | None = None,
    ) -> None:
        super().__init__(
            "Invalid token", description, headers={"WWW-Authenticate": challenge}
        )
        #: The exception that made the token invalid.
        self.original_error = original_error


class UnknownIdentityError(JWTError):
    """The token is valid but the identity handler found nobody."""

    def __init__(self, challenge: str) -> None:
        super().__init__(
            "Invalid JWT",
            "User does not exist",
            headers={"WWW-Authenticate": challenge},
        )


class InvalidCredentialsError(JWTError):
    """The username or password is wrong, or the user does not exist.

    Both cases give the same body and headers, so the response does not tell
    an attacker which usernames exist.
    """

    def __init__(self, challenge: str) -> None:
        super().__init__(
            "Bad Request",
            "Invalid credentials",
            headers={"WWW-Authenticate": challenge},
        )


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

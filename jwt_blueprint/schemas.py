"""marshmallow schemas for what the endpoints read and write."""

from __future__ import annotations

import re
import typing as t

from marshmallow import fields
from marshmallow import post_dump
from marshmallow import RAISE
from marshmallow import Schema
from marshmallow import validate
from marshmallow import ValidationError

#: Lone surrogates, which no UTF-8 encoder accepts, and C0/C1 controls.
_UNSAFE_CHARACTER = re.compile(r"[\ud800-\udfff\x00-\x1f\x7f-\x9f]")


#: :func:`printable_text` for the OpenAPI document: no control characters.
PRINTABLE_TEXT_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def printable_text(value: str) -> None:
    """Refuse text that cannot be stored or hashed safely: lone surrogates
    (``"\\ud800"``) and control characters."""
    unsafe = _UNSAFE_CHARACTER.search(value)
    if unsafe is None:
        return
    if "\ud800" <= unsafe.group() <= "\udfff":
        raise ValidationError("Must be valid Unicode text.")
    raise ValidationError("Must not contain control characters.")


class CredentialsSchema(Schema):
    """What ``POST /auth`` accepts: a username and a password.

    The JSON names come from ``JWT_AUTH_USERNAME_KEY`` and
    ``JWT_AUTH_PASSWORD_KEY``; the loaded dict always has the keys
    ``username`` and ``password``. Unknown fields are refused.

    :param username_key: the JSON name of the username.
    :param password_key: the JSON name of the password.
    """

    class Meta:
        unknown = RAISE

    #: Long enough for any e-mail address (RFC 5321 allows 254).
    username = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=256), printable_text],
        metadata={"pattern": PRINTABLE_TEXT_PATTERN},
    )
    #: Capped so a megabyte password cannot make password hashing a DoS.
    password = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1024), printable_text],
        metadata={"pattern": PRINTABLE_TEXT_PATTERN},
    )

    def __init__(
        self,
        *,
        username_key: str = "username",
        password_key: str = "password",
        **kwargs: t.Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fields["username"].data_key = username_key
        self.fields["password"].data_key = password_key


class TokenSchema(Schema):
    """What ``POST /auth`` returns: ``{"access_token": "<token>"}``, plus
    ``"refresh_token"`` with ``JWT_REFRESH_ENABLED`` (and the refresh
    endpoint returns the same).

    It dumps ``{"access_token": token, "refresh_token": token, "identity":
    identity}`` (``refresh_token`` only when there is one; ``identity`` is
    ``None`` at the refresh endpoint), so a subclass can add fields drawn
    from the identity.
    """

    access_token = fields.String(required=True)
    refresh_token = fields.String()


def _token_field(**kwargs: t.Any) -> fields.String:
    # Long enough for any token JWT_MAX_TOKEN_SIZE lets through; the codec
    # applies the configured limit.
    return fields.String(validate=validate.Length(min=1, max=65536), **kwargs)


class RefreshSchema(Schema):
    """What ``POST /auth/refresh`` accepts: ``{"refresh_token": "..."}``."""

    class Meta:
        unknown = RAISE

    refresh_token = _token_field(required=True)


class RevokeSchema(Schema):
    """What ``POST /auth/revoke`` accepts, if it has a body:
    ``{"refresh_token": "..."}``, to end that login's tokens too."""

    class Meta:
        unknown = RAISE

    refresh_token = _token_field()


class ErrorSchema(Schema):
    """The body of every error response: ``status_code``, ``error``,
    ``description`` and, for a bad request body, ``errors``.

    It dumps a :class:`~jwt_blueprint.JWTError`.
    """

    status_code = fields.Integer(required=True)
    #: A short title, e.g. ``"Invalid token"``.
    error = fields.String(required=True)
    #: What went wrong, e.g. ``"Signature has expired"``.
    description = fields.String(required=True)
    #: Field-level messages, ``{field: [message, ...]}``.
    errors = fields.Dict(keys=fields.String())

    @post_dump
    def _drop_empty_errors(
        self, data: dict[str, t.Any], **kwargs: t.Any
    ) -> dict[str, t.Any]:
        if data.get("errors") is None:
            data.pop("errors", None)
        return data


class JWKSchema(Schema):
    """One public key of the JWKS document (RFC 7517)."""

    kty = fields.String(required=True)
    kid = fields.String()
    use = fields.String()
    alg = fields.String()
    # RSA
    n = fields.String()
    e = fields.String()
    # EC and OKP
    crv = fields.String()
    x = fields.String()
    y = fields.String()


class JWKSetSchema(Schema):
    """The JWKS document: ``{"keys": [...]}``."""

    keys = fields.List(fields.Nested(JWKSchema), required=True)

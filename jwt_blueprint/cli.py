"""The ``flask jwt`` commands: make keys, publish them, issue and read tokens.

Registering a :class:`~jwt_blueprint.JWTBlueprint` (or ``JWT(app)``) adds
the group to the app's ``flask`` command::

    flask --app app jwt keygen --alg ES256 --out instance/jwt-es256.pem
    flask --app app jwt jwks
    flask --app app jwt token 42 --expires 600
    flask --app app jwt decode eyJ...

Each command but ``keygen`` runs in the app context, on the app's own
settings, keys and handlers. Bad input is refused with a message and exit
status 1 (2 for a bad option), never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import typing as t
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.hazmat.primitives.serialization import NoEncryption
from cryptography.hazmat.primitives.serialization import PrivateFormat
from flask.cli import AppGroup
from jwt.algorithms import get_default_algorithms
from jwt.exceptions import DecodeError

from .claims import TokenClaims
from .exceptions import ConfigError
from .exceptions import JWTError
from .handlers import resolve
from .jwks import is_symmetric
from .jwks import public_jwks
from .keys import load_keys
from .keys import MAX_KID_LENGTH
from .keys import MIN_RSA_BITS
from .state import get_state
from .tokens import TokenCodec
from .tokens import unverified_header

if t.TYPE_CHECKING:  # pragma: no cover
    from .config import Settings
    from .state import JWTState

#: An RSA key's size when ``--bits`` is not given.
DEFAULT_RSA_BITS = 3072
#: The largest ``--bits``: larger keys take minutes to make and gain nothing.
MAX_RSA_BITS = 16384
#: The bytes of randomness in a generated secret (64 characters, so long
#: enough for HS512 too).
SECRET_BYTES = 48
#: The curve of each ECDSA algorithm (RFC 7518 section 3.4, RFC 8812).
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES256K": ec.SECP256K1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
_RSA = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_HMAC = ("HS256", "HS384", "HS512")
#: What ``keygen`` makes keys for, as PyJWT names them.
ALGORITHMS = tuple(
    name
    for name in (*_HMAC, *_RSA, *_CURVES, "EdDSA")
    if name in get_default_algorithms()
)
#: An identity id the ``token`` command passes on as an int: written as
#: Python writes the int, so ``007`` stays the string it was given.
_INTEGER = re.compile(r"-?[1-9][0-9]*|0")

#: The ``flask jwt`` group; the blueprint adds it to each app it is
#: registered on.
jwt_cli = AppGroup("jwt", help="Make keys, publish them, issue and read tokens.")


# -- keygen ----------------------------------------------------------------


def _check_kid(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> str | None:
    """Accept a ``kid`` the config would accept: printable ASCII, not too long."""
    if value is not None and not (
        0 < len(value) <= MAX_KID_LENGTH and value.isascii() and value.isprintable()
    ):
        raise click.BadParameter(
            f"must be printable ASCII, 1 to {MAX_KID_LENGTH} characters"
        )
    return value


@jwt_cli.command("keygen", with_appcontext=False)
@click.option(
    "--alg",
    "algorithm",
    required=True,
    type=click.Choice(ALGORITHMS),
    help="The JWT_ALGORITHM the key is for.",
)
@click.option(
    "--kid",
    callback=_check_kid,
    help="The key's kid; by default its RFC 7638 thumbprint.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the key to this new file (mode 0600) instead of stdout.",
)
@click.option(
    "--bits",
    type=click.IntRange(MIN_RSA_BITS, MAX_RSA_BITS),
    help=f"The size of an RSA key (RS*, PS*); {DEFAULT_RSA_BITS} by default.",
)
def keygen_command(
    algorithm: str, kid: str | None, out: Path | None, bits: int | None
) -> None:
    """Generate a new private key for an algorithm.

    The key is written as PKCS#8 PEM to --out, a file that must not exist
    yet, made readable by its owner only; without --out it goes to stdout.
    Its public JWK (what `flask jwt jwks` will list once the key is in
    JWT_PRIVATE_KEY) goes to stdout after writing the file, to stderr
    otherwise, so that stdout only ever holds one of the two.

    For HS256, HS384 and HS512 it makes a random secret for JWT_SECRET_KEY
    instead, which has no JWK.
    """
    if bits is not None and algorithm not in _RSA:
        raise click.UsageError("--bits is for RSA keys (RS*, PS*) only")
    if algorithm in _HMAC:
        if kid is not None:
            raise click.UsageError(
                "--kid is for asymmetric keys; give a secret its kid in the"
                ' config: JWT_SECRET_KEY = {"kid": ..., "key": ...}'
            )
        secret = secrets.token_urlsafe(SECRET_BYTES)
        if out is None:
            click.echo(secret)
        else:
            _write_new(out, secret.encode("ascii"))
            click.echo(f"Wrote a new {algorithm} secret to {out}.", err=True)
        return
    key = _generate(algorithm, bits or DEFAULT_RSA_BITS)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    jwk = json.dumps(_public_jwk(algorithm, key, kid), indent=2)
    if out is None:
        click.echo(pem.decode("ascii"), nl=False)
        click.echo(jwk, err=True)
    else:
        _write_new(out, pem)
        click.echo(f"Wrote a new {algorithm} private key to {out}.", err=True)
        click.echo(jwk)


def _generate(algorithm: str, bits: int) -> t.Any:
    """A new private key for ``algorithm``, a ``cryptography`` key object."""
    if algorithm in _RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    if algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[algorithm]())
    return ed25519.Ed25519PrivateKey.generate()


def _public_jwk(algorithm: str, key: t.Any, kid: str | None) -> dict[str, t.Any]:
    """The key's entry in the JWKS of an app that signs with it: its
    ``kid`` and members computed exactly as the app will."""
    try:
        keys = load_keys({"JWT_PRIVATE_KEY": {"kid": kid, "key": key}}, algorithm)
    except ConfigError as exc:  # pragma: no cover - we made the key for it
        raise click.ClickException(str(exc)) from None
    codec = TokenCodec(
        algorithm=algorithm,
        signing_key=keys.signing,
        verifying_key=keys.default,
        signing_kid=keys.signing_kid,
        verifying_keys=keys.verifying,
    )
    jwk: dict[str, t.Any] = public_jwks(codec)["keys"][0]
    return jwk


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a file made for it, readable by its owner only.

    :raises click.ClickException: if ``path`` exists (or is a link), or
        cannot be written.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise click.ClickException(
            f"{path} already exists; refusing to overwrite it"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"cannot create {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except OSError as exc:  # pragma: no cover - a full disk, say
        path.unlink(missing_ok=True)
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from None


# -- the commands that use the app's keys --------------------------------------


def _app_state() -> tuple[JWTState, Settings]:
    """The current app's jwt_blueprint state and settings.

    :raises click.ClickException: if jwt_blueprint is not set up on the
        app, or its config is not valid.
    """
    try:
        state = get_state()
        return state, state.settings()
    except (RuntimeError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None


@jwt_cli.command("jwks")
def jwks_command() -> None:
    """Print the app's public JSON Web Key Set.

    The keys that verify the app's tokens, as /.well-known/jwks.json serves
    them: public members only. An app on HS256, HS384 or HS512 has none.
    """
    _, settings = _app_state()
    codec = settings.codec
    if is_symmetric(codec):
        raise click.ClickException(
            f"this app signs with {codec.algorithm}, whose keys are secrets:"
            " they have no JWKS. Verifying services need an asymmetric"
            " JWT_ALGORITHM (RS256, ES256, EdDSA, ...)"
        )
    click.echo(json.dumps(public_jwks(codec), indent=2))


def _identity_id(text: str) -> int | str:
    """``text`` as an int if it is written as one, else ``text``."""
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than int() reads
            pass
    return text


@jwt_cli.command("token")
@click.argument("identity_id")
@click.option(
    "--expires",
    type=int,
    metavar="SECONDS",
    help="The token's lifetime, instead of JWT_EXPIRATION_DELTA; a negative"
    " one makes an expired token.",
)
def token_command(identity_id: str, expires: int | None) -> None:
    """Issue an access token for the identity IDENTITY_ID.

    The app's identity handler loads the identity from the claims
    {"identity": IDENTITY_ID, "sub": "IDENTITY_ID"} (the id as an int when it
    is written as one), and the token is made by the app's own payload,
    headers and encode handlers, as POST /auth makes it. Without an identity
    handler the identity is {"id": IDENTITY_ID}.
    """
    state, settings = _app_state()
    if settings.codec.signing_key is None:
        raise click.ClickException(
            "this app only verifies tokens: it has no JWT_PRIVATE_KEY to sign with"
        )
    value = _identity_id(identity_id)
    handler = state.strategy.handlers.identity
    identity: t.Any
    if handler is None:
        identity = {"id": value}
    else:
        claims = TokenClaims({"identity": value, "sub": identity_id})
        try:
            identity = resolve(handler(claims))
        except JWTError as exc:
            raise click.ClickException(
                f"the identity handler refused {identity_id!r}:"
                f" {exc.error}: {exc.description}"
            ) from None
        if identity is None:
            raise click.ClickException(
                f"no identity with id {identity_id!r}: the identity handler"
                " returned None"
            )
    try:
        token = state.strategy.create_access_token(identity, expires_delta=expires)
    except (ValueError, OverflowError, RuntimeError) as exc:
        raise click.ClickException(f"cannot issue the token: {exc}") from None
    click.echo(token)


@jwt_cli.command("decode")
@click.argument("token")
def decode_command(token: str) -> None:
    """Verify TOKEN with the app's keys and print its header and claims.

    TOKEN "-" is read from stdin. A token the app refuses is not printed:
    the reason is, on stderr, and the exit status is 1.
    """
    if token == "-":
        with click.open_file("-", "rb") as stdin:
            data = stdin.read()
        # A JWS is ASCII: anything else is refused by the codec, by name.
        token = data.decode("utf-8", errors="replace")
    token = token.strip()
    state, settings = _app_state()
    try:
        claims = state.strategy.decode(token, settings)
    except JWTError as exc:
        click.echo(f"{exc.error}: {exc.description}", err=True)
        raise click.exceptions.Exit(1) from None
    header: dict[str, t.Any] | None
    try:
        header = unverified_header(token)
    except DecodeError:
        # A decode handler accepted what is not a compact JWS.
        header = None
    document = {"header": header, "claims": dict(claims)}
    click.echo(json.dumps(document, indent=2, default=str))

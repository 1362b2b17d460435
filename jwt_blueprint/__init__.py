"""JSON Web Token authentication for Flask, as a blueprint."""

from __future__ import annotations

from .blueprint import JWTBlueprint as JWTBlueprint
from .claims import VerifiedToken as VerifiedToken
from .decorators import jwt_required as jwt_required
from .decorators import roles_accepted as roles_accepted
from .decorators import roles_required as roles_required
from .decorators import scopes_required as scopes_required
from .decorators import verify_jwt_in_request as verify_jwt_in_request
from .exceptions import ConfigError as ConfigError
from .exceptions import CSRFError as CSRFError
from .exceptions import InsufficientScopeError as InsufficientScopeError
from .exceptions import JWTError as JWTError
from .exceptions import TooManyRequestsError as TooManyRequestsError
from .extension import JWT as JWT
from .globals import current_claims as current_claims
from .globals import current_identity as current_identity
from .globals import get_current_identity as get_current_identity
from .globals import get_verified_token as get_verified_token
from .passwords import Argon2PasswordHasher as Argon2PasswordHasher
from .passwords import MalformedHashError as MalformedHashError
from .passwords import PasswordHasher as PasswordHasher
from .strategy import JWTStrategy as JWTStrategy
from .views import AuthView as AuthView

__all__ = [
    "JWT",
    "Argon2PasswordHasher",
    "AuthView",
    "ConfigError",
    "CSRFError",
    "InsufficientScopeError",
    "JWTBlueprint",
    "JWTError",
    "JWTStrategy",
    "MalformedHashError",
    "PasswordHasher",
    "TooManyRequestsError",
    "VerifiedToken",
    "current_claims",
    "current_identity",
    "get_current_identity",
    "get_verified_token",
    "jwt_required",
    "roles_accepted",
    "roles_required",
    "scopes_required",
    "verify_jwt_in_request",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        import importlib.metadata

        return importlib.metadata.version("jwt_blueprint")
    raise AttributeError(name)

"""Password checks for an app's authentication handler, without user
enumeration.

A login for an unknown username must cost what a login with a wrong
password costs, or the response time tells which usernames exist. A hasher
verifies the password against the stored hash when the user exists, and
against a dummy hash of the same kind and parameters when it does not: the
slow password hash runs exactly once on both paths, and both answer
``False``. The comparison in constant time is the hashing library's.

When the stored hash was made with older parameters (a cheaper method, or
before the defaults were raised), a successful login hands a new hash to a
callback, so the app can store it::

    from jwt_blueprint.passwords import PasswordHasher

    passwords = PasswordHasher()  # werkzeug's scrypt

    def authenticate(username, password):
        user = User.query.filter_by(username=username).one_or_none()
        return passwords.authenticate(
            user,
            password,
            get_hash=lambda user: user.password_hash,
            on_rehash=save_password_hash,  # (user, new_hash)
        )

:class:`PasswordHasher` uses werkzeug's hashes; :class:`Argon2PasswordHasher`
uses argon2 through ``argon2-cffi`` (``pip install jwt_blueprint[argon2]``).
"""

from __future__ import annotations

import abc
import functools
import logging
import secrets
import typing as t
from collections.abc import Callable

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

logger = logging.getLogger("jwt_blueprint")

#: What is checked in place of a password that is not a string (or not
#: encodable), so that refusing it costs what a wrong password costs.
_PLACEHOLDER = "not a password"

#: werkzeug's methods; their parameters are checked by the first hash.
WERKZEUG_METHODS = frozenset({"scrypt", "pbkdf2"})

U = t.TypeVar("U")


class MalformedHashError(ValueError):
    """A stored hash this hasher cannot read: corrupt, or of another kind.

    Raised by :meth:`BasePasswordHasher.check` only: :meth:`~BasePasswordHasher.verify`
    turns it into a failed login.
    """


class BasePasswordHasher(abc.ABC):
    """The enumeration-safe checks, for any one kind of hash.

    A subclass says how to :meth:`hash`, :meth:`check` and tell whether a
    hash :meth:`needs_rehash`. One instance is meant to live as long as the
    app: it keeps its dummy hash, made on the first :meth:`verify`.
    """

    def __init__(self) -> None:
        self._dummy: str | None = None
        self._reported_malformed = False

    @abc.abstractmethod
    def hash(self, password: str) -> str:
        """A new hash of ``password``, with a random salt, to store.

        :raises TypeError: if ``password`` is not a string.
        :raises ValueError: if it cannot be encoded as UTF-8.
        """

    @abc.abstractmethod
    def check(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash``, at the cost of one
        password hash. Prefer :meth:`verify`, which is safe for unknown users.

        :raises MalformedHashError: if ``stored_hash`` cannot be read; then
            no password hash has run.
        """

    @abc.abstractmethod
    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made otherwise than :meth:`hash`
        makes them now (another method or other parameters), or cannot be
        read."""

    def verify(
        self,
        stored_hash: str | None,
        password: str,
        *,
        on_rehash: Callable[[str], object] | None = None,
    ) -> bool:
        """Whether ``password`` is right, running one password hash whatever
        the answer.

        :param stored_hash: the user's hash, or ``None`` if there is no such
            user: then a dummy hash of the same kind and parameters is checked
            instead, and the answer is ``False``.
        :param password: the password given. One that is not a string, or
            cannot be encoded as UTF-8, is refused, after checking a
            placeholder in its place so that it takes as long as a wrong one.
        :param on_rehash: called with a new hash of ``password`` when it is
            right and ``stored_hash`` :meth:`needs_rehash`, for the app to
            store in its place. What it raises is raised. Until then, a
            check against ``stored_hash`` costs what its own parameters
            cost, not the current ones.

        A malformed ``stored_hash`` (or one of another kind) is a failed
        login, never an error: the dummy hash is checked instead, and the
        first occurrence is logged as a warning on the ``jwt_blueprint``
        logger, without the hash.
        """
        # Made on the first login, known user or not, so that the one slow
        # first answer does not tell which usernames exist either.
        dummy = self._dummy_hash()
        acceptable = _acceptable(password)
        candidate = password if acceptable else _PLACEHOLDER
        if stored_hash is None:
            self.check(dummy, candidate)
            return False
        try:
            if not isinstance(stored_hash, str):
                raise MalformedHashError("not a string")
            right = self.check(stored_hash, candidate)
        except MalformedHashError:
            self._report_malformed()
            self.check(dummy, candidate)
            return False
        if not (right and acceptable):
            return False
        if on_rehash is not None and self.needs_rehash(stored_hash):
            on_rehash(self.hash(password))
        return True

    def authenticate(
        self,
        user: U | None,
        password: str,
        *,
        get_hash: Callable[[U], str],
        on_rehash: Callable[[U, str], object] | None = None,
    ) -> U | None:
        """``user`` if ``password`` is its password, else ``None``: the
        common shape of an authentication handler, around :meth:`verify`.

        :param user: the user found by the username, or ``None``.
        :param get_hash: returns the stored hash of a user.
        :param on_rehash: called with the user and a new hash to store, when
            the password is right and the stored hash is outdated.
        """
        if user is None:
            self.verify(None, password)
            return None
        rehash = None if on_rehash is None else functools.partial(on_rehash, user)
        if self.verify(get_hash(user), password, on_rehash=rehash):
            return user
        return None

    def _dummy_hash(self) -> str:
        # Two threads may both make one on the first logins: either will do.
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))
        return self._dummy

    def _report_malformed(self) -> None:
        # Once: a login as such a user is not a way to fill the logs.
        if not self._reported_malformed:
            self._reported_malformed = True
            logger.warning(
                "A stored password hash cannot be read by %s: the login was"
                " refused. Later ones are refused without a warning.",
                type(self).__name__,
            )


class PasswordHasher(BasePasswordHasher):
    """Hashes with werkzeug's ``generate_password_hash`` and checks with its
    ``check_password_hash``.

    :param method: werkzeug's method and parameters, as
        ``generate_password_hash`` takes them: ``"scrypt"`` (werkzeug's
        default, ``scrypt:32768:8:1`` today), ``"scrypt:n:r:p"``,
        ``"pbkdf2"``, ``"pbkdf2:sha256:iterations"``. A stored hash made with
        another method or parameters (or with werkzeug's defaults of another
        version) :meth:`needs_rehash`.
    :param salt_length: the salt's length in characters; a stored hash with
        a salt of another length :meth:`needs_rehash`.
    :raises ValueError: if ``method`` is not one of werkzeug's.
    """

    def __init__(self, method: str = "scrypt", *, salt_length: int = 16) -> None:
        if method.split(":", 1)[0] not in WERKZEUG_METHODS:
            raise ValueError(f"unknown werkzeug password hash method {method!r}")
        if salt_length < 1:
            raise ValueError("salt_length must be at least 1")
        super().__init__()
        self.method = method
        self.salt_length = salt_length

    def hash(self, password: str) -> str:
        if not isinstance(password, str):
            raise TypeError("the password must be a string")
        return generate_password_hash(password, self.method, self.salt_length)

    def check(self, stored_hash: str, password: str) -> bool:
        # werkzeug answers False for a hash without its three fields, without
        # hashing: that would be a fast, telling answer.
        if stored_hash.count("$") < 2:
            raise MalformedHashError("not a werkzeug hash")
        try:
            return check_password_hash(stored_hash, password)
        except (ValueError, TypeError, OverflowError) as error:
            # An unknown method or bad parameters, found before hashing.
            raise MalformedHashError(str(error)) from None

    def needs_rehash(self, stored_hash: str) -> bool:
        # werkzeug writes the method with all its parameters ("scrypt" is
        # stored as "scrypt:32768:8:1"), as the dummy hash shows.
        current = self._dummy_hash().split("$", 1)[0]
        method, _, rest = stored_hash.partition("$")
        salt = rest.partition("$")[0]
        return method != current or len(salt) != self.salt_length


class Argon2PasswordHasher(BasePasswordHasher):
    """Hashes and checks argon2 hashes with ``argon2-cffi``'s
    ``PasswordHasher`` (``pip install jwt_blueprint[argon2]``).

    Each parameter left out is ``argon2-cffi``'s default (RFC 9106's
    low-memory profile). A stored hash made with other parameters
    :meth:`needs_rehash` (``check_needs_rehash``).

    :param time_cost: the number of iterations.
    :param memory_cost: the memory used, in kibibytes.
    :param parallelism: the number of lanes.
    :param hash_len: the hash's length in bytes.
    :param salt_len: the salt's length in bytes.
    :raises ImportError: if ``argon2-cffi`` is not installed.
    """

    def __init__(
        self,
        *,
        time_cost: int | None = None,
        memory_cost: int | None = None,
        parallelism: int | None = None,
        hash_len: int | None = None,
        salt_len: int | None = None,
    ) -> None:
        try:
            import argon2
        except ImportError as error:
            raise ImportError(
                "Argon2PasswordHasher needs argon2-cffi:"
                " pip install 'jwt_blueprint[argon2]'"
            ) from error
        super().__init__()
        default = argon2.profiles.get_default_parameters()
        #: The ``argon2.PasswordHasher`` that does the work.
        self.hasher = argon2.PasswordHasher(
            time_cost=default.time_cost if time_cost is None else time_cost,
            memory_cost=default.memory_cost if memory_cost is None else memory_cost,
            parallelism=default.parallelism if parallelism is None else parallelism,
            hash_len=default.hash_len if hash_len is None else hash_len,
            salt_len=default.salt_len if salt_len is None else salt_len,
        )
        self._mismatch = argon2.exceptions.VerifyMismatchError
        self._unreadable = argon2.exceptions.VerificationError

    def hash(self, password: str) -> str:
        if not isinstance(password, str):
            raise TypeError("the password must be a string")
        return self.hasher.hash(password)

    def check(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except self._mismatch:
            return False
        # InvalidHashError is a ValueError; a VerificationError that is no
        # mismatch is a hash libargon2 could not decode, before hashing.
        except (ValueError, self._unreadable) as error:
            raise MalformedHashError(str(error)) from None

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except ValueError:
            return True


def _acceptable(password: object) -> bool:
    """Whether ``password`` can be hashed: a string that encodes as UTF-8
    (JSON can carry a lone surrogate, which does not)."""
    if not isinstance(password, str):
        return False
    try:
        password.encode()
    except UnicodeEncodeError:
        return False
    return True

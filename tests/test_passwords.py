"""jwt_blueprint.passwords: one password hash per login, known user or not,
the same answer either way, and rehashing on login.

The hashes are counted where they run (hashlib's KDFs under werkzeug,
argon2-cffi's call into libargon2), never timed. Every hasher here uses
cheap parameters, to keep the tests fast.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
import typing as t
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import argon2
import pytest
from flask import Flask
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

import jwt_blueprint.passwords
import sample_app.users
from conftest import login
from jwt_blueprint import JWT
from jwt_blueprint.passwords import Argon2PasswordHasher
from jwt_blueprint.passwords import BasePasswordHasher
from jwt_blueprint.passwords import MalformedHashError
from jwt_blueprint.passwords import PasswordHasher
from sample_app import create_app

#: The hashers' current methods, and an older, cheaper one.
CURRENT, OUTDATED = "scrypt:1024:8:1", "pbkdf2:sha256:1000"
ARGON2_PARAMS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
PASSWORD = "correct horse"


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(CURRENT)


@pytest.fixture
def argon2_hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(**ARGON2_PARAMS)


@pytest.fixture
def kdf_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The werkzeug hashes that ran, by KDF name."""
    runs: list[str] = []
    real_scrypt, real_pbkdf2 = hashlib.scrypt, hashlib.pbkdf2_hmac

    # Counted once they return: a KDF that refuses its parameters has not
    # hashed.
    def scrypt(*args: t.Any, **kwargs: t.Any) -> bytes:
        result = real_scrypt(*args, **kwargs)
        runs.append("scrypt")
        return result

    def pbkdf2_hmac(*args: t.Any, **kwargs: t.Any) -> bytes:
        result = real_pbkdf2(*args, **kwargs)
        runs.append("pbkdf2")
        return result

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", pbkdf2_hmac)
    return runs


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The argon2 hashes that ran in libargon2: ``hash`` and ``verify``.

    argon2-cffi's PasswordHasher calls them by these names in its private
    module; libargon2 itself cannot be patched. A verification that fails
    other than by a mismatch failed to decode the hash, before hashing.
    """
    module = sys.modules["argon2._password_hasher"]
    runs: list[str] = []
    real_hash, real_verify = module.hash_secret, module.verify_secret

    def hash_secret(*args: t.Any, **kwargs: t.Any) -> bytes:
        result = real_hash(*args, **kwargs)
        runs.append("hash")
        return result

    def verify_secret(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            result = real_verify(*args, **kwargs)
        except argon2.exceptions.VerifyMismatchError:
            runs.append("verify")
            raise
        runs.append("verify")
        return result

    monkeypatch.setattr(module, "hash_secret", hash_secret)
    monkeypatch.setattr(module, "verify_secret", verify_secret)
    return runs


# -- werkzeug: one hash on every path --------------------------------------


def test_unknown_user_and_wrong_password_each_run_one_hash(
    hasher: PasswordHasher, kdf_runs: list[str]
):
    stored = hasher.hash(PASSWORD)
    hasher.verify(None, "warm up")
    kdf_runs.clear()

    assert hasher.verify(None, PASSWORD) is False
    assert kdf_runs == ["scrypt"]
    kdf_runs.clear()
    assert hasher.verify(stored, "wrong") is False
    assert kdf_runs == ["scrypt"]
    kdf_runs.clear()
    assert hasher.verify(stored, PASSWORD) is True
    assert kdf_runs == ["scrypt"]


@pytest.mark.parametrize("known", [True, False])
def test_the_first_login_makes_the_dummy_hash_either_way(
    hasher: PasswordHasher, kdf_runs: list[str], known: bool
):
    stored = generate_password_hash(PASSWORD, CURRENT)
    kdf_runs.clear()
    hasher.verify(stored if known else None, "wrong")
    # The dummy hash, then the check.
    assert kdf_runs == ["scrypt", "scrypt"]


def test_the_dummy_hash_has_the_current_method_and_parameters(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
):
    checked: list[str] = []

    def spy(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return check_password_hash(password_hash, password)

    monkeypatch.setattr(jwt_blueprint.passwords, "check_password_hash", spy)
    hasher.verify(None, PASSWORD)
    hasher.verify(None, PASSWORD)
    assert len(checked) == 2
    # Made once, and kept.
    assert checked[0] == checked[1]
    method, salt, _ = checked[0].split("$")
    assert method == CURRENT
    assert len(salt) == hasher.salt_length


@pytest.mark.parametrize(
    "password",
    [None, 5, b"correct horse", ["correct horse"], "\ud800", "a\udfffb"],
)
@pytest.mark.parametrize("known", [True, False])
def test_a_password_that_cannot_be_hashed_is_refused_at_the_same_cost(
    hasher: PasswordHasher, kdf_runs: list[str], password: t.Any, known: bool
):
    stored = hasher.hash(PASSWORD)
    hasher.verify(None, "warm up")
    kdf_runs.clear()
    called: list[str] = []
    result = hasher.verify(stored if known else None, password, on_rehash=called.append)
    assert result is False
    assert kdf_runs == ["scrypt"]
    assert called == []


def test_the_placeholder_never_logs_in(hasher: PasswordHasher):
    # A user whose password is what is checked in place of a non-string.
    stored = hasher.hash(jwt_blueprint.passwords._PLACEHOLDER)
    assert hasher.verify(stored, jwt_blueprint.passwords._PLACEHOLDER) is True
    assert hasher.verify(stored, t.cast(str, None)) is False


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "a$b",
        "md5$salt$0123456789abcdef",
        "pbkdf2:sha256:abc$salt$00",
        "pbkdf2:nosuchdigest:1000$salt$00",
        "pbkdf2:sha256:1000:9$salt$00",
        "scrypt:3:8:1$salt$00",
        "scrypt:a:b:c$salt$00",
        "scrypt:1024:8:1:1$salt$00",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        b"pbkdf2:sha256:1000$salt$00",
        7,
    ],
)
def test_a_malformed_stored_hash_fails_after_one_hash(
    hasher: PasswordHasher, kdf_runs: list[str], stored: t.Any
):
    hasher.verify(None, "warm up")
    kdf_runs.clear()
    called: list[str] = []
    assert hasher.verify(stored, PASSWORD, on_rehash=called.append) is False
    assert kdf_runs == ["scrypt"]
    assert called == []


def test_a_malformed_stored_hash_is_logged_once(
    hasher: PasswordHasher, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING, logger="jwt_blueprint"):
        hasher.verify("garbage", PASSWORD)
        hasher.verify("md5$salt$00", PASSWORD)
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "PasswordHasher" in message
    assert "garbage" not in message


def test_check_says_what_it_cannot_read(hasher: PasswordHasher):
    with pytest.raises(MalformedHashError):
        hasher.check("md5$salt$00", PASSWORD)
    with pytest.raises(MalformedHashError):
        hasher.check("garbage", PASSWORD)


# -- werkzeug: rehashing ---------------------------------------------------


def test_an_outdated_hash_is_rehashed_on_login(
    hasher: PasswordHasher, kdf_runs: list[str]
):
    stored = generate_password_hash(PASSWORD, OUTDATED)
    assert hasher.needs_rehash(stored)
    kdf_runs.clear()
    new_hashes: list[str] = []
    assert hasher.verify(stored, PASSWORD, on_rehash=new_hashes.append) is True
    # The check, then the new hash (needs_rehash made the dummy hash).
    assert kdf_runs == ["pbkdf2", "scrypt"]
    [new_hash] = new_hashes
    assert new_hash.startswith(CURRENT + "$")
    assert not hasher.needs_rehash(new_hash)
    assert hasher.verify(new_hash, PASSWORD) is True
    assert check_password_hash(new_hash, PASSWORD)


def test_no_rehash_on_a_wrong_password_or_a_current_hash(hasher: PasswordHasher):
    new_hashes: list[str] = []
    outdated = generate_password_hash(PASSWORD, OUTDATED)
    assert hasher.verify(outdated, "wrong", on_rehash=new_hashes.append) is False
    current = hasher.hash(PASSWORD)
    assert hasher.verify(current, PASSWORD, on_rehash=new_hashes.append) is True
    assert new_hashes == []


@pytest.mark.parametrize(
    ("method", "stored_method", "salt_length", "needs_rehash"),
    [
        # werkzeug stores the method with its parameters spelt out.
        ("pbkdf2:sha256:1000", "pbkdf2:sha256:1000", 16, False),
        ("pbkdf2:sha256:2000", "pbkdf2:sha256:1000", 16, True),
        ("pbkdf2:sha512:1000", "pbkdf2:sha256:1000", 16, True),
        ("pbkdf2:sha256:1000", "pbkdf2:sha256:1000", 8, True),
        ("scrypt:1024:8:1", "scrypt:1024:8:2", 16, True),
    ],
)
def test_needs_rehash(
    method: str, stored_method: str, salt_length: int, needs_rehash: bool
):
    stored = generate_password_hash(PASSWORD, stored_method, salt_length)
    assert PasswordHasher(method).needs_rehash(stored) is needs_rehash


def test_the_default_is_werkzeugs_scrypt():
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)
    assert stored.startswith("scrypt:")
    assert not hasher.needs_rehash(generate_password_hash("other"))


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="'md5'"):
        PasswordHasher("md5")
    with pytest.raises(ValueError, match="salt_length"):
        PasswordHasher(salt_length=0)


def test_hash_refuses_what_is_not_a_string(
    hasher: PasswordHasher, argon2_hasher: Argon2PasswordHasher
):
    for each in (hasher, argon2_hasher):
        with pytest.raises(TypeError):
            each.hash(t.cast(str, b"bytes"))


# -- argon2 ----------------------------------------------------------------


def test_argon2_unknown_user_and_wrong_password_each_run_one_hash(
    argon2_hasher: Argon2PasswordHasher, argon2_runs: list[str]
):
    stored = argon2_hasher.hash(PASSWORD)
    assert argon2_runs == ["hash"]
    assert argon2_hasher.verify(None, PASSWORD) is False
    # The dummy hash, made on the first login, then checked.
    assert argon2_runs == ["hash", "hash", "verify"]
    argon2_runs.clear()
    assert argon2_hasher.verify(stored, "wrong") is False
    assert argon2_runs == ["verify"]
    argon2_runs.clear()
    assert argon2_hasher.verify(None, PASSWORD) is False
    assert argon2_runs == ["verify"]
    argon2_runs.clear()
    assert argon2_hasher.verify(stored, PASSWORD) is True
    assert argon2_runs == ["verify"]


def test_argon2_dummy_hash_has_the_current_parameters(
    argon2_hasher: Argon2PasswordHasher, monkeypatch: pytest.MonkeyPatch
):
    checked: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, hash: str, password: str) -> t.Any:
        checked.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)
    argon2_hasher.verify(None, PASSWORD)
    [dummy] = checked
    assert dummy.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert not argon2_hasher.needs_rehash(dummy)


def test_argon2_an_outdated_hash_is_rehashed_on_login(
    argon2_hasher: Argon2PasswordHasher,
):
    stored = argon2.PasswordHasher(time_cost=2, memory_cost=8, parallelism=1).hash(
        PASSWORD
    )
    assert argon2_hasher.needs_rehash(stored)
    new_hashes: list[str] = []
    assert argon2_hasher.verify(stored, "wrong", on_rehash=new_hashes.append) is False
    assert new_hashes == []
    assert argon2_hasher.verify(stored, PASSWORD, on_rehash=new_hashes.append)
    [new_hash] = new_hashes
    assert new_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert not argon2_hasher.needs_rehash(new_hash)
    assert argon2_hasher.verify(new_hash, PASSWORD) is True
    current = argon2_hasher.hash(PASSWORD)
    assert argon2_hasher.verify(current, PASSWORD, on_rehash=new_hashes.append)
    assert len(new_hashes) == 1


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "garbage",
        "$argon2xx$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$argon2id$v=19$m=8,t=1,p=1$sält$aGFzaGhhc2g",
        pytest.param(generate_password_hash(PASSWORD, OUTDATED), id="werkzeug"),
        b"$argon2id",
    ],
)
def test_argon2_a_malformed_stored_hash_fails_after_one_hash(
    argon2_hasher: Argon2PasswordHasher, argon2_runs: list[str], stored: t.Any
):
    argon2_hasher.verify(None, "warm up")
    argon2_runs.clear()
    called: list[str] = []
    assert argon2_hasher.verify(stored, PASSWORD, on_rehash=called.append) is False
    assert argon2_runs == ["verify"]
    assert called == []
    assert argon2_hasher.needs_rehash(t.cast(str, stored)) is True


def test_argon2_a_hash_libargon2_cannot_decode_fails_after_one_hash(
    argon2_hasher: Argon2PasswordHasher, argon2_runs: list[str]
):
    # Well formed for argon2-cffi, refused by libargon2 before hashing.
    stored = "$argon2id$v=19$m=8,t=1,p=1$!!!!$!!!!"
    with pytest.raises(MalformedHashError):
        argon2_hasher.check(stored, PASSWORD)
    argon2_hasher.verify(None, "warm up")
    argon2_runs.clear()
    assert argon2_hasher.verify(stored, PASSWORD) is False
    assert argon2_runs == ["verify"]


@pytest.mark.parametrize("password", [None, 5, b"correct horse", "\ud800"])
def test_argon2_a_password_that_cannot_be_hashed_is_refused(
    argon2_hasher: Argon2PasswordHasher, argon2_runs: list[str], password: t.Any
):
    stored = argon2_hasher.hash(PASSWORD)
    argon2_hasher.verify(None, "warm up")
    argon2_runs.clear()
    assert argon2_hasher.verify(stored, password) is False
    assert argon2_runs == ["verify"]


def test_argon2_defaults_are_argon2_cffis():
    hasher = Argon2PasswordHasher()
    default = argon2.profiles.get_default_parameters()
    assert hasher.hasher.time_cost == default.time_cost
    assert hasher.hasher.memory_cost == default.memory_cost
    assert hasher.hasher.parallelism == default.parallelism


def test_argon2_without_argon2_cffi(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "argon2", None)
    with pytest.raises(ImportError, match=r"jwt_blueprint\[argon2\]"):
        Argon2PasswordHasher()
    # The werkzeug hasher does not need it.
    PasswordHasher(CURRENT)


def test_both_are_password_hashers(
    hasher: PasswordHasher, argon2_hasher: Argon2PasswordHasher
):
    assert isinstance(hasher, BasePasswordHasher)
    assert isinstance(argon2_hasher, BasePasswordHasher)


# -- authenticate: the handler's shape -------------------------------------


@dataclass
class Account:
    id: str
    password_hash: str


def test_authenticate(hasher: PasswordHasher, kdf_runs: list[str]):
    account = Account("alice", generate_password_hash(PASSWORD, OUTDATED))
    rehashed: list[tuple[Account, str]] = []

    def authenticate(user: Account | None, password: str) -> Account | None:
        return hasher.authenticate(
            user,
            password,
            get_hash=lambda user: user.password_hash,
            on_rehash=lambda user, new_hash: rehashed.append((user, new_hash)),
        )

    assert authenticate(None, PASSWORD) is None
    assert authenticate(account, "wrong") is None
    assert rehashed == []
    kdf_runs.clear()
    assert authenticate(None, PASSWORD) is None
    assert kdf_runs == ["scrypt"]
    assert authenticate(account, PASSWORD) is account
    [(user, new_hash)] = rehashed
    assert user is account
    assert new_hash.startswith(CURRENT + "$")
    # Without on_rehash, nothing is hashed anew.
    kdf_runs.clear()
    found = hasher.authenticate(
        account, PASSWORD, get_hash=lambda user: user.password_hash
    )
    assert found is account
    assert kdf_runs == ["pbkdf2"]


# -- through POST /auth ----------------------------------------------------

SECRET = "passwords-test-secret-0123456789abcdef0123456789abcdef"


def make_app(hasher: BasePasswordHasher) -> Flask:
    """An app whose authentication handler uses ``hasher``."""
    accounts = {"alice": Account("alice", hasher.hash(PASSWORD))}

    def authenticate(username: str, password: str) -> Account | None:
        return hasher.authenticate(
            accounts.get(username),
            password,
            get_hash=lambda account: account.password_hash,
        )

    def identity(payload: dict[str, t.Any]) -> Account | None:
        return accounts.get(payload["identity"])

    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    JWT(app, authenticate, identity)
    return app


@pytest.mark.parametrize("scheme", ["werkzeug", "argon2"])
def test_unknown_user_and_wrong_password_answer_the_same(
    kdf_runs: list[str], argon2_runs: list[str], scheme: str
):
    hasher: BasePasswordHasher = (
        PasswordHasher(CURRENT)
        if scheme == "werkzeug"
        else Argon2PasswordHasher(**ARGON2_PARAMS)
    )
    client = make_app(hasher).test_client()
    login(client, "alice", PASSWORD)
    responses = []
    for username, password in [("alice", "wrong"), ("nobody", PASSWORD)]:
        kdf_runs.clear()
        argon2_runs.clear()
        responses.append(
            client.post("/auth", json={"username": username, "password": password})
        )
        runs = kdf_runs if scheme == "werkzeug" else argon2_runs
        assert len(runs) == 1, username
    wrong_password, unknown_user = responses
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.data == unknown_user.data
    assert dict(wrong_password.headers) == dict(unknown_user.headers)


def test_the_sample_app_stores_the_rehash(
    tmp_path: Path, kdf_runs: list[str], monkeypatch: pytest.MonkeyPatch
):
    # Cheaper than the sample's werkzeug defaults, with the same code.
    monkeypatch.setattr(sample_app.users, "hasher", PasswordHasher(CURRENT))
    database = tmp_path / "users.sqlite3"
    app = create_app(
        {"TESTING": True, "DATABASE": database, "SECRET_KEY": SECRET},
        instance_path=tmp_path / "instance",
    )
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    with closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "UPDATE user SET password_hash = ? WHERE username = 'user1'",
            (generate_password_hash("abcxyz", OUTDATED),),
        )

    def stored_hash() -> str:
        with closing(sqlite3.connect(database)) as db:
            row = db.execute(
                "SELECT password_hash FROM user WHERE username = 'user1'"
            ).fetchone()
        return str(row[0])

    client = app.test_client()
    response = client.post("/auth", json={"username": "user1", "password": "wrong"})
    assert response.status_code == 401
    assert stored_hash().startswith(OUTDATED + "$")
    login(client, "user1", "abcxyz")
    new_hash = stored_hash()
    assert not sample_app.users.hasher.needs_rehash(new_hash)
    assert check_password_hash(new_hash, "abcxyz")
    kdf_runs.clear()
    login(client, "user1", "abcxyz")
    assert kdf_runs == ["scrypt"]
    assert stored_hash() == new_hash

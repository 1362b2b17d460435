"""Every Python example of README.md and docs/ runs as written, and does what
the text around it says; the reference tables name what the code has.

Each example follows a ``<!-- readme-test: name -->`` marker, and a Python
block without one fails; a Python file a page lists with ``$ cat`` is run by
a test of its own, and a new listing fails until one runs it, so none
escapes. Names are unique across the files.
The quickstart (in README.md) is loaded as the module ``quickstart``, as it
tells readers to save it; every other example runs in a fresh namespace, then
the check of the same name drives its app over HTTP. ``make docs`` runs this
module after building the site.
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
import threading
import types
import typing as t
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from jwt_blueprint import exceptions
from jwt_blueprint import JWTBlueprint
from jwt_blueprint import JWTStrategy
from jwt_blueprint.config import CONFIG_DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The files whose examples run: the README, then every page, in order.
SOURCES = [
    ROOT / "README.md",
    *sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts),
]
SECRET = "change-me-to-at-least-32-random-bytes"
MARKER = re.compile(r"^\s*<!-- readme-test: ([\w-]+) -->\s*$")
FENCE = re.compile(r"^(\s*)```python\s*$")
# Python in any other form would not run: a fence of another spelling
# (```py, ```{code-block} python, ```pycon), or reST's code directives
# inside an {eval-rst} block.
OTHER_PYTHON = re.compile(
    r"^\s*(`{3,}|~{3,})\s*(\{[\w-]+\}\s*)?(python3?|py3?|pycon|ipython3?)\b"
    r"|^\s*\.\.\s+(code-block|code|sourcecode|doctest|testcode)::"
)


@dataclass(frozen=True)
class Example:
    code: str
    #: Where it is, for tracebacks: relative to the repository.
    path: str
    #: The 0-based index of its first line in that file.
    start: int

    def compile(self) -> types.CodeType:
        # Padded so that a traceback's line numbers are the file's.
        return compile("\n" * self.start + self.code, self.path, "exec")


def collect(where: str, text: str, found: dict[str, Example]) -> None:
    """Add the marked examples of the file ``where``, whose content is
    ``text``, to ``found``, in file order.

    :raises AssertionError: for a Python block without a marker, a marker
        without one, or a name used twice.
    """
    lines = text.splitlines()
    name = None
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line)
        fence = FENCE.match(line)
        if marker:
            name = marker.group(1)
        elif fence:
            assert name is not None, f"{where} line {index + 1}: unmarked example"
            assert name not in found, (
                f"{where} line {index + 1}: two examples named {name!r}"
                f" (the other in {found[name].path})"
            )
            end = lines.index(f"{fence.group(1)}```", index + 1)
            code = textwrap.dedent("\n".join(lines[index + 1 : end]))
            found[name] = Example(code, where, index + 1)
            name = None
            index = end
        elif OTHER_PYTHON.match(line):
            raise AssertionError(
                f"{where} line {index + 1}: Python that would not run;"
                " write a marked ```python block"
            )
        elif line.strip() and name is not None:
            raise AssertionError(f"{where} line {index + 1}: marker without example")
        index += 1


def examples() -> dict[str, Example]:
    """``{name: example}`` for every marked example, README first."""
    found: dict[str, Example] = {}
    for path in SOURCES:
        where = path.relative_to(ROOT).as_posix()
        collect(where, path.read_text(encoding="utf-8"), found)
    return found


EXAMPLES = examples()


def run(name: str) -> dict[str, t.Any]:
    """Run the example ``name``; the quickstart is importable meanwhile."""
    namespace: dict[str, t.Any] = {"__name__": f"docs_{name.replace('-', '_')}"}
    exec(EXAMPLES[name].compile(), namespace)
    return namespace


@pytest.fixture
def quickstart_module(monkeypatch):
    """The quickstart, importable as ``quickstart``, as it tells readers to
    save it."""
    module = types.ModuleType("quickstart")
    exec(EXAMPLES["quickstart"].compile(), vars(module))
    monkeypatch.setitem(sys.modules, "quickstart", module)
    return module


def login(client: t.Any, url: str = "/auth", **body: str) -> str:
    body = body or {"username": "user1", "password": "abcxyz"}
    response = client.post(url, json=body)
    assert response.status_code == 200, response.json
    token: str = response.json["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"JWT {token}"}


# -- one check per example -------------------------------------------------


def check_quickstart(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    token = login(client)
    assert client.get("/protected", headers=bearer(token)).text == "User(id='1')"
    response = client.get("/protected")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


def check_before_request(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'JWT realm="API"'
    assert client.get("/api/me", headers=bearer(login(client))).text == "User(id='1')"


def check_app_factory(ns: dict[str, t.Any]) -> None:
    for secret in ("one-secret-" + "a" * 32, "another-secret-" + "b" * 32):
        client = ns["create_app"]({"SECRET_KEY": secret}).test_client()
        token = login(client)
        assert jwt.decode(token, secret, algorithms=["HS256"])["identity"] == 1
        assert client.get("/protected", headers=bearer(token)).status_code == 200


def check_blueprint(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    assert client.post("/auth", json={}).status_code == 404
    token = login(client, "/api/auth")
    assert client.get("/protected", headers=bearer(token)).text == "User(id='1')"


def check_verified_token(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    token = login(client)
    assert client.get("/whoami", headers=bearer(token)).json == {
        "user": "User(id='1')",
        "token_id": jwt.decode(token, SECRET, algorithms=["HS256"])["jti"],
        "role": None,
        "found_in": "headers",
        "algorithm": "HS256",
    }


def check_handlers_and_subclasses(ns: dict[str, t.Any]) -> None:
    for app in (ns["handler_app"], ns["query_app"]):
        client = app.test_client()
        token = login(client)
        assert client.get("/protected", headers=bearer(token)).status_code == 200
        assert client.get(f"/protected?token={token}").text == "User(id='1')"
        assert client.get("/protected").status_code == 401
    client = ns["issuer_app"].test_client()
    assert client.get("/protected", headers=bearer(login(client))).status_code == 200
    theirs = jwt.encode(
        {"identity": 1, "exp": 2**40, "iat": 1, "nbf": 1, "iss": "them"},
        SECRET,
        algorithm="HS256",
    )
    response = client.get("/protected", headers=bearer(theirs))
    assert response.json["description"] == "Invalid issuer"


def check_async_handlers(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    token = login(client)
    assert client.get("/protected", headers=bearer(token)).text == "User(id='1')"
    unknown = jwt.encode(
        {"identity": 99, "exp": 2**40, "iat": 1, "nbf": 1}, SECRET, algorithm="HS256"
    )
    response = client.get("/protected", headers=bearer(unknown))
    assert response.json["description"] == "User does not exist"


def check_revocation(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    token = login(client)
    assert client.post("/logout", headers=bearer(token)).status_code == 204
    response = client.post("/logout", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["description"] == "Token has been revoked"
    assert client.post("/logout", headers=bearer(login(client))).status_code == 204


def check_create_access_token(ns: dict[str, t.Any]) -> None:
    # The example runs its own test when it runs; run it once more.
    ns["test_expired_tokens_are_refused"]()


def check_email_login(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    token = login(client, email="ada@example.com", password="abcxyz")
    assert client.get("/protected", headers=bearer(token)).text == "Account(id='1')"
    response = client.post("/auth", json={"email": "ada", "password": "abcxyz"})
    assert response.status_code == 400
    assert response.json["errors"] == {"email": ["Not a valid email address."]}
    response = client.post("/auth", json={"email": "ada@example.com", "password": "x"})
    assert (response.status_code, response.json["description"]) == (
        401,
        "Invalid credentials",
    )


def check_login_response(ns: dict[str, t.Any]) -> None:
    response = (
        ns["app"]
        .test_client()
        .post("/auth", json={"username": "user1", "password": "abcxyz"})
    )
    assert set(response.json) == {"access_token", "user_id", "username"}
    assert (response.json["user_id"], response.json["username"]) == (1, "user1")


def check_jwt_error(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    assert client.get("/admin", headers=bearer(login(client))).text == "welcome"
    other = login(client, username="user2", password="abcxyz")
    response = client.get("/admin", headers=bearer(other))
    assert response.status_code == 403
    assert response.json == {
        "status_code": 403,
        "error": "Forbidden",
        "description": "Admins only",
    }


def check_claims(ns: dict[str, t.Any]) -> None:
    from flask import Flask

    from jwt_blueprint import JWTBlueprint

    token = login(ns["app"].test_client())
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["role"] == "admin"
    app = Flask("claims")
    app.config["SECRET_KEY"] = SECRET
    quickstart = sys.modules["quickstart"]
    strategy = ns["RoleStrategy"](quickstart.authenticate, quickstart.identity)
    app.register_blueprint(JWTBlueprint(strategy))
    token = login(app.test_client(), username="user2", password="abcxyz")
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["role"] == "user"


def check_error_handler(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    response = client.post("/auth", json={"username": "user1"})
    assert response.status_code == 400
    assert response.json == {
        "message": "Invalid credentials",
        "fields": {"password": ["Missing data for required field."]},
    }
    response = client.post("/auth", json={"username": "user1", "password": "no"})
    assert response.json == {"message": "Invalid credentials"}
    assert response.headers["WWW-Authenticate"] == 'JWT realm="Login Required"'


def check_migration_import(ns: dict[str, t.Any]) -> None:
    import jwt_blueprint

    for name in ("JWT", "JWTError", "current_identity", "jwt_required"):
        assert ns[name] is getattr(jwt_blueprint, name)


def check_migration_expired(ns: dict[str, t.Any]) -> None:
    assert ns["response"].status_code == 401


def check_proxy_fix(ns: dict[str, t.Any]) -> None:
    app = ns["app"]
    # Bodies the login refuses count for the address and hash nothing.
    app.config["JWT_AUTH_RATE_LIMIT_PER_ADDRESS"] = "2/minute"
    client = app.test_client()

    def status(forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return client.post("/auth", json={}, headers=headers).status_code

    # The client's own entries are ignored; the proxy's is the address.
    assert [status(f"10.0.0.{i}, 203.0.113.5") for i in range(3)] == [400, 400, 429]
    assert status("203.0.113.6") == 400


def check_flask_limiter(ns: dict[str, t.Any]) -> None:
    client = ns["app"].test_client()
    # The app's limiter counts its own routes...
    statuses = [client.get("/protected").status_code for _ in range(201)]
    assert statuses == [401] * 200 + [429]
    # ...and the login is ours alone: 30 requests per address a minute.
    statuses = [client.post("/auth", json={}).status_code for _ in range(31)]
    assert statuses == [400] * 30 + [429]
    assert client.post("/auth", json={}).json["error"] == "Too Many Requests"


def check_openapi_spec(ns: dict[str, t.Any]) -> None:
    from openapi_spec_validator import validate

    document = ns["app"].test_client().get("/openapi.json").json
    validate(document)
    assert sorted(document["paths"]) == ["/auth", "/protected"]
    login = document["paths"]["/auth"]["post"]["responses"]["200"]
    assert login["links"]["protected"]["operationId"] == "protected"
    protected = document["paths"]["/protected"]["get"]
    assert protected["security"] == [{"JWT": []}]
    error = protected["responses"]["401"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/JWTError"}


def check_openapi_standalone(ns: dict[str, t.Any]) -> None:
    from openapi_spec_validator import validate

    response = ns["app"].test_client().get("/auth/openapi.json")
    assert response.status_code == 200
    validate(response.json)
    assert sorted(response.json["paths"]) == ["/auth", "/auth/openapi.json"]


CHECKS: dict[str, t.Callable[[dict[str, t.Any]], None]] = {
    name.removeprefix("check_").replace("_", "-"): check
    for name, check in list(globals().items())
    if name.startswith("check_")
}


def test_every_example_has_a_check_and_every_check_an_example():
    assert set(EXAMPLES) == set(CHECKS)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example(name, quickstart_module):
    CHECKS[name](run(name))


def test_the_quickstart_is_the_readmes():
    # docs/quickstart.md includes it from there, and examples import it.
    assert EXAMPLES["quickstart"].path == "README.md"


@pytest.mark.parametrize(
    "text",
    [
        "```py\nprint(1)\n```",
        "```{code-block} python\nprint(1)\n```",
        "```pycon\n>>> print(1)\n```",
        "```{eval-rst}\n.. code-block:: python\n\n   print(1)\n```",
        "```python\nprint(1)\n```",
    ],
)
def test_python_that_would_not_run_is_refused(text):
    with pytest.raises(AssertionError, match="would not run|unmarked example"):
        collect("docs/page.md", text, {})


def test_a_name_is_used_once_across_the_files():
    example = "<!-- readme-test: x -->\n```python\npass\n```\n"
    found: dict[str, Example] = {}
    collect("README.md", example, found)
    with pytest.raises(AssertionError, match="two examples named 'x'"):
        collect("docs/page.md", example, found)


def test_an_indented_example_runs_dedented():
    text = "- a list item:\n\n  <!-- readme-test: x -->\n  ```python\n  x = 1\n  ```\n"
    found: dict[str, Example] = {}
    collect("docs/page.md", text, found)
    namespace: dict[str, t.Any] = {}
    exec(found["x"].compile(), namespace)
    assert namespace["x"] == 1


# -- the reference tables --------------------------------------------------


def table_rows(page: str) -> list[list[str]]:
    """The cells of every table row of ``docs/<page>``, header rows left out."""
    rows = []
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.startswith("| ---"):
            rows.pop()  # the header, above the separator
        elif line.startswith("| "):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def first_name(cell: str) -> str:
    """The first backticked name of a table cell: ``JWTError`` of the cell
    holding ``JWTError(error, ...)``."""
    match = re.match(r"`([\w.]+)", cell)
    assert match, cell
    return match.group(1)


def config_table() -> dict[str, str]:
    """``{key: default cell}`` of docs/configuration.md."""
    return {
        first_name(row[0]): row[1]
        for row in table_rows("configuration.md")
        if row[0].startswith("`JWT_")
    }


def endpoint_defaults() -> dict[str, t.Any]:
    defaults: dict[str, t.Any] = {}
    for endpoint in JWTBlueprint.endpoints:
        defaults[endpoint.rule_key] = endpoint.rule
        defaults[endpoint.name_key] = endpoint.name
    return defaults


def test_the_configuration_table_has_every_key():
    keys = {*CONFIG_DEFAULTS, *endpoint_defaults(), "JWT_SECRET_KEY"}
    documented = set(config_table())
    assert not keys - documented, "not in docs/configuration.md"
    assert not documented - keys, "in docs/configuration.md, not in the code"


@pytest.mark.parametrize(
    ("key", "default"), [*CONFIG_DEFAULTS.items(), *endpoint_defaults().items()]
)
def test_the_configuration_table_has_every_default(key, default):
    cell = config_table()[key]
    assert re.fullmatch(r"`[^`]+`", cell), f"{key}: one literal, not {cell!r}"
    tree = ast.parse(cell.strip("`"), mode="eval")
    if isinstance(tree.body, ast.Call):  # timedelta(seconds=10)
        assert ast.unparse(tree.body.func) == "timedelta"
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in tree.body.keywords}
        assert not tree.body.args
        value: t.Any = timedelta(**kwargs)
    else:
        value = ast.literal_eval(tree)
    assert value == default


def test_the_handlers_table_has_every_decorator():
    decorators = {name for name in dir(JWTStrategy) if name.endswith("_handler")}
    assert {first_name(row[0]) for row in table_rows("handlers.md")} == decorators


def test_the_errors_table_has_every_error():
    errors = {
        name
        for name, value in vars(exceptions).items()
        if isinstance(value, type) and issubclass(value, exceptions.JWTError)
    }
    assert {first_name(row[0]) for row in table_rows("errors.md")} == errors


# -- Files the pages list with `$ cat` ---------------------------------------------


def listed_files(page: str) -> dict[str, str]:
    """The files a page shows with ``$ cat NAME`` in its console blocks."""
    text = (DOCS / page).read_text(encoding="utf-8")
    files: dict[str, str] = {}
    for block in re.findall(r"^```console\n(.*?)^```$", text, re.M | re.S):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, _, output = command.partition("\n")
            if line.startswith("cat "):
                files[line[4:]] = output
    return files


def test_every_listed_python_file_is_run_by_a_test():
    listed = {
        (path.name, name)
        for path in DOCS.glob("*.md")
        for name in listed_files(path.name)
        if name.endswith(".py")
    }
    # testing.md's files are run by tests/test_pytest_plugin.py.
    run_here = {
        ("roles.md", "app.py"),
        ("keys.md", "resource.py"),
        ("keys.md", "instance/config.py"),
    }
    assert {item for item in listed if item[0] != "testing.md"} == run_here


def test_the_roles_page_app(quickstart_module):
    code = listed_files("roles.md")["app.py"]
    namespace: dict[str, t.Any] = {"__name__": "roles_app"}
    exec(compile(code, "docs/roles.md:app.py", "exec"), namespace)
    client = namespace["app"].test_client()
    admin, editor = login(client), login(client, username="user2", password="abcxyz")
    assert client.get("/admin", headers=bearer(admin)).text == "admin page"
    refused = client.get("/admin", headers=bearer(editor))
    # What the page shows for user2.
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == (
        'JWT realm="Login Required", error="insufficient_scope",'
        ' error_description="The token lacks the role: admin"'
    )
    assert refused.json == {
        "description": "The token lacks the role: admin",
        "error": "Forbidden",
        "status_code": 403,
    }
    assert client.get("/articles", headers=bearer(editor)).text == "articles"
    assert client.post("/orders", headers=bearer(admin)).status_code == 201
    assert client.post("/orders", headers=bearer(editor)).status_code == 403


def test_the_keys_page_issuer_config_and_resource_server(tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from flask import Flask
    from werkzeug.serving import make_server

    from jwt_blueprint import JWT

    files = listed_files("keys.md")
    # The issuer: the config the page shows, with a key of its own.
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "jwt-2027-05.pem").write_bytes(pem)
    config_file = tmp_path / "config.py"
    config_file.write_text(files["instance/config.py"], encoding="utf-8")
    issuer = Flask("issuer")
    issuer.config["SECRET_KEY"] = SECRET
    issuer.config.from_pyfile(str(config_file))
    issuer.config["JWT_AUTH_URL_RULE"] = None  # tokens minted below
    JWT(issuer)
    server = make_server("127.0.0.1", 0, issuer, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        issuer.config["JWT_ENCODE_ISSUER"] = base
        with issuer.app_context():
            user = types.SimpleNamespace(id=1)
            token = issuer.extensions["jwt"].create_access_token(user)
        # The resource server, as listed, pointed at this issuer's address.
        code = files["resource.py"].replace("http://127.0.0.1:5000", base)
        namespace: dict[str, t.Any] = {"__name__": "resource"}
        exec(compile(code, "docs/keys.md:resource.py", "exec"), namespace)
        client = namespace["app"].test_client()
        response = client.get("/orders", headers=bearer(str(token)))
        assert response.json == {"orders": [], "user": "1"}
    finally:
        server.shutdown()
        server.server_close()

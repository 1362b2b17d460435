"""The sample app's login page in a real browser: Debian's chromium package,
driven by Playwright.

Playwright's own browser download cannot be used here, so the test launches
``/usr/bin/chromium`` (``apt-get install -y chromium``; ``make test``
installs it). Without it, or without the playwright package, the tests skip,
and fail on CI (``CI=true``), where a skip would hide a broken setup.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from browser_apps import INSTANCE_ENV
from servers import AppServer
from servers import free_port

try:
    from playwright.sync_api import expect
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - reported by require_browser
    sync_playwright = None

if t.TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
#: How long any one step may take, in milliseconds.
TIMEOUT_MS = 5000


def require_browser() -> None:
    """Return if Playwright and Debian's chromium are installed; else skip
    the test, or fail it on CI."""
    missing = []
    if sync_playwright is None:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if not missing:
        return
    what = " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"the browser tests cannot run without {what}; `make test` installs"
            " both: the dev extra has playwright, and its browser-installed"
            " target gets Debian's chromium with apt-get",
            pytrace=False,
        )
    pytest.skip(
        f"the browser tests did NOT run: they need {what}; run make test,"
        " which installs them"
    )


@pytest.fixture(scope="module")
def browser() -> t.Iterator[Browser]:
    require_browser()
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        # Chromium refuses to run as root inside its sandbox.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> t.Iterator[AppServer]:
    """The sample app as `make run` serves it, on a free loopback port."""
    instance = tmp_path_factory.mktemp("sample-app") / "instance"
    with AppServer(
        "browser_apps:sample_app_from_env", {INSTANCE_ENV: str(instance)}
    ) as server:
        yield server


@pytest.fixture
def context(browser: Browser, server: AppServer) -> t.Iterator[BrowserContext]:
    """A fresh browser profile: no cookies."""
    context = browser.new_context(base_url=server.url)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def log_in(page: Page, username: str, password: str = "abcxyz") -> None:
    """Type the credentials into the login page and submit them."""
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    # Typed key by key, as a person does.
    page.locator("#username").press_sequentially(username)
    page.locator("#password").press_sequentially(password)
    page.click("#login-button")


def fetch(page: Page, url: str, method: str = "GET", headers: t.Any = None) -> t.Any:
    """``fetch(url)`` from the page, with its cookies: [status, JSON body]."""
    return page.evaluate(
        """async ([url, method, headers]) => {
            const response = await fetch(url, {
                method, headers, credentials: "same-origin",
            });
            const type = response.headers.get("Content-Type") || "";
            return [
                response.status,
                type.startsWith("application/json") ? await response.json() : null,
            ];
        }""",
        [url, method, headers or {}],
    )


def cookies_by_name(context: BrowserContext) -> dict[str, t.Any]:
    return {cookie["name"]: cookie for cookie in context.cookies()}


def test_log_in_and_out(context: BrowserContext, page: Page, tmp_path: Path):
    log_in(page, "user1", "wrong password")
    expect(page.locator("#login-error")).to_have_text("Invalid credentials")
    expect(page.locator("#profile-section")).to_be_hidden()
    assert "access_token_cookie" not in cookies_by_name(context)

    log_in(page, "user1")
    expect(page.locator("#profile-user")).to_have_text("user1")
    expect(page.locator("#profile-roles")).to_have_text("admin")
    expect(page.locator("#login-section")).to_be_hidden()
    screenshot = tmp_path / "login.png"
    page.screenshot(path=screenshot)
    assert screenshot.read_bytes().startswith(b"\x89PNG")

    # The browser holds the token, but the page's scripts cannot read it.
    cookies = cookies_by_name(context)
    access = cookies["access_token_cookie"]
    assert access["httpOnly"] and access["sameSite"] == "Lax"
    assert access["path"] == "/"
    assert not cookies["csrf_access_token"]["httpOnly"]
    assert cookies["refresh_token_cookie"]["httpOnly"]
    assert cookies["refresh_token_cookie"]["path"] == "/auth"
    document_cookie = page.evaluate("document.cookie")
    assert access["value"] not in document_cookie
    assert "access_token_cookie" not in document_cookie
    assert "refresh_token_cookie" not in document_cookie
    assert f"csrf_access_token={cookies['csrf_access_token']['value']}" in (
        document_cookie.split("; ")
    )

    # The admin page, for an administrator.
    page.click("#admin-link")
    expect(page.locator("#admin-result")).to_have_text(
        "Welcome, user1: you are an administrator."
    )
    page.click("#home-link")
    expect(page.locator("#profile-user")).to_have_text("user1")

    page.click("#logout-button")
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#profile-section")).to_be_hidden()
    # Every cookie is gone, the refresh token's on its own path too.
    assert cookies_by_name(context) == {}
    assert page.evaluate("document.cookie") == ""
    assert fetch(page, "/api/me")[0] == 401
    # Logging out revoked the token: the cookie, put back, is refused.
    context.add_cookies(
        [{"name": access["name"], "value": access["value"], "url": page.url}]
    )
    status, body = fetch(page, "/api/me")
    assert (status, body["description"]) == (401, "Token has been revoked")
    page.reload()
    expect(page.locator("#login-form")).to_be_visible()


def test_a_post_without_the_csrf_value_is_refused(
    context: BrowserContext, page: Page, server: AppServer
):
    log_in(page, "user1")
    expect(page.locator("#profile-user")).to_have_text("user1")

    # A page of another origin on the same site (another port of 127.0.0.1)
    # submits a form to the app: SameSite=Lax lets the browser send the
    # cookie with it, and only the missing CSRF value stops the logout.
    attacker = f"http://127.0.0.1:{free_port()}/"
    form = (
        f'<form method="post" action="{server.url}/auth/revoke">'
        '<input name="logout" value="1"></form>'
        "<script>document.forms[0].submit()</script>"
    )
    page.route(
        attacker, lambda route: route.fulfill(content_type="text/html", body=form)
    )
    with page.expect_response(f"{server.url}/auth/revoke") as refused:
        page.goto(attacker)
    response = refused.value
    assert response.request.method == "POST"
    assert response.status == 401
    assert response.json()["description"] == "Missing CSRF token"

    # The same from the app's own origin, with fetch.
    page.goto("/")
    status, body = fetch(page, "/auth/revoke", "POST")
    assert (status, body["description"]) == (401, "Missing CSRF token")
    status, body = fetch(page, "/auth/revoke", "POST", {"X-CSRF-Token": "forged"})
    assert (status, body["description"]) == (401, "CSRF token mismatch")

    # Still logged in; a GET needs no CSRF value.
    assert fetch(page, "/api/me") == [200, {"user": "user1", "roles": ["admin"]}]
    expect(page.locator("#profile-user")).to_have_text("user1")


def expire_the_access_cookie(context: BrowserContext) -> None:
    """Drop the access cookies, as the browser does once their Max-Age is
    over; the refresh cookies live on."""
    context.clear_cookies(name="access_token_cookie")
    context.clear_cookies(name="csrf_access_token")


def test_an_expired_access_cookie_is_refreshed(context: BrowserContext, page: Page):
    log_in(page, "user1")
    expect(page.locator("#profile-user")).to_have_text("user1")
    old = cookies_by_name(context)
    expire_the_access_cookie(context)
    page.reload()
    # The page got new cookies at /auth/refresh with the refresh cookie.
    expect(page.locator("#profile-user")).to_have_text("user1")
    new = cookies_by_name(context)
    assert sorted(new) == sorted(old)
    for name in new:
        assert new[name]["value"] != old[name]["value"], name


def test_log_out_after_the_access_cookie_expired(context: BrowserContext, page: Page):
    log_in(page, "user1")
    expect(page.locator("#profile-user")).to_have_text("user1")
    old = cookies_by_name(context)
    expire_the_access_cookie(context)
    # The refresh cookie, with its CSRF value, ends the login.
    page.click("#logout-button")
    expect(page.locator("#login-form")).to_be_visible()
    assert cookies_by_name(context) == {}
    # Its refresh token is revoked, not only forgotten by the browser.
    context.add_cookies(
        [
            {"name": name, "value": old[name]["value"], "url": page.url}
            for name in ("refresh_token_cookie", "csrf_refresh_token")
        ]
    )
    csrf = {"X-CSRF-Token": old["csrf_refresh_token"]["value"]}
    status, body = fetch(page, "/auth/refresh", "POST", csrf)
    assert (status, body["description"]) == (401, "Token has been revoked")


def test_the_admin_page_refuses_user2(page: Page):
    log_in(page, "user2")
    expect(page.locator("#profile-user")).to_have_text("user2")
    expect(page.locator("#profile-roles")).to_have_text("none")
    page.click("#admin-link")
    result = page.locator("#admin-result")
    expect(result).to_contain_text("Forbidden")
    expect(result).to_have_class("error")
    assert fetch(page, "/api/admin")[0] == 403


def test_the_admin_page_without_logging_in(page: Page):
    page.goto("/admin")
    expect(page.locator("#admin-result")).to_have_text("You are not logged in.")

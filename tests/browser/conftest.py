"""Browser tests: the operator console in headless Chromium against a whole local stack.

Playwright drives the distribution's Chromium by path (no browser download); the stack is
`python -m infra.local.stack` on free ports, serving the built console (make test builds it).
Screenshots are kept under test-artifacts/console/.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from tests.stack_support import ROOT, stack_process

DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "console"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
# Generous: the stack shares two cores with the rest of the suite; these bound waits, they time nothing.
expect.set_options(timeout=30_000)


@dataclass
class ConsoleStack:
    """A running local stack with its console, and an operator session on its API."""

    info: dict[str, Any]
    workdir: Path
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def base_url(self) -> str:
        return self.info["console_url"].split("/#", 1)[0]

    def api(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.info['operator_token']}"}
        return self.http.request(method, self.info["api_url"] + path, headers=headers, timeout=15, **kw)


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is missing: `make chromium` installs the distribution's package")
    return found


@pytest.fixture(scope="session")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    if not (DIST / "index.html").is_file():
        pytest.fail("frontend/dist is missing: `make console` builds it (make test does)")
    with stack_process(tmp_path_factory.mktemp("console-stack")) as stack:
        yield ConsoleStack(stack.info, stack.workdir)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=chromium_path(), headless=True,
                                                  args=["--no-sandbox", "--disable-dev-shm-usage"])
    yield browser
    browser.close()


@dataclass
class ConsoleErrors:
    """JavaScript errors and console errors of a page; a test may declare some expected."""

    messages: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect(self, fragment: str) -> None:
        self.expected.append(fragment)

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(f in m for f in self.expected)]


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@contextmanager
def console_page(browser: Browser, url: str, console_errors: ConsoleErrors, name: str) -> Iterator[Page]:
    """A console page opened at `url` (a console_url signs it in); its screenshot is kept as `name`.

    Fails the test on any JavaScript error the test did not declare expected.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(20_000)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.messages.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: console_errors.messages.append(f"uncaught: {exc}"))
    page.goto(url)
    yield page
    shot(page, name)
    context.close()
    assert console_errors.unexpected() == [], "JavaScript errors in the console"


@pytest.fixture
def page(browser: Browser, console_stack: ConsoleStack, console_errors: ConsoleErrors,
         request: pytest.FixtureRequest) -> Iterator[Page]:
    """A console page signed in to the demo tenant (opened through console_url)."""
    with console_page(browser, console_stack.info["console_url"], console_errors, request.node.name) as page:
        yield page


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of an intermediate step as a test artefact."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

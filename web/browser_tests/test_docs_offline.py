"""`make run`'s API docs (`/docs`, `/redoc`) and the emulator's (`/_emulator/docs`) work with
the network cut off: Chromium gets only this machine, every request for another host is
aborted and recorded, and none may even be attempted (a CDN script, a web font, Swagger's
online validator badge). Swagger UI must really render, keep its authorization across a
reload (`persistAuthorization`) and run "Try it out" against the API."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, expect

from .conftest import DevRun
from .ui import PASSWORD

LOOPBACK = frozenset({"127.0.0.1", "localhost"})
# ReDoc's bundle (fastapi-offline 1.7.7) always shows Redocly's logo, from their CDN, in its
# "API docs by Redocly" footer; offline the image is missing (its onError hides it) and the
# docs are whole. The one request to another host any of these pages makes.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@dataclass
class OfflinePage:
    page: Page
    off_machine: list[str] = field(default_factory=list)  # requested, aborted
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, its URL)

    @property
    def errors(self) -> list[str]:
        """Console and page errors, but not "failed to load" about a request we aborted:
        that is reported once, in `off_machine`."""
        return [text for text, url in self.console_errors if url not in self.off_machine]


@pytest.fixture
def offline(browser: Browser) -> Iterator[OfflinePage]:
    """A page whose context lets through only requests to this machine."""
    context = browser.new_context()
    page = OfflinePage(context.new_page())

    def cut_off(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            page.off_machine.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", cut_off)

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            page.console_errors.append((message.text, message.location.get("url", "")))

    page.page.on("console", console)
    page.page.on("pageerror", lambda error: page.console_errors.append((str(error), "")))
    yield page
    context.close()


def _swagger_block_ids(openapi_url: str) -> list[str]:
    """The element id Swagger UI gives each operation of the document: `operations-<first
    tag, spaces as _, or default>-<operationId>`."""
    document = httpx.get(openapi_url).json()
    return [
        f"operations-{operation.get('tags', ['default'])[0].replace(' ', '_')}-"
        f"{operation['operationId']}"
        for path in document["paths"].values()
        for operation in path.values()
    ]


def _expect_swagger_lists(page: Page, openapi_url: str) -> None:
    """Swagger UI shows every operation of the document, and nothing else."""
    block_ids = _swagger_block_ids(openapi_url)
    expect(page.locator(".opblock")).to_have_count(len(block_ids))
    for block_id in block_ids:
        expect(page.locator(f"[id='{block_id}']")).to_have_count(1)


def _sign_up(api_url: str) -> str:
    email = f"dora.docs.{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": PASSWORD, "full_name": "Dora Docs", "role": "teacher"}
    registered = httpx.post(f"{api_url}/api/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    return email


def test_swagger_ui_offline_authorizes_keeps_it_and_tries_a_get(
    dev_run: DevRun, offline: OfflinePage, shots: Path
) -> None:
    page = offline.page
    page.goto(f"{dev_run.api_url}/docs")
    expect(page.locator("#operations-sessions-createSession")).to_be_visible()
    _expect_swagger_lists(page, f"{dev_run.api_url}/openapi.json")

    email = _sign_up(dev_run.api_url)
    page.locator(".auth-wrapper button.authorize").click()
    page.locator("#oauth_username").fill(email)
    page.locator("#oauth_password").fill(PASSWORD)
    dialog = page.locator(".modal-ux")
    dialog.locator("button.authorize").click()  # logs in with the OAuth2 form
    expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    page.reload()
    authorize = page.locator(".auth-wrapper button.authorize")
    expect(authorize).to_have_class(re.compile(r"\blocked\b"))  # restored from localStorage

    me = page.locator("#operations-users-getMe")
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    answer = me.locator(".live-responses-table .response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text(email)
    page.screenshot(path=shots / "30-swagger-offline-try-it-out.png", full_page=True)

    assert offline.off_machine == []
    assert offline.errors == []


def test_redoc_renders_offline(dev_run: DevRun, offline: OfflinePage, shots: Path) -> None:
    page = offline.page
    page.goto(f"{dev_run.api_url}/redoc")
    expect(page.get_by_role("heading", name=re.compile("^Tutorium API"))).to_be_visible()
    create = page.locator("[id='operation/createSession']")
    expect(create).to_contain_text("Create a session and its private Daily room")
    expect(create).to_contain_text("/api/v1/sessions")
    page.screenshot(path=shots / "31-redoc-offline.png")

    assert offline.off_machine == [REDOC_LOGO]
    assert offline.errors == []


def test_the_emulators_swagger_ui_renders_offline(
    dev_run: DevRun, offline: OfflinePage, shots: Path
) -> None:
    page = offline.page
    page.goto(f"{dev_run.emulator_url}/_emulator/docs")
    _expect_swagger_lists(page, f"{dev_run.emulator_url}/_emulator/openapi.json")
    page.screenshot(path=shots / "32-emulator-docs-offline.png")

    assert offline.off_machine == []
    assert offline.errors == []

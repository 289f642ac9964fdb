"""What a person does in the app, as Playwright steps: by labels and roles, as a person sees it."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, ConsoleMessage, FrameLocator, Locator, Page, expect

PASSWORD = "correct horse battery"


DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}


def new_person(
    browser: Browser,
    web_url: str,
    name: str,
    role: str,
    viewport: dict[str, int] = DESKTOP,
    errors: list[str] | None = None,
) -> Page:
    """A fresh browser context (own storage, like another device), signed up as `role`.

    `errors`, when given, collects what went wrong in the page from its first request on
    (console errors, page errors, failed requests), for a test that asserts there was none.
    """
    page = browser.new_context(viewport=viewport).new_page()

    def said(line: str, is_error: bool = True) -> None:
        print(f"[{name}] {line}")  # shown by pytest when a test fails
        if errors is not None and is_error:
            errors.append(f"[{name}] {line}")

    def console(message: ConsoleMessage) -> None:
        where = message.location.get("url", "")  # a failed load names only its status
        said(f"console.{message.type}: {message.text} ({where})", message.type == "error")

    page.on("console", console)
    page.on("pageerror", lambda error: said(f"page error: {error}"))
    # ERR_ABORTED is the page cancelling a request itself (closing a feed, leaving a call);
    # a CORS refusal fails with ERR_FAILED and a console error.
    page.on(
        "requestfailed",
        lambda request: said(
            f"request failed: {request.url} ({request.failure})",
            request.failure != "net::ERR_ABORTED",
        ),
    )
    page.goto(web_url)
    email = f"{name.lower().replace(' ', '.')}.{secrets.token_hex(4)}@example.com"
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("I am a").select_option(role)
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#who")).to_contain_text(f"{name} ({role})")
    return page


def create_session(page: Page, title: str, seats: int) -> str:
    """Create a session from the teacher's home; returns its room code."""
    page.get_by_label("Title").fill(title)
    page.get_by_label("Seats").fill(str(seats))
    page.get_by_label("Duration (minutes)").fill("60")
    page.get_by_role("button", name="Create session").click()
    code = page.get_by_label("Room code")
    expect(code).to_have_text(re.compile(r"\S+"))
    return code.inner_text()


def enter_code(page: Page, code: str) -> None:
    page.get_by_label("Room code").fill(code)
    page.get_by_role("button", name="Join class").click()


def status_line(page: Page) -> Locator:
    return page.locator("main .notice")


def roster_row(teacher: Page, name: str) -> Locator:
    return teacher.locator(f'table.roster tr[data-user="{name}"]')


def frame_view(page: Page) -> FrameLocator:
    return page.frame_locator(".frame iframe")

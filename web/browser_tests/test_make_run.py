"""What a frontend developer gets from `make run` with no configuration: a page on
`http://localhost:<port>` (`make web`'s dev server) completes the teacher's flow calling the API
on `http://127.0.0.1:<port>` across origins, with a student in a second context, and the
browser reports no CORS refusal and no failed API call."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Browser, Request, expect

from .conftest import DevRun
from .ui import create_session, enter_code, new_person, roster_row, status_line


def test_a_localhost_page_runs_a_class_against_make_run(
    dev_run: DevRun, dev_web_url: str, browser: Browser
) -> None:
    errors: list[str] = []
    teacher = new_person(browser, dev_web_url, "Lena Localhost", "teacher", errors=errors)
    api_calls: list[str] = []

    def to_the_api(request: Request) -> None:
        if urlsplit(request.url).path.startswith("/api/"):
            api_calls.append(request.url)

    teacher.on("request", to_the_api)
    code = create_session(teacher, "Offline Chemistry", seats=2)
    teacher.get_by_role("button", name="Start class").click()
    expect(status_line(teacher)).to_have_text("You are in the call.")

    student = new_person(browser, dev_web_url, "Sam Student", "student", errors=errors)
    enter_code(student, code)
    expect(status_line(student)).to_have_text("You are in the call.")
    # The roster comes from the session's feed: an EventSource, cross-origin too.
    expect(roster_row(teacher, "Sam Student")).to_have_attribute("data-status", "in call")

    teacher.get_by_role("button", name="End class").click()
    expect(status_line(teacher)).to_have_text("The class has ended.")
    expect(status_line(student)).to_have_text("This class has ended.")
    row = teacher.locator('table.attendance tr[data-user="Sam Student"]')
    expect(row).to_have_count(1)

    assert urlsplit(dev_web_url).hostname == "localhost"
    assert api_calls, "the teacher's page made no API call"
    outside = [url for url in api_calls if not url.startswith(f"{dev_run.api_url}/api/")]
    assert outside == [], "API calls that did not go straight to make run's API (a proxy?)"
    # A refused preflight or response shows as a console error naming CORS and a failed
    # request; an API call that failed otherwise, as a console error at the API's URL. (Not
    # counted: the emulator's 404 when the stand-in leaves a call the API's end had already
    # ejected it from, a race of the emulator's, not of the page and the API.)
    failed = [
        error
        for error in errors
        if "CORS" in error or "request failed" in error or dev_run.api_url in error
    ]
    assert failed == []

"""Every refusal a student can meet shows the API's own message; a reload joins afresh.

Sessions are set up over HTTP (tests/e2e/steps.py) to keep the browser for what is tested."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from jose import jwt
from playwright.sync_api import Browser, Route, expect

from app.core.errors import ErrorCode, TooManyRequests
from tests.e2e import steps

from .conftest import WebStack
from .ui import PHONE, enter_code, frame_view, new_person, status_line


def test_a_wrong_code_shows_the_apis_message(web: WebStack, browser: Browser) -> None:
    student = new_person(browser, web.web_url, "Wendy Wrong", "student")
    enter_code(student, "ZZZZ-ZZZZ")
    expect(status_line(student)).to_have_text(
        "No session has this room code. (room_code_not_found)"
    )
    expect(status_line(student)).to_have_attribute("role", "alert")
    web.shot(student, "20-wrong-code")


def _full_class(web: WebStack) -> str:
    teacher = steps.sign_up(web.stack.api, "teacher", "Fay Full")
    session = steps.create_session(web.stack.api, teacher, max_participants=1).json()
    first = steps.sign_up(web.stack.api, "student", "Seated First")
    assert steps.join_by_code(web.stack.api, first, session["room_code"]).status_code == 200
    return session["room_code"]


def _ended_class(web: WebStack) -> str:
    teacher = steps.sign_up(web.stack.api, "teacher", "Eve Ended")
    session = steps.create_session(web.stack.api, teacher).json()
    ended = web.stack.api.post(f"/api/v1/sessions/{session['id']}/end", headers=teacher.headers)
    assert ended.status_code == 200, ended.text
    return session["room_code"]


@pytest.mark.parametrize(
    ("make_class", "message", "shot"),
    [
        (_full_class, "This session is full. (session_full)", "21-class-full"),
        (_ended_class, "This session has ended. (session_ended)", "22-class-ended"),
    ],
)
def test_a_class_that_cannot_be_joined_shows_the_apis_message(
    web: WebStack,
    browser: Browser,
    make_class: Callable[[WebStack], str],
    message: str,
    shot: str,
) -> None:
    student = new_person(browser, web.web_url, "Late Student", "student")
    enter_code(student, make_class(web))
    expect(status_line(student)).to_have_text(message)
    web.shot(student, shot)


def test_a_reload_joins_again_with_a_fresh_token(web: WebStack, browser: Browser) -> None:
    teacher = steps.sign_up(web.stack.api, "teacher", "Rita Reload")
    session = steps.create_session(web.stack.api, teacher).json()
    student = new_person(browser, web.web_url, "Reloading Student", "student")
    enter_code(student, session["room_code"])
    expect(status_line(student)).to_have_text("You are in the call.")
    room = session["room_name"]
    before = web.stack.emulator.get(f"/_emulator/rooms/{room}/call").json()["participants"]
    student.reload()
    expect(status_line(student)).to_have_text("You are in the call.")
    expect(frame_view(student).locator("li")).to_have_count(1)
    after = web.stack.emulator.get(f"/_emulator/rooms/{room}/call").json()["participants"]
    assert len(before) == len(after) == 1
    assert before[0]["participant_id"] != after[0]["participant_id"]
    web.stack.flush_webhooks()
    rows = steps.attendance(web.stack.api, teacher, session["id"]).values()
    (seat,) = [row for row in rows if row["role"] == "student"]
    assert (seat["join_count"], seat["present_now"]) == (2, True)
    web.shot(student, "23-reloaded-and-rejoined")


def test_a_rate_limit_shows_how_long_to_wait(web: WebStack, browser: Browser) -> None:
    """The stack runs without rate limits, so the browser is handed the API's 429 as
    `TooManyRequests` renders it (same detail, code and Retry-After header)."""

    def too_many(route: Route) -> None:
        body = {"detail": TooManyRequests.message, "code": ErrorCode.RATE_LIMITED.value}
        route.fulfill(
            status=429,
            headers={"Retry-After": "17", "Content-Type": "application/json"},
            body=json.dumps(body),
        )

    student = new_person(browser, web.web_url, "Rapid Student", "student")
    student.route("**/api/v1/sessions/join-by-code", too_many)
    enter_code(student, "ABCD-EFGH")
    expect(status_line(student)).to_have_text(
        f"{TooManyRequests.message} Try again in 17 s. (rate_limited)"
    )


def test_a_student_on_a_phone_joins_with_the_keyboard(web: WebStack, browser: Browser) -> None:
    teacher = steps.sign_up(web.stack.api, "teacher", "Pia Phone")
    session = steps.create_session(web.stack.api, teacher).json()
    student = new_person(browser, web.web_url, "Phone Student", "student", viewport=PHONE)
    student.get_by_label("Room code").press_sequentially(session["room_code"].lower())
    student.keyboard.press("Enter")
    expect(status_line(student)).to_have_text("You are in the call.")
    student.keyboard.press("Tab")
    focused = student.evaluate("() => document.activeElement.textContent")
    assert focused == "← Another class"  # focus moved to the new page, then its first link
    fits = student.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the class page scrolls sideways on a phone"
    web.shot(student, "24-phone-in-class")


def test_a_token_the_api_refuses_asks_to_sign_in_again(web: WebStack, browser: Browser) -> None:
    """A token the API refuses outright (not merely expired), with a refresh token it does not
    know either: the app says the sign-in is over and shows the sign-in form."""
    student = new_person(browser, web.web_url, "Stale Student", "student")
    student.evaluate(
        "() => localStorage.setItem('tutorium.tokens', "
        "JSON.stringify({accessToken: 'no-longer-valid', refreshToken: 'unknown'}))"
    )
    student.reload()
    expect(status_line(student)).to_have_text("Your sign-in has expired. Please sign in again.")
    expect(student.get_by_role("button", name="Sign in")).to_be_visible()
    expect(student.locator("#who")).to_be_empty()


def test_an_expired_access_token_is_renewed_without_signing_in_again(
    web: WebStack, browser: Browser
) -> None:
    """Access tokens are short; a class is long. The client trades the refresh token for new
    tokens on `token_expired` and retries, so the app keeps working."""
    student = new_person(browser, web.web_url, "Renewed Student", "student")
    read = "() => JSON.parse(localStorage.getItem('tutorium.tokens'))"
    signed_in = student.evaluate(read)
    claims = jwt.get_unverified_claims(signed_in["accessToken"])
    now = int(time.time())
    expired = jwt.encode(
        {"sub": claims["sub"], "role": claims["role"], "iat": now - 3600, "exp": now - 60},
        web.secret_key,
        algorithm="HS256",
    )
    student.evaluate(
        "(tokens) => localStorage.setItem('tutorium.tokens', JSON.stringify(tokens))",
        {**signed_in, "accessToken": expired},
    )
    student.reload()
    expect(student.locator("#who")).to_contain_text("Renewed Student")
    renewed = student.evaluate(read)
    assert renewed["accessToken"] != expired  # a new one (the same second's may equal the first)
    assert renewed["refreshToken"] != signed_in["refreshToken"]  # refresh tokens rotate

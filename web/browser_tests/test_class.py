"""A whole class in real browsers: one teacher and three students, each in their own context,
against the built app, the API and the Daily emulator (daily-js resolved to its stand-in)."""

from __future__ import annotations

import time

from playwright.sync_api import Browser, Page, expect

from .conftest import WebStack
from .ui import create_session, enter_code, frame_view, new_person, roster_row, status_line

ROSTER_DEADLINE_MS = 2000
STUDENTS = ("Ada Student", "Ben Student", "Cleo Student")


def _call_state(web: WebStack, room_name: str) -> dict[str, object]:
    return web.stack.emulator.get(f"/_emulator/rooms/{room_name}/call").json()


def test_a_whole_class(web: WebStack, browser: Browser) -> None:
    teacher = new_person(browser, web.web_url, "Tess Teacher", "teacher")
    code = create_session(teacher, "Algebra II", seats=3)
    web.shot(teacher, "01-teacher-created-session")
    room_url = teacher.evaluate("() => location.hash")
    assert room_url.startswith("#/teacher/sessions/")

    teacher.get_by_role("button", name="Start class").click()
    expect(status_line(teacher)).to_have_text("You are in the call.")
    expect(frame_view(teacher).locator("li")).to_have_count(1)
    web.shot(teacher, "02-teacher-in-call")

    students: dict[str, Page] = {}
    spellings = (code, f" {code.lower()} ", code.replace("-", " "))
    for name, spelling in zip(STUDENTS, spellings, strict=True):
        student = new_person(browser, web.web_url, name, "student")
        enter_code(student, spelling)
        expect(status_line(student)).to_have_text("You are in the call.")
        joined = time.monotonic()
        expect(roster_row(teacher, name)).to_have_attribute(
            "data-status", "in call", timeout=ROSTER_DEADLINE_MS
        )
        assert time.monotonic() - joined < ROSTER_DEADLINE_MS / 1000
        students[name] = student
    for student in students.values():
        expect(frame_view(student).locator("li")).to_have_count(4)
    web.shot(teacher, "03-roster-everyone-in-call")
    web.shot(students["Ada Student"], "04-student-in-call")

    ada = students["Ada Student"]
    ada.get_by_role("button", name="Share screen").click()
    expect(status_line(ada)).to_have_text(
        "Screen sharing did not start: this class does not let you share."
    )
    room_name = frame_view(ada).locator("h1").get_attribute("data-room")
    assert not any(p["sharing_screen"] for p in _call_state(web, room_name)["participants"])
    web.shot(ada, "05-student-share-refused")

    teacher.get_by_role("button", name="Share screen").click()
    expect(teacher.get_by_role("button", name="Stop sharing")).to_be_visible()
    for student in students.values():
        expect(status_line(student)).to_have_text("Tess Teacher is sharing their screen.")
        expect(frame_view(student).locator("#screen")).to_have_text(
            "Tess Teacher is sharing their screen"
        )
    web.shot(students["Ben Student"], "06-student-sees-teacher-share")

    cleo = students["Cleo Student"]
    teacher.get_by_role("button", name="Remove Cleo Student").click()
    expect(roster_row(teacher, "Cleo Student")).to_have_attribute("data-status", "removed")
    expect(status_line(cleo)).to_have_text(
        "You are out of the call: You were removed from the call"
    )
    expect(frame_view(cleo).locator("#status")).to_have_text("You were removed from the call.")
    web.shot(cleo, "07-student-removed")
    cleo.get_by_role("button", name="Rejoin").click()
    expect(status_line(cleo)).to_have_text(
        "You were removed from this session. (removed_from_session)"
    )
    web.shot(cleo, "08-removed-student-rejoin-refused")

    teacher.get_by_role("button", name="End class").click()
    expect(status_line(teacher)).to_have_text("The class has ended.")
    for name in ("Ada Student", "Ben Student"):
        expect(status_line(students[name])).to_have_text("This class has ended.")
        expect(roster_row(teacher, name)).to_have_attribute("data-status", "left")
    expect(roster_row(teacher, "Cleo Student")).to_have_attribute("data-status", "removed")
    # Ending ejects everyone explicitly (Daily does not promise a room delete does).
    expect(frame_view(students["Ada Student"]).locator("#status")).to_have_text(
        "You were removed from the call."
    )
    web.shot(students["Ada Student"], "09-student-class-ended")

    for name in STUDENTS:
        row = teacher.locator(f'table.attendance tr[data-user="{name}"]')
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(1)).not_to_have_text("—")
        expect(row.locator("td").nth(2)).not_to_have_text("—")
    web.shot(teacher, "10-attendance")
    with teacher.expect_download() as download:
        teacher.get_by_role("button", name="Download CSV").click()
    csv = download.value.path().read_text()
    assert csv.splitlines()[0].startswith("user_id,full_name,role,first_joined_at")
    assert all(f",{name},student," in csv for name in STUDENTS)

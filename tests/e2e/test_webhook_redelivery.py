"""Daily delivers webhooks at least once, sometimes under a new id: a repeat changes nothing.

Every event of a short call is delivered a second time through the emulator (same id, or a
fresh one); attendance and the event log must read exactly as after the first delivery.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.stack import Stack
from tests.e2e.steps import (
    all_accepted,
    attendance,
    create_session,
    duplicate_webhooks_seen,
    enter_room,
    join_by_code,
    leave_room,
    session_events,
    sign_up,
    token_of,
)


def _without_ratio(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The ratio's denominator is the running session's age, which grows by itself."""
    return {
        user_id: {k: v for k, v in row.items() if k != "attendance_ratio"}
        for user_id, row in rows.items()
    }


@pytest.mark.parametrize("new_id", [False, True], ids=["same-id", "new-id"])
def test_a_webhook_delivered_twice_counts_once(stack: Stack, new_id: bool) -> None:
    api, emulator = stack.api, stack.emulator
    stack.set_clock(offset_s=-600)  # the call lies in the API's past: its numbers are final
    teacher = sign_up(api, "teacher", "Ada Teacher")
    session = create_session(api, teacher).json()
    sid, room = session["id"], session["room_name"]
    teacher_in = enter_room(emulator, room, token_of(session["teacher_join_url"]))
    student = sign_up(api, "student", "Ana")
    student_in = enter_room(
        emulator, room, join_by_code(api, student, session["room_code"]).json()["token"]
    )
    stack.set_clock(advance_s=120)
    student_left = leave_room(emulator, room, student_in["participant_id"])
    stack.set_clock(advance_s=60)
    teacher_left = leave_room(emulator, room, teacher_in["participant_id"])
    originals = stack.flush_webhooks()
    assert [d["type"] for d in originals] == [
        "meeting.started",
        "participant.joined",
        "participant.joined",
        "participant.left",
        "participant.left",
        "meeting.ended",
    ]
    rows = attendance(api, teacher, sid)
    for person, left in ((student, student_left), (teacher, teacher_left)):
        assert rows[person.id]["join_count"] == 1
        assert rows[person.id]["total_seconds"] == pytest.approx(left["duration"], abs=1)
    assert rows[student.id]["total_seconds"] == pytest.approx(120, abs=10)
    events = session_events(api, teacher, sid)
    duplicates_before = duplicate_webhooks_seen(api)

    for original in originals:
        resent = emulator.post(
            f"/_emulator/webhooks/{original['id']}/redeliver",
            params={"new_id": "true"} if new_id else {},
        )
        assert resent.status_code == 200, resent.text
        assert (resent.json()["id"] != original["id"]) is new_id
        assert resent.json()["payload"] == original["payload"]
    repeats = stack.flush_webhooks()[len(originals) :]

    assert len(repeats) == len(originals)
    assert all_accepted(repeats)
    assert duplicate_webhooks_seen(api) - duplicates_before == len(originals)
    assert _without_ratio(attendance(api, teacher, sid)) == _without_ratio(rows)
    assert session_events(api, teacher, sid) == events

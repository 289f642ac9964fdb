"""Daily's webhooks: signatures, idempotency, and what each event does to the database."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.event import EventSource, SessionEvent
from app.models.participant import ConnectionStatus, SessionParticipant
from app.models.presence import ParticipantPresence, PresenceCloser
from app.models.session import SessionStatus, TutoringSession
from tests.conftest import Account, AccountFactory
from tests.daily_fake import FakeDaily
from tests.sessions_helpers import SESSIONS, create_session, seat
from tests.webhook_signing import (
    WEBHOOK_URL,
    RoomEvents,
    compact,
    deliver,
    envelope,
    signed_headers,
)

NOW = time.time()
T0 = round(NOW - 1800, 3)  # the class began half an hour ago


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.fixture
def session(client: TestClient, teacher: Account) -> dict[str, Any]:
    return create_session(client, teacher)


@pytest.fixture
def room(session: dict[str, Any]) -> RoomEvents:
    return RoomEvents(session["room_name"])


def events(db: Session, session: dict[str, Any], source: EventSource = EventSource.WEBHOOK):
    return db.scalars(
        select(SessionEvent)
        .where(SessionEvent.session_id == uuid.UUID(session["id"]), SessionEvent.source == source)
        .order_by(SessionEvent.occurred_at)
    ).all()


def intervals(db: Session, session: dict[str, Any], user: Account) -> list[ParticipantPresence]:
    db.expire_all()
    return list(
        db.scalars(
            select(ParticipantPresence)
            .where(
                ParticipantPresence.session_id == uuid.UUID(session["id"]),
                ParticipantPresence.user_id == user.id,
            )
            .order_by(ParticipantPresence.joined_at)
        ).all()
    )


def participant(db: Session, session: dict[str, Any], user: Account) -> SessionParticipant | None:
    db.expire_all()
    return db.scalar(
        select(SessionParticipant).where(
            SessionParticipant.session_id == uuid.UUID(session["id"]),
            SessionParticipant.user_id == user.id,
        )
    )


def session_row(db: Session, session: dict[str, Any]) -> TutoringSession:
    db.expire_all()
    row = db.get(TutoringSession, uuid.UUID(session["id"]))
    assert row is not None
    return row


def ok(response: Any, status: str = "processed") -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"status": status}


# -- the probe and the signature --------------------------------------------------------------


def test_the_creation_probe_gets_200_unsigned_or_signed(client: TestClient) -> None:
    ok(client.post(WEBHOOK_URL, json={"test": "test"}), "test")
    body = b'{"test": "test"}'
    ok(client.post(WEBHOOK_URL, content=body, headers=signed_headers(body)), "test")


def test_the_probe_is_answered_even_without_a_secret(app, client: TestClient) -> None:
    app.state.settings = app.state.settings.model_copy(update={"daily_webhook_secret": None})
    ok(client.post(WEBHOOK_URL, json={"test": "test"}), "test")


def test_a_missing_signature_is_401_and_writes_nothing(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents
) -> None:
    body = compact(room.meeting_started(T0))
    response = client.post(WEBHOOK_URL, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_webhook_signature"
    assert events(db, session) == []
    assert session_row(db, session).status is SessionStatus.SCHEDULED


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Webhook-Signature": "c2lnbmF0dXJl"},  # no timestamp
        {"X-Webhook-Timestamp": str(int(NOW))},  # no signature
    ],
)
def test_half_the_headers_is_401(client: TestClient, room: RoomEvents, headers: dict) -> None:
    body = compact(room.meeting_started(T0))
    response = client.post(WEBHOOK_URL, content=body, headers=headers)
    assert response.status_code == 401


def test_a_bad_signature_is_401_and_writes_nothing(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents
) -> None:
    body = compact(room.meeting_started(T0))
    other_secret = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="
    response = client.post(
        WEBHOOK_URL, content=body, headers=signed_headers(body, secret=other_secret)
    )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "The webhook signature is missing or invalid.",
        "code": "invalid_webhook_signature",
    }
    assert events(db, session) == []


def test_a_stale_timestamp_is_401(client: TestClient, db: Session, session, room) -> None:
    body = compact(room.meeting_started(T0))
    stale = str(int(time.time()) - 3601)
    response = client.post(WEBHOOK_URL, content=body, headers=signed_headers(body, timestamp=stale))
    assert response.status_code == 401
    assert "too far" in response.json()["detail"]
    assert events(db, session) == []


def test_a_retry_fifteen_minutes_late_is_accepted(client: TestClient, session, room) -> None:
    """Daily's exponential retries span up to 15 minutes; the timestamp may be the first's."""
    body = compact(room.meeting_started(T0))
    late = str(int(time.time()) - 16 * 60)
    response = client.post(WEBHOOK_URL, content=body, headers=signed_headers(body, timestamp=late))
    ok(response)


def test_millisecond_timestamps_are_accepted(client: TestClient, room: RoomEvents) -> None:
    ok(deliver(client, room.meeting_started(T0), timestamp=str(int(time.time() * 1000))))


def test_a_replayed_request_is_either_a_duplicate_or_stale(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents
) -> None:
    body = compact(room.meeting_started(T0))
    headers = signed_headers(body)
    ok(client.post(WEBHOOK_URL, content=body, headers=headers))
    ok(client.post(WEBHOOK_URL, content=body, headers=headers), "duplicate")
    assert [event.type for event in events(db, session)] == ["meeting.started", "session.started"]

    captured = signed_headers(body, timestamp=str(int(time.time()) - 3600))
    assert client.post(WEBHOOK_URL, content=body, headers=captured).status_code == 401


def test_a_raw_body_signature_is_accepted(client: TestClient, db, session, room) -> None:
    pretty = json.dumps(room.meeting_started(T0), indent=2).encode()
    ok(client.post(WEBHOOK_URL, content=pretty, headers=signed_headers(pretty)))
    assert session_row(db, session).status is SessionStatus.ACTIVE


def test_a_signature_over_the_compact_reserialisation_is_accepted(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents
) -> None:
    event = room.meeting_started(T0)
    pretty = json.dumps(event, indent=2).encode()
    headers = signed_headers(pretty, signed_body=compact(event))
    ok(client.post(WEBHOOK_URL, content=pretty, headers=headers))
    assert session_row(db, session).status is SessionStatus.ACTIVE


def test_malformed_json_is_400_when_signed_and_401_when_not(client: TestClient) -> None:
    body = b'{"type": "meeting.started", '
    signed = client.post(WEBHOOK_URL, content=body, headers=signed_headers(body))
    assert signed.status_code == 400
    assert signed.json()["code"] == "invalid_json"
    unsigned = client.post(WEBHOOK_URL, content=body)
    assert unsigned.status_code == 401


def test_no_secret_configured_refuses_every_event(
    app, client: TestClient, db, session, room
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"daily_webhook_secret": None})
    response = deliver(client, room.meeting_started(T0))
    assert response.status_code == 401
    assert events(db, session) == []


def test_a_body_over_one_mib_is_413(client: TestClient) -> None:
    body = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    declared = client.post(WEBHOOK_URL, content=body, headers=signed_headers(body))
    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"

    def chunks():
        yield body[:1000]
        yield body[1000:]

    streamed = client.post(WEBHOOK_URL, content=chunks(), headers=signed_headers(body))
    assert streamed.status_code == 413
    assert streamed.json() == declared.json()


# -- routing and idempotency ------------------------------------------------------------------


def test_events_for_rooms_we_do_not_know_are_ignored(client: TestClient, db: Session) -> None:
    ok(deliver(client, RoomEvents("someone-elses-room").meeting_started(T0)), "ignored")
    ok(deliver(client, envelope("meeting.started", {"start_ts": T0})), "ignored")
    assert (
        db.scalar(
            select(func.count())
            .select_from(SessionEvent)
            .where(SessionEvent.source == EventSource.WEBHOOK)
        )
        == 0
    )


def test_a_signed_event_without_an_envelope_is_ignored(client: TestClient) -> None:
    for document in ([1, 2], {"type": "meeting.started"}, {"type": 1, "id": "x", "payload": {}}):
        ok(deliver(client, document), "ignored")


def test_unknown_event_types_are_stored(client: TestClient, db: Session, session, room) -> None:
    event = envelope("streaming.started", {"room_name": room.room, "instance_id": "i1"})
    ok(deliver(client, event))
    (stored,) = events(db, session)
    assert stored.type == "streaming.started"
    assert stored.external_id == event["id"]
    assert stored.payload == event["payload"]
    assert session_row(db, session).status is SessionStatus.SCHEDULED


def test_the_same_event_id_twice_changes_nothing(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, student: Account
) -> None:
    seat(client, student, session)
    event = room.joined(student.id, "p-1", T0)
    ok(deliver(client, event))
    ok(deliver(client, event), "duplicate")
    assert len(intervals(db, session, student)) == 1
    assert [e.type for e in events(db, session)].count("participant.joined") == 1


def test_a_resend_with_a_new_id_is_recognised_by_the_participant_session_id(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, student: Account
) -> None:
    seat(client, student, session)
    ok(deliver(client, room.joined(student.id, "p-1", T0)))
    ok(deliver(client, room.joined(student.id, "p-1", T0)), "duplicate")  # new envelope id
    ok(deliver(client, room.left(student.id, "p-1", T0, 60)))
    ok(deliver(client, room.left(student.id, "p-1", T0, 60)), "duplicate")
    (interval,) = intervals(db, session, student)
    assert interval.duration_seconds == pytest.approx(60)
    types = [e.type for e in events(db, session)]
    assert types.count("participant.joined") == 1
    assert types.count("participant.left") == 1


# -- meetings ---------------------------------------------------------------------------------


def test_meeting_started_activates_a_scheduled_session_from_start_ts(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, teacher: Account
) -> None:
    ok(deliver(client, room.meeting_started(T0)))
    row = session_row(db, session)
    assert row.status is SessionStatus.ACTIVE
    assert row.started_at == utc(T0)
    stored = events(db, session)
    assert [e.type for e in stored] == ["meeting.started", "session.started"]
    assert stored[0].occurred_at == utc(T0)
    got = client.get(f"{SESSIONS}/{session['id']}", headers=teacher.headers).json()
    assert got["status"] == "active"


def test_meeting_ended_closes_open_intervals_but_not_the_session(
    client: TestClient,
    db: Session,
    session: dict[str, Any],
    room: RoomEvents,
    teacher: Account,
    student: Account,
) -> None:
    seat(client, student, session)
    ok(deliver(client, room.meeting_started(T0)))
    ok(deliver(client, room.joined(teacher.id, "p-teacher", T0)))
    ok(deliver(client, room.joined(student.id, "p-student", T0 + 10)))
    assert participant(db, session, student).status is ConnectionStatus.JOINED

    ok(deliver(client, room.meeting_ended(T0, T0 + 600)))

    (student_interval,) = intervals(db, session, student)
    assert student_interval.left_at == utc(T0 + 600)
    assert student_interval.duration_seconds == pytest.approx(590)
    assert student_interval.closed_by is PresenceCloser.MEETING_ENDED
    for account in (teacher, student):
        row = participant(db, session, account)
        assert row.status is ConnectionStatus.LEFT
        assert row.left_at == utc(T0 + 600)
    assert session_row(db, session).status is SessionStatus.ACTIVE  # the class can resume

    # Daily's own `left`, arriving after meeting.ended, has the exact time.
    ok(deliver(client, room.left(student.id, "p-student", T0 + 10, 500)))
    (student_interval,) = intervals(db, session, student)
    assert student_interval.left_at == utc(T0 + 510)
    assert student_interval.closed_by is PresenceCloser.LEFT


def test_a_late_meeting_ended_leaves_a_newer_meeting_alone(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, teacher: Account
) -> None:
    ok(deliver(client, room.joined(teacher.id, "p-old", T0)))
    ok(deliver(client, room.left(teacher.id, "p-old", T0, 100)))
    ok(deliver(client, room.joined(teacher.id, "p-new", T0 + 110)))  # back 10 s later
    ok(deliver(client, room.meeting_ended(T0, T0 + 100)))  # the old meeting's end, late

    old, new = intervals(db, session, teacher)
    assert old.left_at == utc(T0 + 100)
    assert new.left_at is None
    assert participant(db, session, teacher).status is ConnectionStatus.JOINED


# -- participants -----------------------------------------------------------------------------


def test_joined_then_left_records_an_interval_and_the_status(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, student: Account
) -> None:
    seat(client, student, session)
    ok(deliver(client, room.joined(student.id, "p-1", T0 + 5.5)))
    (interval,) = intervals(db, session, student)
    assert (interval.joined_at, interval.left_at, interval.duration_seconds) == (
        utc(T0 + 5.5),
        None,
        None,
    )
    assert interval.daily_session_id == "p-1"
    row = participant(db, session, student)
    assert row.status is ConnectionStatus.JOINED
    # A participant joining proves the meeting started, even if meeting.started is lost.
    assert session_row(db, session).status is SessionStatus.ACTIVE

    ok(deliver(client, room.left(student.id, "p-1", T0 + 5.5, 120)))
    (interval,) = intervals(db, session, student)
    assert interval.left_at == utc(T0 + 125.5)
    assert interval.duration_seconds == pytest.approx(120)
    row = participant(db, session, student)
    assert row.status is ConnectionStatus.LEFT
    assert row.left_at == utc(T0 + 125.5)
    (joined_event,) = [e for e in events(db, session) if e.type == "participant.joined"]
    assert joined_event.actor_id == student.id
    assert joined_event.source is EventSource.WEBHOOK


def test_a_left_that_arrives_before_its_joined(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, student: Account
) -> None:
    seat(client, student, session)
    ok(deliver(client, room.left(student.id, "p-1", T0, 300)))
    (interval,) = intervals(db, session, student)
    assert (interval.joined_at, interval.left_at) == (utc(T0), utc(T0 + 300))
    assert participant(db, session, student).status is ConnectionStatus.LEFT

    ok(deliver(client, room.joined(student.id, "p-1", T0)))
    (interval,) = intervals(db, session, student)  # merged, not a second, open interval
    assert (interval.joined_at, interval.left_at) == (utc(T0), utc(T0 + 300))
    assert interval.duration_seconds == pytest.approx(300)
    assert participant(db, session, student).status is ConnectionStatus.LEFT


def test_a_left_without_joined_at_is_placed_by_its_duration_and_fixed_by_the_joined(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, student: Account
) -> None:
    seat(client, student, session)
    left = room.left(student.id, "p-1", T0, 200, event_ts=T0 + 210)
    del left["payload"]["joined_at"]
    ok(deliver(client, left))
    (interval,) = intervals(db, session, student)
    assert (interval.joined_at, interval.left_at) == (utc(T0 + 10), utc(T0 + 210))

    ok(deliver(client, room.joined(student.id, "p-1", T0 + 5)))
    (interval,) = intervals(db, session, student)
    assert (interval.joined_at, interval.left_at) == (utc(T0 + 5), utc(T0 + 210))
    assert interval.duration_seconds == pytest.approx(205)


def test_reconnects_make_one_interval_each(
    client: TestClient,
    db: Session,
    session: dict[str, Any],
    room: RoomEvents,
    teacher: Account,
    student: Account,
) -> None:
    seat(client, student, session)
    ok(deliver(client, room.meeting_started(T0)))
    ok(deliver(client, room.joined(student.id, "p-1", T0)))
    ok(deliver(client, room.joined(student.id, "p-2", T0 + 600)))  # new connection first…
    ok(deliver(client, room.left(student.id, "p-1", T0, 590)))  # …then the old one's leave
    assert participant(db, session, student).status is ConnectionStatus.JOINED
    ok(deliver(client, room.left(student.id, "p-2", T0 + 600, 300)))
    ok(deliver(client, room.joined(student.id, "p-3", T0 + 1000)))
    ok(deliver(client, room.left(student.id, "p-3", T0 + 1000, 400)))

    spans = [(i.joined_at, i.left_at) for i in intervals(db, session, student)]
    assert spans == [
        (utc(T0), utc(T0 + 590)),
        (utc(T0 + 600), utc(T0 + 900)),
        (utc(T0 + 1000), utc(T0 + 1400)),
    ]
    assert participant(db, session, student).status is ConnectionStatus.LEFT
    attendance = client.get(f"{SESSIONS}/{session['id']}/attendance", headers=teacher.headers)
    (row,) = [r for r in attendance.json()["items"] if r["user_id"] == str(student.id)]
    assert (row["total_seconds"], row["join_count"], row["present_now"]) == (1290, 3, False)


def test_the_teacher_gets_a_row_from_a_webhook_alone(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, teacher: Account
) -> None:
    assert participant(db, session, teacher) is None
    ok(deliver(client, room.joined(teacher.id, "p-t", T0)))
    row = participant(db, session, teacher)
    assert row is not None
    assert row.role.value == "teacher"
    assert row.status is ConnectionStatus.JOINED
    assert len(intervals(db, session, teacher)) == 1


@pytest.mark.parametrize("user_id", ["not-a-uuid", str(uuid.uuid4()), None])
def test_unknown_users_are_stored_but_never_seated(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, user_id
) -> None:
    event = room.joined(user_id, "p-x", T0)
    if user_id is None:
        del event["payload"]["user_id"]
    ok(deliver(client, event))
    assert db.scalar(select(func.count()).select_from(ParticipantPresence)) == 0
    assert db.scalar(select(func.count()).select_from(SessionParticipant)) == 0
    assert events(db, session)[0].type == "participant.joined"


def test_a_known_user_without_a_seat_is_not_seated_by_a_webhook(
    client: TestClient, db: Session, session: dict[str, Any], room: RoomEvents, student: Account
) -> None:
    ok(deliver(client, room.joined(student.id, "p-1", T0)))
    assert participant(db, session, student) is None
    assert intervals(db, session, student) == []
    (stored,) = [e for e in events(db, session) if e.type == "participant.joined"]
    assert stored.actor_id == student.id


def test_ending_the_session_closes_open_intervals(
    client: TestClient,
    db: Session,
    session: dict[str, Any],
    room: RoomEvents,
    teacher: Account,
    student: Account,
) -> None:
    seat(client, student, session)
    ok(deliver(client, room.joined(student.id, "p-1", T0)))
    ended = client.post(f"{SESSIONS}/{session['id']}/end", headers=teacher.headers)
    assert ended.status_code == 200
    ended_at = datetime.fromisoformat(ended.json()["ended_at"])
    (interval,) = intervals(db, session, student)
    assert interval.left_at == ended_at
    assert interval.closed_by is PresenceCloser.SESSION_ENDED
    assert participant(db, session, student).status is ConnectionStatus.LEFT

    # Late events after the end are recorded but never put anyone back "in" the session.
    ok(deliver(client, room.joined(student.id, "p-2", time.time())))
    assert participant(db, session, student).status is ConnectionStatus.LEFT
    assert session_row(db, session).status is SessionStatus.ENDED
    ok(deliver(client, room.meeting_started(time.time())))
    assert session_row(db, session).status is SessionStatus.ENDED


def test_webhook_events_appear_in_the_event_log(
    client: TestClient, session: dict[str, Any], room: RoomEvents, teacher: Account
) -> None:
    event = room.meeting_started(T0)
    ok(deliver(client, event))
    log = client.get(f"{SESSIONS}/{session['id']}/events", headers=teacher.headers).json()
    by_type = {item["type"]: item for item in log["items"]}
    assert by_type["meeting.started"]["source"] == "webhook"
    assert by_type["meeting.started"]["external_id"] == event["id"]
    assert by_type["meeting.started"]["payload"] == event["payload"]
    assert by_type["session.started"]["source"] == "webhook"


def test_an_event_changes_only_the_session_whose_room_it_names(
    client: TestClient, make_account: AccountFactory, db: Session
) -> None:
    """Two sessions, one event: only the session whose room it names changes."""
    teacher = make_account("teacher")
    first, second = create_session(client, teacher), create_session(client, teacher)
    ok(deliver(client, RoomEvents(second["room_name"]).meeting_started(T0)))
    assert session_row(db, first).status is SessionStatus.SCHEDULED
    assert session_row(db, second).status is SessionStatus.ACTIVE


def test_concurrent_redeliveries_are_applied_once(
    committing_app: FastAPI, committing_accounts: AccountFactory, daily: FakeDaily
) -> None:
    """Daily retries while the first delivery is still being answered: the row lock serialises
    them, so exactly one copy (same id or a new one) is applied."""
    teacher = committing_accounts("teacher")
    with TestClient(committing_app) as client:
        session = create_session(client, teacher)
        room = RoomEvents(session["room_name"])
        same_id = room.joined(teacher.id, "p-1", T0)
        copies = [same_id] * 4 + [room.joined(teacher.id, "p-1", T0) for _ in range(4)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda event: deliver(client, event), copies))
    assert all(answer.status_code == 200 for answer in answers)
    assert sorted(answer.json()["status"] for answer in answers) == ["duplicate"] * 7 + [
        "processed"
    ]
    with committing_app.state.session_factory() as db:
        assert db.scalar(select(func.count()).select_from(ParticipantPresence)) == 1
        joined = select(func.count()).where(SessionEvent.type == "participant.joined")
        assert db.scalar(joined) == 1

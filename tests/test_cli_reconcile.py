"""`python -m app.cli reconcile`: expired sessions written down, orphaned rooms deleted, paced."""

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app import cli
from app.core.config import Settings
from app.models.participant import ConnectionStatus, ParticipantRole, SessionParticipant
from app.models.presence import ParticipantPresence, PresenceCloser
from app.models.session import SessionStatus, TutoringSession
from app.services.daily.client import ROOM_DELETE_INTERVAL_SECONDS, DailyClient, build_http_client
from app.services.reconcile import reconcile
from tests.conftest import AccountFactory
from tests.daily_fake import FakeDaily

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=1)


class FakeClock:
    """Monotonic time that moves only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.calls_at: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def daily_client(settings: Settings, daily: FakeDaily, clock: FakeClock) -> Iterator[DailyClient]:
    http = build_http_client(settings)
    yield DailyClient(http, settings, sleep=clock.sleep, clock=clock)
    http.close()


def add_room(daily: FakeDaily, name: str, created_at: datetime = LONG_AGO) -> None:
    daily.rooms[name] = {
        "id": str(uuid.uuid4()),
        "name": name,
        "privacy": "private",
        "url": f"https://tutorium.daily.co/{name}",
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "config": {},
    }


def add_session(
    db: Session,
    teacher_id: uuid.UUID,
    room_name: str,
    *,
    status: SessionStatus,
    expires_at: datetime,
) -> TutoringSession:
    session = TutoringSession(
        title="Physics",
        teacher_id=teacher_id,
        status=status,
        max_participants=5,
        room_name=room_name,
        room_url=f"https://tutorium.daily.co/{room_name}",
        room_code=secrets.token_hex(4).upper(),
        duration_minutes=60,
        expires_at=expires_at,
        started_at=expires_at - timedelta(minutes=60)
        if status is not SessionStatus.SCHEDULED
        else None,
        ended_at=expires_at if status is SessionStatus.ENDED else None,
        created_at=LONG_AGO,
        updated_at=LONG_AGO,
    )
    db.add(session)
    db.flush()
    return session


def test_reconcile_ends_expired_sessions_and_deletes_only_our_orphaned_rooms(
    db: Session,
    session_factory: sessionmaker[Session],
    daily: FakeDaily,
    daily_client: DailyClient,
    make_account: AccountFactory,
    clock: FakeClock,
) -> None:
    teacher = make_account("teacher")
    live = add_session(
        db,
        teacher.id,
        "tutorium-live",
        status=SessionStatus.ACTIVE,
        expires_at=NOW + timedelta(hours=1),
    )
    expired = add_session(
        db,
        teacher.id,
        "tutorium-expired",
        status=SessionStatus.ACTIVE,
        expires_at=NOW - timedelta(minutes=5),
    )
    add_session(
        db,
        teacher.id,
        "tutorium-ended",
        status=SessionStatus.ENDED,
        expires_at=NOW - timedelta(hours=2),
    )
    db.add(
        SessionParticipant(
            session_id=expired.id,
            user_id=teacher.id,
            role=ParticipantRole.TEACHER,
            status=ConnectionStatus.JOINED,
            first_joined_at=NOW - timedelta(minutes=50),
            last_joined_at=NOW - timedelta(minutes=50),
        )
    )
    db.add(
        ParticipantPresence(
            session_id=expired.id,
            user_id=teacher.id,
            daily_session_id="p-open",
            joined_at=NOW - timedelta(minutes=50),
        )
    )
    db.flush()
    for name in (
        "tutorium-live",
        "tutorium-expired",
        "tutorium-ended",
        "tutorium-orphan-1",
        "tutorium-orphan-2",
        "otherapp-room",
        "tutoriumish-room",
    ):
        add_room(daily, name)
    add_room(daily, "tutorium-just-created", created_at=NOW - timedelta(minutes=1))

    summary = reconcile(session_factory, daily_client, prefix="tutorium", now=NOW)

    assert summary.sessions_ended == [str(expired.id)]
    deleted = ["tutorium-expired", "tutorium-ended", "tutorium-orphan-1", "tutorium-orphan-2"]
    assert sorted(summary.rooms_deleted) == sorted(deleted)
    assert summary.rooms_too_young == ["tutorium-just-created"]
    assert summary.rooms_checked == 6
    assert summary.ok
    assert sorted(daily.rooms) == [
        "otherapp-room",
        "tutorium-just-created",
        "tutorium-live",
        "tutoriumish-room",
    ]
    assert {
        request.url.path.rsplit("/", 1)[1] for request in daily.calls("DELETE", "/rooms/")
    } == set(deleted)
    # Paced under Daily's ~2 DELETE/s: the first goes at once, each later one waits.
    assert clock.sleeps == [pytest.approx(ROOM_DELETE_INTERVAL_SECONDS)] * (len(deleted) - 1)
    assert ROOM_DELETE_INTERVAL_SECONDS >= 0.6  # 50 per 30 s is Daily's limit for the domain

    db.expire_all()
    assert db.get(TutoringSession, live.id).status is SessionStatus.ACTIVE
    ended = db.get(TutoringSession, expired.id)
    assert ended.status is SessionStatus.ENDED
    assert ended.ended_at == expired.expires_at
    interval = db.scalar(
        select(ParticipantPresence).where(ParticipantPresence.session_id == expired.id)
    )
    assert interval.left_at == expired.expires_at
    assert interval.closed_by is PresenceCloser.SESSION_ENDED
    assert interval.duration_seconds == pytest.approx(45 * 60)

    again = reconcile(session_factory, daily_client, prefix="tutorium", now=NOW)
    assert again.sessions_ended == []
    assert again.rooms_deleted == []


def test_a_dry_run_changes_nothing(
    db: Session,
    session_factory: sessionmaker[Session],
    daily: FakeDaily,
    daily_client: DailyClient,
    make_account: AccountFactory,
) -> None:
    teacher = make_account("teacher")
    expired = add_session(
        db,
        teacher.id,
        "tutorium-expired",
        status=SessionStatus.SCHEDULED,
        expires_at=NOW - timedelta(minutes=1),
    )
    add_room(daily, "tutorium-expired")
    add_room(daily, "tutorium-orphan")

    summary = reconcile(session_factory, daily_client, prefix="tutorium", now=NOW, dry_run=True)

    assert summary.sessions_ended == [str(expired.id)]
    assert sorted(summary.rooms_deleted) == ["tutorium-expired", "tutorium-orphan"]
    assert "2 to delete" in "\n".join(summary.lines())
    assert daily.calls("DELETE", "/rooms/") == []
    db.expire_all()
    assert db.get(TutoringSession, expired.id).status is SessionStatus.SCHEDULED


@pytest.mark.parametrize(
    ("status", "error", "outcome", "ok"),
    [
        (403, "forbidden-error", "rooms_failed", False),
        # Daily's delete limit (50 per 30 s) is shared with live ends: 429 means "later".
        (429, "rate-limit-error", "rooms_deferred", True),
    ],
)
def test_a_refused_delete_is_reported_and_the_rest_go_on(
    session_factory: sessionmaker[Session],
    daily: FakeDaily,
    daily_client: DailyClient,
    status: int,
    error: str,
    outcome: str,
    ok: bool,
) -> None:
    add_room(daily, "tutorium-a")
    add_room(daily, "tutorium-b")
    daily.router.routes["delete_room"].side_effect = lambda request, name: (
        httpx.Response(status, json={"error": error})
        if name == "tutorium-a"
        else httpx.Response(200, json={"deleted": True, "name": name})
    )
    summary = reconcile(session_factory, daily_client, prefix="tutorium", now=NOW)
    assert getattr(summary, outcome) == ["tutorium-a"]
    assert summary.rooms_deleted == ["tutorium-b"]
    assert summary.ok is ok
    if status == 429:
        assert "1 rate-limited (next run)" in "\n".join(summary.lines())


def test_the_command_line_entry_point(
    settings: Settings, daily: FakeDaily, capsys: pytest.CaptureFixture[str]
) -> None:
    add_room(daily, "tutorium-orphan")
    add_room(daily, "otherapp-room")

    assert cli.main(["reconcile", "--dry-run"], settings=settings) == 0
    assert "1 checked, 1 to delete" in capsys.readouterr().out
    assert "tutorium-orphan" in daily.rooms

    assert cli.main(["reconcile"], settings=settings) == 0
    out = capsys.readouterr().out
    assert "1 checked, 1 deleted" in out
    assert "deleted: tutorium-orphan" in out
    assert sorted(daily.rooms) == ["otherapp-room"]

    no_key = settings.model_copy(update={"daily_api_key": None})
    assert cli.main(["reconcile"], settings=no_key) == 0
    assert "rooms not checked: DAILY_API_KEY is not set" in capsys.readouterr().out


def test_rooms_are_emptied_by_eject_before_they_are_deleted(
    db: Session,
    session_factory: sessionmaker[Session],
    daily: FakeDaily,
    daily_client: DailyClient,
    make_account: AccountFactory,
) -> None:
    """Daily does not promise that deleting a room ejects the people in it (daily-api.md §10)."""
    teacher, student, removed = (make_account(role) for role in ("teacher", "student", "student"))
    ended = add_session(
        db, teacher.id, "tutorium-ended", status=SessionStatus.ENDED, expires_at=NOW
    )
    for user, removed_at in ((student, None), (removed, NOW)):
        db.add(
            SessionParticipant(
                session_id=ended.id,
                user_id=user.id,
                role=ParticipantRole.STUDENT,
                status=ConnectionStatus.LEFT,
                first_joined_at=NOW,
                last_joined_at=NOW,
                removed_at=removed_at,
            )
        )
    db.flush()
    add_room(daily, "tutorium-ended")
    add_room(daily, "tutorium-orphan")  # its session was deleted: nobody known to eject

    summary = reconcile(session_factory, daily_client, prefix="tutorium", now=NOW)

    assert sorted(summary.rooms_deleted) == ["tutorium-ended", "tutorium-orphan"]
    (eject,) = daily.bodies("POST", "/rooms/tutorium-ended/eject")
    assert sorted(eject["user_ids"]) == sorted([str(teacher.id), str(student.id)])
    assert daily.calls("POST", "/rooms/tutorium-orphan/eject") == []  # never an empty list
    order = [(c.request.method, c.request.url.path.rsplit("/", 1)[-1]) for c in daily.router.calls]
    assert order.index(("POST", "eject")) < order.index(("DELETE", "tutorium-ended"))

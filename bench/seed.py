"""The bench database: recreated, migrated and filled directly, outside the timed part.

Users get a placeholder password hash, since they never sign in: hashing 500 passwords with
Argon2 would take longer than the storm itself. Their API tokens are minted with the
server's SECRET_KEY and written one per line for the wrk script.
"""

import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.security import create_access_token
from app.models.session import SessionStatus, TutoringSession
from app.models.user import User, UserRole
from app.services.sessions.room_codes import ALPHABET, CODE_LENGTH
from devtools.database import recreate_database

PLACEHOLDER_PASSWORD_HASH = "!bench-user-never-signs-in"  # noqa: S105
MAX_SEATS_IN_SCHEMA = 199  # ck_sessions_max_participants_range: Daily rooms hold 200


def recreate_and_migrate(database_url: str) -> None:
    recreate_database(make_url(database_url))
    env = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def allow_seats(engine: Engine, seats: int) -> bool:
    """A class of more than 199 students does not fit a Daily room, so the schema refuses it.
    The storm still wants one session with N seats (every join contends for one row lock),
    so in this throwaway database only, the range check is dropped. True if it was."""
    if seats <= MAX_SEATS_IN_SCHEMA:
        return False
    with engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE sessions DROP CONSTRAINT ck_sessions_max_participants_range")
        )
    return True


def room_code(index: int) -> str:
    """Distinct, valid room codes: `index` written in the code alphabet, padded with 'A'."""
    digits = []
    for _ in range(CODE_LENGTH):
        index, digit = divmod(index, len(ALPHABET))
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


@dataclass(frozen=True)
class Cohort:
    teacher_id: uuid.UUID
    student_ids: list[uuid.UUID]


def seed_users(engine: Engine, students: int) -> Cohort:
    now = datetime.now(UTC)
    # Tokens minted below carry iat = now; one issued before password_changed_at is refused.
    changed = now - timedelta(minutes=5)

    def row(role: UserRole, name: str) -> dict[str, object]:
        return {
            "id": uuid.uuid4(),
            "email": f"{name}@bench.example.com",
            "full_name": name.replace("-", " ").title(),
            "hashed_password": PLACEHOLDER_PASSWORD_HASH,
            "role": role,
            "is_active": True,
            "password_changed_at": changed,
            "created_at": changed,
            "updated_at": changed,
        }

    teacher = row(UserRole.TEACHER, "bench-teacher")
    rows = [row(UserRole.STUDENT, f"student-{i:05d}") for i in range(students)]
    with engine.begin() as connection:
        connection.execute(insert(User), [teacher, *rows])
    return Cohort(teacher_id=teacher["id"], student_ids=[r["id"] for r in rows])  # type: ignore[misc]


def seed_sessions(
    engine: Engine, teacher_id: uuid.UUID, *, count: int, seats: int, room_base_url: str
) -> list[str]:
    """`count` sessions of `seats` seats, one per storm, so every storm is N first joins.
    Returns their room codes."""
    now = datetime.now(UTC)
    codes = [room_code(1000 + i) for i in range(count)]
    rows = [
        {
            "id": uuid.uuid4(),
            "title": f"Join storm {i}",
            "description": None,
            "teacher_id": teacher_id,
            "status": SessionStatus.SCHEDULED,
            "max_participants": seats,
            "room_name": f"tutorium-bench-{i}",
            "room_url": f"{room_base_url}/tutorium-bench-{i}",
            "room_code": code,
            "scheduled_start_at": None,
            "duration_minutes": 240,
            "expires_at": now + timedelta(hours=4),
            "started_at": None,
            "ended_at": None,
            "created_at": now,
            "updated_at": now,
        }
        for i, code in enumerate(codes)
    ]
    with engine.begin() as connection:
        connection.execute(insert(TutoringSession), rows)
    return codes


def token_settings(database_url: str, secret_key: str) -> Settings:
    """The settings the API servers will run with, as far as minting their tokens needs."""
    return Settings(_env_file=None, database_url=database_url, secret_key=secret_key)  # type: ignore[call-arg]


def write_tokens(
    path: Path, settings: Settings, user_ids: Sequence[uuid.UUID], role: UserRole
) -> Path:
    lines = [
        create_access_token(user_id=user_id, role=role.value, settings=settings).token
        for user_id in user_ids
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path

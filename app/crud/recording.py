"""SQL for recordings: one row per Daily recording, keyed by Daily's id."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.recording import Recording


def get(db: Session, recording_id: str, *, lock: bool = False) -> Recording | None:
    statement = select(Recording).where(Recording.id == recording_id)
    return db.scalar(statement.with_for_update() if lock else statement)


def get_in_session(db: Session, session_id: uuid.UUID, recording_id: str) -> Recording | None:
    return db.scalar(
        select(Recording).where(Recording.id == recording_id, Recording.session_id == session_id)
    )


def by_instance(db: Session, session_id: uuid.UUID, instance_id: str) -> Recording | None:
    """The latest recording of this Daily instance (Daily reuses an instance id per stream)."""
    return db.scalar(
        select(Recording)
        .where(Recording.session_id == session_id, Recording.instance_id == instance_id)
        .order_by(Recording.created_at.desc())
        .limit(1)
    )


def list_for_session(db: Session, session_id: uuid.UUID) -> Sequence[Recording]:
    return db.scalars(
        select(Recording)
        .where(Recording.session_id == session_id)
        .order_by(Recording.started_at.desc().nulls_last(), Recording.id)
    ).all()


def ids_for_session(db: Session, session_id: uuid.UUID) -> list[str]:
    return list(db.scalars(select(Recording.id).where(Recording.session_id == session_id)).all())


def session_of(db: Session, recording_id: str) -> uuid.UUID | None:
    return db.scalar(select(Recording.session_id).where(Recording.id == recording_id))

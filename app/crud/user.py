import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.user import User, UserRole


def get_by_id(db: Session, user_id: uuid.UUID) -> User | None:
    return db.get(User, user_id)


def get_by_email(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == email.lower()))


def create(
    db: Session, *, email: str, full_name: str, hashed_password: str, role: UserRole
) -> User:
    user = User(
        email=email.lower(), full_name=full_name, hashed_password=hashed_password, role=role
    )
    db.add(user)
    db.flush()
    return user

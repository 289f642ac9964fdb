"""Every model, imported so `Base.metadata` is complete for Alembic."""

from app.models.user import User, UserRole

__all__ = ["User", "UserRole"]

"""recordings, session recording mode and screen sharer

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:20:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Existing sessions keep recording off; nobody shares a screen by invitation yet."""
    op.add_column(
        "sessions",
        sa.Column(
            "recording",
            sa.Enum(
                "off",
                "manual",
                "automatic",
                name="recording_mode",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="off",
            nullable=False,
        ),
    )
    op.add_column("sessions", sa.Column("screen_sharer_id", sa.Uuid(), nullable=True))
    op.add_column(
        "sessions", sa.Column("screen_sharer_daily_id", sa.String(length=64), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_sessions_screen_sharer_id_users"),
        "sessions",
        "users",
        ["screen_sharer_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "recording",
                "ready",
                "failed",
                name="recording_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("instance_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_recordings_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    op.create_index(
        "ix_recordings_session_id_started_at", "recordings", ["session_id", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_recordings_session_id_started_at", table_name="recordings")
    op.drop_table("recordings")
    op.drop_constraint(op.f("fk_sessions_screen_sharer_id_users"), "sessions", type_="foreignkey")
    op.drop_column("sessions", "screen_sharer_daily_id")
    op.drop_column("sessions", "screen_sharer_id")
    op.drop_column("sessions", "recording")

"""drop sessions.seats_taken

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 22:10:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: Union[str, Sequence[str], None] = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Seats are counted from the participant rows again: one hot counter row cost
    PostgreSQL more per join than the count it saved (bench/RESULTS.md)."""
    op.drop_constraint("ck_sessions_seats_taken_non_negative", "sessions", type_="check")
    op.drop_column("sessions", "seats_taken")


def downgrade() -> None:
    """0004's column again, filled from the seats held now."""
    op.add_column(
        "sessions",
        sa.Column("seats_taken", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.create_check_constraint(
        "ck_sessions_seats_taken_non_negative", "sessions", "seats_taken >= 0"
    )
    op.execute(
        "UPDATE sessions SET seats_taken = ("
        " SELECT count(*) FROM session_participants p"
        " WHERE p.session_id = sessions.id AND p.role = 'student' AND p.removed_at IS NULL)"
    )

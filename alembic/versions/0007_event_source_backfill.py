"""event source 'backfill'

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:50:00

"""

from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_CHECK = "ck_session_events_event_source"


def upgrade() -> None:
    """Presence read back from Daily's `/meetings` (webhooks it never delivered) is logged
    with its own source, so the log tells what Daily pushed from what we fetched."""
    op.drop_constraint(op.f(_CHECK), "session_events", type_="check")
    op.create_check_constraint(
        op.f(_CHECK), "session_events", "source IN ('api', 'webhook', 'backfill')"
    )


def downgrade() -> None:
    op.execute("DELETE FROM session_events WHERE source = 'backfill'")
    op.drop_constraint(op.f(_CHECK), "session_events", type_="check")
    op.create_check_constraint(op.f(_CHECK), "session_events", "source IN ('api', 'webhook')")

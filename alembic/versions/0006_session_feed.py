"""session feed: event positions, NOTIFY, feed tickets

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

# Kept in step with app/models/event.py (FEED_CHANNEL) and docs/feed.md.
_POSITION_FUNCTION = """
CREATE FUNCTION session_event_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sessions SET last_event_position = last_event_position + 1
     WHERE id = NEW.session_id
    RETURNING last_event_position INTO NEW.position;
    PERFORM pg_notify('session_events', NEW.session_id::text || ' ' || NEW.position::text);
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    """Every event gets its position in its session's log, and is announced on commit.

    The position is taken by incrementing the session row's counter: that UPDATE locks the
    row until the transaction ends, so a session's events commit in position order and a
    reader that sees position n has seen every position before it (no gap at a feed's seam).
    The NOTIFY is sent in the same transaction, so nothing is announced that did not commit.
    """
    op.add_column(
        "sessions",
        sa.Column(
            "last_event_position", sa.BigInteger(), server_default=sa.text("0"), nullable=False
        ),
    )
    op.add_column("session_events", sa.Column("position", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE session_events e SET position = numbered.position FROM ("
        " SELECT id, row_number() OVER (PARTITION BY session_id ORDER BY occurred_at, id) AS position"
        " FROM session_events) numbered WHERE numbered.id = e.id"
    )
    op.execute(
        "UPDATE sessions s SET last_event_position = counted.last FROM ("
        " SELECT session_id, max(position) AS last FROM session_events GROUP BY session_id) counted"
        " WHERE counted.session_id = s.id"
    )
    op.alter_column("session_events", "position", nullable=False)
    op.create_unique_constraint(
        "uq_session_events_session_id_position", "session_events", ["session_id", "position"]
    )
    op.execute(_POSITION_FUNCTION)
    op.execute(
        "CREATE TRIGGER session_events_position BEFORE INSERT ON session_events"
        " FOR EACH ROW EXECUTE FUNCTION session_event_position()"
    )
    op.create_table(
        "feed_tickets",
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_feed_tickets_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_feed_tickets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_hash", name=op.f("pk_feed_tickets")),
    )
    op.create_index("ix_feed_tickets_user_id_expires_at", "feed_tickets", ["user_id", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_feed_tickets_user_id_expires_at", table_name="feed_tickets")
    op.drop_table("feed_tickets")
    op.execute("DROP TRIGGER session_events_position ON session_events")
    op.execute("DROP FUNCTION session_event_position()")
    op.drop_constraint("uq_session_events_session_id_position", "session_events", type_="unique")
    op.drop_column("session_events", "position")
    op.drop_column("sessions", "last_event_position")

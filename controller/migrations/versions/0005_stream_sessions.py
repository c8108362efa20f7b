"""stream sessions, stream deliveries and their events, gaps

Revision ID: 0005
Revises: 0003

"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("mount", sa.String(length=80), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("end_reason", sa.String(length=200), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_stream_sessions_created_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_sessions")),
        sa.UniqueConstraint("mount", name=op.f("uq_stream_sessions_mount")),
    )
    with op.batch_alter_table("stream_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_sessions_origin_id"), ["origin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stream_sessions_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_stream_sessions_until"), ["until"], unique=False)

    op.create_table(
        "stream_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.String(length=63), nullable=False),
        sa.Column("command_id", sa.String(length=80), nullable=False),
        sa.Column("stop_command_id", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_seen", sa.Boolean(), nullable=False),
        sa.Column("stop_wanted", sa.Boolean(), nullable=False),
        sa.Column("stop_sends", sa.Integer(), nullable=False),
        sa.Column("stop_last_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listener_client", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["stream_sessions.id"],
            name=op.f("fk_stream_deliveries_session_id_stream_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"], ["speakers.id"], name=op.f("fk_stream_deliveries_speaker_id_speakers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_deliveries")),
        sa.UniqueConstraint("command_id", name=op.f("uq_stream_deliveries_command_id")),
        sa.UniqueConstraint("stop_command_id", name=op.f("uq_stream_deliveries_stop_command_id")),
    )
    with op.batch_alter_table("stream_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_deliveries_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stream_deliveries_speaker_id"), ["speaker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stream_deliveries_state"), ["state"], unique=False)

    op.create_table(
        "stream_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["stream_sessions.id"], name=op.f("fk_stream_gaps_session_id_stream_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_gaps")),
    )
    with op.batch_alter_table("stream_gaps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_gaps_session_id"), ["session_id"], unique=False)

    op.create_table(
        "stream_delivery_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["stream_deliveries.id"],
            name=op.f("fk_stream_delivery_events_delivery_id_stream_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_delivery_events")),
    )
    with op.batch_alter_table("stream_delivery_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_delivery_events_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stream_delivery_events_delivery_id"), ["delivery_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stream_delivery_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_delivery_events_delivery_id"))
        batch_op.drop_index(batch_op.f("ix_stream_delivery_events_at"))

    op.drop_table("stream_delivery_events")
    with op.batch_alter_table("stream_gaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_gaps_session_id"))

    op.drop_table("stream_gaps")
    with op.batch_alter_table("stream_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_deliveries_state"))
        batch_op.drop_index(batch_op.f("ix_stream_deliveries_speaker_id"))
        batch_op.drop_index(batch_op.f("ix_stream_deliveries_session_id"))

    op.drop_table("stream_deliveries")
    with op.batch_alter_table("stream_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_sessions_until"))
        batch_op.drop_index(batch_op.f("ix_stream_sessions_state"))
        batch_op.drop_index(batch_op.f("ix_stream_sessions_origin_id"))

    op.drop_table("stream_sessions")

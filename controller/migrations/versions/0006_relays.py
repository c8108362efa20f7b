"""tiếp sóng: stream sources, relays, the relay log, and scheduled relays

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("backup_url", sa.String(length=1000), nullable=True),
        sa.Column("format_name", sa.String(length=80), nullable=True),
        sa.Column("codec", sa.String(length=40), nullable=True),
        sa.Column("bitrate", sa.Integer(), nullable=True),
        sa.Column("probe_error", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"],
                                name=op.f("fk_stream_sources_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_stream_sources_name")),
    )
    op.create_table(
        "relays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("speakers", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("on_backup", sa.Boolean(), nullable=False),
        sa.Column("fed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occurrence_key", sa.String(length=120), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["stream_sources.id"],
                                name=op.f("fk_relays_source_id_stream_sources")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_relays_created_by_users")),
        sa.ForeignKeyConstraint(["session_id"], ["stream_sessions.id"],
                                name=op.f("fk_relays_session_id_stream_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relays")),
        sa.UniqueConstraint("occurrence_key", name=op.f("uq_relays_occurrence_key")),
    )
    with op.batch_alter_table("relays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relays_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_relays_until"), ["until"], unique=False)
        batch_op.create_index(batch_op.f("ix_relays_state"), ["state"], unique=False)
    op.create_table(
        "relay_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relay_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["relay_id"], ["relays.id"], name=op.f("fk_relay_events_relay_id_relays")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relay_events")),
    )
    with op.batch_alter_table("relay_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_relay_events_relay_id"), ["relay_id"], unique=False)
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relay_source_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("relay_duration_s", sa.Integer(), nullable=True))
        batch_op.alter_column("announcement_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f("fk_schedules_relay_source_id_stream_sources"),
                                    "stream_sources", ["relay_source_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_schedules_relay_source_id_stream_sources"),
                                 type_="foreignkey")
        batch_op.alter_column("announcement_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("relay_duration_s")
        batch_op.drop_column("relay_source_id")
    with op.batch_alter_table("relay_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relay_events_relay_id"))
    op.drop_table("relay_events")
    with op.batch_alter_table("relays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relays_state"))
        batch_op.drop_index(batch_op.f("ix_relays_until"))
        batch_op.drop_index(batch_op.f("ix_relays_source_id"))
    op.drop_table("relays")
    op.drop_table("stream_sources")

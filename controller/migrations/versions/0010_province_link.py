"""province link: upward outbox and bulletins received from the province

Revision ID: 0010
Revises: 0009

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("speaker_id", sa.String(length=63), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["delivery_id"], ["deliveries.id"],
                                name=op.f("fk_province_outbox_delivery_id_deliveries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_outbox")),
        sa.UniqueConstraint("record_key", name=op.f("uq_province_outbox_record_key")),
    )
    op.create_index(op.f("ix_province_outbox_speaker_id"), "province_outbox", ["speaker_id"])
    op.create_index(op.f("ix_province_outbox_created_at"), "province_outbox", ["created_at"])
    op.create_index(op.f("ix_province_outbox_sent_at"), "province_outbox", ["sent_at"])
    op.create_table(
        "province_bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("field", sa.Integer(), nullable=True),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("schedule_ids", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"],
                                name=op.f("fk_province_bulletins_announcement_id_announcements")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_bulletins")),
        sa.UniqueConstraint("bulletin_id", name=op.f("uq_province_bulletins_bulletin_id")),
    )


def downgrade() -> None:
    op.drop_table("province_bulletins")
    op.drop_index(op.f("ix_province_outbox_sent_at"), table_name="province_outbox")
    op.drop_index(op.f("ix_province_outbox_created_at"), table_name="province_outbox")
    op.drop_index(op.f("ix_province_outbox_speaker_id"), table_name="province_outbox")
    op.drop_table("province_outbox")

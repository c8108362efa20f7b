"""agent updates over the air: releases, rollout targets, attempts

Revision ID: 0009
Revises: 0011

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_releases")),
        sa.UniqueConstraint("version", name=op.f("uq_agent_releases_version")),
    )
    op.create_table(
        "update_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hamlet_id", sa.Integer(), nullable=True),
        sa.Column("speaker_id", sa.String(length=63), nullable=True),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hamlet_id"], ["hamlets.id"],
                                name=op.f("fk_update_targets_hamlet_id_hamlets")),
        sa.ForeignKeyConstraint(["speaker_id"], ["speakers.id"],
                                name=op.f("fk_update_targets_speaker_id_speakers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_targets")),
        sa.UniqueConstraint("hamlet_id", "speaker_id", name="uq_update_targets_scope"),
    )
    op.create_table(
        "update_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command_id", sa.String(length=80), nullable=False),
        sa.Column("speaker_id", sa.String(length=63), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("from_version", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["speaker_id"], ["speakers.id"],
                                name=op.f("fk_update_attempts_speaker_id_speakers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_update_attempts")),
        sa.UniqueConstraint("command_id", name=op.f("uq_update_attempts_command_id")),
    )
    with op.batch_alter_table("update_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_update_attempts_speaker_id"), ["speaker_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("update_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_update_attempts_speaker_id"))
    op.drop_table("update_attempts")
    op.drop_table("update_targets")
    op.drop_table("agent_releases")

"""users limited to hamlets (areas), server-side session generation, schedule change requests

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("areas", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), nullable=False,
                                      server_default="0"))
    with op.batch_alter_table("broadcast_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("schedule_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_broadcast_requests_schedule_id_schedules"),
                                    "schedules", ["schedule_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("broadcast_requests", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_broadcast_requests_schedule_id_schedules"),
                                 type_="foreignkey")
        batch_op.drop_column("schedule_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
        batch_op.drop_column("areas")

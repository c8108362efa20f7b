"""CAP alerts: the alert log, hamlet areas (polygon, geocodes) and feed polling state

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('alert_feeds',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('etag', sa.String(length=255), nullable=True),
    sa.Column('last_modified', sa.String(length=80), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('seen', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_alert_feeds'))
    )
    op.create_table('hamlet_areas',
    sa.Column('hamlet_id', sa.Integer(), nullable=False),
    sa.Column('polygon', sa.JSON(), nullable=True),
    sa.Column('geocodes', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hamlet_id'], ['hamlets.id'], name=op.f('fk_hamlet_areas_hamlet_id_hamlets')),
    sa.PrimaryKeyConstraint('hamlet_id', name=op.f('pk_hamlet_areas'))
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('identifier', sa.String(length=255), nullable=True),
    sa.Column('sender', sa.String(length=255), nullable=True),
    sa.Column('sent', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=True),
    sa.Column('msg_type', sa.String(length=20), nullable=True),
    sa.Column('event', sa.String(length=255), nullable=True),
    sa.Column('headline', sa.String(length=500), nullable=True),
    sa.Column('language', sa.String(length=20), nullable=True),
    sa.Column('severity', sa.String(length=20), nullable=True),
    sa.Column('urgency', sa.String(length=20), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('areas', sa.JSON(), nullable=False),
    sa.Column('matched_hamlets', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('broadcast_ids', sa.JSON(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('announcement_id', sa.Integer(), nullable=True),
    sa.Column('refers_to', sa.Integer(), nullable=True),
    sa.Column('raw_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['announcement_id'], ['announcements.id'], name=op.f('fk_alerts_announcement_id_announcements')),
    sa.ForeignKeyConstraint(['refers_to'], ['alerts.id'], name=op.f('fk_alerts_refers_to_alerts')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_alerts_schedule_id_schedules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_announcement_id'), ['announcement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_identifier'), ['identifier'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_received_at'), ['received_at'], unique=False)


def downgrade() -> None:

    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_received_at'))
        batch_op.drop_index(batch_op.f('ix_alerts_identifier'))
        batch_op.drop_index(batch_op.f('ix_alerts_announcement_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_action'))

    op.drop_table('alerts')
    op.drop_table('hamlet_areas')
    op.drop_table('alert_feeds')


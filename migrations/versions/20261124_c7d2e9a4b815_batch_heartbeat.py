"""batch heartbeat

certificate_batches.heartbeat_at: the bulk-issuing job's last sign of life, so a batch whose
worker was killed is seen as stalled and can be resumed instead of showing "running" forever.

Revision ID: c7d2e9a4b815
Revises: 8b3e6eb1d14c
Create Date: 2026-11-24 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c7d2e9a4b815'
down_revision = '8b3e6eb1d14c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('certificate_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('certificate_batches', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')

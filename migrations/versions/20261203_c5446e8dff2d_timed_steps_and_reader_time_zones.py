"""timed steps and reader time zones

timed_steps: one row per timed step (core.steps), with its lease and when it last ran, so that
any number of runners run each step once. users.timezone: the zone a user reads times in;
empty means their role's default.

Revision ID: c5446e8dff2d
Revises: 3d51008410bc
Create Date: 2026-12-03 08:37:15.632089

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5446e8dff2d'
down_revision = '3d51008410bc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('timed_steps',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_ok_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('last_result', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_timed_steps'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')

    op.drop_table('timed_steps')

"""page cache generation

cache_generation: one row, bumped by every transaction that writes, so the pages each app
server keeps rendered (course_portal.core.pagecache) know when they are stale. The row is
created by the first write (INSERT ... ON CONFLICT), so an empty table is correct too.

Revision ID: 7082003f2788
Revises: c7d2e9a4b815
Create Date: 2026-12-01 21:54:35.288379

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7082003f2788'
down_revision = 'c7d2e9a4b815'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'cache_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cache_generation')),
    )


def downgrade():
    op.drop_table('cache_generation')

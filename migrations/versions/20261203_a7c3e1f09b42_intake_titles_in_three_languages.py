"""intake titles in three languages

intakes.title_zh and intakes.title_ru: an intake's title in Chinese and Russian beside the
English one (intakes.title). Existing intakes get empty titles through the server default, so
every page keeps showing the English title until a coordinator gives the others.

Revision ID: a7c3e1f09b42
Revises: 9c4e7a1d2b6f
Create Date: 2026-12-03 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e1f09b42'
down_revision = '9c4e7a1d2b6f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('title_zh', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(
            sa.Column('title_ru', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_column('title_ru')
        batch_op.drop_column('title_zh')

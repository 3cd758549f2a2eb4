"""reminders, seat confirmation, calendar feeds

sent_reminders: one row per reminder sent, unique by kind, recipient and subject, so none is
sent twice. intakes.confirm_within_days and applications.confirm_by / confirmed_at: the seat an
approved teacher confirms. users.calendar_token: the secret of a teacher's private calendar
feed; users.wants_reminders: the optional reminders are wanted (on for everyone).

Revision ID: ef98ced0d466
Revises: c5446e8dff2d
Create Date: 2026-12-03 08:52:47.541378

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'ef98ced0d466'
down_revision = 'c5446e8dff2d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sent_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_sent_reminders_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_reminders')),
    sa.UniqueConstraint('kind', 'recipient_id', 'key', name=op.f('uq_sent_reminders_kind_recipient_id_key'))
    )
    with op.batch_alter_table('sent_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_reminders_recipient_id'), ['recipient_id'], unique=False)

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirm_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirm_within_days', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'confirm_within_days_positive', 'confirm_within_days IS NULL OR confirm_within_days > 0')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('wants_reminders', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_users_calendar_token'), ['calendar_token'])


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_calendar_token'), type_='unique')
        batch_op.drop_column('wants_reminders')
        batch_op.drop_column('calendar_token')

    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_intakes_confirm_within_days_positive'), type_='check')
        batch_op.drop_column('confirm_within_days')

    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirm_by')

    with op.batch_alter_table('sent_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_reminders_recipient_id'))

    op.drop_table('sent_reminders')

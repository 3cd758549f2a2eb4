"""certificates officials accept

The issuing organisation (one row, seeded with SPbPU's legal names) and the signatories;
the form of study and the delivery of each intake (delivery copied from the programme's mode);
what the federal register of education documents needs of a teacher; and each certificate's
frozen register data. Existing certificates keep their PDF byte for byte: nothing here touches
certificates.pdf or certificates.snapshot.

Revision ID: 3d51008410bc
Revises: b70a3e67143f
Create Date: 2026-12-03 08:04:50.808095

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3d51008410bc'
down_revision = 'b70a3e67143f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issuing_organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name_ru', sa.String(length=500), nullable=False),
    sa.Column('full_name_en', sa.String(length=500), nullable=False),
    sa.Column('full_name_zh', sa.String(length=500), nullable=False),
    sa.Column('city_ru', sa.String(length=100), nullable=False),
    sa.Column('city_en', sa.String(length=100), nullable=False),
    sa.Column('city_zh', sa.String(length=100), nullable=False),
    sa.Column('seal_png', sa.LargeBinary(), nullable=True),
    sa.Column('seal_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuing_organisation'))
    )
    op.create_table('signatories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('rector', 'director', 'secretary', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('institute_id', sa.Integer(), nullable=True),
    sa.Column('slot', sa.String(length=40), nullable=False),
    sa.Column('name_ru', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('position_ru', sa.String(length=300), nullable=False),
    sa.Column('position_en', sa.String(length=300), nullable=False),
    sa.Column('position_zh', sa.String(length=300), nullable=False),
    sa.Column('authority_ru', sa.String(length=300), nullable=False),
    sa.Column('authority_en', sa.String(length=300), nullable=False),
    sa.Column('authority_zh', sa.String(length=300), nullable=False),
    sa.Column('signature_png', sa.LargeBinary(), nullable=True),
    sa.Column('signature_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'director') = (institute_id IS NOT NULL)", name=op.f('ck_signatories_director_has_institute')),
    sa.ForeignKeyConstraint(['institute_id'], ['institutes.id'], name=op.f('fk_signatories_institute_id_institutes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatories')),
    sa.UniqueConstraint('slot', name=op.f('uq_signatories_slot'))
    )
    with op.batch_alter_table('signatories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signatories_institute_id'), ['institute_id'], unique=False)

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_data', sa.JSON(), server_default='{}',
                                      nullable=False))
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.alter_column('register_data', server_default=None)

    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('study_form', sa.Enum('full_time', 'part_time', 'extramural', name='study_form', native_enum=False, create_constraint=True, length=20), server_default='full_time', nullable=False))
        batch_op.add_column(sa.Column('delivery', sa.Enum('online', 'blended', 'on_site', name='delivery', native_enum=False, create_constraint=True, length=20), server_default='online', nullable=False))

    with op.batch_alter_table('teacher_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sex', sa.Enum('male', 'female', name='sex', native_enum=False, create_constraint=True, length=10), nullable=True))
        batch_op.add_column(sa.Column('citizenship', sa.String(length=2), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('education_level', sa.Enum('higher', 'secondary_vocational', name='education_level', native_enum=False, create_constraint=True, length=30), nullable=True))
        batch_op.add_column(sa.Column('snils', sa.String(length=14), server_default='',
                                      nullable=False))
    with op.batch_alter_table('teacher_profiles', schema=None) as batch_op:
        batch_op.alter_column('citizenship', server_default=None)
        batch_op.alter_column('snils', server_default=None)

    # an intake is taught as its programme is, until a coordinator says otherwise
    op.execute("UPDATE intakes SET delivery = (SELECT programs.mode FROM programs "
               "WHERE programs.id = intakes.program_id)")

    organisation = sa.table(
        'issuing_organisation',
        *(sa.column(name) for name in (
            'id', 'full_name_ru', 'full_name_en', 'full_name_zh', 'city_ru', 'city_en', 'city_zh',
            'seal_sha256', 'created_at', 'updated_at')),
    )
    now = datetime.now(UTC)
    op.bulk_insert(organisation, [{
        'id': 1,
        'full_name_ru': 'ФГАОУ ВО «Санкт-Петербургский политехнический университет Петра Великого»',
        'full_name_en': 'Peter the Great St. Petersburg Polytechnic University',
        'full_name_zh': '彼得大帝圣彼得堡理工大学',
        'city_ru': 'Санкт-Петербург', 'city_en': 'Saint Petersburg', 'city_zh': '圣彼得堡',
        'seal_sha256': '', 'created_at': now, 'updated_at': now,
    }])


def downgrade():
    # the enum columns' CHECKs go first: SQLite's table copy would keep them otherwise
    with op.batch_alter_table('teacher_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_teacher_profiles_education_level'), type_='check')
        batch_op.drop_constraint(op.f('ck_teacher_profiles_sex'), type_='check')
        batch_op.drop_column('snils')
        batch_op.drop_column('education_level')
        batch_op.drop_column('citizenship')
        batch_op.drop_column('sex')

    with op.batch_alter_table('intakes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_intakes_delivery'), type_='check')
        batch_op.drop_constraint(op.f('ck_intakes_study_form'), type_='check')
        batch_op.drop_column('delivery')
        batch_op.drop_column('study_form')

    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_column('register_data')

    with op.batch_alter_table('signatories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signatories_institute_id'))

    op.drop_table('signatories')
    op.drop_table('issuing_organisation')

"""outcomes: check-in schedule per booked loan and the check-in answers (append-only)

Revision ID: outcomes_2026_12
Revises: collections_2026_12
Create Date: 2026-12-04 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'outcomes_2026_12'
down_revision = 'collections_2026_12'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('check_in_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('milestone', sa.String(length=10), nullable=False),
    sa.Column('months', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('state_since', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('upcoming', 'due', 'overdue', 'missed', 'answered')", name=op.f('ck_check_in_schedule_state_known')),
    sa.CheckConstraint("(milestone = 'payoff' AND months IS NULL) OR (milestone <> 'payoff' AND months BETWEEN 1 AND 240)", name=op.f('ck_check_in_schedule_milestone_months')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_check_in_schedule_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_schedule')),
    sa.UniqueConstraint('loan_id', 'milestone', name='uq_check_in_schedule_loan_milestone')
    )
    with op.batch_alter_table('check_in_schedule', schema=None) as batch_op:
        batch_op.create_index('ix_check_in_schedule_state_due_on', ['state', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_in_schedule_loan_id'), ['loan_id'], unique=False)

    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('employed', sa.Boolean(), nullable=False),
    sa.Column('employer_id', sa.Integer(), nullable=True),
    sa.Column('employer_other', sa.String(length=200), nullable=False),
    sa.Column('hourly_wage', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('hours_per_week', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('started_job', sa.Boolean(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('commute', sa.String(length=20), nullable=True),
    sa.Column('car_running', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idempotency_key', sa.String(length=220), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("source IN ('self_report', 'officer_call', 'employer_confirmation', 'pay_stub')", name=op.f('ck_check_ins_source_known')),
    sa.CheckConstraint("commute IS NULL OR commute IN ('car', 'other_car', 'ride', 'bus', 'walk_bike', 'other')", name=op.f('ck_check_ins_commute_known')),
    sa.CheckConstraint('hourly_wage IS NULL OR (hourly_wage >= 0 AND hourly_wage <= 200)', name=op.f('ck_check_ins_hourly_wage_range')),
    sa.CheckConstraint('hours_per_week IS NULL OR (hours_per_week >= 0 AND hours_per_week <= 80)', name=op.f('ck_check_ins_hours_range')),
    sa.CheckConstraint("(employed AND hourly_wage IS NOT NULL AND hours_per_week IS NOT NULL) OR (NOT employed AND hourly_wage IS NULL AND hours_per_week IS NULL AND employer_id IS NULL AND employer_other = '')", name=op.f('ck_check_ins_employment_facts')),
    sa.CheckConstraint('started_on IS NULL OR started_job', name=op.f('ck_check_ins_started_on_when_started')),
    sa.ForeignKeyConstraint(['schedule_id'], ['check_in_schedule.id'], name=op.f('fk_check_ins_schedule_id_check_in_schedule')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_check_ins_loan_id_loans')),
    sa.ForeignKeyConstraint(['corrects_id'], ['check_ins.id'], name=op.f('fk_check_ins_corrects_id_check_ins')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_check_ins_employer_id_employers')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_check_ins_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins')),
    sa.UniqueConstraint('corrects_id', name=op.f('uq_check_ins_corrects_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_check_ins_idempotency_key'))
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_ins_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_ins_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ux_check_ins_first_answer', ['schedule_id'], unique=True, postgresql_where=sa.text('corrects_id IS NULL'), sqlite_where=sa.text('corrects_id IS NULL'))

    # Answers are append-only: on PostgreSQL the database itself refuses UPDATE and DELETE (the
    # audit trail's trigger function).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "CREATE TRIGGER check_ins_append_only BEFORE UPDATE OR DELETE ON check_ins "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only_row()"
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS check_ins_append_only ON check_ins")
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index('ux_check_ins_first_answer', postgresql_where=sa.text('corrects_id IS NULL'), sqlite_where=sa.text('corrects_id IS NULL'))
        batch_op.drop_index(batch_op.f('ix_check_ins_loan_id'))
        batch_op.drop_index(batch_op.f('ix_check_ins_schedule_id'))
    op.drop_table('check_ins')
    with op.batch_alter_table('check_in_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_schedule_loan_id'))
        batch_op.drop_index('ix_check_in_schedule_state_due_on')
    op.drop_table('check_in_schedule')

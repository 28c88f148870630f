"""speed: each live loan's position on each month end, for the past-date delinquency report

Revision ID: speed_2026_12
Revises: hardening_2026_12
Create Date: 2026-12-04 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'speed_2026_12'
down_revision = 'hardening_2026_12'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('loan_month_end_positions',
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.Column('credited', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('principal_balance', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.CheckConstraint('days_past_due >= 0', name=op.f('ck_loan_month_end_positions_days_past_due_not_negative')),
    sa.CheckConstraint('credited >= 0 AND principal_balance >= 0', name=op.f('ck_loan_month_end_positions_amounts_not_negative')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_month_end_positions_loan_id_loans')),
    sa.PrimaryKeyConstraint('loan_id', 'as_of', name=op.f('pk_loan_month_end_positions'))
    )
    with op.batch_alter_table('loan_month_end_positions', schema=None) as batch_op:
        batch_op.create_index('ix_loan_month_end_positions_as_of', ['as_of'], unique=False)


def downgrade():
    with op.batch_alter_table('loan_month_end_positions', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_month_end_positions_as_of')

    op.drop_table('loan_month_end_positions')

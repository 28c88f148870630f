"""seams: closing adjustments at maturity (small-balance write-off, refund due), reversals entered in
error, and payments' fees counted toward installments (issue #11)

Revision ID: seams_2026_12
Revises: 35ff286560fc
Create Date: 2026-12-04 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'seams_2026_12'
down_revision = '35ff286560fc'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('loan_adjustments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('to_fees', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('to_interest', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('to_principal', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('write_off', 'refund_due')", name=op.f('ck_loan_adjustments_kind_known')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_loan_adjustments_amount_positive')),
    sa.CheckConstraint('to_fees >= 0 AND to_interest >= 0 AND to_principal >= 0', name=op.f('ck_loan_adjustments_parts_not_negative')),
    sa.CheckConstraint("(kind = 'refund_due' AND payment_id IS NOT NULL) OR (kind = 'write_off' AND payment_id IS NULL)", name=op.f('ck_loan_adjustments_refund_links_payment')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.id'], name=op.f('fk_loan_adjustments_loan_id_loans')),
    sa.ForeignKeyConstraint(['payment_id'], ['loan_payments.id'], name=op.f('fk_loan_adjustments_payment_id_loan_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_adjustments')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_loan_adjustments_payment_id'))
    )
    with op.batch_alter_table('loan_adjustments', schema=None) as batch_op:
        batch_op.create_index('ix_loan_adjustments_loan_effective', ['loan_id', 'effective_on'], unique=False)

    with op.batch_alter_table('loan_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_in_error', sa.Boolean(), server_default=sa.text('false'), nullable=False))

    # What pays installments now counts the part of a payment applied to fees (no late-fee
    # pyramiding): the running total of every stored allocation is recomputed.
    op.execute(
        "UPDATE payment_allocations SET credited_after = (SELECT SUM(b.to_fees + b.to_interest + b.to_principal) "
        "FROM payment_allocations b WHERE b.loan_id = payment_allocations.loan_id "
        "AND b.sequence <= payment_allocations.sequence)"
    )


def downgrade():
    op.execute(
        "UPDATE payment_allocations SET credited_after = (SELECT SUM(b.to_interest + b.to_principal) "
        "FROM payment_allocations b WHERE b.loan_id = payment_allocations.loan_id "
        "AND b.sequence <= payment_allocations.sequence)"
    )
    with op.batch_alter_table('loan_payments', schema=None) as batch_op:
        batch_op.drop_column('entered_in_error')

    with op.batch_alter_table('loan_adjustments', schema=None) as batch_op:
        batch_op.drop_index('ix_loan_adjustments_loan_effective')

    op.drop_table('loan_adjustments')

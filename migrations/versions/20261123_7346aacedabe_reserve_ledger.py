"""reserve ledger

Revision ID: 7346aacedabe
Revises: 99d0fc848e27
Create Date: 2026-11-23 18:27:38.009006

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7346aacedabe'
down_revision = '99d0fc848e27'
branch_labels = None
depends_on = None


# PostgreSQL enforces the ledger's append-only rule and month closes in the database itself
# (a copy of reserve.schema.postgres_ddl() at the time of this revision: migrations are frozen).
POSTGRES_DDL = [
    "CREATE OR REPLACE FUNCTION reserve_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    RAISE EXCEPTION USING\n        MESSAGE = 'reserve ledger is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME\n            || ' refused; post a reversal instead';\nEND\n$$",
    "CREATE OR REPLACE FUNCTION reserve_claim_guard() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'UPDATE' THEN\n        RAISE EXCEPTION USING MESSAGE = 'reserve claims are never deleted: ' || TG_OP || ' refused';\n    END IF;\n    IF (to_jsonb(NEW) - 'status') IS DISTINCT FROM (to_jsonb(OLD) - 'status') THEN\n        RAISE EXCEPTION USING MESSAGE = 'only the status of a reserve claim changes after filing';\n    END IF;\n    IF NOT ((OLD.status = 'pending' AND NEW.status IN ('paid', 'rejected'))\n            OR (OLD.status = 'paid' AND NEW.status = 'pending')) THEN\n        RAISE EXCEPTION USING MESSAGE = 'illegal reserve claim move ' || OLD.status || ' -> ' || NEW.status;\n    END IF;\n    RETURN NEW;\nEND\n$$",
    "CREATE OR REPLACE FUNCTION reserve_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    IF TG_OP <> 'UPDATE' THEN\n        RAISE EXCEPTION USING MESSAGE = 'the reserve ledger row is never removed: ' || TG_OP || ' refused';\n    END IF;\n    IF OLD.closed_through IS NOT NULL\n       AND (NEW.closed_through IS NULL OR NEW.closed_through < OLD.closed_through) THEN\n        RAISE EXCEPTION USING MESSAGE = 'a closed reserve month cannot be reopened';\n    END IF;\n    RETURN NEW;\nEND\n$$",
    "CREATE OR REPLACE FUNCTION reserve_open_month_only() RETURNS trigger LANGUAGE plpgsql AS $$\nDECLARE\n    through date;\n    dated date;\nBEGIN\n    SELECT closed_through INTO through FROM reserve_ledger WHERE id = 1;\n    IF TG_TABLE_NAME = 'reserve_claim_event' THEN\n        dated := NEW.on_date;\n    ELSE\n        dated := NEW.effective_date;\n    END IF;\n    IF through IS NOT NULL AND dated <= through THEN\n        RAISE EXCEPTION USING MESSAGE = 'reserve month closed: ' || TG_TABLE_NAME || ' dated ' || dated\n            || ' is not after ' || through;\n    END IF;\n    RETURN NEW;\nEND\n$$",
    'CREATE TRIGGER reserve_account_append_only BEFORE UPDATE OR DELETE ON reserve_account FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_transaction_append_only BEFORE UPDATE OR DELETE ON reserve_transaction FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_posting_append_only BEFORE UPDATE OR DELETE ON reserve_posting FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_claim_event_append_only BEFORE UPDATE OR DELETE ON reserve_claim_event FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_request_append_only BEFORE UPDATE OR DELETE ON reserve_request FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_month_close_append_only BEFORE UPDATE OR DELETE ON reserve_month_close FOR EACH ROW EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_claim_guard BEFORE UPDATE OR DELETE ON reserve_claim FOR EACH ROW EXECUTE FUNCTION reserve_claim_guard()',
    'CREATE TRIGGER reserve_ledger_guard BEFORE UPDATE OR DELETE ON reserve_ledger FOR EACH ROW EXECUTE FUNCTION reserve_ledger_guard()',
    'CREATE TRIGGER reserve_account_no_truncate BEFORE TRUNCATE ON reserve_account FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_transaction_no_truncate BEFORE TRUNCATE ON reserve_transaction FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_posting_no_truncate BEFORE TRUNCATE ON reserve_posting FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_claim_event_no_truncate BEFORE TRUNCATE ON reserve_claim_event FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_request_no_truncate BEFORE TRUNCATE ON reserve_request FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_month_close_no_truncate BEFORE TRUNCATE ON reserve_month_close FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_claim_no_truncate BEFORE TRUNCATE ON reserve_claim FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_ledger_no_truncate BEFORE TRUNCATE ON reserve_ledger FOR EACH STATEMENT EXECUTE FUNCTION reserve_refuse_change()',
    'CREATE TRIGGER reserve_transaction_open_month BEFORE INSERT ON reserve_transaction FOR EACH ROW EXECUTE FUNCTION reserve_open_month_only()',
    'CREATE TRIGGER reserve_claim_event_open_month BEFORE INSERT ON reserve_claim_event FOR EACH ROW EXECUTE FUNCTION reserve_open_month_only()',
]
POSTGRES_DROP_DDL = [
    'DROP TRIGGER IF EXISTS reserve_claim_event_open_month ON reserve_claim_event',
    'DROP TRIGGER IF EXISTS reserve_transaction_open_month ON reserve_transaction',
    'DROP TRIGGER IF EXISTS reserve_ledger_no_truncate ON reserve_ledger',
    'DROP TRIGGER IF EXISTS reserve_claim_no_truncate ON reserve_claim',
    'DROP TRIGGER IF EXISTS reserve_month_close_no_truncate ON reserve_month_close',
    'DROP TRIGGER IF EXISTS reserve_request_no_truncate ON reserve_request',
    'DROP TRIGGER IF EXISTS reserve_claim_event_no_truncate ON reserve_claim_event',
    'DROP TRIGGER IF EXISTS reserve_posting_no_truncate ON reserve_posting',
    'DROP TRIGGER IF EXISTS reserve_transaction_no_truncate ON reserve_transaction',
    'DROP TRIGGER IF EXISTS reserve_account_no_truncate ON reserve_account',
    'DROP TRIGGER IF EXISTS reserve_ledger_guard ON reserve_ledger',
    'DROP TRIGGER IF EXISTS reserve_claim_guard ON reserve_claim',
    'DROP TRIGGER IF EXISTS reserve_month_close_append_only ON reserve_month_close',
    'DROP TRIGGER IF EXISTS reserve_request_append_only ON reserve_request',
    'DROP TRIGGER IF EXISTS reserve_claim_event_append_only ON reserve_claim_event',
    'DROP TRIGGER IF EXISTS reserve_posting_append_only ON reserve_posting',
    'DROP TRIGGER IF EXISTS reserve_transaction_append_only ON reserve_transaction',
    'DROP TRIGGER IF EXISTS reserve_account_append_only ON reserve_account',
    'DROP FUNCTION IF EXISTS reserve_open_month_only()',
    'DROP FUNCTION IF EXISTS reserve_ledger_guard()',
    'DROP FUNCTION IF EXISTS reserve_claim_guard()',
    'DROP FUNCTION IF EXISTS reserve_refuse_change()',
]

def upgrade():
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('reserve_account',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('loan_id', sa.BigInteger(), nullable=True, comment="the app's loan id (no FK)"),
    sa.Column('funder', sa.String(length=120), nullable=True),
    sa.Column('grant_name', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'committed' AND loan_id IS NOT NULL) OR (kind <> 'committed' AND loan_id IS NULL)", name=op.f('ck_reserve_account_loan_only_on_commitment')),
    sa.CheckConstraint("(kind = 'grant_funding' AND funder IS NOT NULL AND grant_name IS NOT NULL) OR (kind <> 'grant_funding' AND funder IS NULL AND grant_name IS NULL)", name=op.f('ck_reserve_account_funder_only_on_grant')),
    sa.CheckConstraint("kind IN ('grant_funding', 'available', 'committed', 'claims_paid', 'recoveries', 'interest')", name=op.f('ck_reserve_account_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_account')),
    sa.UniqueConstraint('code', name=op.f('uq_reserve_account_code')),
    sa.UniqueConstraint('funder', 'grant_name', name=op.f('uq_reserve_account_funder')),
    sa.UniqueConstraint('loan_id', name=op.f('uq_reserve_account_loan_id'))
    )
    op.create_table('reserve_claim',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('loan_id', sa.BigInteger(), nullable=False, comment="the app's loan id (no FK)"),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('charged_off_on', sa.Date(), nullable=False),
    sa.Column('balance_at_charge_off_cents', sa.BigInteger(), nullable=False),
    sa.Column('allowed_costs_cents', sa.BigInteger(), nullable=False),
    sa.Column('collateral_proceeds_cents', sa.BigInteger(), nullable=False),
    sa.Column('loss_cents', sa.BigInteger(), nullable=False),
    sa.Column('filed_by', sa.Integer(), nullable=False, comment='app user id of the officer (no FK)'),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'paid', 'rejected')", name=op.f('ck_reserve_claim_status')),
    sa.CheckConstraint('allowed_costs_cents >= 0', name=op.f('ck_reserve_claim_costs_not_negative')),
    sa.CheckConstraint('balance_at_charge_off_cents >= 0', name=op.f('ck_reserve_claim_balance_not_negative')),
    sa.CheckConstraint('collateral_proceeds_cents >= 0', name=op.f('ck_reserve_claim_proceeds_not_negative')),
    sa.CheckConstraint('loss_cents = balance_at_charge_off_cents + allowed_costs_cents - collateral_proceeds_cents', name=op.f('ck_reserve_claim_loss_formula')),
    sa.CheckConstraint('loss_cents > 0', name=op.f('ck_reserve_claim_loss_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_claim'))
    )
    with op.batch_alter_table('reserve_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserve_claim_loan_id'), ['loan_id'], unique=False)
        batch_op.create_index('ux_reserve_claim_open_loan', ['loan_id'], unique=True, postgresql_where=sa.text("status IN ('pending', 'paid')"), sqlite_where=sa.text("status IN ('pending', 'paid')"))

    op.create_table('reserve_ledger',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('closed_through', sa.Date(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_reserve_ledger_singleton')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_ledger'))
    )
    op.create_table('reserve_month_close',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('month', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('closed_through', sa.Date(), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=False, comment='app user id (no FK: lives in the app)'),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_reserve_month_close_month')),
    sa.PrimaryKeyConstraint('year', 'month', name=op.f('pk_reserve_month_close')),
    sa.UniqueConstraint('closed_through', name=op.f('uq_reserve_month_close_closed_through'))
    )
    op.create_table('reserve_daily_total',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('net_cents', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['reserve_account.id'], name=op.f('fk_reserve_daily_total_account_id_reserve_account')),
    sa.PrimaryKeyConstraint('account_id', 'day', name=op.f('pk_reserve_daily_total'))
    )
    op.create_table('reserve_monthly_total',
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.Date(), nullable=False, comment='first day of the month'),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('net_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('deposit', 'commitment', 'release', 'claim_payment', 'recovery', 'interest', 'reversal')", name=op.f('ck_reserve_monthly_total_kind')),
    sa.ForeignKeyConstraint(['account_id'], ['reserve_account.id'], name=op.f('fk_reserve_monthly_total_account_id_reserve_account')),
    sa.PrimaryKeyConstraint('account_id', 'month', 'kind', name=op.f('pk_reserve_monthly_total'))
    )
    op.create_table('reserve_transaction',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False, comment='app user id (no FK)'),
    sa.Column('memo', sa.Text(), nullable=False),
    sa.Column('loan_id', sa.BigInteger(), nullable=True, comment="the app's loan id (no FK)"),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("(kind = 'reversal' AND reverses_id IS NOT NULL) OR (kind <> 'reversal' AND reverses_id IS NULL)", name=op.f('ck_reserve_transaction_reversal_links')),
    sa.CheckConstraint("kind IN ('deposit', 'commitment', 'release', 'claim_payment', 'recovery', 'interest', 'reversal')", name=op.f('ck_reserve_transaction_kind')),
    sa.CheckConstraint('reverses_id IS NULL OR reverses_id < id', name=op.f('ck_reserve_transaction_reverses_earlier')),
    sa.ForeignKeyConstraint(['claim_id'], ['reserve_claim.id'], name=op.f('fk_reserve_transaction_claim_id_reserve_claim')),
    sa.ForeignKeyConstraint(['reverses_id'], ['reserve_transaction.id'], name=op.f('fk_reserve_transaction_reverses_id_reserve_transaction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_transaction')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_reserve_transaction_reverses_id'))
    )
    with op.batch_alter_table('reserve_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserve_transaction_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_reserve_transaction_effective', ['effective_date', 'id'], unique=False)
        batch_op.create_index('ix_reserve_transaction_kind_effective', ['kind', 'effective_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_reserve_transaction_loan_id'), ['loan_id'], unique=False)

    op.create_table('reserve_claim_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False, comment="the claim's status after this event"),
    sa.Column('on_date', sa.Date(), nullable=False, comment='business date of the event'),
    sa.Column('actor_id', sa.Integer(), nullable=False, comment='app user id (no FK)'),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment='payment (paid) or its reversal (payment_reversed)'),
    sa.Column('release_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment="release of what the loan's commitment had left"),
    sa.Column('pending_delta_cents', sa.BigInteger(), nullable=False, comment='+loss entering pending, -loss leaving it: claims pending as of D = sum up to D'),
    sa.Column('cap_cents', sa.BigInteger(), nullable=True),
    sa.Column('paid_cents', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('filed', 'paid', 'rejected', 'payment_reversed')", name=op.f('ck_reserve_claim_event_kind')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'rejected')", name=op.f('ck_reserve_claim_event_status')),
    sa.CheckConstraint('cap_cents IS NULL OR cap_cents >= 0', name=op.f('ck_reserve_claim_event_cap_not_negative')),
    sa.CheckConstraint('paid_cents IS NULL OR (paid_cents > 0 AND paid_cents <= cap_cents)', name=op.f('ck_reserve_claim_event_paid_within_cap')),
    sa.ForeignKeyConstraint(['claim_id'], ['reserve_claim.id'], name=op.f('fk_reserve_claim_event_claim_id_reserve_claim')),
    sa.ForeignKeyConstraint(['release_transaction_id'], ['reserve_transaction.id'], name=op.f('fk_reserve_claim_event_release_transaction')),
    sa.ForeignKeyConstraint(['transaction_id'], ['reserve_transaction.id'], name=op.f('fk_reserve_claim_event_transaction_id_reserve_transaction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_claim_event'))
    )
    with op.batch_alter_table('reserve_claim_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reserve_claim_event_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_reserve_claim_event_on_date', ['on_date'], unique=False)

    op.create_table('reserve_posting',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_cents <> 0', name=op.f('ck_reserve_posting_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['reserve_account.id'], name=op.f('fk_reserve_posting_account_id_reserve_account')),
    sa.ForeignKeyConstraint(['transaction_id'], ['reserve_transaction.id'], name=op.f('fk_reserve_posting_transaction_id_reserve_transaction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_posting'))
    )
    with op.batch_alter_table('reserve_posting', schema=None) as batch_op:
        batch_op.create_index('ix_reserve_posting_account', ['account_id', 'transaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reserve_posting_transaction_id'), ['transaction_id'], unique=False)

    op.create_table('reserve_request',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False, comment='app user id (no FK)'),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('claim_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['reserve_claim.id'], name=op.f('fk_reserve_request_claim_id_reserve_claim')),
    sa.ForeignKeyConstraint(['transaction_id'], ['reserve_transaction.id'], name=op.f('fk_reserve_request_transaction_id_reserve_transaction')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_reserve_request'))
    )
    # ### end Alembic commands ###
    op.create_index("ix_reserve_account_kind", "reserve_account", ["kind"])
    op.create_index("ix_reserve_claim_status", "reserve_claim", ["status"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DDL:
            op.execute(sa.text(statement))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_DROP_DDL:
            op.execute(sa.text(statement))
    op.drop_index("ix_reserve_claim_status", table_name="reserve_claim")
    op.drop_index("ix_reserve_account_kind", table_name="reserve_account")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table('reserve_request')
    with op.batch_alter_table('reserve_posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reserve_posting_transaction_id'))
        batch_op.drop_index('ix_reserve_posting_account')

    op.drop_table('reserve_posting')
    with op.batch_alter_table('reserve_claim_event', schema=None) as batch_op:
        batch_op.drop_index('ix_reserve_claim_event_on_date')
        batch_op.drop_index(batch_op.f('ix_reserve_claim_event_claim_id'))

    op.drop_table('reserve_claim_event')
    with op.batch_alter_table('reserve_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reserve_transaction_loan_id'))
        batch_op.drop_index('ix_reserve_transaction_kind_effective')
        batch_op.drop_index('ix_reserve_transaction_effective')
        batch_op.drop_index(batch_op.f('ix_reserve_transaction_claim_id'))

    op.drop_table('reserve_transaction')
    op.drop_table('reserve_monthly_total')
    op.drop_table('reserve_daily_total')
    op.drop_table('reserve_month_close')
    op.drop_table('reserve_ledger')
    with op.batch_alter_table('reserve_claim', schema=None) as batch_op:
        batch_op.drop_index('ux_reserve_claim_open_loan', postgresql_where=sa.text("status IN ('pending', 'paid')"), sqlite_where=sa.text("status IN ('pending', 'paid')"))
        batch_op.drop_index(batch_op.f('ix_reserve_claim_loan_id'))

    op.drop_table('reserve_claim')
    op.drop_table('reserve_account')
    # ### end Alembic commands ###

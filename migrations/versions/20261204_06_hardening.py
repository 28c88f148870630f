"""hardening: itemised claim costs, session generations, token expiry, append-only payments and audit

- reserve_claim.cost_items: the allowed costs one by one (JSON), summing to allowed_costs.
- api_tokens.expires_at: tokens end.
- PostgreSQL: payments, payment allocations and audit events refuse UPDATE/DELETE/TRUNCATE like the
  reserve tables (corrections are reversals).

Revision ID: hardening_2026_12
Revises: funder_2026_12
Create Date: 2026-12-04 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'hardening_2026_12'
down_revision = 'funder_2026_12'
branch_labels = None
depends_on = None


# Every table whose rows are never changed: UPDATE, DELETE and TRUNCATE refused by the database (the
# reserve's own tables have had this from the start). Corrections are reversals: a payment is reversed
# by a new row, an audit event is never rewritten.
APPEND_ONLY = ("loan_payments",)
# Already refusing UPDATE and DELETE row by row, but TRUNCATE (a statement, not a row) went through.
NO_TRUNCATE = (
    "audit_events",
    "loan_payments",
    "payment_allocations",
    "projection_assumption_sets",
)
# Derived data the backdated-payment replay rebuilds by DELETE and INSERT: never updated in place.
NO_UPDATE = ("payment_allocations",)


def _postgres_upgrade():
    bind = op.get_bind()
    # Tables other work made append-only with the shared function also get the TRUNCATE guard.
    others = [
        row[0]
        for row in bind.execute(
            sa.text(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_proc p ON p.oid = t.tgfoid "
                "WHERE p.proname = 'refuse_change_of_append_only_row' AND NOT t.tgisinternal "
                "AND c.relnamespace = to_regnamespace(current_schema())"
            )
        )
    ]
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only_row()"
        )
    for table in NO_UPDATE:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_change_of_append_only_row()"
        )
    for table in sorted({*NO_TRUNCATE, *others}):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_of_append_only_row()"
        )


def _postgres_downgrade():
    bind = op.get_bind()
    for table, name in bind.execute(
        sa.text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE '%\\_no\\_truncate' AND c.relname NOT LIKE 'reserve\\_%' "
            "AND c.relnamespace = to_regnamespace(current_schema())"
        )
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for table in NO_UPDATE:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


def upgrade():
    op.add_column("reserve_claim", sa.Column("cost_items", sa.Text(), server_default="[]", nullable=False))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _postgres_downgrade()
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("reserve_claim") as batch:
        batch.drop_column("cost_items")

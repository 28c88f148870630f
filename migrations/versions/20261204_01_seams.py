"""seams: schema changes of the seams work (filled in by that work; empty until then)

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
    pass


def downgrade():
    pass

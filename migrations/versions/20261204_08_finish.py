"""finish: schema changes of the finish work (filled in by that work; empty until then)

Revision ID: finish_2026_12
Revises: speed_2026_12
Create Date: 2026-12-04 04:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'finish_2026_12'
down_revision = 'speed_2026_12'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

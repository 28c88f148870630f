"""Every table the app knows, imported in one place so Alembic and the app see the same schema."""

from __future__ import annotations

from sqlalchemy import MetaData

from loanapp.accounts import models as accounts_models  # noqa: F401
from loanapp.applications import models as applications_models  # noqa: F401
from loanapp.audit import models as audit_models  # noqa: F401
from loanapp.collections import models as collections_models  # noqa: F401
from loanapp.extensions import db
from loanapp.jobs import models as jobs_models  # noqa: F401
from loanapp.loans import models as loans_models  # noqa: F401
from loanapp.notices import models as notices_models  # noqa: F401
from loanapp.outcomes import models as outcomes_models  # noqa: F401
from loanapp.programs import models as programs_models  # noqa: F401
from loanapp.projections import models as projections_models  # noqa: F401
from loanapp.recovery import models as recovery_models  # noqa: F401
from loanapp.servicing import models as servicing_models  # noqa: F401
from reserve import schema as reserve_schema


def all_metadata() -> list[MetaData]:
    """The app's tables and the reserve ledger's, which live on reserve/'s own MetaData (no Flask there)."""
    return [db.metadata, reserve_schema.metadata]

"""The job-run history page (Work Train staff and admins)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from loanapp.access import roles
from loanapp.extensions import db
from loanapp.jobs import registry
from loanapp.jobs.models import JobRun

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
PER_PAGE = 50


@bp.route("")
@roles("staff", "admin")
def history():  # type: ignore[no-untyped-def]
    known = registry.jobs()
    job = request.args.get("job") if request.args.get("job") in known else None
    page = max(1, request.args.get("page", 1, type=int) or 1)
    query = select(JobRun)
    if job:
        query = query.where(JobRun.job == job)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    runs = db.session.scalars(
        query.order_by(JobRun.business_date.desc(), JobRun.job).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    last = {
        name: db.session.scalar(
            select(JobRun).where(JobRun.job == name).order_by(JobRun.business_date.desc()).limit(1)
        )
        for name in known
    }
    return render_template(
        "jobs/history.html",
        runs=runs,
        jobs=known,
        job=job,
        last=last,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
    )

"""``/api/v1/projections``: ask for a risk projection of the reserve and read projection runs.

Staff and admins only (a bearer token to ask for one). A small request runs at once (200 with the
result); a bigger one is queued (202, ``Location`` of the run to poll). Bad input is 422 with
``{"errors": {field: [...]}}`` (assumptions as ``assumptions.<name>``) and writes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask.views import MethodView
from flask_smorest import abort

from loanapp.access import request_user, roles
from loanapp.api.core import api_blueprint
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.projections import runs, worker
from loanapp.projections.assumptions import AssumptionErrors
from loanapp.projections.documents import API_PATH, run_document
from loanapp.projections.schemas import (
    SIZE_SETTINGS,
    ProjectionLatestQuerySchema,
    ProjectionRequestSchema,
    ProjectionRunSchema,
    setting_of,
)
from risk.rollrate import ProjectionError

blp = api_blueprint(
    "projections_api",
    __name__,
    API_PATH.removeprefix("/api/v1"),
    "Risk projections of the loan-loss reserve: Monte Carlo bands, scenarios, exhaustion probability.",
)

INVALID = "Some fields are not valid."


def _assumption_field(name: str) -> str:
    """Where a setting sits in the request: paths and horizon_months at the top, the rest (and any
    unknown name, which came from there) under ``assumptions``."""
    return name if name in SIZE_SETTINGS else f"assumptions.{name}"


def _model_field(field: str) -> str:
    """A refusal of the model named as the request's field (``scenario``, ``transition_matrix``...)."""
    setting = setting_of(field)
    return field if setting is None else _assumption_field(setting)


def _refuse(errors: dict[str, list[str]]) -> None:
    db.session.rollback()
    abort(422, message=INVALID, errors=errors)


@blp.route("")
class Projections(MethodView):
    @roles("staff", "admin")
    @blp.arguments(ProjectionRequestSchema, required=False)
    @blp.response(
        200, ProjectionRunSchema, description="Small enough to run at once: the run and its result."
    )
    @blp.alt_response(
        202,
        schema=ProjectionRunSchema,
        description="Queued: poll the run at `Location` until its status is succeeded or failed.",
        headers={"Location": {"description": "The run.", "schema": {"type": "string"}}},
        success=True,
    )
    def post(self, body: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Project the reserve with the saved assumptions and these changes (all optional)."""
        overrides = dict(body["assumptions"])
        overrides.update({name: body[name] for name in SIZE_SETTINGS if body[name] is not None})
        request_ = runs.ProjectionRequest(
            scenario=body["scenario"],
            seed=body["seed"],
            overrides=overrides,
            transition_matrix=body["transition_matrix"],
            stressed_matrix=body["stressed_matrix"],
        )
        try:
            run = runs.submit(request_, as_of=business_date(), actor=request_user(), source="api")
        except AssumptionErrors as exc:
            _refuse({_assumption_field(name): messages for name, messages in exc.errors.items()})
        except ProjectionError as exc:
            _refuse({_model_field(exc.field): [exc.message]})
        db.session.commit()
        if run.status == "queued":
            worker.dispatch(run.id)
            return (
                run_document(run),
                202,
                {"Location": url_for("projections_api.ProjectionItem", run_id=run.id)},
            )
        return run_document(run)


@blp.route("/latest")
class LatestProjection(MethodView):
    @roles("staff", "admin")
    @blp.arguments(ProjectionLatestQuerySchema, location="query")
    @blp.response(200, ProjectionRunSchema)
    @blp.alt_response(404, description="No projection has succeeded yet.")
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The newest projection that succeeded (requested or monthly snapshot, or only one kind)."""
        run = runs.latest(args["kind"])
        if run is not None:
            return run_document(run)
        what = {"request": "requested projection", "snapshot": "monthly snapshot"}.get(
            args["kind"], "projection"
        )
        abort(404, message=f"No {what} has succeeded yet.")


@blp.route("/<int:run_id>")
class ProjectionItem(MethodView):
    @roles("staff", "admin")
    @blp.response(200, ProjectionRunSchema)
    @blp.alt_response(404, description="No such projection.")
    def get(self, run_id: int):  # type: ignore[no-untyped-def]
        """One projection run: its status and progress while queued or running, its result when done."""
        run = runs.get(run_id)
        if run is not None:
            return run_document(run)
        abort(404, message="No such projection.")

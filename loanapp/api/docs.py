"""The OpenAPI document and a docs page rendered on the server, so it works with no outside assets."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from loanapp.access import public
from loanapp.extensions import api

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.route("/openapi.json")
@public
def openapi_json():  # type: ignore[no-untyped-def]
    return jsonify(api.spec.to_dict())


@bp.route("/docs")
@public
def docs():  # type: ignore[no-untyped-def]
    spec = api.spec.to_dict()
    return render_template("api/docs.html", spec=spec, schemas=spec.get("components", {}).get("schemas", {}))

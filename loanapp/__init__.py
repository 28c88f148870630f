"""The Car Buyer Program web service: ``create_app`` builds it in named steps."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from loanapp import config
from loanapp.jsonio import ExactJSONProvider

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder="static",
    )
    app.json = ExactJSONProvider(app)
    config.load(app, test_config)
    if app.config["TRUSTED_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    os.makedirs(app.instance_path, exist_ok=True)
    register_extensions(app)
    from loanapp.security import BoundedIntConverter

    app.url_map.converters["int"] = BoundedIntConverter  # before any route is added
    register_blueprints(app)
    register_request_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from loanapp import i18n
    from loanapp.db import configure_sqlite
    from loanapp.extensions import api, babel, csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, default_translation_directories="translations")
    login_manager.init_app(app)
    api.init_app(app)

    from loanapp import models  # noqa: F401  (every table registered before anything queries)
    from loanapp.accounts.models import User
    from loanapp.audit.trail import subscribe
    from loanapp.notices.events import on_audit_event

    subscribe(on_audit_event)  # notices are queued in the transaction of the event that causes them

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # "id:generation": a session from before a password reset names an older generation.
        ident, _, generation = user_id.partition(":")
        if not ident.isdigit() or not generation.isdigit():
            return None
        user = db.session.get(User, int(ident))
        return user if user is not None and user.session_generation == int(generation) else None


def register_blueprints(app: Flask) -> None:
    from loanapp.accounts.admin import bp as admin_bp
    from loanapp.accounts.views import bp as accounts_bp
    from loanapp.api.docs import bp as api_docs_bp
    from loanapp.api.views import blp as api_me_blp
    from loanapp.applications.api import blp as applications_api_blp
    from loanapp.applications.routes import bp as applications_bp
    from loanapp.collections.api import blp as collections_api_blp
    from loanapp.collections.views import bp as collections_bp
    from loanapp.extensions import api, csrf
    from loanapp.funder.views import bp as funder_bp
    from loanapp.home.views import bp as home_bp
    from loanapp.jobs.views import bp as jobs_bp
    from loanapp.loans.api import blp as loans_api_blp
    from loanapp.loans.views import bp as loans_bp
    from loanapp.notices.views import bp as notices_bp
    from loanapp.notices.views import sms_inbound
    from loanapp.outcomes.api import blp as outcomes_api_blp
    from loanapp.outcomes.views import bp as outcomes_bp
    from loanapp.outcomes.worker import bp as outcomes_worker_bp
    from loanapp.portal.views import bp as portal_bp
    from loanapp.projections.api import blp as projections_api_blp
    from loanapp.projections.views import bp as projections_bp
    from loanapp.quotes.views import blp as quotes_blp
    from loanapp.quotes.views import bp as quotes_bp
    from loanapp.recovery.views import bp as recovery_bp
    from loanapp.reports.views import bp as reports_bp
    from loanapp.reserve_admin.api import blp as reserve_blp
    from loanapp.reserve_admin.views import bp as reserve_bp
    from loanapp.servicing.api import blp as servicing_api_blp
    from loanapp.servicing.views import bp as servicing_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_docs_bp)
    app.register_blueprint(quotes_bp)
    app.register_blueprint(reserve_bp)
    app.register_blueprint(funder_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(loans_bp)
    app.register_blueprint(servicing_bp)
    app.register_blueprint(collections_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(jobs_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(projections_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(recovery_bp)
    csrf.exempt(sms_inbound)  # the SMS provider signs its requests (X-Twilio-Signature) instead
    app.register_blueprint(outcomes_bp)
    app.register_blueprint(outcomes_worker_bp)
    for blueprint in (
        api_me_blp,
        quotes_blp,
        reserve_blp,
        applications_api_blp,
        loans_api_blp,
        servicing_api_blp,
        collections_api_blp,
        projections_api_blp,
        outcomes_api_blp,
    ):
        # JSON writes authenticate with bearer tokens only (see api.core), so CSRF tokens do not apply.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    api.document_access()


def register_request_hooks(app: Flask) -> None:
    from loanapp import access, security
    from loanapp.api.core import load_bearer_user

    app.before_request(security.refuse_nul_bytes)
    app.before_request(load_bearer_user)
    app.before_request(access.enforce)
    app.after_request(security.add_headers)


def register_errorhandlers(app: Flask) -> None:
    from loanapp import errors

    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from loanapp import formatting, i18n, navigation
    from loanapp.notices.views import register_template_helpers as notices_helpers

    app.context_processor(i18n.template_context)
    formatting.register(app)
    navigation.register(app)
    notices_helpers(app)


def register_commands(app: Flask) -> None:
    from loanapp import commands
    from loanapp.projections.commands import project_command

    commands.register(app)
    app.cli.add_command(project_command)

"""Configuration: defaults in code, overrides from ``LOANAPP_*`` environment variables, tests pass a dict.

``DATABASE_URL`` names the database (PostgreSQL in production); without it the app uses a SQLite file
in the instance folder so a fresh clone runs with nothing else installed.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

DEV_SECRET_KEY = "dev-only-not-secret"
ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_BYTES = 32


class Defaults:
    ENV = "development"  # development, test or production (anything else refuses to start)
    # Reverse proxies (load balancers) in front of the app that set X-Forwarded-For/-Proto/-Host:
    # 0 trusts none (the client's address is the socket's); N trusts the last N hops (Werkzeug ProxyFix).
    TRUSTED_PROXY_HOPS = 0
    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (served over TLS)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8  # an officer's working day
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024  # uploads are limited per file below; this caps a request

    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ["en", "es"]
    BABEL_DEFAULT_TIMEZONE = "America/New_York"
    TIMEZONE = "America/New_York"

    # Login throttling (stored in the database so every web process sees the same count).
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_ADDRESS = 30
    # Growing delays instead of a lock: LOGIN_DELAY_SECONDS after the limit, doubling per failure up
    # to LOGIN_MAX_DELAY_SECONDS; an account's failures from all addresses wait at most
    # LOGIN_ACCOUNT_MAX_DELAY_SECONDS, so strangers cannot keep its owner out.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 20
    LOGIN_DELAY_SECONDS = 30
    LOGIN_MAX_DELAY_SECONDS = 15 * 60
    LOGIN_ACCOUNT_MAX_DELAY_SECONDS = 60

    # Bearer tokens of the API expire (create-token --days, the tokens page); revoked at any time.
    API_TOKEN_DAYS = 90
    API_TOKEN_MAX_DAYS = 366

    # JSON API and its OpenAPI document (flask-smorest).
    API_TITLE = "Car Buyer Program API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"

    # Program limits for quotes and applications (the credit union's product sheet).
    LOAN_MIN_AMOUNT = Decimal("1000.00")
    LOAN_MAX_AMOUNT = Decimal("30000.00")
    LOAN_MIN_TERM_MONTHS = 12
    LOAN_MAX_TERM_MONTHS = 84
    LOAN_MIN_RATE = Decimal("0.00")
    LOAN_MAX_RATE = Decimal("18.00")
    LOAN_MAX_PREPAID_FINANCE_CHARGE = Decimal("500.00")  # loan fees paid at closing
    # Loan-loss reserve policy (reserve.ReservePolicy): share of principal committed at booking; claims
    # paid up to a share of the loss and optionally an amount; pooled = claims may draw on available.
    RESERVE_COMMITMENT_SHARE = Decimal("0.15")
    RESERVE_CLAIM_CAP_SHARE = Decimal("1.00")
    RESERVE_CLAIM_CAP_AMOUNT: Decimal | None = None
    RESERVE_POOLED = True
    # Bounds on one reserve posting (422 beyond them) and the dates postings may carry: from
    # RESERVE_MAX_BACKDATE_DAYS before the business date to RESERVE_MAX_FUTURE_DAYS after it.
    RESERVE_MAX_DEPOSIT = Decimal("5000000.00")
    RESERVE_MAX_INTEREST = Decimal("100000.00")
    RESERVE_MAX_CLAIM = Decimal("100000.00")
    RESERVE_MAX_RECOVERY = Decimal("100000.00")
    RESERVE_CLAIM_MAX_ALLOWED_COSTS = Decimal("5000.00")  # a claim's itemised collection costs, together
    RESERVE_MAX_BACKDATE_DAYS = 366
    RESERVE_MAX_FUTURE_DAYS = 0

    # The rate a worker's own estimate uses; the officer sets the actual rate in the decision.
    QUOTE_STANDARD_RATE = Decimal("8.99")

    # Applications: uploads (stored outside the web root; default <instance>/uploads), drafts,
    # employment verification, and the program's underwriting rules (they flag; the officer decides).
    UPLOAD_FOLDER: str | None = None
    UPLOAD_MAX_BYTES = 5 * 1024 * 1024
    APPLICATION_DRAFT_DAYS = 30
    APPLICATION_QUEUE_PAGE_SIZE = 25
    VERIFICATION_VALID_DAYS = 30  # an older verification must be redone before booking
    UNDERWRITING_MIN_HOURS_PER_WEEK = Decimal("20")
    UNDERWRITING_MAX_PTI = Decimal("20.00")  # percent of monthly gross income
    UNDERWRITING_MAX_DTI = Decimal("50.00")
    UNDERWRITING_MAX_LTV = Decimal("120.00")
    UNDERWRITING_MIN_MONTHLY_INCOME = Decimal("1500.00")
    # By vehicle, newest first: [max age in years, max mileage, max amount, max term in months].
    UNDERWRITING_VEHICLE_TIERS: list[list[Any]] = [
        [4, 60000, "25000.00", 72],
        [8, 100000, "18000.00", 60],
        [12, 150000, "12000.00", 48],
        [99, 10000000, "8000.00", 36],
    ]

    # Servicing (loanapp.servicing): payments, delinquency, charge-off.
    # A shortfall up to this much does not make an installment unpaid (days past due).
    DELINQUENCY_TOLERANCE = Decimal("5.00")
    # [label, lower bound in days past due]: the program's buckets, and the credit-union call report's
    # (NCUA 5300; a loan under 30 days is in no call-report bucket).
    DELINQUENCY_BUCKETS: list[list[Any]] = [
        ["current", 0],
        ["1-29", 1],
        ["30-59", 30],
        ["60-89", 60],
        ["90-119", 90],
        ["120+", 120],
    ]
    CALL_REPORT_BUCKETS: list[list[Any]] = [
        ["30-59", 30],
        ["60-89", 60],
        ["90-179", 90],
        ["180-359", 180],
        ["360+", 360],
    ]
    # A residual owed of at most this much on or after the maturity date is written off as a small
    # balance and the loan pays off; more is billed (issue #11: daily interest vs the schedule).
    MATURITY_RESIDUAL_TOLERANCE = Decimal("5.00")
    CHARGE_OFF_DAYS = 120  # the credit union's board sets it (FFIEC retail policy: 120 for closed-end)
    LATE_FEES_ENABLED = False
    LATE_FEE_AMOUNT = Decimal("15.00")
    LATE_FEE_GRACE_DAYS = 10  # a fee is assessed this many days after an installment's due date
    PAYMENT_MAX_FUTURE_DAYS = 0  # a payment is received on or before the business date
    PAYOFF_QUOTE_MAX_DAYS = 30
    # Collections (loanapp/collections): a promise is kept when payments cover it by its date plus
    # the grace days; the worklist shows plans whose first payment falls within PLAN_ENDING_DAYS.
    COLLECTIONS_PROMISE_GRACE_DAYS = 3
    COLLECTIONS_PROMISE_MAX_DAYS = 45  # how far ahead a promise may be dated
    COLLECTIONS_PAGE_SIZE = 50
    COLLECTIONS_PLAN_ENDING_DAYS = 7
    # Hardship plans: limits per loan over a rolling 12 months, and the re-age qualifying run.
    HARDSHIP_MAX_DEFERRAL_INSTALLMENTS = 3
    HARDSHIP_MAX_DEFERRALS_PER_YEAR = 2
    HARDSHIP_MAX_DUE_DAY_CHANGES_PER_YEAR = 1
    HARDSHIP_MAX_REAMORTIZATIONS_PER_YEAR = 1
    HARDSHIP_MAX_REAGES_PER_YEAR = 1
    REAGE_MIN_ON_TIME_PAYMENTS = 3  # consecutive months, each with at least one scheduled payment
    PAYMENT_IMPORT_MAX_ROWS = 50000
    # Scheduled jobs (``flask --app loanapp scheduler``): cron expressions in JOBS_TIMEZONE.
    JOBS: dict[str, str] = {
        "aging": "0 2 * * *",
        "reserve_check": "45 2 * * *",
        "delinquency_snapshot": "0 3 1 * *",
        "projection_snapshot": "0 4 1 * *",
        "check_ins": "30 2 * * *",
    }
    JOBS_TIMEZONE = "America/New_York"
    JOB_LOCK_SECONDS = 6 * 60 * 60  # SQLite lock rows older than this are taken over (a crashed run)

    # Risk projections of the reserve (loanapp.projections). The assumptions' defaults, until staff
    # save their own version on the projection page (shares 0..1, money in dollars).
    PROJECTION_ASSUMPTIONS: dict[str, Any] = {
        "recovery_rate": "0.35",
        "layoff_probability": "0.05",
        "layoff_months": 6,
        "stress_multiplier": "3",
        "roll_rate_multiplier": "1",
        "originations_per_month": 4,
        "origination_amount": "12000.00",
        "origination_rate": "8.99",
        "origination_term_months": 60,
        "grant_deposits_per_month": "0.00",
        "grant_target_probability": "0.05",
        "grant_by_months": 3,
        "parameter_draws": 20,
        "history_months": 0,
        "paths": 10000,
        "horizon_months": 36,
    }
    PROJECTION_MAX_PATHS = 100_000  # more paths are refused (422)
    PROJECTION_MAX_WORK = 5_000_000_000  # paths x loan groups x months; beyond it a request is refused
    # Requests up to this many paths x months x scenarios are answered at once; bigger ones are
    # queued (202 and a run id) and run by a worker thread of the web process or the scheduler.
    PROJECTION_INLINE_MAX_WORK = 400_000
    # Paths of the monthly snapshot (None: the assumptions' own); the demo takes its snapshots with fewer.
    PROJECTION_SNAPSHOT_PATHS: int | None = None
    # "thread": the web process runs queued projections; "off": only the scheduler's sweep does.
    PROJECTION_WORKER = "thread"
    # Ceilings of one run, estimated before it starts from every input that scales it (paths, months,
    # roll-rate draws, the book's loan classes, scenarios; risk.projection.model.estimate_cost):
    # beyond them the request is refused with 422. A web process runs one projection at a time;
    # requests estimated above PROJECTION_INLINE_MAX_BYTES are queued, and one user has at most
    # PROJECTION_MAX_QUEUED_PER_USER runs waiting or running.
    PROJECTION_MAX_MEMORY_BYTES = 1536 * 2**20
    PROJECTION_MAX_SECONDS = 15 * 60
    PROJECTION_INLINE_MAX_BYTES = 256 * 2**20
    PROJECTION_MAX_QUEUED_PER_USER = 3

    # Notices to workers (loanapp.notices). "outbox": development; messages stay in the outbox viewer
    # (/admin/outbox) and the log. "live": the sender job delivers by SMTP and the SMS provider.
    NOTICES_TRANSPORT = "outbox"
    NOTICES_INTERVAL_SECONDS = 60  # the scheduler runs the sender job this often
    NOTICES_MAX_ATTEMPTS = 8  # with the backoff below, a provider down for about four hours
    NOTICES_RETRY_SECONDS = 60  # the wait after the first failed try; doubles each time, at most an hour
    NOTICES_BATCH_SIZE = 200
    NOTICES_SENDING_TIMEOUT_SECONDS = 15 * 60  # a claim older than this belongs to a sender that died
    NOTICES_DUE_DAYS: list[int] = [5, 1]  # "payment due in N days" reminders
    NOTICES_MISSED_DAYS: list[int] = [1, 10, 30]  # "payment missed" at these days past due
    PUBLIC_URL = "http://127.0.0.1:5000"  # links in messages
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Cooperative Federal Car Loans <carloans@coopfed.org>"
    MAIL_TIMEOUT = 10
    # SMS in the shape of Twilio's Messages API:
    # POST {SMS_API_URL}/2010-04-01/Accounts/{SMS_ACCOUNT_SID}/Messages.json (To, From, Body; basic auth).
    SMS_API_URL = "https://api.twilio.com"
    SMS_ACCOUNT_SID = ""
    SMS_AUTH_TOKEN = ""
    SMS_FROM = ""
    SMS_TIMEOUT = 10
    # No SMS from 21:00 to 08:00 in this time zone (held until the morning), except sign-in codes.
    SMS_QUIET_HOURS: list[str] = ["21:00", "08:00", "America/New_York"]
    # Password recovery.
    PASSWORD_RESET_LINK_SECONDS = 60 * 60
    PASSWORD_RESET_CODE_SECONDS = 10 * 60
    PASSWORD_RESET_CODE_TRIES = 5
    PASSWORD_RESET_MAX_PER_HOUR = 3  # per email or phone number
    PASSWORD_RESET_MAX_PER_ADDRESS = 20  # per network address and hour
    WELCOME_LINK_SECONDS = 7 * 24 * 60 * 60  # a new staff account's set-your-password link

    # The program's contact details and how to pay, shown on worker pages and in messages.
    CREDIT_UNION_NAME = "Cooperative Federal"
    CREDIT_UNION_ADDRESS = "723 Westcott Street, Syracuse, NY 13210"
    CREDIT_UNION_PHONE = "+13154761500"
    # Texts people read are given per language (a plain string is used for every language).
    CREDIT_UNION_HOURS: dict[str, str] | str = {
        "en": "Mon-Fri 9:00-17:00, Sat 9:00-12:00",
        "es": "lun-vie 9:00-17:00, sáb 9:00-12:00",
    }
    HOW_TO_PAY: dict[str, dict[str, str]] = {
        "en": {
            "branch": "723 Westcott Street, Syracuse, NY 13210",
            "mail": "Cooperative Federal, Loan Payments, 723 Westcott Street, Syracuse, NY 13210",
            "ach": "Routing number 221375623; your loan number as the account",
            "payroll": "Ask your employer's payroll office for the Car Buyer Program deduction form",
        },
        "es": {
            "branch": "723 Westcott Street, Syracuse, NY 13210",
            "mail": "Cooperative Federal, Loan Payments, 723 Westcott Street, Syracuse, NY 13210",
            "ach": "Número de ruta 221375623; su número de préstamo como cuenta",
            "payroll": "Pida en la oficina de nómina de su empleador el formulario de descuento del programa",
        },
    }
    # Outcome check-ins (loanapp.outcomes): months after booking (and one at payoff); a check-in is
    # overdue this many days after its due date and closes unanswered (not reached) after the window.
    OUTCOME_CHECK_IN_MONTHS: list[int] = [3, 6, 12, 24]
    OUTCOME_CHECK_IN_OVERDUE_DAYS = 14
    OUTCOME_CHECK_IN_WINDOW_DAYS = 60
    OUTCOME_MIN_GROUP = 5  # the outcome report hides groups and figures of fewer borrowers


def sqlalchemy_url(url: str) -> str:
    """Accept the usual ``postgres://`` spellings and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load(app: Any, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    if test_config is None:
        app.config.from_prefixed_env("LOANAPP")
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    else:
        app.config.update(test_config)
    app.config.setdefault(
        "SQLALCHEMY_DATABASE_URI", "sqlite:///" + os.path.join(app.instance_path, "loanapp.sqlite")
    )
    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    check_environment(app.config)
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def check_environment(config: Any) -> None:
    """Refuse to start on a misspelt environment or a forgeable key.

    ``LOANAPP_ENV`` is one of :data:`ENVIRONMENTS` exactly ("Production" or "prod" used to run quietly
    as development, with the published key). The development key is accepted only in development and
    in tests; production needs a secret of at least :data:`MIN_SECRET_BYTES` bytes.
    """
    env = config["ENV"]
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"LOANAPP_ENV must be one of {', '.join(ENVIRONMENTS)}; got {env!r}")
    key = config.get("SECRET_KEY")
    if key in (None, "") or (key == DEV_SECRET_KEY and env not in ("development", "test")):
        raise RuntimeError(
            "LOANAPP_SECRET_KEY must be set outside development: the development key signs forgeable sessions"
        )
    if env == "production" and len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_BYTES:
        raise RuntimeError(
            f"LOANAPP_SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes in production"
            " (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    hops = config.get("TRUSTED_PROXY_HOPS")
    if not isinstance(hops, int) or isinstance(hops, bool) or not 0 <= hops <= 5:
        raise RuntimeError(f"TRUSTED_PROXY_HOPS must be a whole number from 0 to 5; got {hops!r}")

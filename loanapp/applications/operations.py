"""Every write to an application: drafts, submission, documents, verification, decision, answers.

The only module that changes application tables. Each operation checks its rules, changes the rows,
records an audit event in the same transaction, and flushes; the caller commits (or rolls back).
Each runs inside a savepoint, so a refusal raised half-way leaves nothing behind and the session
usable. Writes to an existing application carry the ``version`` the person saw: a different one is a
:class:`StaleApplication` (HTTP 409), and a race the check cannot see is caught at the UPDATE by
SQLAlchemy's version counter.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from loanapp.accounts.models import User
from loanapp.accounts.operations import AccountError, create_user, normalise_email
from loanapp.applications import documents, states
from loanapp.applications.errors import (
    DuplicateEmployer,
    InvalidApplication,
    NotAnApplicant,
    OpenApplicationExists,
    StaleApplication,
)
from loanapp.applications.models import (
    Application,
    ApplicationDecision,
    ApplicationDocument,
    ApplicationDraft,
    EmploymentVerification,
)
from loanapp.applications.rules import (
    ApplicationInput,
    DecisionInput,
    Lists,
    VerificationInput,
    check_application,
    check_decision,
    check_document_request,
    check_verification,
    normal_phone,
)
from loanapp.applications.states import Status
from loanapp.applications.vocabulary import DECISION_STATUS, DOCUMENT_KINDS
from loanapp.audit.trail import record
from loanapp.clock import business_date
from loanapp.db import utcnow
from loanapp.extensions import db
from loanapp.notices.operations import Preferences, check_preferences, set_preferences
from loanapp.programs.models import Employer, ReferralPartner, TrainingProgram
from loanapp.quotes.terms import ProgramLimits
from risk.dates import add_months
from risk.underwriting import Facts, Underwriting, UnderwritingRules, VehicleTier, assess

# --- configuration and helpers ---------------------------------------------------------------------


def program_limits() -> ProgramLimits:
    return ProgramLimits.from_config(current_app.config)


def underwriting_rules() -> UnderwritingRules:
    config = current_app.config
    return UnderwritingRules(
        min_hours_per_week=Decimal(str(config["UNDERWRITING_MIN_HOURS_PER_WEEK"])),
        max_payment_to_income=Decimal(str(config["UNDERWRITING_MAX_PTI"])),
        max_debt_to_income=Decimal(str(config["UNDERWRITING_MAX_DTI"])),
        max_loan_to_value=Decimal(str(config["UNDERWRITING_MAX_LTV"])),
        min_monthly_income=Decimal(str(config["UNDERWRITING_MIN_MONTHLY_INCOME"])),
        vehicle_tiers=tuple(
            VehicleTier(int(age), int(miles), Decimal(str(amount)), int(term))
            for age, miles, amount, term in config["UNDERWRITING_VEHICLE_TIERS"]
        ),
    )


def managed_lists() -> Lists:
    return Lists(
        employers=frozenset(db.session.scalars(select(Employer.id))),
        training_programs=frozenset(db.session.scalars(select(TrainingProgram.id))),
        referral_partners=frozenset(db.session.scalars(select(ReferralPartner.id))),
    )


@contextmanager
def savepoint(*, unique_means_stale: bool = False) -> Iterator[None]:
    """A savepoint around one operation; a lost optimistic-lock race becomes StaleApplication.

    With ``unique_means_stale`` a unique-key violation is the same race seen from another row (two
    officers inserting the one decision an application may have).
    """
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except StaleDataError as exc:
        raise StaleApplication() from exc
    except IntegrityError as exc:
        if unique_means_stale:
            raise StaleApplication() from exc
        raise


def expect_version(application: Application, version: int | None) -> None:
    if version is None or int(version) != application.version:
        raise StaleApplication()


def _move(
    application: Application, target: Status, actor: Any, details: dict[str, Any] | None = None
) -> None:
    """Change the status through the transition table, and say so in the audit trail."""
    current = Status(application.status)
    states.check_transition(current, target)
    application.status = target.value
    application.updated_at = utcnow()
    record(
        "application.status_changed",
        "application",
        application.id,
        actor=actor,
        details={"from": current.value, "to": target.value, **(details or {})},
    )


def _start_review_if_new(application: Application, actor: Any) -> None:
    if application.status == Status.SUBMITTED:
        _move(application, Status.IN_REVIEW, actor)


# --- drafts ----------------------------------------------------------------------------------------

_DRAFT_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_NEVER_IN_DRAFTS = {"password", "password_confirm", "csrf_token", "submission_key", "file", "document_kind"}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _draft_values(data: dict[str, Any]) -> dict[str, str]:
    """Only short plain answers; never a password, a file, or more than four SSN digits."""
    kept: dict[str, str] = {}
    for key, value in list(data.items())[:80]:
        if not _DRAFT_KEY.match(key) or key in _NEVER_IN_DRAFTS or not isinstance(value, str):
            continue
        if key == "ssn_last4" and not re.fullmatch(r"\d{0,4}", value.strip()):
            continue
        kept[key] = value[:500]
    return kept


def save_draft(token: str | None, data: dict[str, Any], *, user: User | None) -> str:
    """Save the form's answers under the draft token (a new token when None); returns the token."""
    token = token or secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=int(current_app.config["APPLICATION_DRAFT_DAYS"]))
    with savepoint():
        draft = db.session.scalar(
            select(ApplicationDraft).where(ApplicationDraft.token_hash == _token_hash(token))
        )
        if draft is None:
            draft = ApplicationDraft(token_hash=_token_hash(token), expires_at=expires)
            db.session.add(draft)
        draft.data = _draft_values(data)
        draft.user_id = user.id if user is not None else draft.user_id
        draft.updated_at = now
        draft.expires_at = expires
        db.session.flush()
        record("application_draft.saved", "application_draft", draft.id, actor=user)
    return token


def load_draft(token: str | None, *, user: User | None) -> dict[str, str] | None:
    """The saved answers for this browser's token (or the signed-in worker's latest draft)."""
    now = utcnow()
    query = select(ApplicationDraft).where(ApplicationDraft.expires_at > now)
    draft = None
    if token:
        draft = db.session.scalar(query.where(ApplicationDraft.token_hash == _token_hash(token)))
    if draft is None and user is not None:
        draft = db.session.scalar(
            query.where(ApplicationDraft.user_id == user.id).order_by(ApplicationDraft.updated_at.desc())
        )
    return dict(draft.data) if draft is not None else None


def discard_drafts(token: str | None, user: User | None) -> None:
    conditions = []
    if token:
        conditions.append(ApplicationDraft.token_hash == _token_hash(token))
    if user is not None:
        conditions.append(ApplicationDraft.user_id == user.id)
    # Expired drafts of anyone go too: nobody can resume them.
    conditions.append(ApplicationDraft.expires_at <= utcnow())
    db.session.execute(delete(ApplicationDraft).where(or_(*conditions)))


# --- submission ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    email: str
    password: str


@dataclass(frozen=True)
class Submitted:
    application: Application
    created: bool  # False: the submission key was seen before (a double submit) and this is the first


def find_by_submission_key(key: str) -> Application | None:
    return db.session.scalar(select(Application).where(Application.submission_key == key))


def open_application_of(user_id: int) -> Application | None:
    return db.session.scalar(
        select(Application)
        .where(Application.worker_id == user_id, Application.status.in_([s.value for s in states.OPEN]))
        .order_by(Application.id.desc())
        .limit(1)
    )


def submit_application(
    data: ApplicationInput,
    *,
    applicant: User | None,
    new_account: NewAccount | None,
    submission_key: str,
    draft_token: str | None = None,
    document: Upload | None = None,
    now: datetime | None = None,
    preferences: Preferences | None = None,
    consent_channel: str = "web",
) -> Submitted:
    """Create the application (and the worker's account when they have none).

    A repeated ``submission_key`` returns the first application instead of creating another (the
    caller checks that the repeat comes from the same person before showing it).
    """
    if not submission_key or len(submission_key) > 64:
        raise InvalidApplication({"submission_key": ["Send a submission key of 1 to 64 characters."]})
    existing = find_by_submission_key(submission_key)
    if existing is not None:
        return Submitted(existing, created=False)
    if applicant is not None and applicant.role != "worker":
        raise NotAnApplicant()
    now = now or utcnow()
    today = business_date()
    errors = check_application(data, today=today, limits=program_limits(), lists=managed_lists())
    if applicant is None:
        errors.update(_check_new_account(new_account))
    if preferences is not None:
        errors.update(check_preferences(preferences))
    checked = None
    if document is not None:
        try:
            checked = _check_upload(document)
        except InvalidApplication as refused:
            errors.update(refused.errors)
    if errors:
        raise InvalidApplication(errors)
    if applicant is not None:
        already = open_application_of(applicant.id)
        if already is not None:
            raise OpenApplicationExists(already.id)
    try:
        with savepoint():
            if applicant is None:
                assert new_account is not None
                try:
                    applicant = create_user(
                        new_account.email,
                        new_account.password,
                        "worker",
                        f"{data.first_name} {data.last_name}",
                    )
                except AccountError as exc:
                    raise InvalidApplication({exc.field: [exc.message]}) from exc
            if preferences is not None:
                # Before the application's event, so its first notice already goes where the worker asked.
                set_preferences(applicant, preferences, channel=consent_channel, actor=applicant)
            application = _new_application(data, applicant, submission_key, now)
            db.session.add(application)
            db.session.flush()
            record(
                "application.submitted",
                "application",
                application.id,
                actor=applicant,
                details={
                    "requested_amount": application.requested_amount,
                    "term_months": application.requested_term_months,
                    "employment_status": application.employment_status,
                },
            )
            if document is not None and checked is not None:
                _attach(application, document.kind, checked, applicant)
            discard_drafts(draft_token, applicant)
    except IntegrityError:
        # The same key committed by a concurrent twin (a double click): answer with its application.
        twin = find_by_submission_key(submission_key)
        if twin is None:
            raise
        return Submitted(twin, created=False)
    return Submitted(application, created=True)


def check_answers(
    data: ApplicationInput, *, new_account: NewAccount | None = None, signed_in: bool = True
) -> dict[str, list[Any]]:
    """The rules' messages for these answers (for a form that also has unparsable fields)."""
    errors = check_application(data, today=business_date(), limits=program_limits(), lists=managed_lists())
    if not signed_in:
        errors.update(_check_new_account(new_account))
    return errors


def _check_new_account(account: NewAccount | None) -> dict[str, list[Any]]:
    errors: dict[str, list[Any]] = {}
    if account is None or not account.email.strip():
        errors["email"] = [_l("Enter your email address: you will use it to sign in.")]
    elif "@" not in account.email or len(account.email) > 254:
        errors["email"] = [_l("Enter a valid email address.")]
    elif db.session.scalar(select(User.id).where(User.email == normalise_email(account.email))) is not None:
        errors["email"] = [
            _l("An account with this email already exists. Sign in first; your answers are saved.")
        ]
    if account is None or len(account.password) < 10:
        errors["password"] = [_l("Choose a password of at least 10 characters.")]
    return errors


def _new_application(
    data: ApplicationInput, applicant: User, submission_key: str, now: datetime
) -> Application:
    employed, offer, training = (
        data.employment_status == s for s in ("employed", "job_offer", "in_training")
    )
    return Application(
        worker_id=applicant.id,
        status=Status.SUBMITTED.value,
        submission_key=submission_key,
        created_at=now,
        submitted_at=now,
        updated_at=now,
        first_name=data.first_name,
        last_name=data.last_name,
        date_of_birth=data.date_of_birth,
        ssn_last4=data.ssn_last4,
        phone=normal_phone(data.phone),
        street=data.street,
        city=data.city,
        state=data.state,
        postal_code=data.postal_code,
        household_size=data.household_size,
        employment_status=data.employment_status,
        employer_id=data.employer_id,
        employer_other="" if data.employer_id is not None else data.employer_other,
        start_date=data.start_date,
        offer_date=data.offer_date if (offer or training) else None,
        hourly_wage=data.hourly_wage,
        hours_per_week=data.hours_per_week,
        pay_frequency=data.pay_frequency if employed else None,
        training_program_id=data.training_program_id if training else None,
        expected_completion=data.expected_completion if training else None,
        monthly_income=data.monthly_income,
        monthly_debts=data.monthly_debts,
        requested_amount=data.requested_amount,
        requested_term_months=data.term_months,
        vehicle_year=data.vehicle_year,
        vehicle_make=data.vehicle_make,
        vehicle_model=data.vehicle_model,
        vehicle_mileage=data.vehicle_mileage,
        vehicle_price=data.vehicle_price,
        sale_type=data.sale_type,
        dealer_name=data.dealer_name if data.sale_type == "dealer" else "",
        down_payment=data.down_payment,
        referral_partner_id=data.referral_partner_id,
        consent_at=now,
        documents_requested=[],
        documents_note="",
    )


# --- documents -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file as the request carried it: what the worker says it is, its name, and its bytes."""

    kind: str
    filename: str | None
    stream: IO[bytes]


def _check_upload(upload: Upload) -> documents.CheckedFile:
    if upload.kind not in DOCUMENT_KINDS:
        raise InvalidApplication({"document_kind": [_l("Choose what kind of document this is.")]})
    return documents.check_file(upload.filename, upload.stream, int(current_app.config["UPLOAD_MAX_BYTES"]))


def _attach(
    application: Application, kind: str, checked: documents.CheckedFile, actor: User
) -> ApplicationDocument:
    """Write the file, then its row; if the row cannot be written the file goes too."""
    folder = documents.upload_folder(current_app.config, current_app.instance_path)
    stored_name = documents.store(folder, checked)
    try:
        with savepoint():
            document = ApplicationDocument(
                application_id=application.id,
                kind=kind,
                original_name=checked.original_name,
                stored_name=stored_name,
                content_type=checked.content_type,
                size_bytes=len(checked.content),
                sha256=checked.sha256,
                uploaded_by=actor.id,
            )
            db.session.add(document)
            application.updated_at = utcnow()
            db.session.flush()
            record(
                "application.document_added",
                "application",
                application.id,
                actor=actor,
                details={"document_id": document.id, "kind": kind, "size_bytes": document.size_bytes},
            )
            if application.status == Status.NEEDS_DOCUMENTS and _requests_met(application):
                _move(application, Status.IN_REVIEW, actor, {"reason": "requested documents received"})
    except BaseException:
        documents.remove(folder, stored_name)
        raise
    return document


def add_document(application: Application, *, upload: Upload, actor: User) -> ApplicationDocument:
    """Check and store an upload; a needs-documents application whose requests are met goes back to review."""
    if Status(application.status) in states.FINAL:
        message = _l("This application is closed; documents can no longer be added.")
        raise InvalidApplication({"file": [message]}, message)
    return _attach(application, upload.kind, _check_upload(upload), actor)


def _requests_met(application: Application) -> bool:
    db.session.refresh(application, ["documents"])
    have = {d.kind for d in application.documents}
    return all(kind in have for kind in application.documents_requested or [])


# --- officer: review, verification, employers ------------------------------------------------------


def start_review(application: Application, *, version: int | None, actor: User) -> None:
    expect_version(application, version)
    with savepoint():
        _move(application, Status.IN_REVIEW, actor)


def request_documents(
    application: Application, *, version: int | None, kinds: list[str], note: str, actor: User
) -> None:
    expect_version(application, version)
    errors = check_document_request(kinds, note)
    if errors:
        raise InvalidApplication(errors)
    with savepoint():
        _start_review_if_new(application, actor)
        application.documents_requested = list(dict.fromkeys(kinds))
        application.documents_note = note.strip()
        _move(application, Status.NEEDS_DOCUMENTS, actor, {"kinds": kinds, "note": note.strip()})


def record_verification(
    application: Application, *, version: int | None, data: VerificationInput, actor: User
) -> EmploymentVerification:
    """Record how employment was verified and what was found; the latest one counts in underwriting."""
    expect_version(application, version)
    if Status(application.status) in states.FINAL:
        raise states.IllegalTransition(
            Status(application.status), Status(application.status), "This application is closed."
        )
    errors = check_verification(
        data,
        today=business_date(),
        valid_days=int(current_app.config["VERIFICATION_VALID_DAYS"]),
        lists=managed_lists(),
    )
    if errors:
        raise InvalidApplication(errors, "Check the verification.")
    with savepoint():
        _start_review_if_new(application, actor)
        verification = EmploymentVerification(
            application_id=application.id,
            method=data.method,
            outcome=data.outcome,
            verified_by=actor.id,
            verified_on=data.verified_on,
            employer_id=data.employer_id,
            start_date=data.start_date,
            hourly_wage=data.hourly_wage,
            hours_per_week=data.hours_per_week,
            notes=data.notes.strip(),
        )
        db.session.add(verification)
        application.updated_at = utcnow()  # bumps the version: the facts under any open form changed
        db.session.flush()
        record(
            "application.employment_verified",
            "application",
            application.id,
            actor=actor,
            details={
                "verification_id": verification.id,
                "method": data.method,
                "outcome": data.outcome,
                "verified_on": data.verified_on,
                "employer_id": data.employer_id,
                "hourly_wage": data.hourly_wage,
                "hours_per_week": data.hours_per_week,
            },
        )
    db.session.refresh(application, ["verifications"])
    return verification


def add_employer(
    name: str,
    *,
    city: str = "",
    actor: User,
    application: Application | None = None,
    version: int | None = None,
) -> Employer:
    """Add an employer that is not yet in the managed list; optionally link an application to it."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InvalidApplication({"name": ["Enter the employer's name (up to 200 characters)."]})
    if len(city) > 100:
        raise InvalidApplication({"city": ["Keep the city under 100 characters."]})
    if application is not None:
        expect_version(application, version)
    existing = db.session.scalar(select(Employer).where(func.lower(Employer.name) == name.lower()))
    if existing is not None:
        raise DuplicateEmployer(existing.name)
    with savepoint():
        employer = Employer(name=name, city=city.strip(), partner=False)
        db.session.add(employer)
        db.session.flush()
        record("employer.added", "employer", employer.id, actor=actor, details={"name": name})
        if application is not None:
            application.employer_id = employer.id
            application.employer_other = ""
            application.updated_at = utcnow()
            record(
                "application.employer_linked",
                "application",
                application.id,
                actor=actor,
                details={"employer_id": employer.id},
            )
    return employer


# --- underwriting and decision ---------------------------------------------------------------------


def underwriting(
    application: Application, amount: Decimal, annual_rate: Decimal, term_months: int
) -> Underwriting:
    """The figures for these terms, with verified facts (latest verification) over stated ones."""
    latest = application.latest_verification
    verified = latest if latest is not None and latest.has_facts else None
    facts = Facts(
        amount=amount,
        annual_rate=annual_rate,
        term_months=term_months,
        vehicle_price=application.vehicle_price,
        vehicle_year=application.vehicle_year,
        vehicle_mileage=application.vehicle_mileage,
        application_year=application.submitted_at.year,
        stated_monthly_income=application.monthly_income,
        monthly_debts=application.monthly_debts,
        stated_hours=application.hours_per_week,
        verified_wage=verified.hourly_wage if verified else None,
        verified_hours=verified.hours_per_week if verified else None,
        verification_outcome=latest.outcome if latest is not None else None,
    )
    return assess(facts, underwriting_rules())


def decide(
    application: Application,
    *,
    version: int | None,
    data: DecisionInput,
    actor: User,
    now: datetime | None = None,
) -> ApplicationDecision:
    """Approve, counter-offer or decline, storing the underwriting figures the decision was made on."""
    expect_version(application, version)
    target = DECISION_STATUS.get(data.kind)
    if target is not None and Status(application.status) in states.DECIDED:
        states.check_transition(application.status, target)  # raises ApplicationAlreadyDecided
    errors = check_decision(
        data,
        requested_amount=application.requested_amount,
        requested_term=application.requested_term_months,
        limits=program_limits(),
    )
    if errors:
        raise InvalidApplication(errors, "Check the decision.")
    assert target is not None
    if data.kind == "decline":
        figures = underwriting(
            application,
            application.requested_amount,
            Decimal(str(current_app.config["QUOTE_STANDARD_RATE"])),
            application.requested_term_months,
        )
    else:
        assert data.amount is not None and data.annual_rate is not None and data.term_months is not None
        figures = underwriting(application, data.amount, data.annual_rate, data.term_months)
    now = now or utcnow()
    with savepoint(unique_means_stale=True):
        _start_review_if_new(application, actor)
        states.check_transition(application.status, target)
        offer = data.kind != "decline"
        decision = ApplicationDecision(
            application_id=application.id,
            kind=data.kind,
            decided_by=actor.id,
            decided_at=now,
            amount=data.amount if offer else None,
            annual_rate=data.annual_rate if offer else None,
            term_months=data.term_months if offer else None,
            payment=figures.payment if offer else None,
            # A decline's principal reasons (Reg B); a counter-offer's say why the terms differ.
            reasons=list(data.reasons) if data.kind != "approve" else [],
            note=data.note.strip(),
            monthly_income=figures.monthly_income,
            income_source=str(figures.income_source),
            payment_to_income=figures.payment_to_income,
            debt_to_income=figures.debt_to_income,
            loan_to_value=figures.loan_to_value,
            flags=[{"code": str(f.code), "message": f.message} for f in figures.flags],
            verification_id=application.latest_verification.id if application.latest_verification else None,
        )
        db.session.add(decision)
        application.decided_at = now
        _move(application, target, actor)
        db.session.flush()
        record(
            "application.decided",
            "application",
            application.id,
            actor=actor,
            details={
                "decision_id": decision.id,
                "kind": data.kind,
                "amount": decision.amount,
                "annual_rate": decision.annual_rate,
                "term_months": decision.term_months,
                "payment": decision.payment,
                "reasons": decision.reasons,
                "payment_to_income": figures.payment_to_income,
                "debt_to_income": figures.debt_to_income,
                "loan_to_value": figures.loan_to_value,
                "monthly_income": figures.monthly_income,
                "income_source": str(figures.income_source),
                "flags": list(figures.flag_codes),
            },
        )
    db.session.refresh(application, ["decision"])
    return decision


# --- the worker's answers --------------------------------------------------------------------------


def respond_to_offer(application: Application, *, version: int | None, accept: bool, actor: User) -> None:
    expect_version(application, version)
    target = Status.OFFER_ACCEPTED if accept else Status.OFFER_REFUSED
    states.check_transition(application.status, target)
    decision = application.decision
    assert decision is not None and decision.is_offer
    with savepoint():
        decision.response = "accepted" if accept else "refused"
        decision.responded_at = utcnow()
        _move(application, target, actor, {"decision_id": decision.id})


def mark_booked(application: Application, *, loan_id: int, actor: User) -> None:
    """The booking's move to ``booked`` (called by ``loanapp.loans.operations.book_loan`` in its unit)."""
    _move(application, Status.BOOKED, actor, {"loan_id": loan_id})


def withdraw(application: Application, *, version: int | None, actor: User) -> None:
    expect_version(application, version)
    with savepoint():
        _move(application, Status.WITHDRAWN, actor)


def offer_dates(today: date) -> tuple[date, date]:
    """The contract and first payment dates an offer is estimated with: today, and a month later."""
    return today, add_months(today, 1)

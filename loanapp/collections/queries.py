"""Collections reads: promise statuses, a loan's contact log and borrower contact details, and the
officer's worklist. Nothing here writes.

A promise's status is derived from the payments, never stored: **kept** when the standing payments
received from the day it was made through its date plus ``COLLECTIONS_PROMISE_GRACE_DAYS`` add up to
its amount; **broken** when that window has passed without it; **open** until then. (Two promises
whose windows overlap may count the same payment.) A reversed payment stops counting, so a returned
payment turns a kept promise back into a broken one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import ARRAY, Integer, case, cast, func, or_, select, union
from sqlalchemy.dialects.postgresql import array

from loanapp.accounts.models import User
from loanapp.applications.models import Application
from loanapp.collections.models import CollectionCase, ContactLog, HardshipPlan, PromiseToPay
from loanapp.collections.search import digits, fold_name, loan_number
from loanapp.extensions import db
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.loans.states import LoanStatus
from loanapp.servicing.models import LoanServicing, Payment
from risk.money import ZERO, money

OPEN, KEPT, BROKEN = "open", "kept", "broken"
REASONS = (
    "past_due",
    "promise_due",
    "promise_broken",
    "follow_up",
    "plan_ending",
    "message_failed",
    "insurance_lapsed",
)
SORTS = ("days_past_due", "name", "next_action_on", "last_contact", "loan")


def _postgres() -> bool:
    return bool(db.session.get_bind().dialect.name == "postgresql")


def _unnest(values: list[int]) -> Any:
    return select(func.unnest(cast(array(values), ARRAY(Integer))))


def in_ids(column: Any, ids: Iterable[int]) -> Any:
    """``column IN ids`` for a set of loan ids that may run to thousands. On PostgreSQL one array
    parameter, unnested into a subquery, so the planner hashes it (a semi-join) instead of binding a
    placeholder per id or comparing each row with every element (``= ANY(array)`` is linear)."""
    values = sorted(set(ids)) or [0]
    if _postgres():
        return column.in_(_unnest(values))
    return column.in_(values)


def past_due_or(ids: Iterable[int]) -> Any:
    """Loans past due (the servicing rows' index) or in ``ids``: one hashed semi-join on PostgreSQL."""
    values = sorted(set(ids))
    if not values:
        return LoanServicing.days_past_due > 0
    if _postgres():
        late = select(LoanServicing.loan_id).where(LoanServicing.days_past_due > 0)
        return LoanServicing.loan_id.in_(union(late, _unnest(values)))
    return or_(LoanServicing.days_past_due > 0, LoanServicing.loan_id.in_(values))


def grace_days() -> int:
    return int(current_app.config["COLLECTIONS_PROMISE_GRACE_DAYS"])


# --- promises ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromiseView:
    id: int
    loan_id: int
    amount: Decimal
    promised_on: dt.date
    made_on: dt.date
    note: str
    paid: Decimal  # standing payments in the promise's window
    status: str
    kept_on: dt.date | None  # the day the payments reached the amount
    grace_until: dt.date
    recorded_by: int
    recorded_at: dt.datetime


def _standing_payments(loan_ids: Iterable[int], since: dt.date) -> dict[int, list[tuple[dt.date, Decimal]]]:
    ids = sorted(set(loan_ids))
    found: dict[int, list[tuple[dt.date, Decimal]]] = defaultdict(list)
    if not ids:
        return found
    reversed_ids = select(Payment.reverses_id).where(
        in_ids(Payment.loan_id, ids), Payment.reverses_id.is_not(None)
    )
    for loan_id, received_on, amount in db.session.execute(
        select(Payment.loan_id, Payment.received_on, Payment.amount)
        .where(
            in_ids(Payment.loan_id, ids),
            Payment.kind == "payment",
            Payment.received_on >= since,
            Payment.id.not_in(reversed_ids),
        )
        .order_by(Payment.loan_id, Payment.received_on, Payment.id)
    ):
        found[loan_id].append((received_on, amount))
    return found


def promise_views(promises: Sequence[PromiseToPay], today: dt.date) -> list[PromiseView]:
    """Each promise with its status on ``today`` (see the module docstring)."""
    if not promises:
        return []
    grace = dt.timedelta(days=grace_days())
    payments = _standing_payments((p.loan_id for p in promises), min(p.made_on for p in promises))
    views = []
    for promise in promises:
        until = promise.promised_on + grace
        paid, kept_on = ZERO, None
        for received_on, amount in payments.get(promise.loan_id, []):
            if promise.made_on <= received_on <= min(until, today):
                paid += amount
                if kept_on is None and paid >= promise.amount:
                    kept_on = received_on
        status = KEPT if kept_on is not None else (BROKEN if today > until else OPEN)
        views.append(
            PromiseView(
                id=promise.id,
                loan_id=promise.loan_id,
                amount=promise.amount,
                promised_on=promise.promised_on,
                made_on=promise.made_on,
                note=promise.note,
                paid=paid,
                status=status,
                kept_on=kept_on,
                grace_until=until,
                recorded_by=promise.recorded_by,
                recorded_at=promise.recorded_at,
            )
        )
    return views


def promises_of(loan: Loan, today: dt.date) -> list[PromiseView]:
    rows = db.session.scalars(
        select(PromiseToPay)
        .where(PromiseToPay.loan_id == loan.id)
        .order_by(PromiseToPay.promised_on.desc(), PromiseToPay.id.desc())
    ).all()
    return promise_views(rows, today)


# --- contacts and borrower details ------------------------------------------------------------------


def contacts_of(loan: Loan) -> list[tuple[ContactLog, str]]:
    """The loan's contact log, newest first, with who recorded each entry."""
    return [
        (contact, name)
        for contact, name in db.session.execute(
            select(ContactLog, User.full_name)
            .join(User, User.id == ContactLog.recorded_by)
            .where(ContactLog.loan_id == loan.id)
            .order_by(ContactLog.contacted_at.desc(), ContactLog.id.desc())
        )
    ]


@dataclass(frozen=True)
class BorrowerContact:
    name: str
    phone: str
    phone_link: str  # tel: URI
    email: str
    street: str
    city: str
    state: str
    postal_code: str
    language: str  # "en" or "es"

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.postal_code}"


def show_phone(phone: str) -> str:
    """A US number as people read it, "(315) 555-0199"; anything else as stored."""
    number = digits(phone)
    if len(number) == 11 and number.startswith("1"):
        number = number[1:]
    if len(number) == 10:
        return f"({number[:3]}) {number[3:6]}-{number[6:]}"
    return phone


def tel_link(phone: str) -> str:
    number = digits(phone)
    if len(number) == 10:
        number = "1" + number
    return f"tel:+{number}" if number else ""


def borrower_contact(loan: Loan) -> BorrowerContact:
    application = loan.application
    borrower = loan.borrower
    return BorrowerContact(
        name=application.full_name,
        phone=show_phone(application.phone),
        phone_link=tel_link(application.phone),
        email=borrower.email,
        street=application.street,
        city=application.city,
        state=application.state,
        postal_code=application.postal_code,
        language=borrower.locale or "en",
    )


def officers() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == "officer", User.active.is_(True)).order_by(User.full_name)
        )
    )


# --- the worklist -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorklistFilters:
    reason: str | None = None
    bucket: str | None = None
    assigned: str | int | None = None  # None: everyone's; "unassigned"; an officer's id
    search: str = ""
    sort: str = "days_past_due"
    descending: bool = True


@dataclass
class WorklistItem:
    loan_id: int
    borrower_name: str
    phone: str
    phone_link: str
    language: str
    days_past_due: int
    bucket: str
    amount_to_catch_up: Decimal
    last_contact_at: dt.datetime | None
    last_outcome: str | None
    next_action_on: dt.date | None
    assigned_to: int | None
    assigned_name: str | None
    reasons: list[str] = field(default_factory=list)
    promise: PromiseView | None = None
    plan_resumes_on: dt.date | None = None


def _recent_promises(today: dt.date) -> list[PromiseView]:
    """Promises that can still put a loan on the worklist: due or within the last month."""
    horizon = today - dt.timedelta(days=31 + grace_days())
    rows = db.session.scalars(
        select(PromiseToPay)
        .join(Loan, Loan.id == PromiseToPay.loan_id)
        .where(
            PromiseToPay.promised_on >= horizon,
            PromiseToPay.promised_on <= today,
            Loan.status == LoanStatus.ACTIVE.value,
        )
        .order_by(PromiseToPay.loan_id, PromiseToPay.promised_on, PromiseToPay.id)
    ).all()
    return promise_views(rows, today)


def _follow_ups(today: dt.date) -> dict[int, dt.date]:
    """Loans whose latest contact set a next action for today or earlier."""
    latest = (
        select(ContactLog.loan_id, func.max(ContactLog.id).label("contact_id"))
        .group_by(ContactLog.loan_id)
        .subquery("latest_for_follow_up")
    )
    return dict(
        db.session.execute(
            select(ContactLog.loan_id, ContactLog.next_action_on)
            .join(latest, latest.c.contact_id == ContactLog.id)
            .where(ContactLog.next_action_on <= today)
        ).all()
    )


def worklist(
    filters: WorklistFilters, today: dt.date, *, page: int = 1, per_page: int | None = None
) -> tuple[list[WorklistItem], int]:
    """Every active loan that needs a person today, one page of it and how many there are.

    Reasons: ``past_due`` (days past due as of the last aging or payment), ``promise_due`` (an open
    promise dated today or earlier, within its grace), ``promise_broken`` (broken and no contact
    since), ``follow_up`` (the latest contact's next action date has come), ``plan_ending`` (a
    hardship plan's first payment falls within ``COLLECTIONS_PLAN_ENDING_DAYS``), ``message_failed``
    and ``insurance_lapsed``.

    For speed on a big book, every reason but ``past_due`` is first gathered as a set of loan ids
    (each from a small table); the list is then one indexed query on the servicing rows, and the
    page's contact columns are read for its rows only.
    """
    per_page = per_page or int(current_app.config["COLLECTIONS_PAGE_SIZE"])
    ending = today + dt.timedelta(days=int(current_app.config["COLLECTIONS_PLAN_ENDING_DAYS"]))

    promises = _recent_promises(today)
    reasons_of: dict[int, set[str]] = defaultdict(set)
    latest_promise: dict[int, PromiseView] = {}
    for view in promises:
        latest_promise[view.loan_id] = view  # ordered by date: the last one wins
    broken = {v.loan_id for v in promises if v.status == BROKEN}
    contacted = dict(
        db.session.execute(
            select(ContactLog.loan_id, func.max(ContactLog.contacted_on))
            .where(in_ids(ContactLog.loan_id, broken))
            .group_by(ContactLog.loan_id)
        ).all()
    )
    for view in promises:
        if view.status == OPEN and view.promised_on <= today:
            reasons_of[view.loan_id].add("promise_due")
        elif view.status == BROKEN and (contacted.get(view.loan_id) or dt.date.min) <= view.grace_until:
            reasons_of[view.loan_id].add("promise_broken")
    plan_ending = dict(
        db.session.execute(
            select(HardshipPlan.loan_id, func.min(HardshipPlan.resumes_on))
            .where(HardshipPlan.resumes_on >= today, HardshipPlan.resumes_on <= ending)
            .group_by(HardshipPlan.loan_id)
        ).all()
    )
    for name, ids in (
        ("follow_up", _follow_ups(today)),
        ("plan_ending", plan_ending),
        ("message_failed", _failed_messages()),
        ("insurance_lapsed", lapsed_insurance(today)),
    ):
        for loan_id in ids:
            reasons_of[loan_id].add(name)

    if filters.reason == "past_due":
        needs = LoanServicing.days_past_due > 0
    elif filters.reason in REASONS:
        needs = in_ids(LoanServicing.loan_id, {i for i, r in reasons_of.items() if filters.reason in r})
    else:
        needs = past_due_or(reasons_of)

    query = (
        select(
            Loan.id,
            Application.first_name,
            Application.last_name,
            Application.phone,
            User.locale,
            LoanServicing.days_past_due,
            LoanServicing.bucket,
            LoanServicing.fees_due,
            LoanServicing.total_to_fees,
            LoanServicing.total_to_interest,
            LoanServicing.total_to_principal,
            LoanServicing.principal_balance,
            CollectionCase.assigned_to,
        )
        .select_from(LoanServicing)
        .join(Loan, Loan.id == LoanServicing.loan_id)
        .join(Application, Application.id == Loan.application_id)
        .join(User, User.id == Loan.borrower_id)
        .outerjoin(CollectionCase, CollectionCase.loan_id == Loan.id)
        .where(Loan.status == LoanStatus.ACTIVE.value, needs)
    )
    conditions: list[Any] = []
    if filters.bucket:
        conditions.append(LoanServicing.bucket == filters.bucket)
    if filters.assigned == "unassigned":
        conditions.append(CollectionCase.assigned_to.is_(None))
    elif isinstance(filters.assigned, int):
        conditions.append(CollectionCase.assigned_to == filters.assigned)
    text = (filters.search or "").strip()
    if text:
        number = loan_number(text)
        phone = digits(text)
        folded = fold_name(text)
        matches = []
        if number is not None:
            matches.append(Loan.id == number)
        if len(phone) >= 4 and len(phone) >= len(text.replace(" ", "")) - 4:
            matches.append(CollectionCase.phone_digits.contains(phone, autoescape=True))
        if folded and not folded.isdigit():
            matches.append(CollectionCase.search_name.contains(folded, autoescape=True))
        conditions.append(or_(*matches) if matches else Loan.id.is_(None))
    needs_case = filters.assigned is not None or bool(text)
    query = query.where(*conditions)

    # The count needs no names: only the tables the filters read.
    counted = (
        select(func.count())
        .select_from(LoanServicing)
        .join(Loan, Loan.id == LoanServicing.loan_id)
        .where(Loan.status == LoanStatus.ACTIVE.value, needs, *conditions)
    )
    if needs_case:
        counted = counted.outerjoin(CollectionCase, CollectionCase.loan_id == Loan.id)
    total = db.session.scalar(counted) or 0
    sort = filters.sort if filters.sort in SORTS else "days_past_due"
    if sort in ("next_action_on", "last_contact"):
        latest = (
            select(ContactLog.loan_id, func.max(ContactLog.id).label("contact_id"))
            .group_by(ContactLog.loan_id)
            .subquery("latest")
        )
        last = db.aliased(ContactLog, name="last_contact")
        query = query.outerjoin(latest, latest.c.loan_id == Loan.id).outerjoin(
            last, last.id == latest.c.contact_id
        )
        order = [last.next_action_on if sort == "next_action_on" else last.contacted_at]
    else:
        order = {
            "days_past_due": [LoanServicing.days_past_due],
            "name": [Application.last_name, Application.first_name],
            "loan": [Loan.id],
        }[sort]
    columns = [c.desc().nulls_last() if filters.descending else c.asc().nulls_first() for c in order]
    rows = db.session.execute(
        query.order_by(*columns, Loan.id).limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).all()

    ids = [row.id for row in rows]
    latest_contact = {
        c.loan_id: c
        for c in db.session.execute(
            select(
                ContactLog.loan_id, ContactLog.contacted_at, ContactLog.outcome, ContactLog.next_action_on
            ).where(
                ContactLog.id.in_(
                    select(func.max(ContactLog.id))
                    .where(ContactLog.loan_id.in_(ids or [0]))
                    .group_by(ContactLog.loan_id)
                )
            )
        )
    }
    due_by = dict(
        db.session.execute(
            select(LoanInstallment.loan_id, func.sum(LoanInstallment.payment))
            .where(LoanInstallment.loan_id.in_(ids or [0]), LoanInstallment.due_date <= today)
            .group_by(LoanInstallment.loan_id)
        ).all()
    )
    page_promises = {
        v.loan_id: v
        for v in promise_views(
            db.session.scalars(
                select(PromiseToPay)
                .where(PromiseToPay.loan_id.in_([i for i in ids if i not in latest_promise] or [0]))
                .order_by(PromiseToPay.loan_id, PromiseToPay.promised_on, PromiseToPay.id)
            ).all(),
            today,
        )
    }
    names = {u.id: u.full_name for u in officers()}
    catch_up = _catch_up_with_plans(ids, today)
    items = []
    for row in rows:
        reasons = (["past_due"] if row.days_past_due > 0 else []) + [
            r for r in REASONS if r in reasons_of.get(row.id, ())
        ]
        credited = row.total_to_fees + row.total_to_interest + row.total_to_principal  # no fee pyramiding
        if row.id in catch_up:
            amount = catch_up[row.id]
        elif row.days_past_due > 0:
            owed = min(max(ZERO, (due_by.get(row.id) or ZERO) - credited), row.principal_balance)
            amount = owed + row.fees_due
        else:
            amount = ZERO
        contact = latest_contact.get(row.id)
        items.append(
            WorklistItem(
                loan_id=row.id,
                borrower_name=f"{row.first_name} {row.last_name}",
                phone=show_phone(row.phone),
                phone_link=tel_link(row.phone),
                language=row.locale or "en",
                days_past_due=row.days_past_due,
                bucket=row.bucket,
                amount_to_catch_up=amount,
                last_contact_at=contact.contacted_at if contact else None,
                last_outcome=contact.outcome if contact else None,
                next_action_on=contact.next_action_on if contact else None,
                assigned_to=row.assigned_to,
                assigned_name=names.get(row.assigned_to) if row.assigned_to else None,
                reasons=reasons,
                promise=latest_promise.get(row.id) or page_promises.get(row.id),
                plan_resumes_on=plan_ending.get(row.id),
            )
        )
    return items, total


def lapsed_insurance(today: dt.date) -> set[int]:
    """Active loans whose latest proof of insurance ran out before today."""
    from loanapp.collections.models import InsuranceProof

    latest = (
        select(InsuranceProof.loan_id, func.max(InsuranceProof.id).label("proof_id"))
        .group_by(InsuranceProof.loan_id)
        .subquery()
    )
    return set(
        db.session.scalars(
            select(InsuranceProof.loan_id)
            .join(latest, latest.c.proof_id == InsuranceProof.id)
            .join(Loan, Loan.id == InsuranceProof.loan_id)
            .where(InsuranceProof.covered_through < today, Loan.status == LoanStatus.ACTIVE.value)
        )
    )


def collateral_of(loan: Loan) -> Any:
    from loanapp.collections.models import Collateral

    return db.session.get(Collateral, loan.id)


def insurance_of(loan: Loan) -> list[Any]:
    """Proofs of insurance, newest first (the first is the coverage in force)."""
    from loanapp.collections.models import InsuranceProof

    return list(
        db.session.scalars(
            select(InsuranceProof).where(InsuranceProof.loan_id == loan.id).order_by(InsuranceProof.id.desc())
        )
    )


def _failed_messages() -> set[int]:
    """Loans with a message to the borrower that failed in the last 30 days and no contact logged
    since (``loanapp.notices``): the phone number or address may be wrong."""
    from loanapp.db import utcnow
    from loanapp.notices.models import Notice

    since = utcnow() - dt.timedelta(days=30)
    failures = dict(
        db.session.execute(
            select(Notice.loan_id, func.max(Notice.created_at))
            .where(Notice.status == "failed", Notice.loan_id.is_not(None), Notice.created_at >= since)
            .group_by(Notice.loan_id)
        ).all()
    )
    if not failures:
        return set()
    contacted = dict(
        db.session.execute(
            select(ContactLog.loan_id, func.max(ContactLog.contacted_at))
            .where(ContactLog.loan_id.in_(list(failures)))
            .group_by(ContactLog.loan_id)
        ).all()
    )
    return {
        loan_id
        for loan_id, failed_at in failures.items()
        if loan_id not in contacted or _aware(contacted[loan_id]) < _aware(failed_at)
    }


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _catch_up_with_plans(loan_ids: Sequence[int], today: dt.date) -> dict[int, Decimal]:
    """Loans with hardship plans: the amount to catch up from the schedule in force (per loan; few)."""
    planned = set(
        db.session.scalars(
            select(HardshipPlan.loan_id).where(HardshipPlan.loan_id.in_(list(loan_ids) or [0])).distinct()
        )
    )
    if not planned:
        return {}
    from loanapp.servicing import queries as servicing_queries

    result = {}
    for loan_id in planned:
        loan = db.session.get(Loan, loan_id)
        if loan is not None:
            result[loan_id] = servicing_queries.loan_position(loan, today).catch_up_amount
    return result


def page_size() -> int:
    return int(current_app.config["COLLECTIONS_PAGE_SIZE"])


@dataclass(frozen=True)
class PlanSummaryRow:
    kind: str
    plans: int  # made in the 12 months to the date
    loans: int  # live loans with such a plan
    current: int  # of those loans, how many are not past due
    principal: Decimal


def plan_summary(as_of: dt.date) -> list[PlanSummaryRow]:
    """Hardship plans for the program and delinquency reports: per kind, plans made in the last
    12 months, active loans under one, and how many of those are current (days past due as stored)."""
    year_ago = as_of - dt.timedelta(days=365)
    made = dict(
        db.session.execute(
            select(HardshipPlan.kind, func.count())
            .where(HardshipPlan.effective_on > year_ago, HardshipPlan.effective_on <= as_of)
            .group_by(HardshipPlan.kind)
        ).all()
    )
    per_loan = (
        select(HardshipPlan.kind, HardshipPlan.loan_id)
        .where(HardshipPlan.effective_on <= as_of)
        .distinct()
        .subquery()
    )
    live = {
        kind: (loans, current or 0, principal or ZERO)
        for kind, loans, current, principal in db.session.execute(
            select(
                per_loan.c.kind,
                func.count(),
                func.sum(case((LoanServicing.days_past_due == 0, 1), else_=0)),
                func.sum(LoanServicing.principal_balance),
            )
            .select_from(per_loan)
            .join(Loan, Loan.id == per_loan.c.loan_id)
            .join(LoanServicing, LoanServicing.loan_id == Loan.id)
            .where(Loan.status == LoanStatus.ACTIVE.value)
            .group_by(per_loan.c.kind)
        ).all()
    }
    from loanapp.collections.models import PLAN_KINDS

    return [
        PlanSummaryRow(
            kind,
            int(made.get(kind, 0)),
            *(int(live[kind][0]), int(live[kind][1]), money(live[kind][2])) if kind in live else (0, 0, ZERO),
        )
        for kind in PLAN_KINDS
    ]

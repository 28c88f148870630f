"""Demo program history for ``flask seed-demo``: two years of the Car Buyer Program, so the risk
projection has a book, a bucket history and a reserve under some pressure to work on.

About 140 workers at the partnership's employers (PPC, the largest by far, holds over a third of the
balances) borrow $6,000 to $18,000 over 36 to 72 months. Every step goes through the real operations
on its own business date: application, employment verification, approval, acceptance and booking
(which posts the reserve commitment), then each payment on the day it arrives, each payoff, each
charge-off (the officer files the reserve claim) and each claim approval (staff: maker-checker).

How borrowers pay is drawn once, month by month, from a seeded generator
(``numpy.random.default_rng(2026)``), by how many installments a borrower has already missed (the
shape of the roll-rate prior in ``risk.rollrate``): most pay on time, some fall 30, 60 or 90 days
behind and catch up, a few pass 120 days and are charged off, a few pay off early. A handful of loans
are scripted so the demo always has loans 30-59, 60-89 and 90-119 days past due today, one past 120
days waiting in the charge-off queue, and at least one charge-off with its claim paid.

Aging: a payment rewrites its loan's bucket history up to the day it arrives, so between payments only
the aging writes the history. The roll-rate model reads the bucket open on each month end, so the
nightly aging on each month end (and today) gives exactly the month-end states the nightly run would
have; the days in between would only add intra-month detail. The delinquency snapshot runs for each
month's 1st, as the scheduler would.

Idempotent: each application has a fixed submission key (``history-NNN``) and a loan whose key or
borrower already exists is skipped with its whole history; grant deposits are keyed. Demo data only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from typing import Any, NamedTuple

import numpy as np
from flask import current_app
from sqlalchemy import select

import reserve
from loanapp.accounts.models import User
from loanapp.accounts.operations import create_user
from loanapp.applications import operations as ops
from loanapp.applications.models import Application
from loanapp.applications.rules import ApplicationInput, DecisionInput, VerificationInput
from loanapp.clock import business_date
from loanapp.extensions import db
from loanapp.jobs.runner import Outcome, run_job
from loanapp.loans.models import Loan, LoanInstallment
from loanapp.loans.operations import book_loan, default_booking_dates
from loanapp.programs.models import Employer, ReferralPartner
from loanapp.reserve_admin import actions
from loanapp.reserve_admin.policy import reserve_policy
from loanapp.servicing import operations, queries
from loanapp.servicing.demo import on
from loanapp.servicing.models import LoanServicing
from reserve.schema import RequestRow
from risk.dates import add_months
from risk.disclosure import truth_in_lending

OFFICER_EMAIL = "officer@demo.coopfed.org"
STAFF_EMAIL = "staff@demo.worktrain.org"
#: The borrowers' shared demo password: published, so staff can sign in as any demo borrower.
BORROWER_PASSWORD = "borrower-demo-pass"
#: The password is published, so a costly hash protects nothing; creating 140 accounts with scrypt
#: would take longer than the rest of the history.
BORROWER_HASH_METHOD = "pbkdf2:sha256:1000"
KEY_PREFIX = "history-"
SEED = 2026
DEFAULT_LOANS = 140
DEFAULT_MONTHS = 24
#: The demo's monthly projection snapshots run on fewer paths than a real month's (steady enough to
#: compare months on the page, and a newcomer waits seconds, not minutes).
DEMO_PROJECTION_PATHS = 2_000

#: Share of the loans per employer. PPC is the largest employer by far, so "the largest employer
#: closes" hits over a third of the book.
EMPLOYER_SHARES = (
    ("PPC", 0.37),
    ("Berry Plastics", 0.10),
    ("Cryomech", 0.08),
    ("Associated Spring", 0.07),
    ("Tessy Plastics", 0.07),
    ("Midstate Spring", 0.06),
    ("Falk Precision", 0.05),
    ("Darco Manufacturing", 0.05),
    ("Byrne Dairy", 0.04),
    ("Precision Systems", 0.04),
    ("Dannon Tool", 0.04),
    ("Advanced Central Services", 0.03),
)

#: Chance per month that a current borrower pays the loan off instead of the next installment.
PREPAY = 0.009
#: By installments already missed (0..3): chances of paying 0, 1, 2, ... installments this month.
#: Paying 0 rolls one bucket further, 1 stays, more catches up (missed + 1 cures). From 4 missed the
#: loan is past 120 days: it cures with CURE_FROM_120, else it is charged off.
PAY_COUNTS = (
    (0.024, 0.976),
    (0.36, 0.19, 0.45),
    (0.48, 0.12, 0.22, 0.18),
    (0.62, 0.08, 0.10, 0.10, 0.10),
)
CURE_FROM_120 = 0.08
#: The grants leave about this many times the live loans' commitments available today. With the
#: projection's default pipeline (4 new loans a month, no new grant money) the reserve then runs down
#: over three years but lasts in the base case, while a layoff at the largest employer or doubled
#: roll rates can exhaust it: pressure the page can show, not a foregone conclusion.
AVAILABLE_TODAY = Decimal("1.5")

FIRST_NAMES = (
    "Abdi", "Aisha", "Alejandro", "Amani", "Andre", "Angela", "Bao", "Brianna", "Carlos", "Chantel",
    "Daniel", "Destiny", "Dmitri", "Elena", "Faisal", "Gabriela", "Hassan", "Imani", "Jamal", "Jasmine",
    "Jose", "Khadija", "Kwame", "Latoya", "Mohamed", "Nadia", "Nestor", "Olga", "Paw", "Quincy",
    "Rahim", "Samira", "Shawn", "Tamika", "Thanh", "Tyrone", "Valentina", "Wanda", "Yusuf", "Zainab",
)  # fmt: skip
LAST_NAMES = (
    "Abdullahi", "Alvarez", "Baker", "Bui", "Castillo", "Coleman", "Diaz", "Ellis", "Farah", "Garcia",
    "Green", "Habimana", "Ibrahim", "Jackson", "Johnson", "Khan", "Lee", "Mensah", "Moore", "Nguyen",
    "Okafor", "Ortiz", "Patel", "Perez", "Reed", "Rivera", "Robinson", "Santos", "Tran", "Williams",
)  # fmt: skip
VEHICLES = (
    ("Toyota", "Corolla"), ("Honda", "Civic"), ("Honda", "Accord"), ("Ford", "Focus"), ("Ford", "Escape"),
    ("Chevrolet", "Malibu"), ("Chevrolet", "Equinox"), ("Nissan", "Sentra"), ("Nissan", "Altima"),
    ("Hyundai", "Elantra"), ("Kia", "Forte"), ("Subaru", "Impreza"), ("Toyota", "RAV4"), ("Mazda", "3"),
)  # fmt: skip
PARTNERS = (
    "CNY Works", "JobsPlus!", "Jubilee Homes", "Onondaga Community College", "Refugee Assistance Program",
    "Spanish Action League", "SUNY Educational Opportunity Center", "Syracuse Community Connections",
)  # fmt: skip
RATES = ("6.99", "7.49", "7.99", "8.49", "8.99", "9.49", "9.99")
RATE_WEIGHTS = (0.08, 0.2, 0.2, 0.17, 0.17, 0.1, 0.08)


# --- the plan: who borrows what, and how they pay (pure: no database) --------------------------------


@dataclass(frozen=True)
class Payment:
    """``first``..``last`` installments paid together on ``day`` (``first`` 0: the payoff)."""

    day: dt.date
    first: int
    last: int


@dataclass(frozen=True)
class LoanPlan:
    number: int
    booked_on: dt.date
    employer: str
    employment: str  # employed, job_offer
    first_name: str
    last_name: str
    amount: Decimal
    term: int
    rate: Decimal
    wage: Decimal
    hours: Decimal
    debts: Decimal
    vehicle: tuple[int, str, str, int]
    price: Decimal
    down: Decimal
    partner: str | None
    started: int  # days employed before applying (employed) or until starting (job offer)
    dues: tuple[dt.date, ...]
    balances: tuple[Decimal, ...]  # scheduled balance after each installment
    role: str = "steady"
    payments: tuple[Payment, ...] = ()
    charged_off_on: dt.date | None = None
    claim_approved_on: dt.date | None = None
    proceeds_share: float = 0.35
    costs: Decimal = Decimal("350.00")

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.number:03d}"

    @property
    def email(self) -> str:
        return f"borrower-{self.number:03d}@demo.worktrain.org"

    @property
    def paid_off(self) -> bool:
        return any(p.first == 0 for p in self.payments)


def _weekday(day: dt.date) -> dt.date:
    """Loans close on weekdays: a Saturday or Sunday moves back to the Friday."""
    return day - dt.timedelta(days=max(day.weekday() - 4, 0))


def _employers(count: int, rng: np.random.Generator) -> list[str]:
    """Each employer's share of ``count`` loans (largest remainders), in a shuffled order."""
    exact = [share * count for _, share in EMPLOYER_SHARES]
    whole = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: whole[i] - exact[i])[: count - sum(whole)]:
        whole[i] += 1
    names = [name for (name, _), n in zip(EMPLOYER_SHARES, whole, strict=True) for _ in range(n)]
    return [names[i] for i in rng.permutation(len(names))]


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _borrower(number: int, booked_on: dt.date, employer: str, rng: np.random.Generator) -> LoanPlan:
    amount = int(rng.triangular(6000, 9500, 18000) // 100 * 100)
    if amount <= 9000:
        term = int(rng.choice([36, 48, 60], p=[0.35, 0.45, 0.2]))
    elif amount <= 13000:
        term = int(rng.choice([48, 60, 72], p=[0.3, 0.5, 0.2]))
    else:
        term = int(rng.choice([60, 72], p=[0.55, 0.45]))
    rate = Decimal(RATES[int(rng.choice(len(RATES), p=RATE_WEIGHTS))])
    # The vehicle fits the program's tiers (UNDERWRITING_VEHICLE_TIERS): long terms on newer cars.
    if term == 72:
        age, miles = int(rng.integers(1, 5)), int(rng.integers(15, 59)) * 1000
    elif term == 60 or amount > 12000:
        age, miles = int(rng.integers(4, 9)), int(rng.integers(45, 99)) * 1000
    else:
        age, miles = int(rng.integers(6, 13)), int(rng.integers(70, 146)) * 1000
    make, model = VEHICLES[int(rng.integers(len(VEHICLES)))]
    down = Decimal(int(rng.integers(5, 26)) * 100)
    hours = Decimal(int(rng.choice([32, 36, 40, 40, 40])))
    wage = Decimal(int(rng.integers(52, 81)) * 25) / 100  # $13.00 to $20.00
    first_due = add_months(booked_on, 1)
    tila = truth_in_lending(Decimal(amount), rate, term, booked_on, first_due)
    income = wage * hours * 52 / 12
    payment = tila.schedule[0].payment
    if payment > income * Decimal("0.17"):  # keep the payment under the program's 20% of income
        wage = (payment / Decimal("0.17") / (hours * 52 / 12) * 4).to_integral_value(ROUND_CEILING) / 4
    partner = PARTNERS[int(rng.integers(len(PARTNERS)))] if rng.random() < 0.7 else None
    employment = "job_offer" if rng.random() < 0.15 else "employed"
    return LoanPlan(
        number=number,
        booked_on=booked_on,
        employer=employer,
        employment=employment,
        first_name=FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))],
        last_name=LAST_NAMES[int(rng.integers(len(LAST_NAMES)))],
        amount=Decimal(amount).quantize(Decimal("0.01")),
        term=term,
        rate=rate,
        wage=wage.quantize(Decimal("0.01")),
        hours=hours,
        debts=Decimal(int(rng.integers(0, 10)) * 50).quantize(Decimal("0.01")),
        vehicle=(booked_on.year - age, make, model, miles),
        price=Decimal(amount) + down + Decimal(int(rng.integers(0, 8)) * 100),
        down=down,
        partner=partner,
        started=int(rng.integers(90, 1500)) if employment == "employed" else int(rng.integers(3, 21)),
        dues=tuple(row.due_date for row in tila.schedule if row.due_date is not None),
        balances=tuple(row.balance for row in tila.schedule),
    )


def _on_time(due: dt.date, rng: np.random.Generator) -> dt.date:
    """When a borrower who is up to date pays: mostly a few days early, some days late."""
    u = rng.random()
    if u < 0.75:
        return due - dt.timedelta(days=int(rng.integers(0, 7)))
    if u < 0.93:
        return due + dt.timedelta(days=int(rng.integers(1, 10)))
    return due + dt.timedelta(days=int(rng.integers(10, 25)))


@dataclass
class _Path:
    """A borrower's payments being drawn."""

    plan: LoanPlan
    today: dt.date
    payments: list[Payment] = field(default_factory=list)
    paid: int = 0  # installments paid
    charged_off_on: dt.date | None = None
    claim_approved_on: dt.date | None = None

    def pay(self, count: int, day: dt.date, before: dt.date) -> bool:
        """Pay ``count`` installments on ``day`` (kept after the last payment and before ``before``);
        False when that day has not come yet."""
        floor = self.payments[-1].day if self.payments else self.plan.booked_on
        day = min(max(day, floor + dt.timedelta(days=1)), before - dt.timedelta(days=1))
        if day > self.today:
            return False
        self.payments.append(Payment(day, self.paid + 1, self.paid + count))
        self.paid += count
        return True

    def charge_off(self, rng: np.random.Generator) -> None:
        """Past 120 days: charged off a few days later, the claim approved a week or two after."""
        day = self.plan.dues[self.paid] + dt.timedelta(days=120 + int(rng.integers(4, 19)))
        if day < self.today:
            self.charged_off_on = day
            approved = day + dt.timedelta(days=int(rng.integers(7, 21)))
            self.claim_approved_on = approved if approved <= self.today else None


def _draw(plan: LoanPlan, today: dt.date, rng: np.random.Generator, tail: int | None) -> LoanPlan:
    """The borrower's payments up to today. ``tail``: scripted, pay on time then stop after ``tail``
    installments (charged off when that runs past 120 days, unless the role is to wait for it)."""
    path = _Path(plan, today)
    due = [d for d in plan.dues if d <= today]
    for k, day in enumerate(due):
        before = plan.dues[k + 1] if k + 1 < len(plan.dues) else day + dt.timedelta(days=31)
        missed = k - path.paid
        if tail is not None:
            if k < tail:
                if not path.pay(1, _on_time(day, rng), before):
                    break
            elif missed >= 4:
                if plan.role == "charge_off":
                    path.charge_off(rng)
                break
            continue
        if missed == 0 and k >= 2 and rng.random() < PREPAY:
            floor = path.payments[-1].day if path.payments else plan.booked_on
            payoff = max(day - dt.timedelta(days=int(rng.integers(3, 16))), floor + dt.timedelta(days=1))
            if payoff <= today:
                path.payments.append(Payment(payoff, 0, 0))
            break
        if missed >= 4:
            if rng.random() >= CURE_FROM_120:
                path.charge_off(rng)
                break
            count = missed + 1
        else:
            weights = PAY_COUNTS[missed]
            count = int(rng.choice(len(weights), p=weights))
        if count == 0:
            continue
        when = _on_time(day, rng) if missed == 0 else day + dt.timedelta(days=int(rng.integers(2, 27)))
        if not path.pay(count, when, before):
            break
    return replace(
        plan,
        payments=tuple(path.payments),
        charged_off_on=path.charged_off_on,
        claim_approved_on=path.claim_approved_on,
        proceeds_share=float(rng.uniform(0.25, 0.45)),
        costs=Decimal(int(rng.integers(5, 13)) * 50).quantize(Decimal("0.01")),
    )


#: Scripted loans still delinquent today: (role, lowest and highest days past due wanted today).
#: ``now_120`` is past the charge-off age but not yet charged off: it waits in the charge-off queue.
DELINQUENT_TODAY = (("now_120", 121, 140), ("now_90", 90, 119), ("now_60", 60, 89), ("now_30", 30, 59))


def _tail_for(plan: LoanPlan, role: str, today: dt.date) -> list[int]:
    """The numbers of installments paid before stopping that give the role, for this loan."""
    due = [d for d in plan.dues if d <= today]
    if role == "charge_off":
        # Charged off about 120 + 18 days after the first unpaid installment, approved within 20 more.
        return [t for t in range(1, len(due)) if plan.dues[t] + dt.timedelta(days=160) <= today]
    low, high = next((lo, hi) for name, lo, hi in DELINQUENT_TODAY if name == role)
    return [t for t in range(1, len(due)) if low <= (today - due[t]).days <= high]


def plan_history(loans: int, months: int, today: dt.date) -> list[LoanPlan]:
    """The whole demo history, drawn from the seeded generator: same arguments, same history."""
    rng = np.random.default_rng(SEED)
    start = add_months(today, -months) + dt.timedelta(days=7)
    span = (today - dt.timedelta(days=12) - start).days
    offsets = (np.arange(loans) + rng.uniform(0.05, 0.95, loans)) * span / max(loans, 1)
    employers = _employers(loans, rng)
    plans = [
        _borrower(i + 1, _weekday(start + dt.timedelta(days=int(offset))), employers[i], rng)
        for i, offset in enumerate(offsets)
    ]
    roles = ["charge_off"] * max(1, round(loans / 35))
    roles += [name for name, _, _ in DELINQUENT_TODAY] + (["now_30"] if loans >= 60 else [])
    tails: dict[int, int] = {}
    for role in roles:
        eligible = [p.number for p in plans if p.number not in tails and _tail_for(p, role, today)]
        if not eligible:
            continue
        number = int(rng.choice(eligible))
        choices = _tail_for(plans[number - 1], role, today)
        tails[number] = int(rng.choice(choices))
        plans[number - 1] = replace(plans[number - 1], role=role)
    return [_draw(p, today, rng, tails.get(p.number)) for p in plans]


# --- running the plan through the operations -----------------------------------------------------------


@contextmanager
def _setting(name: str, value: Any) -> Iterator[None]:
    config = current_app.config
    had, previous = name in config, config.get(name)
    config[name] = value
    try:
        yield
    finally:
        if had:
            config[name] = previous
        else:
            config.pop(name, None)


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _moment(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), dt.UTC)


def _answers(plan: LoanPlan, day: dt.date) -> Any:
    year, make, model, miles = plan.vehicle
    employed = plan.employment == "employed"
    n = plan.number
    return ApplicationInput.from_mapping(
        {
            "first_name": plan.first_name,
            "last_name": plan.last_name,
            "date_of_birth": dt.date(1968 + n % 36, 1 + n % 12, 1 + n % 28),
            "ssn_last4": f"{(n * 7919) % 10000:04d}",
            "phone": f"315-555-{2000 + n:04d}",
            "street": f"{100 + n * 13} {('Salina', 'Butternut', 'Park', 'Court', 'Wolf')[n % 5]} St",
            "city": "Syracuse",
            "state": "NY",
            "postal_code": ("13202", "13203", "13204", "13205", "13208")[n % 5],
            "household_size": 1 + n % 5,
            "employment_status": plan.employment,
            "employer_id": db.session.scalar(select(Employer.id).where(Employer.name == plan.employer)),
            "employer_other": "",
            "start_date": day - dt.timedelta(days=plan.started)
            if employed
            else plan.booked_on + dt.timedelta(days=plan.started),
            "offer_date": None if employed else day - dt.timedelta(days=4),
            "hourly_wage": plan.wage,
            "hours_per_week": plan.hours,
            "pay_frequency": "biweekly" if employed else None,
            "training_program_id": None,
            "expected_completion": None,
            "monthly_income": (plan.wage * plan.hours * 52 / 12).quantize(Decimal("0.01")),
            "monthly_debts": plan.debts,
            "requested_amount": plan.amount,
            "term_months": plan.term,
            "vehicle_year": year,
            "vehicle_make": make,
            "vehicle_model": model,
            "vehicle_mileage": miles,
            "vehicle_price": plan.price,
            "sale_type": "dealer" if n % 4 else "private",
            "dealer_name": ("Northside Auto", "Eastwood Motors", "Salina Street Auto")[n % 3]
            if n % 4
            else "",
            "down_payment": plan.down,
            "referral_partner_id": None
            if plan.partner is None
            else db.session.scalar(select(ReferralPartner.id).where(ReferralPartner.name == plan.partner)),
            "consent": True,
        }
    )


def _book(plan: LoanPlan, officer: User) -> int:
    """The application's whole way to a booked loan, each step on its day; returns the loan id."""
    submitted, verified, decided = (plan.booked_on - dt.timedelta(days=d) for d in (6, 4, 2))
    with _setting("PASSWORD_HASH_METHOD", BORROWER_HASH_METHOD):
        worker = create_user(plan.email, BORROWER_PASSWORD, "worker", f"{plan.first_name} {plan.last_name}")
    with on(submitted):
        application = ops.submit_application(
            _answers(plan, submitted),
            applicant=worker,
            new_account=None,
            submission_key=plan.key,
            now=_moment(submitted, 15),
        ).application
    with on(verified):
        ops.record_verification(
            application,
            version=application.version,
            data=VerificationInput(
                method="employer_call" if plan.employment == "employed" else "offer_letter",
                outcome="verified",
                verified_on=verified,
                employer_id=application.employer_id,
                start_date=application.start_date,
                hourly_wage=application.hourly_wage,
                hours_per_week=application.hours_per_week,
            ),
            actor=officer,
        )
    with on(decided):
        ops.decide(
            application,
            version=application.version,
            data=DecisionInput(
                kind="approve", amount=plan.amount, annual_rate=plan.rate, term_months=plan.term
            ),
            actor=officer,
            now=_moment(decided, 16),
        )
        ops.respond_to_offer(application, version=application.version, accept=True, actor=worker)
    with on(plan.booked_on):
        loan = book_loan(
            application,
            version=application.version,
            data=default_booking_dates(plan.booked_on),
            actor=officer,
        )
    return int(loan.id)


def _installments(loan_id: int) -> list[Decimal]:
    return [
        Decimal(str(amount))
        for amount in db.session.scalars(
            select(LoanInstallment.payment)
            .where(LoanInstallment.loan_id == loan_id)
            .order_by(LoanInstallment.number)
        )
    ]


def _pay(plan: LoanPlan, loan_id: int, payment: Payment, amounts: list[Decimal], officer: User) -> None:
    with on(payment.day):
        if payment.first == 0:
            loan = db.session.get(Loan, loan_id)
            assert loan is not None
            amount, reference = queries.payoff_quote(loan, payment.day), f"DEMO-{plan.key}-payoff"
        else:
            amount = sum(amounts[payment.first - 1 : payment.last], Decimal("0.00"))
            reference = f"DEMO-{plan.key}-{payment.first}"
        operations.record_payment(
            loan_id,
            operations.PaymentInput(
                amount, payment.day, "check" if plan.number % 4 == 0 else "ach", reference
            ),
            actor=officer,
            key=operations.import_key(reference),
            source="import",
        )


def _pay_together(
    plan: LoanPlan,
    loan_id: int,
    payments: list[Payment],
    amounts: list[Decimal],
    officer: User,
    day: dt.date,
) -> None:
    """The loan's installments paid since its last event, recorded together on ``day`` (the history's
    day when they are settled) as a core-system import: one replay instead of one per payment, the
    same state, and the bucket history rewritten day by day from the first of them through ``day``."""
    items = []
    for payment in payments:
        reference = f"DEMO-{plan.key}-{payment.first}"
        items.append(
            (
                operations.PaymentInput(
                    sum(amounts[payment.first - 1 : payment.last], Decimal("0.00")),
                    payment.day,
                    "check" if plan.number % 4 == 0 else "ach",
                    reference,
                ),
                operations.import_key(reference),
            )
        )
    with on(day):
        operations.record_payments(loan_id, items, actor=officer, source="import")


def _charge_off(plan: LoanPlan, loan_id: int, officer: User) -> int:
    assert plan.charged_off_on is not None
    with on(plan.charged_off_on):
        row = db.session.get(LoanServicing, loan_id)
        balance = row.principal_balance if row is not None else plan.amount
        entry = operations.charge_off(
            loan_id,
            operations.ChargeOffInput(
                "repossessed_sold",
                _money(float(balance) * plan.proceeds_share),
                plan.costs,
                "Demo: the borrower stopped paying; the car was repossessed and sold at auction",
            ),
            actor=officer,
        )
    return int(entry.claim_id)


def _approve(plan: LoanPlan, claim_id: int, staff: User) -> None:
    assert plan.claim_approved_on is not None
    with on(plan.claim_approved_on):
        actions.decide_claim(
            staff,
            f"demo-history-claim-{plan.key}",
            claim_id,
            True,
            plan.claim_approved_on,
            "Demo: collection history and the auction sale checked",
        )


def _deposit(staff: User, key: str, grant: str, amount: Decimal, day: dt.date) -> bool:
    """A keyed grant deposit; False when it was recorded before (on any day)."""
    if db.session.scalar(select(RequestRow.key).where(RequestRow.key == actions.scoped_key(staff, key))):
        return False
    with on(day):
        actions.deposit(
            staff, key, "Empire State Development", grant, amount, day, "Demo grant for the program history"
        )
    return True


def _claim(plan: LoanPlan) -> Decimal:
    """About what the reserve pays on a charged-off loan: the scheduled balance when payments stopped,
    five months of interest and the costs, less what the car brought in."""
    paid = max((p.last for p in plan.payments), default=0)
    balance = plan.balances[paid - 1] if paid else plan.amount
    interest = balance * plan.rate / 100 * 5 / 12
    return balance * Decimal(str(1 - plan.proceeds_share)) + interest + plan.costs


def grants(
    plans: list[LoanPlan], second_on: dt.date, today: dt.date, available: Callable[[dt.date], Decimal]
) -> tuple[Decimal, Decimal]:
    """The two grant deposits, rounded up to $5,000 as grants are.

    The first covers the commitments and claims until the second arrives; the second leaves about
    :data:`AVAILABLE_TODAY` times the live loans' commitments available today (never less than keeps
    the reserve positive all along). Estimated from the plan (claims by
    :func:`_claim`) and ``available(day)``, the reserve already there (the other demos' loans).
    """
    policy = reserve_policy(current_app.config)
    step, margin = Decimal("5000"), Decimal("10000")
    flows: list[tuple[dt.date, Decimal]] = []
    live = Decimal(0)
    for plan in plans:
        commitment = policy.commitment_for(plan.amount)
        flows.append((plan.booked_on, -commitment))
        payoff = next((p.day for p in plan.payments if p.first == 0), None)
        if payoff is not None:
            flows.append((payoff, commitment))
        elif plan.claim_approved_on is not None:
            flows.append((plan.claim_approved_on, commitment - _claim(plan)))
        elif plan.charged_off_on is None:
            live += commitment
    flows.sort()
    running, lowest_before, lowest_after = Decimal(0), Decimal(0), Decimal(0)
    for day, amount in flows:
        running += amount
        if amount < 0:
            low = running + available(day)
            if day < second_on:
                lowest_before = min(lowest_before, low)
            else:
                lowest_after = min(lowest_after, low)
    ours_today = running + available(today)

    def up(value: Decimal) -> Decimal:
        return max((value / step).to_integral_value(ROUND_CEILING) * step, step)

    first = up(margin - lowest_before)
    second = max(up(margin - first - lowest_after), up(live * AVAILABLE_TODAY - first - ours_today))
    return first, second


class Step(NamedTuple):
    """One dated step of the history; steps of a day run in ``order``: bookings, payments,
    charge-offs, claim decisions, then the nightly aging."""

    day: dt.date
    order: int
    number: int  # the plan's loan number (0: the whole book)
    kind: str
    payment: Payment | None = None


def steps(plans: list[LoanPlan], today: dt.date) -> list[Step]:
    """Every step of the plans up to today in the order the days came, with the aging on each
    month end from the first booking on."""
    found: list[Step] = []
    for plan in plans:
        found.append(Step(plan.booked_on, 0, plan.number, "book"))
        found.extend(Step(p.day, 1, plan.number, "pay", p) for p in plan.payments)
        if plan.charged_off_on is not None:
            found.append(Step(plan.charged_off_on, 2, plan.number, "charge_off"))
        if plan.claim_approved_on is not None:
            found.append(Step(plan.claim_approved_on, 3, plan.number, "approve"))
    end = min(p.booked_on for p in plans).replace(day=1)
    while (end := add_months(end, 1) - dt.timedelta(days=1)) < today:
        found.append(Step(end, 9, 0, "aging"))
        end += dt.timedelta(days=1)
    return sorted(found, key=lambda step: (step.day, step.order, step.number))


@dataclass
class _Tally:
    payments: int = 0
    payoffs: int = 0
    charge_offs: int = 0
    claims_paid: int = 0
    deposits: list[str] = field(default_factory=list)


def seed_program_history(
    loans: int | None = None,
    months: int | None = None,
    echo: Callable[[str], Any] = print,
) -> int:
    """Add the demo program history that is missing; returns how many loans were added.

    ``loans`` defaults to the ``DEMO_HISTORY_LOANS`` setting (140 when unset; 0 adds nothing),
    ``months`` to ``DEMO_HISTORY_MONTHS`` (24). Needs the reference lists and the demo officer and
    staff accounts. Commits as it goes (each job run commits).
    """
    config = current_app.config
    loans = int(config.get("DEMO_HISTORY_LOANS", DEFAULT_LOANS) if loans is None else loans)
    months = int(config.get("DEMO_HISTORY_MONTHS", DEFAULT_MONTHS) if months is None else months)
    officer, staff = _user(OFFICER_EMAIL), _user(STAFF_EMAIL)
    if loans <= 0 or months <= 0 or officer is None or staff is None:
        return 0
    today = business_date()
    plans = plan_history(loans, months, today)
    taken = set(
        db.session.scalars(
            select(Application.submission_key).where(Application.submission_key.like(f"{KEY_PREFIX}%"))
        )
    )
    emails = set(db.session.scalars(select(User.email).where(User.email.in_([p.email for p in plans]))))
    todo = [p for p in plans if p.key not in taken and p.email not in emails]
    if not todo:
        return 0

    tally = _Tally()
    first_on = plans[0].booked_on - dt.timedelta(days=21)
    second_on = add_months(first_on, 12)
    first, second = grants(
        todo, second_on, today, lambda day: reserve.reserve_position(db.session, day).available
    )
    for key, grant, amount, day in (
        ("demo-history-grant-1", f"Car Buyer Program {first_on.year} (demo)", first, first_on),
        ("demo-history-grant-2", f"Car Buyer Program {second_on.year} (demo)", second, second_on),
    ):
        if day < today and _deposit(staff, key, grant, amount, day):
            tally.deposits.append(f"${amount:,} on {day}")

    by_number = {p.number: p for p in todo}
    loan_ids: dict[int, int] = {}
    amounts: dict[int, list[Decimal]] = {}
    claims: dict[int, int] = {}
    month_ends = []
    # Installments wait and are recorded together (``_pay_together``) until the loan's next event
    # that needs its state (a payoff quote, a charge-off) or the end: a replay per loan and event
    # rather than per payment. The month-end agings in between see those loans unpaid; the replay
    # then rewrites their bucket history from the first payment on, as the day-by-day run would be.
    pending: dict[int, list[Payment]] = {}

    def settle(number: int, day: dt.date) -> None:
        waiting = pending.pop(number, [])
        if waiting:
            _pay_together(by_number[number], loan_ids[number], waiting, amounts[number], officer, day)

    for step in steps(todo, today):
        if step.kind == "aging":
            _run("aging", step.day)
            month_ends.append(step.day)
            continue
        plan = by_number[step.number]
        if step.kind == "book":
            loan_ids[plan.number] = _book(plan, officer)
            amounts[plan.number] = _installments(loan_ids[plan.number])
        elif step.kind == "pay":
            assert step.payment is not None
            if step.payment.first == 0:
                settle(plan.number, step.day)
                _pay(plan, loan_ids[plan.number], step.payment, amounts[plan.number], officer)
            else:
                pending.setdefault(plan.number, []).append(step.payment)
            tally.payments += 1
            tally.payoffs += int(step.payment.first == 0)
        elif step.kind == "charge_off":
            settle(plan.number, step.day)
            claims[plan.number] = _charge_off(plan, loan_ids[plan.number], officer)
            tally.charge_offs += 1
        else:
            _approve(plan, claims[plan.number], staff)
            tally.claims_paid += 1
    for number in list(pending):
        settle(number, today)
    _run("aging", today)
    for end in month_ends:
        _run("delinquency_snapshot", end + dt.timedelta(days=1))
    db.session.commit()
    _report(tally, len(month_ends), today, echo)
    return len(todo)


def _run(name: str, day: dt.date) -> None:
    """Run a job for a date. A date run before these loans existed (the servicing demo's aging and
    snapshots) is run again, forced, so it counts them."""
    db.session.commit()  # a failing job rolls the session back: keep the history written so far
    result = run_job(name, day, trigger="manual")
    if result.outcome is Outcome.ALREADY_DONE:
        result = run_job(name, day, trigger="manual", force=True)
    if result.outcome is not Outcome.SUCCEEDED:
        raise RuntimeError(f"demo history: the {name} job for {day}: {result.outcome} {result.error}")


def _report(tally: _Tally, months: int, today: dt.date, echo: Callable[[str], Any]) -> None:
    position = reserve.reserve_position(db.session, today)
    buckets = Counter(
        db.session.scalars(
            select(LoanServicing.bucket)
            .join(Loan, Loan.id == LoanServicing.loan_id)
            .where(Loan.status == "active")
        )
    )
    echo(
        f"  history: {months} month ends aged, {tally.payments} payments, {tally.payoffs} paid off early,"
        f" {tally.charge_offs} charged off, {tally.claims_paid} claims paid"
        + (f"; grant deposits {', '.join(tally.deposits)}" if tally.deposits else "")
    )
    order = {label: i for i, (label, _) in enumerate(current_app.config["DELINQUENCY_BUCKETS"])}
    echo(
        "  active loans by bucket today: "
        + ", ".join(f"{b} {n}" for b, n in sorted(buckets.items(), key=lambda item: order.get(item[0], 99)))
    )
    echo(
        f"  reserve today: balance {position.balance}, committed {position.committed},"
        f" available {position.available}"
    )
    echo(f"  borrowers: borrower-NNN@demo.worktrain.org, password {BORROWER_PASSWORD}")


def seed_projection_snapshots(months: int | None = None, echo: Callable[[str], Any] = print) -> int:
    """The monthly projection snapshots the scheduler would have taken over the last ``months`` months
    (``DEMO_PROJECTION_SNAPSHOTS``, 6 when unset), so the page can compare months and track a forecast.

    Runs the real ``projection_snapshot`` job on each 1st (a date already done is skipped), on
    ``DEMO_PROJECTION_PATHS`` paths (2,000 when unset). Nothing without the program history: a projection of a handful of loans would compare nothing.
    """
    config = current_app.config
    months = int(config.get("DEMO_PROJECTION_SNAPSHOTS", 6) if months is None else months)
    if months <= 0 or int(config.get("DEMO_HISTORY_LOANS", DEFAULT_LOANS)) <= 0:
        return 0
    first_of_month = business_date().replace(day=1)
    taken = 0
    for back in range(months - 1, -1, -1):
        day = add_months(first_of_month, -back)
        with _setting(
            "PROJECTION_SNAPSHOT_PATHS", config.get("DEMO_PROJECTION_PATHS", DEMO_PROJECTION_PATHS)
        ):
            result = run_job("projection_snapshot", day, trigger="demo")
        echo(f"projection snapshot {day}: {result.outcome}")
        taken += result.outcome == Outcome.SUCCEEDED
    return taken

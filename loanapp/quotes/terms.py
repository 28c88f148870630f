"""The program's limits on a loan, and a quote inside them: plain functions over ``risk/``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from loanapp.formatting import money as show_money
from risk.dates import add_months
from risk.disclosure import TruthInLending, truth_in_lending
from risk.errors import InvalidTerms
from risk.money import money


@dataclass(frozen=True)
class ProgramLimits:
    """The credit union's product sheet for the program (configuration: ``LOAN_*``)."""

    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    min_rate: Decimal
    max_rate: Decimal
    max_prepaid_finance_charge: Decimal

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ProgramLimits:
        return cls(
            min_amount=Decimal(config["LOAN_MIN_AMOUNT"]),
            max_amount=Decimal(config["LOAN_MAX_AMOUNT"]),
            min_term_months=int(config["LOAN_MIN_TERM_MONTHS"]),
            max_term_months=int(config["LOAN_MAX_TERM_MONTHS"]),
            min_rate=Decimal(config["LOAN_MIN_RATE"]),
            max_rate=Decimal(config["LOAN_MAX_RATE"]),
            max_prepaid_finance_charge=Decimal(config["LOAN_MAX_PREPAID_FINANCE_CHARGE"]),
        )

    def check(
        self,
        amount_financed: Decimal,
        annual_rate: Decimal,
        term_months: int,
        prepaid_finance_charge: Decimal = Decimal("0.00"),
    ) -> None:
        """Refuse terms outside the program, naming the field and the limit."""
        if amount_financed < self.min_amount:
            raise InvalidTerms(
                "amount_financed",
                _("The program lends at least %(amount)s.", amount=show_money(self.min_amount)),
            )
        if amount_financed > self.max_amount:
            raise InvalidTerms(
                "amount_financed",
                _("The program lends at most %(amount)s.", amount=show_money(self.max_amount)),
            )
        if not self.min_term_months <= term_months <= self.max_term_months:
            raise InvalidTerms(
                "term_months",
                _(
                    "The program's terms run from %(low)d to %(high)d months.",
                    low=self.min_term_months,
                    high=self.max_term_months,
                ),
            )
        if not self.min_rate <= annual_rate <= self.max_rate:
            raise InvalidTerms(
                "annual_rate",
                _(
                    "The program's rates run from %(low)s%% to %(high)s%%.",
                    low=self.min_rate,
                    high=self.max_rate,
                ),
            )
        if prepaid_finance_charge > self.max_prepaid_finance_charge:
            raise InvalidTerms(
                "prepaid_finance_charge",
                _("Loan fees are at most %(amount)s.", amount=show_money(self.max_prepaid_finance_charge)),
            )


def quote(
    limits: ProgramLimits,
    *,
    amount_financed: Decimal,
    annual_rate: Decimal,
    term_months: int,
    contract_date: dt.date,
    first_payment_date: dt.date | None = None,
    prepaid_finance_charge: Decimal = Decimal("0.00"),
) -> TruthInLending:
    """Truth-in-Lending figures for proposed terms; the first payment defaults to a month after signing.

    The note amount is the amount financed plus any prepaid finance charge (the charge is financed).
    """
    limits.check(amount_financed, annual_rate, term_months, prepaid_finance_charge)
    first = first_payment_date or add_months(contract_date, 1)
    return truth_in_lending(
        money(amount_financed + prepaid_finance_charge),
        annual_rate,
        term_months,
        contract_date,
        first,
        prepaid_finance_charge,
    )

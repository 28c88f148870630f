"""What each notice says, in English and Spanish: plain words, short for SMS.

Each event has a builder that returns the email (subject and body) and the SMS text, rendered in the
worker's language with Flask-Babel's catalogues (so ``tests/app/test_i18n.py`` covers them). The
credit union's contact details come from configuration and close every email.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _

from loanapp.formatting import money

#: The events a worker hears about (the event code stored on each notice).
EVENTS = (
    "application_received",
    "documents_requested",
    "decision_approved",
    "decision_counter_offer",
    "decision_declined",
    "offer_expiring",
    "loan_booked",
    "payment_due",
    "payment_received",
    "payment_missed",
    "payoff_complete",
    "check_in_due",
    "password_reset_link",
    "password_reset_code",
    "welcome_link",
    "sms_stopped",
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    email: str
    sms: str


def contact() -> dict[str, Any]:
    """The credit union's contact details and how to pay (settings), for pages and messages."""
    config = current_app.config
    phone = str(config["CREDIT_UNION_PHONE"])
    try:
        language = str(get_locale() or "en")[:2]
    except RuntimeError:  # a job or command outside any request, with no language forced
        language = "en"
    return {
        "name": config["CREDIT_UNION_NAME"],
        "address": config["CREDIT_UNION_ADDRESS"],
        "phone": phone,
        "phone_display": display_phone(phone),
        "hours": _in_language(config["CREDIT_UNION_HOURS"], language),
        "how_to_pay": dict(_in_language(config["HOW_TO_PAY"], language)),
    }


def _in_language(value: Any, language: str) -> Any:
    """A setting given per language ({"en": ..., "es": ...}) in ``language`` (English when missing)."""
    if isinstance(value, dict) and value and set(value) <= {"en", "es"}:
        return value.get(language) or value.get("en") or next(iter(value.values()))
    return value


def display_phone(e164: str) -> str:
    """+13154761500 -> (315) 476-1500 for US numbers; other numbers as stored."""
    if e164.startswith("+1") and len(e164) == 12:
        digits = e164[2:]
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return e164


def link(path: str) -> str:
    return str(current_app.config["PUBLIC_URL"]).rstrip("/") + path


def _day(value: date) -> str:
    return format_date(value, "long")


def _closing() -> str:
    c = contact()
    return _(
        "Questions? Call %(credit_union)s at %(phone)s (%(hours)s).",
        credit_union=c["name"],
        phone=c["phone_display"],
        hours=c["hours"],
    )


def _how_to_pay() -> str:
    ways = contact()["how_to_pay"]
    labels = {
        "branch": _("At the branch"),
        "mail": _("By mail"),
        "ach": _("Automatic transfer (ACH)"),
        "payroll": _("Payroll deduction"),
    }
    return "\n".join(f"- {labels.get(key, key)}: {value}" for key, value in ways.items())


def _email(name: str, *paragraphs: str) -> str:
    return "\n\n".join([_("Hello %(name)s,", name=name), *paragraphs, _closing()]) + "\n"


def _sms(text: str) -> str:
    return f"{contact()['name']}: {text}"


# --- the events ------------------------------------------------------------------------------------


def application_received(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("We received your car loan application"),
        _email(
            v["name"],
            _(
                "We received your application for a car loan of %(amount)s. A loan officer will review it, "
                "usually within two business days, and we will tell you when there is news.",
                amount=money(v["amount"]),
            ),
            _("You can follow your application here: %(link)s", link=v["link"]),
        ),
        _sms(_("we received your car loan application. We will text you when there is news.")),
    )


def documents_requested(v: dict[str, Any]) -> Rendered:
    note = v.get("note") or ""
    paragraphs = [_("To continue with your application we need: %(documents)s.", documents=v["documents"])]
    if note:
        paragraphs.append(_("Your loan officer writes:") + "\n" + note)
    paragraphs.append(_("Upload it on your application page: %(link)s", link=v["link"]))
    return Rendered(
        _("We need a document to continue your application"),
        _email(v["name"], *paragraphs),
        _sms(
            _(
                "to continue your car loan application we need: %(documents)s. Upload it at %(link)s",
                documents=v["documents"],
                link=v["link"],
            )
        ),
    )


def decision_approved(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Your car loan is approved"),
        _email(
            v["name"],
            _(
                "Good news: your car loan is approved. %(amount)s for %(term)d months at %(rate)s%% a year; "
                "the payment is %(payment)s a month.",
                amount=money(v["amount"]),
                term=v["term"],
                rate=v["rate"],
                payment=money(v["payment"]),
            ),
            _("Read the offer and accept it here: %(link)s", link=v["link"]),
        ),
        _sms(
            _(
                "good news, your car loan of %(amount)s is approved. See the offer and accept it at %(link)s",
                amount=money(v["amount"]),
                link=v["link"],
            )
        ),
    )


def decision_counter_offer(v: dict[str, Any]) -> Rendered:
    paragraphs = [
        _(
            "We cannot lend exactly what you asked for, but we can offer you a loan. You asked for %(asked)s "
            "over %(asked_term)d months; we offer %(amount)s over %(term)d months at %(rate)s%% a year, "
            "a payment of %(payment)s a month.",
            asked=money(v["asked"]),
            asked_term=v["asked_term"],
            amount=money(v["amount"]),
            term=v["term"],
            rate=v["rate"],
            payment=money(v["payment"]),
        )
    ]
    if v.get("reasons"):
        paragraphs.append(_("Why:") + "\n" + "\n".join(f"- {r}" for r in v["reasons"]))
    if v.get("note"):
        paragraphs.append(v["note"])
    paragraphs.append(_("Read the offer and accept or refuse it here: %(link)s", link=v["link"]))
    return Rendered(
        _("We can offer you a different car loan"),
        _email(v["name"], *paragraphs),
        _sms(
            _(
                "we can offer you a car loan of %(amount)s over %(term)d months. See why and answer at %(link)s",
                amount=money(v["amount"]),
                term=v["term"],
                link=v["link"],
            )
        ),
    )


def decision_declined(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("About your car loan application"),
        _email(
            v["name"],
            _("We are sorry: we cannot offer you a car loan now."),
            _("The main reasons:") + "\n" + "\n".join(f"- {r}" for r in v["reasons"]),
            _(
                "Your notice, with your rights under the Equal Credit Opportunity Act, is here: %(link)s",
                link=v["link"],
            ),
            _("You can apply again when things change. We are glad to talk it over."),
        ),
        _sms(
            _(
                "we cannot offer you a car loan now. Your notice with the reasons is at %(link)s",
                link=v["link"],
            )
        ),
    )


def offer_expiring(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Your car loan offer ends soon"),
        _email(
            v["name"],
            _("Your car loan offer ends on %(date)s.", date=_day(v["date"])),
            _("Answer it here: %(link)s", link=v["link"]),
        ),
        _sms(
            _(
                "your car loan offer ends on %(date)s. Answer it at %(link)s",
                date=_day(v["date"]),
                link=v["link"],
            )
        ),
    )


def loan_booked(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Your car loan is ready"),
        _email(
            v["name"],
            _(
                "Your car loan of %(amount)s is booked. Your payment is %(payment)s a month; the first one "
                "is due on %(date)s.",
                amount=money(v["amount"]),
                payment=money(v["payment"]),
                date=_day(v["date"]),
            ),
            _("How to pay:") + "\n" + _how_to_pay(),
            _("See your loan and your payments here: %(link)s", link=v["link"]),
        ),
        _sms(
            _(
                "your car loan is ready. Payment %(payment)s, first due %(date)s. How to pay: %(link)s",
                payment=money(v["payment"]),
                date=_day(v["date"]),
                link=v["link"],
            )
        ),
    )


def payment_due(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Your car loan payment is due on %(date)s", date=_day(v["date"])),
        _email(
            v["name"],
            _(
                "A reminder: your car loan payment of %(amount)s is due on %(date)s.",
                amount=money(v["amount"]),
                date=_day(v["date"]),
            ),
            _("How to pay:") + "\n" + _how_to_pay(),
            _("If you already paid, thank you, and please ignore this message."),
        ),
        _sms(
            _(
                "your car loan payment of %(amount)s is due %(date)s. Already paid? Thank you.",
                amount=money(v["amount"]),
                date=_day(v["date"]),
            )
        ),
    )


def payment_received(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("We received your payment"),
        _email(
            v["name"],
            _(
                "Thank you: we received your payment of %(amount)s on %(date)s.",
                amount=money(v["amount"]),
                date=_day(v["date"]),
            ),
            _("This is your receipt. See your loan here: %(link)s", link=v["link"]),
        ),
        _sms(
            _(
                "thank you, we received your payment of %(amount)s on %(date)s.",
                amount=money(v["amount"]),
                date=_day(v["date"]),
            )
        ),
    )


def payment_missed(v: dict[str, Any]) -> Rendered:
    """Firmer as the payment ages, always respectful, always with what happens next and who to call."""
    days = int(v["days"])
    c = contact()
    if days < 10:
        subject = _("Your car loan payment is late")
        text = _(
            "We have not received your payment of %(amount)s that was due on %(date)s. If you already "
            "paid, thank you. If not, please pay as soon as you can.",
            amount=money(v["amount"]),
            date=_day(v["date"]),
        )
        sms = _(
            "your car loan payment due %(date)s has not arrived. Please pay when you can, or call %(phone)s.",
            date=_day(v["date"]),
            phone=c["phone_display"],
        )
    elif days < 30:
        subject = _("Your car loan payment is %(days)d days late", days=days)
        text = _(
            "Your payment that was due on %(date)s is %(days)d days late; %(amount)s is past due. Please pay "
            "now or call us: if your hours or pay changed, we can look at options with you.",
            date=_day(v["date"]),
            days=days,
            amount=money(v["amount"]),
        )
        sms = _(
            "your car loan payment is %(days)d days late. Please pay now or call %(phone)s to talk about options.",
            days=days,
            phone=c["phone_display"],
        )
    else:
        subject = _("Important: your car loan is %(days)d days past due", days=days)
        text = _(
            "Your car loan is %(days)d days past due (%(amount)s). Please call us within 10 days. If we do "
            "not hear from you, the loan may be reported as delinquent and we may have to take further steps "
            "under your loan agreement, including repossession of the vehicle. We would much rather agree a "
            "plan with you.",
            days=days,
            amount=money(v["amount"]),
        )
        sms = _(
            "important: your car loan is %(days)d days past due. Please call %(phone)s within 10 days so we "
            "can agree a plan.",
            days=days,
            phone=c["phone_display"],
        )
    return Rendered(subject, _email(v["name"], text, _("How to pay:") + "\n" + _how_to_pay()), _sms(sms))


def payoff_complete(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Your car loan is paid off"),
        _email(
            v["name"],
            _("Congratulations: your car loan is paid in full as of %(date)s.", date=_day(v["date"])),
            _(
                "What happens next: we release our lien on your vehicle's title and mail you the title or a "
                "lien release letter within 30 days. Keep it with your car papers; you need it to sell the car."
            ),
        ),
        _sms(
            _(
                "your car loan is paid off. We will mail your title or lien release within 30 days. Congratulations!"
            )
        ),
    )


def check_in_due(v: dict[str, Any]) -> Rendered:
    """An outcome check-in came due (``loanapp.outcomes``): a minute of questions about the job and the car."""
    return Rendered(
        _("How are the job and the car going?"),
        _email(
            v["name"],
            _(
                "It is time for a quick check-in: are you still working, and is the car getting you there? "
                "It takes less than a minute: %(link)s",
                link=v["link"],
            ),
            _("Your answers help keep the car loan program going. Reports to funders only show totals."),
        ),
        _sms(_("a 1-minute check-in about your job and your car: %(link)s", link=v["link"])),
    )


def password_reset_link(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Choose a new password"),
        _email(
            v["name"],
            _("Someone asked to reset the password of your Car Buyer Program account."),
            _("To choose a new password, open this link within 1 hour: %(link)s", link=v["link"]),
            _("If it was not you, ignore this message: your password stays the same."),
        ),
        "",
    )


def password_reset_code(v: dict[str, Any]) -> Rendered:
    return Rendered(
        "",
        "",
        _sms(
            _(
                "your code to reset your password is %(code)s. It works for 10 minutes. Do not share it.",
                code=v["code"],
            )
        ),
    )


def welcome_link(v: dict[str, Any]) -> Rendered:
    return Rendered(
        _("Your Car Buyer Program account"),
        _email(
            v["name"],
            _("An account was made for you on the Car Buyer Program loan service."),
            _("Choose your password here (the link works for 7 days): %(link)s", link=v["link"]),
        ),
        "",
    )


def sms_stopped(v: dict[str, Any]) -> Rendered:
    return Rendered(
        "",
        "",
        _sms(_("you will get no more texts from us. Reply START to get them again.")),
    )


BUILDERS: dict[str, Callable[[dict[str, Any]], Rendered]] = {name: globals()[name] for name in EVENTS}


def render(event: str, language: str, values: dict[str, Any]) -> Rendered:
    """The notice in ``language`` (texts stored as rendered: what was sent is what is kept)."""
    with force_locale(language):
        return BUILDERS[event](values)


def amount(value: Decimal | None) -> str:
    return money(value)

"""End to end in chromium on a phone-sized screen: a worker applies with an offer letter, an officer
verifies employment and approves, the worker accepts and reads the schedule, the officer books, the
worker sees the loan."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

OFFICER = ("officer@demo.coopfed.org", "officer-demo-pass")
WORKER = ("ana.reyes.journey@example.org", "journey-pass-2026")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _sign_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/")


def _fill_application(page: Any, offer_letter: str) -> None:
    label = page.get_by_label
    label("First name").fill("Ana")
    label("Last name").fill("Reyes")
    label("Date of birth").fill("1994-05-17")
    label("Last 4 digits of your Social Security number").fill("4821")
    label("Phone number").fill("315-555-0142")
    label("Street address").fill("412 Butternut St")
    label("City or town").fill("Syracuse")
    label("ZIP code").fill("13208")
    label("How many people live in your household, you included?").fill("3")
    label("I have a job offer").check()
    label("Employer", exact=True).select_option(label="Cryomech")
    label("Date of the job offer").fill("2026-01-05")
    label("Start date at this job").fill("2026-02-02")
    label("Hourly wage ($)").fill("13.50")
    label("Hours per week").fill("40")
    label("Monthly income before taxes ($)").fill("2340")
    label("Monthly debt payments ($)").fill("120")
    label("Year", exact=True).fill("2017")
    label("Make", exact=True).fill("Honda")
    label("Model", exact=True).fill("Civic")
    label("Miles on the odometer").fill("84000")
    label("Price ($)").fill("9,500")
    label("From a dealer").check()
    label("Dealer's name").fill("Northside Auto")
    label("How much do you want to borrow? ($)").fill("8500")
    label("Pay it back over").select_option("48")
    label("Down payment ($)").fill("1000")
    label("What is it?").select_option("offer_letter")
    label("Upload a pay stub, offer letter or training letter (optional)").set_input_files(offer_letter)
    label("Email", exact=True).fill(WORKER[0])
    label("Choose a password").fill(WORKER[1])
    label("I agree that the credit union may contact my employer").check()


def test_apply_verify_approve_accept_book_and_see_the_loan(
    live_server: str, page: Any, tmp_path: Any
) -> None:
    base = live_server
    problems: list[str] = []
    # Scripts and styles blocked by the CSP, script errors, and failed requests (the browser's own
    # favicon probe aside) would all show here.
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    offer_letter = tmp_path / "offer-letter.pdf"
    offer_letter.write_bytes(PDF)

    # The worker applies on a phone, with the offer letter, and gets an account.
    page.goto(f"{base}/apply")
    assert page.get_by_label("Pay it back over").is_visible()
    assert page.get_by_label(
        "Date of the job offer"
    ).is_hidden()  # until the worker says which case is theirs
    page.get_by_label("I have a job offer").check()
    assert page.get_by_label("Date of the job offer").is_visible()
    assert page.get_by_label("How often you are paid").is_hidden()  # only asked of people who work now
    _fill_application(page, str(offer_letter))
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_url(re.compile(r".*/my-application/\d+$"))
    application_id = int(page.url.rsplit("/", 1)[1])
    assert "Thank you. Your application is sent." in page.content()
    assert page.get_by_role("link", name="offer-letter.pdf").is_visible()
    _sign_out(page, base)

    # The officer verifies employment from the offer letter and approves.
    sign_in(page, base, *OFFICER)
    page.goto(f"{base}/applications?status=submitted")
    page.get_by_role("link", name="Reyes, Ana").click()
    page.wait_for_url(f"{base}/applications/{application_id}")
    page.get_by_label("How it was verified").select_option(label="Offer letter")
    page.get_by_label("Verified", exact=True).check()
    page.get_by_role("button", name="Record verification").click()
    assert page.get_by_text("Verification recorded.").is_visible()
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Rate (% per year)").fill("7.25")
    page.get_by_role("button", name="Record decision").click()
    assert page.get_by_role("heading", name="Decision: Approve").is_visible()
    _sign_out(page, base)

    # The worker reads the offer, accepts it, and sees the schedule.
    sign_in(page, base, *WORKER)
    page.wait_for_url(f"{base}/home")
    page.get_by_role("link", name="See your application").click()
    assert page.get_by_role("heading", name="Your loan offer").is_visible()
    assert "$204.53" in page.content()  # 8,500 at 7.25% over 48 months
    page.get_by_role("button", name="Accept this offer").click()
    assert page.get_by_text("You accepted the offer.").first.is_visible()
    page.get_by_text("See every payment").click()
    rows = page.locator("#schedule tbody tr")
    assert rows.count() == 48
    assert rows.last.locator("td").last.inner_text() == "$0.00"
    _sign_out(page, base)

    # The officer books the loan; the reserve commitment goes with it.
    sign_in(page, base, *OFFICER)
    page.goto(f"{base}/applications/{application_id}")
    page.get_by_role("button", name="Book loan").click()
    page.wait_for_url(re.compile(r".*/loans/\d+$"))
    loan_url = page.url
    assert "Loan booked; the reserve commitment is posted." in page.content()
    _sign_out(page, base)

    # The worker sees the loan.
    sign_in(page, base, *WORKER)
    page.wait_for_url(f"{base}/home")
    assert page.get_by_role("heading", name=re.compile("Car loan #")).is_visible()
    page.get_by_role("link", name="See your loan").click()
    # One loan page for the borrower, the same one the officer's loan link leads to.
    page.wait_for_url(re.compile(r".*/my/loans/" + loan_url.rsplit("/", 1)[1] + "$"))
    assert page.get_by_role("heading", name=re.compile("Your car loan")).is_visible()
    assert page.get_by_role("heading", name="Where you stand today").is_visible()
    assert page.get_by_role("heading", name="Truth-in-Lending disclosure").is_visible()
    assert problems == []

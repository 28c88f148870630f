"""Who sees what: another worker's ids are 404 everywhere; staff see no SSN digits and no documents."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from loanapp.access import rule_for
from tests.app.applications.conftest import PDF, accept, approve, fund_reserve, submit, verify

ID_PARAMS = ("application_id", "document_id", "loan_id", "notice_id")


@pytest.fixture
def booked(app: Flask, users: dict[str, int]) -> dict[str, int]:
    """The test worker's application with a document, booked as a loan."""
    from loanapp.accounts.models import User
    from loanapp.applications import operations as ops
    from loanapp.clock import business_date
    from loanapp.extensions import db
    from loanapp.loans.operations import book_loan, default_booking_dates
    from loanapp.notices.operations import issue_adverse_action

    with app.test_request_context():
        worker = db.session.get(User, users["worker"])
        officer = db.session.get(User, users["officer"])
        application = submit(worker)
        document = ops.add_document(
            application, upload=ops.Upload("offer_letter", "offer.pdf", io.BytesIO(PDF)), actor=worker
        )
        verify(application, officer)
        approve(application, officer)
        accept(application, worker)
        fund_reserve(users["staff"])
        loan = book_loan(
            application,
            version=application.version,
            data=default_booking_dates(business_date()),
            actor=officer,
        )
        # A real adverse-action notice on the worker's application, so its URL is worth guessing.
        notice = issue_adverse_action(application, kind="declined", reasons=["Income"], day=business_date())
        db.session.commit()
        return {
            "application_id": application.id,
            "document_id": document.id,
            "loan_id": loan.id,
            "notice_id": notice.id,
        }


def _routes(app: Flask) -> list[tuple[str, str, str, Any]]:
    rows = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not set(rule.arguments) & set(ID_PARAMS):
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                rows.append((rule.rule, method, rule.endpoint, rule_for(rule.endpoint, method)))
    return rows


def _url(rule: str, ids: dict[str, int]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


def test_another_worker_guessing_ids_gets_404_on_every_route(
    app: Flask, client, auth, booked, token_for
) -> None:  # type: ignore[no-untyped-def]
    worker2_token = token_for("worker2")
    auth.login("worker2")
    checked = 0
    for rule, method, endpoint, access in _routes(app):
        if not isinstance(access, frozenset) or "worker" not in access:
            continue  # officer/staff routes refuse workers by role (403), tested by test_access_rules
        url = _url(rule, booked)
        headers = worker2_token if url.startswith("/api/") else {}
        response = (
            client.open(url, method=method, headers=headers, json={"version": 1, "accept": True})
            if url.startswith("/api/")
            else client.open(url, method=method, data={"version": "1", "answer": "accept"})
        )
        assert response.status_code == 404, f"{method} {url} ({endpoint}) answered {response.status_code}"
        checked += 1
    assert checked >= 8


def test_the_owner_reaches_the_same_routes(app: Flask, client, auth, booked) -> None:  # type: ignore[no-untyped-def]
    auth.login("worker")
    for path in (
        f"/my-application/{booked['application_id']}",
        f"/applications/{booked['application_id']}/documents/{booked['document_id']}",
        f"/my/loans/{booked['loan_id']}",
        f"/api/v1/applications/{booked['application_id']}",
        f"/api/v1/loans/{booked['loan_id']}",
    ):
        assert client.get(path).status_code == 200, path


def test_documents_are_served_as_downloads_to_owner_and_officers_only(
    app: Flask, client, auth, booked
) -> None:  # type: ignore[no-untyped-def]
    path = f"/applications/{booked['application_id']}/documents/{booked['document_id']}"
    auth.login("officer")
    response = client.get(path)
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    auth.logout()
    auth.login("staff")
    assert client.get(path).status_code == 403


def test_staff_see_the_loan_but_no_ssn_digits_and_no_documents(
    app: Flask, client, auth, booked, token_for
) -> None:  # type: ignore[no-untyped-def]
    auth.login("staff")
    pages = [f"/loans/{booked['loan_id']}", "/home"]
    if "reports.program" in app.view_functions:
        pages += ["/reports/program", "/reports/program.csv"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert "4821" not in text, path
        assert "offer.pdf" not in text and "/documents/" not in text, path
    api = client.get(f"/api/v1/loans/{booked['loan_id']}", headers=token_for("staff"))
    assert api.status_code == 200 and "4821" not in api.get_data(as_text=True)
    for path in (
        f"/applications/{booked['application_id']}",
        f"/api/v1/applications/{booked['application_id']}",
    ):
        assert (
            client.get(path, headers=token_for("staff") if path.startswith("/api/") else {}).status_code
            == 403
        )


def test_uploads_refuse_lying_extensions_oversize_files_and_paths(
    app: Flask, client, auth, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from loanapp.accounts.models import User
    from loanapp.extensions import db

    with app.test_request_context():
        worker = db.session.scalar(select(User).where(User.email == "worker@example.org"))
        application_id = submit(worker).id
        db.session.commit()
    monkeypatch.setitem(app.config, "UPLOAD_MAX_BYTES", 1024)
    auth.login("worker")
    url = f"/my-application/{application_id}/documents"
    cases = [
        ((io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 20), "stub.pdf"), "contents do not match"),
        ((io.BytesIO(b"MZ\x90\x00 not really a pdf"), "stub.pdf"), "not a PDF, JPEG or PNG"),
        ((io.BytesIO(PDF + b"0" * 2000), "stub.pdf"), "larger than"),
        ((io.BytesIO(PDF), "../../etc/stub.pdf"), "must not contain a folder"),
        ((io.BytesIO(PDF), "stub.exe"), "Upload a PDF, JPEG or PNG file."),
        ((io.BytesIO(b""), "stub.pdf"), "The file is empty."),
    ]
    for file, message in cases:
        response = client.post(
            url, data={"document_kind": "pay_stub", "document": file}, content_type="multipart/form-data"
        )
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True), message
    ok = client.post(
        url,
        data={"document_kind": "pay_stub", "document": (io.BytesIO(PDF), "stub.PDF")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    import os

    from loanapp.applications.models import ApplicationDocument

    with app.app_context():
        documents = db.session.scalars(select(ApplicationDocument)).all()
        assert len(documents) == 1 and documents[0].stored_name != "stub.PDF"
        assert os.listdir(app.config["UPLOAD_FOLDER"]).count(documents[0].stored_name) == 1
        assert not app.config["UPLOAD_FOLDER"].startswith(app.static_folder)  # type: ignore[arg-type]


def test_file_names_with_any_folder_separator_are_refused() -> None:
    from loanapp.applications.documents import check_name
    from loanapp.applications.errors import DocumentRefused

    # (A backslash cannot be sent through werkzeug's multipart encoder, so the check is tested alone.)
    for name in ("..\\stub.pdf", "C:\\Users\\ana\\stub.pdf", "a/b.pdf", "stub\x00.pdf", ".."):
        with pytest.raises(DocumentRefused):
            check_name(name)
    assert check_name("pay stub (March).pdf") == "pay stub (March).pdf"


def test_pages_have_no_inline_script_style_or_outside_asset(app: Flask, client, auth, booked) -> None:  # type: ignore[no-untyped-def]
    pages = {
        "worker": [f"/my-application/{booked['application_id']}", f"/my/loans/{booked['loan_id']}", "/home"],
        "officer": [
            "/applications",
            f"/applications/{booked['application_id']}",
            f"/loans/{booked['loan_id']}",
        ],
        "staff": ["/reports/program"],
    }
    for role, paths in pages.items():
        auth.login(role)
        for path in paths:
            response = client.get(path)
            text = response.get_data(as_text=True)
            assert response.status_code == 200, path
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
            assert not re.search(r"""(src|href)=["']https?://""", text), path
            assert " style=" not in text, path
        auth.logout()

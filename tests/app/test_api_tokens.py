"""Issue #17 (LOW): API tokens expire, are listed and revoked (command line and a page)."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from loanapp.accounts.models import ApiToken
from loanapp.extensions import db


def _token_row(app: Flask, prefix: str) -> ApiToken:
    with app.app_context():
        row = db.session.query(ApiToken).filter_by(prefix=prefix).one()
        db.session.expunge(row)
        return row


def test_a_token_expires(app: Flask, client, users, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["create-token", "officer@example.org", "--label", "export", "--days", "1"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    row = _token_row(app, token[:12])
    assert row.expires_at is not None
    with app.app_context():
        stored = db.session.get(ApiToken, row.id)
        stored.expires_at = stored.created_at - dt.timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert runner.invoke(args=["create-token", "officer@example.org", "--days", "400"]).exit_code != 0


def test_tokens_are_listed_and_revoked_from_the_command_line(app: Flask, client, users, runner) -> None:  # type: ignore[no-untyped-def]
    token = runner.invoke(args=["create-token", "staff@example.org", "--label", "reports"]).output.strip()
    listed = runner.invoke(args=["list-tokens", "staff@example.org"])
    assert listed.exit_code == 0 and token[:12] in listed.output and "active" in listed.output
    assert token not in listed.output  # only the prefix is ever shown again
    token_id = _token_row(app, token[:12]).id
    assert runner.invoke(args=["revoke-token", str(token_id)]).exit_code == 0
    assert "revoked" in runner.invoke(args=["list-tokens", "staff@example.org"]).output
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_person_creates_and_revokes_their_own_tokens_on_the_page(app: Flask, client, auth, runner) -> None:  # type: ignore[no-untyped-def]
    others = runner.invoke(args=["create-token", "staff@example.org"]).output.strip()
    auth.login("officer")
    created = client.post("/account/tokens", data={"label": "core export", "days": "30"})
    assert created.status_code == 200
    text = created.get_data(as_text=True)
    assert "shown only this once" in text and "core export" in text
    token = text.split('<code class="token">')[1].split("</code>")[0]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    row = _token_row(app, token[:12])
    confirm = client.get(f"/account/tokens/{row.id}/revoke")
    assert confirm.status_code == 200 and "cannot be undone" in confirm.get_data(as_text=True)
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # Someone else's token is not found, let alone revoked.
    assert client.get(f"/account/tokens/{_token_row(app, others[:12]).id}/revoke").status_code == 404
    assert client.post("/account/tokens", data={"days": "0"}).status_code == 422

from __future__ import annotations

from flask import Flask


def test_openapi_document_describes_the_api(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me" in spec["paths"]
    assert "User" in spec["components"]["schemas"]


def test_docs_page_renders_offline_without_outside_assets(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/docs")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "/api/v1/me" in text
    assert "http://" not in text.replace("http://localhost", "") and "https://" not in text


def test_unknown_api_route_is_a_json_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.is_json and "message" in response.get_json()


def test_unknown_page_is_an_html_404(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_unauthenticated_api_read_is_a_json_401(client, users) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.get_json() == {"message": "Sign in or send a bearer token."}


def test_field_errors_are_flattened_to_field_names() -> None:
    from loanapp.errors import flatten_field_errors

    assert flatten_field_errors(
        {"json": {"amount": ["Not a valid number."]}, "query": {"as_of": ["Bad."]}}
    ) == {
        "amount": ["Not a valid number."],
        "as_of": ["Bad."],
    }


def test_security_headers_are_on_pages_and_api(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/api/v1/openapi.json"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_use_no_inline_script_or_outside_asset(app: Flask, client, auth) -> None:  # type: ignore[no-untyped-def]
    import re

    auth.login("admin")
    for path in ("/", "/login", "/home", "/admin/users", "/api/v1/docs"):
        text = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"""(src|href)=["']https?://""", text), path
        assert " style=" not in text, path

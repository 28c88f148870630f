"""Worker pages ship in English and Spanish."""

from __future__ import annotations

import io
import os

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PO = os.path.join(ROOT, "loanapp", "translations", "es", "LC_MESSAGES", "messages.po")
MO = PO[:-2] + "mo"


def test_browser_language_picks_spanish(client) -> None:  # type: ignore[no-untyped-def]
    text = client.get("/", headers={"Accept-Language": "es-US,es;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "Un préstamo de auto para llegar a su trabajo" in text
    assert '<html lang="es">' in text


def test_visible_switch_overrides_the_browser(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/language/es?next=/")
    text = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Quién puede solicitar" in text
    client.get("/language/en")
    assert "Who can apply" in client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)


def test_language_switch_refuses_an_offsite_return_address(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/language/es?next=https://evil.example/")
    assert response.headers["Location"] == "/"


def _catalog_ids() -> set[str]:
    method_map = [("loanapp/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_translatable_text_has_a_spanish_translation() -> None:
    with open(PO, "rb") as handle:
        catalog = read_po(handle)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string and not m.fuzzy
    }
    missing = sorted(_catalog_ids() - translated)
    assert missing == [], "run pybabel extract/update and translate these"


def _hashable(value: object) -> object:
    """Plural entries come back as lists from a compiled catalogue and as tuples from the source."""
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_source_catalog() -> None:
    with open(PO, "rb") as handle:
        source = {
            _hashable(m.id): _hashable(m.string) for m in read_po(handle) if m.id and m.string and not m.fuzzy
        }
    with open(MO, "rb") as handle:
        compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(io.BytesIO(handle.read())) if m.id}
    assert compiled == source, "run pybabel compile -d loanapp/translations"

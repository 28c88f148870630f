"""Every page, as each kind of user, in a real browser: a bounded crawl that follows every link a role is
shown, and on each page it reaches checks what a person would notice.

- no 5xx anywhere, and no 403 or 404 behind a link that was shown to that role;
- worker-facing pages (signed out and the worker), in English and in Spanish, on a 390x844 phone: no
  horizontal overflow (``document.documentElement.scrollWidth <= 390``); officer, staff and admin pages on
  a desktop screen: no horizontal overflow either;
- Spanish pages: no English words in the visible text, SVG charts included (proper names are marked
  ``translate="no"`` or carry ``lang="en"``, like the language switch);
- axe-core (bundled by ``axe-playwright-python``) on every page: no violation of the WCAG 2.0/2.1 A and AA
  rules, nor of the 2.2 tap-target rule (targets at least 24 px);
- the pages no link reaches: an estimate's result, and /apply refused (its error list takes focus).

Roles: signed out, the demo worker (an offer waiting), a demo borrower with a booked loan, an officer, a
staff member, an admin. The crawl keeps one URL per route shape (ids become ``N``, only query keys count),
so a new page is covered as soon as a link to it is shown, while a list of 200 loans costs one visit; axe
reads each page once (in English: structure does not change with the language). One crawl per role runs
once per module; each test reads its findings.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest

from tests.browser.conftest import LIVE_APPS, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MAX_PAGES = 45  # per role and language: far above today's distinct page shapes, a bound on surprises
ROLES = {
    # role: (email, password, viewport, languages)
    "anonymous": (None, None, PHONE, ("en", "es")),
    "worker": ("worker@demo.worktrain.org", "worker-demo-pass", PHONE, ("en", "es")),
    "officer": ("officer@demo.coopfed.org", "officer-demo-pass", DESKTOP, ("en",)),
    "staff": ("staff@demo.worktrain.org", "staff-demo-pass", DESKTOP, ("en",)),
    "admin": ("admin@demo.worktrain.org", "admin-demo-pass", DESKTOP, ("en",)),
}
# Links the crawl does not follow: they change state on GET (language, sign-out is a form anyway) or
# answer with a file, not a page.
SKIP = re.compile(
    r"^/(language/|logout)|/documents/\d+$|\.(csv|pdf|json|png|jpe?g)(\?|$)|[?&]format=(csv|json)|/export|/download"
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# Words that are English and not Spanish (nor a proper name of the program): one of them on a Spanish
# page means a text was left untranslated. English-only month abbreviations catch chart labels.
ENGLISH = frozenset(
    [
        "the",
        "and",
        "your",
        "you",
        "with",
        "for",
        "this",
        "that",
        "from",
        "are",
        "is",
        "will",
        "have",
        "has",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "how",
        "our",
        "we",
        "it",
        "its",
        "of",
        "to",
        "be",
        "been",
        "by",
        "or",
        "not",
        "loan",
        "loans",
        "payment",
        "payments",
        "application",
        "applications",
        "amount",
        "balance",
        "month",
        "months",
        "next",
        "back",
        "see",
        "page",
        "sign",
        "home",
        "due",
        "paid",
        "late",
        "today",
        "date",
        "rate",
        "interest",
        "apply",
        "estimate",
        "my",
        "yes",
        "new",
        "open",
        "save",
        "send",
        "upload",
        "document",
        "documents",
        "status",
        "offer",
        "help",
        "jan",
        "apr",
        "aug",
        "dec",
    ]
)
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest('script,style,noscript,[hidden],[translate="no"]')) continue;
    const lang = el.closest('[lang]');
    if (lang && !lang.getAttribute('lang').startsWith('es')) continue;
    if (el.closest('svg') === null && el.getClientRects().length === 0) continue;
    out.push(node.textContent);
  }
  return out.join(' ');
}"""
LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
  .filter(a => a.getClientRects().length > 0 || a.closest('details'))
  .map(a => a.href)"""


def shape(target: str) -> str:
    """A page's kind: ids become N and only the query's keys count (``?status=submitted`` and
    ``?status=booked`` are one page with two filters)."""
    path, _q, query = target.partition("?")
    keys = sorted({pair.partition("=")[0] for pair in query.split("&") if pair})
    return re.sub(r"\d+", "N", path) + ("?" + "&".join(keys) if keys else "")


@dataclass
class Findings:
    pages: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    overflow: list[str] = field(default_factory=list)
    english: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    timings: list[str] = field(default_factory=list)


BORROWER_PASSWORD = "borrower-demo-pass"


@dataclass
class Crawl:
    browser: Any
    base: str
    findings: Findings
    axe: Any
    axed: set[str] = field(default_factory=set)  # kinds of page axe has read (structure, not language)

    def check(self, page: Any, where: str, language: str, viewport: dict[str, int], kind: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            self.findings.overflow.append(f"{width}px {where}")
        if language == "es":
            text = page.evaluate(VISIBLE_TEXT)
            english = sorted({w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH})
            english += sorted(set(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", text)))  # ISO dates
            if english:
                self.findings.english.append(f"{where}: {' '.join(english)}")
        elif kind not in self.axed:
            # One axe run per kind of page: another role or language shows it with the same structure.
            self.axed.add(kind)
            result = self.axe.run(
                page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
            )
            for violation in result.response["violations"]:
                targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:3]]
                self.findings.axe.append(f"{where}: {violation['id']} {targets}")

    def session(self, role: str, language: str, email: str | None, password: str | None) -> tuple[Any, Any]:
        viewport = PHONE if role in ("anonymous", "worker", "borrower") else DESKTOP
        context = self.browser.new_context(viewport=viewport, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        if email:
            sign_in(page, self.base, email, password or "")
            page.wait_for_url(f"{self.base}/home")
        page.goto(f"{self.base}/language/{language}?next=/")
        return context, page

    def leave(self, page: Any, language: str) -> None:
        """Back to English: the switch is saved on a signed-in account, and other tests share the server."""
        if language != "en":
            page.goto(f"{self.base}/language/en?next=/")

    def crawl(self, role: str, language: str, email: str | None, password: str | None) -> None:
        context, page = self.session(role, language, email, password)
        viewport = page.viewport_size
        try:
            start = "/home" if email else "/"
            queue: deque[tuple[str, str]] = deque([(start, "(start)")])
            seen = {shape(start)}
            visited = 0
            while queue and visited < MAX_PAGES:
                path, came_from = queue.popleft()
                visited += 1
                response = page.goto(self.base + path, wait_until="domcontentloaded")
                status = response.status if response is not None else 0
                where = f"{role}/{language} {path} (linked from {came_from})"
                self.findings.pages.append(where)
                if status >= 500 or status in (0, 403, 404):
                    self.findings.errors.append(f"{status} {where}")
                    continue
                if "text/html" not in (response.headers.get("content-type", "") if response else ""):
                    continue
                # axe once per page (its filters and pages share one template and structure).
                self.check(page, where, language, viewport, shape(path.partition("?")[0]))
                for href in page.evaluate(LINKS):
                    url, _fragment = urldefrag(href)
                    parts = urlsplit(url)
                    if parts.netloc != urlsplit(self.base).netloc:
                        continue
                    target = parts.path + (f"?{parts.query}" if parts.query else "")
                    if SKIP.search(target) or shape(target) in seen:
                        continue
                    seen.add(shape(target))
                    queue.append((target, path))
        finally:
            self.leave(page, language)
            context.close()

    def forms(self, language: str) -> None:
        """The pages a link cannot reach: an estimate's result, and /apply refused with its error list."""
        context, page = self.session("anonymous", language, None, None)
        viewport = page.viewport_size
        try:
            page.goto(f"{self.base}/estimate")
            page.locator("#amount_financed").fill("$9,500")
            page.locator("form.grid-form button[type=submit]").click()
            page.wait_for_selector(".til-grid")
            self.check(
                page, f"anonymous/{language} /estimate (result)", language, viewport, "estimate result"
            )
            page.goto(f"{self.base}/apply")
            page.locator("#requested_amount").fill("3.200")
            page.locator("button[value=submit]").click()
            page.wait_for_selector("[data-error-summary]")
            focused = page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
            if not focused:
                self.findings.axe.append(f"anonymous/{language} /apply: the error list did not take focus")
            self.check(page, f"anonymous/{language} /apply (refused)", language, viewport, "apply refused")
        finally:
            self.leave(page, language)
            context.close()


def _borrower(base: str) -> str:
    """A demo borrower with a booked loan and payments, given a password for this test's server."""
    from sqlalchemy import select

    from loanapp.accounts.models import User
    from loanapp.accounts.operations import hash_password
    from loanapp.extensions import db
    from loanapp.loans.models import Loan

    with LIVE_APPS[base].app_context():
        user = db.session.scalars(
            select(User).join(Loan, Loan.borrower_id == User.id).order_by(Loan.id)
        ).first()
        user.password_hash = hash_password(BORROWER_PASSWORD)
        db.session.commit()
        return str(user.email)


@pytest.fixture(scope="module")
def findings(live_server: str, browser: Any) -> Findings:
    from axe_playwright_python.sync_playwright import Axe

    crawl = Crawl(browser, live_server, Findings(), Axe())
    people = dict(ROLES)
    people["borrower"] = (_borrower(live_server), BORROWER_PASSWORD, PHONE, ("en", "es"))
    for role, (email, password, _viewport, languages) in people.items():
        for language in languages:
            started, before = time.perf_counter(), len(crawl.findings.pages)
            crawl.crawl(role, language, email, password)
            crawl.findings.timings.append(
                f"{role}/{language}: {len(crawl.findings.pages) - before} pages, {time.perf_counter() - started:.1f} s"
            )
    for language in ("en", "es"):
        crawl.forms(language)
    return crawl.findings


def test_the_crawl_reaches_every_kind_of_page(findings: Findings) -> None:
    print("\n".join(findings.timings))  # shown with -s: where the minute goes
    reached = {p.split(" ")[1] for p in findings.pages}
    for path in (
        "/",
        "/estimate",
        "/apply",
        "/home",
        "/my/loans",
        "/applications",
        "/reserve",
        "/admin/users",
    ):
        assert path in reached, f"{path} was not reached by any role"


def test_no_link_shown_to_a_role_leads_to_an_error(findings: Findings) -> None:
    assert findings.errors == [], "\n".join(findings.errors)


def test_no_page_is_wider_than_the_screen(findings: Findings) -> None:
    assert findings.overflow == [], "\n".join(findings.overflow)


def test_spanish_pages_have_no_english(findings: Findings) -> None:
    assert findings.english == [], "\n".join(findings.english)


def test_every_page_passes_axe_wcag_a_and_aa(findings: Findings) -> None:
    assert findings.axe == [], "\n".join(findings.axe)

"""The harden HTML page: golden file, self-contained (no script, no external resource, a CSP that allows
only its own stylesheet), well-formed, every section and rule shown, and every string escaped."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from rampart.report.harden_html import CSP, CSS, render_html
from unit.report.harden_sample import empty_report, golden, sample_report

VOID = {"meta", "br", "hr", "img", "input", "link"}


class _Checker(HTMLParser):
    """Collects tags, attributes and text, and checks every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.errors == [] and checker.open == []
    return checker


def test_html_matches_golden_file() -> None:
    golden("harden_check.html", render_html(sample_report()))


def test_the_page_is_self_contained_and_its_csp_allows_only_its_own_style() -> None:
    text = render_html(sample_report())
    page = _parsed(text)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "link", "iframe", "object", "embed", "form", "base"}
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert [a["href"] for t, a in page.tags if t == "a"] == ["#s1", "#s2", "#s3"]
    assert not any("style" in attrs or "src" in attrs for _, attrs in page.tags)
    assert "http://" not in text and "https://" not in text and "url(" not in text and "@import" not in text
    (csp,) = [
        a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    digest = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    assert (
        csp == CSP == f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )
    assert f"<style>{CSS}</style>" in text


def test_header_sections_rules_and_badges() -> None:
    page = _parsed(render_html(sample_report()))
    text = "".join(page.text)
    assert "50.0%" in text and "debian12-l1-server: Debian 12 Level 1 server (CIS-style)" in text
    headings = [h for h in re.findall(r"<h2>(.*?)</h2>", render_html(sample_report()))]
    assert headings == [
        "Sections",
        "1.1 Filesystem — score 50.0%",
        "5.1 SSH server — score 50.0%",
        "5.4 User accounts &amp; &lt;environment&gt; — score 50.0%",
    ]
    articles = [a["class"] for t, a in page.tags if t == "article"]
    assert articles == [f"s-{r.status.value}" for r in sample_report().results]
    badges = [a["class"] for t, a in page.tags if t == "span" and "badge" in (a.get("class") or "")]
    assert badges.count("badge fail") == 3 + 4  # three rules, plus the counts of the page and of 3 sections
    assert "Remediation:" in text and "chmod og-rwx /etc/cron.d /etc/cron.daily\nchown root:root" in text
    assert "fixable with rampart harden fix" in text and "CIS 2.4.1.2, 2.4.1.3" in text


def test_every_string_is_escaped() -> None:
    text = render_html(sample_report())
    for raw in ("\x1b", "\u202e", "\x01", "\x0b", "\udcff", "<script>", "<b>", "<environment>", "<user>"):
        assert raw not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in text
    assert "PermitRootLogin yes\\x0aFAIL fake.rule forged line" in text
    assert "/srv/rootfs\\x1b[1m" in text and "rules\\u202e&lt;b&gt;" in text


def test_an_empty_run_is_a_page_with_no_sections() -> None:
    page = _parsed(render_html(empty_report()))
    assert not any(t == "section" for t, _ in page.tags)
    assert "0 rules:" in "".join(page.text)

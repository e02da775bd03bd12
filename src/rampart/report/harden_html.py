"""A hardening run as one self-contained HTML page: a header with the target, profile, score and counts,
then every section with its rules, status badges, evidence and remediation.

The page works offline and needs no JavaScript: the CSS is inline, there is no script, image, font or link to
anything outside the page, and a Content-Security-Policy meta tag allows only that one stylesheet (by its
hash), so even markup that slipped through could not load or run anything. Every string is HTML-escaped; text
from the checked system (target, evidence, reasons, warnings) is first escaped as in the table, so control
characters and bidi overrides show as ``\\x1b`` / ``\\u202e``. Pure: report in, text out.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from html import escape

from rampart.harden.model import HardenReport, RuleResult, Status
from rampart.report.harden_table import by_section, counts, evidence_excerpt, plural, score, score_text, shown

MAX_HTML_EVIDENCE = 100
CSS = """
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;
--pass:#1a7f37;--fail:#cf222e;--na:#6e7781;--error:#8250df;--manual:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;
--card:#161b22}}
body{font:15px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:72rem;
padding:1rem 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:0 0 .3rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;overflow-wrap:anywhere}
.score{font-size:1.1rem}.score strong{font-size:2rem}
meter{width:12rem;vertical-align:middle}
ul.counts,ul.toc{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
ul.toc{flex-direction:column}
.badge{display:inline-block;min-width:3.8rem;text-align:center;border-radius:.3rem;padding:0 .4rem;
font-weight:600;font-size:.8rem;color:#fff;text-transform:uppercase}
.pass{background:var(--pass)}.fail{background:var(--fail)}.na{background:var(--na)}
.error{background:var(--error)}.manual{background:var(--manual)}
article{background:var(--card);border:1px solid var(--line);border-left-width:.35rem;border-radius:.3rem;
padding:.5rem .8rem;margin:.5rem 0}
article.s-pass{border-left-color:var(--pass)}article.s-fail{border-left-color:var(--fail)}
article.s-na{border-left-color:var(--na)}article.s-error{border-left-color:var(--error)}
article.s-manual{border-left-color:var(--manual)}
.sev{font-size:.8rem;color:var(--muted);font-weight:400}.sev-critical,.sev-high{color:var(--fail);font-weight:600}
.facts{color:var(--muted);font-size:.85rem;margin:.1rem 0}
.reason{font-style:italic}
ul.evidence{font:13px/1.4 ui-monospace,monospace;padding-left:1.2rem;margin:.3rem 0;overflow-wrap:anywhere}
.remediation{white-space:pre-wrap;margin:.3rem 0}
.warnings li{color:var(--fail)}
code{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
@media print{details{display:block}article{break-inside:avoid}}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'"


def render_html(report: HardenReport) -> str:
    """The whole page as one string ending with a newline."""
    return "\n".join(_page(report)) + "\n"


def _page(report: HardenReport) -> Iterator[str]:
    title = f"rampart harden: {shown(report.target)} ({report.profile})"
    yield "<!DOCTYPE html>"
    yield '<html lang="en">'
    yield '<head>\n<meta charset="utf-8">'
    yield f'<meta http-equiv="Content-Security-Policy" content="{escape(CSP)}">'
    yield '<meta name="referrer" content="no-referrer">'
    yield '<meta name="viewport" content="width=device-width, initial-scale=1">'
    yield f"<title>{escape(title)}</title>"
    yield f"<style>{CSS}</style>\n</head>\n<body>"
    yield from _header(report)
    sections = by_section(report.results)
    yield from _contents(sections)
    yield "<main>"
    for number, (section, results) in enumerate(sections.items(), 1):
        yield from _section(number, section, results)
    yield "</main>\n</body>\n</html>"


def _header(report: HardenReport) -> Iterator[str]:
    yield '<header>\n<h1>Hardening report</h1>\n<dl class="meta">'
    for name, value in (
        ("Target", shown(report.target)),
        ("Kind", report.target_kind),
        ("Profile", f"{report.profile}: {report.profile_title}"),
        ("Benchmark", report.benchmark),
        ("Started", report.started),
        ("Duration", f"{report.duration_seconds:.2f} s"),
    ):
        yield f"<dt>{name}</dt><dd>{escape(value)}</dd>"
    yield "</dl>"
    total = report.score
    yield (
        f'<p class="score"><strong>{total:.1f}%</strong> passed of the rules that passed or failed '
        f'<meter min="0" max="100" low="60" high="90" optimum="100" value="{total:.1f}"></meter></p>'
    )
    yield _counts(report.results)
    if report.warnings:
        yield '<ul class="warnings">'
        yield from (f"<li>warning: {escape(shown(warning))}</li>" for warning in report.warnings)
        yield "</ul>"
    yield "</header>"


def _counts(results: Sequence[RuleResult]) -> str:
    tally = counts(results)
    items = "".join(
        f'<li><span class="badge {status.value}">{tally[status.value]} {status.value}</span></li>'
        for status in Status
    )
    return f'<ul class="counts"><li>{tally["total"]} rules:</li>{items}</ul>'


def _contents(sections: dict[str, list[RuleResult]]) -> Iterator[str]:
    yield '<nav>\n<h2>Sections</h2>\n<ul class="toc">'
    for number, (section, results) in enumerate(sections.items(), 1):
        yield f'<li><a href="#s{number}">{escape(section)}</a> — score {score_text(score(results))}</li>'
    yield "</ul>\n</nav>"


def _section(number: int, section: str, results: Sequence[RuleResult]) -> Iterator[str]:
    yield f'<section id="s{number}">'
    yield f"<h2>{escape(section)} — score {score_text(score(results))}</h2>"
    yield _counts(results)
    for result in results:
        yield from _rule(result)
    yield "</section>"


def _rule(result: RuleResult) -> Iterator[str]:
    status = result.status.value
    severity = str(result.severity)
    yield f'<article class="s-{status}">'
    yield (
        f'<h3><span class="badge {status}">{status}</span> <code>{escape(result.rule)}</code> '
        f'{escape(result.title)} <span class="sev sev-{severity}">{severity}</span></h3>'
    )
    yield f'<p class="facts">{escape(_facts(result))}</p>'
    if result.reason:
        yield f'<p class="reason">{escape(shown(result.reason))}</p>'
    yield from _evidence(result)
    if result.remediation and result.status is not Status.PASS:
        yield f'<p class="remediation"><strong>Remediation:</strong> {escape(result.remediation)}</p>'
    yield "</article>"


def _facts(result: RuleResult) -> str:
    parts = [f"CIS {', '.join(result.cis)}" if result.cis else "no CIS item"]
    if result.references:
        parts.append(f"references: {', '.join(result.references)}")
    if result.fixable:
        parts.append("fixable with rampart harden fix")
    return " · ".join(parts)


def _evidence(result: RuleResult) -> Iterator[str]:
    if not result.evidence:
        return
    opened = " open" if result.status in (Status.FAIL, Status.ERROR) else ""
    yield f"<details{opened}><summary>Evidence ({plural(len(result.evidence), 'line')})</summary>"
    yield '<ul class="evidence">'
    yield from (f"<li>{escape(line)}</li>" for line in evidence_excerpt(result, MAX_HTML_EVIDENCE))
    yield "</ul>\n</details>"

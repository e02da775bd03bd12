"""The browser console end to end: a real server and agent, driven through Chromium.

Logging in and the hosts table, a live shell in xterm.js over the attach WebSocket, replaying that
session's recording in the read-only player, and the page's security headers under which all of it
has to work (no inline script, nothing from another origin).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from fixtures.accounts import os_accounts
from fixtures.rootfs import build_debian11_rootfs
from integration.fleet import ADMIN, ADMIN_PASSWORD, AgentProcess, Server, free_port, wait_for
from rampart.pki.tlsconfig import client_context

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
OPERATOR = "webop"
OPERATOR_PASSWORD = "a long operator passphrase"
HOSTNAME = "web-ui-1"
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
)
WAIT_MS = 60_000

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push({ directive: e.effectiveDirective, blocked: e.blockedURI });
});
"""

TERMINAL_TEXT = """
(name) => {
  const term = window[name];
  if (!term) return "";
  const buffer = term.buffer.active;
  const lines = [];
  for (let row = 0; row < buffer.length; row++) lines.push(buffer.getLine(row).translateToString(true));
  return lines.join("\\n");
}
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A running server with one online enrolled host and an operator who may open shells on it."""
    with os_accounts(["/bin/bash"]) as names:
        yield from _fleet(tmp_path_factory, names[0])


def _fleet(tmp_path_factory: pytest.TempPathFactory, login: str) -> Iterator[tuple[Server, str]]:
    base = tmp_path_factory.mktemp("webui")
    server = Server(base / "server", "127.0.0.1", free_port())
    build_debian11_rootfs(base / "rootfs")
    agent = AgentProcess(base / "agent", base / "rootfs")
    server.init()
    server.start()
    try:
        admin = server.login()
        host_id = agent.enroll(server.url, server.join_token(admin, {"env": "test"}), HOSTNAME)
        _create_operator(server, admin, login)
        agent.start()
        wait_for(lambda: _host_status(server, admin, host_id) == "online", "the agent's link")
        yield server, host_id
    finally:
        agent.stop()
        server.stop()


def _create_operator(server: Server, admin: str, login: str) -> None:
    body = {
        "name": OPERATOR,
        "password": OPERATOR_PASSWORD,
        "roles": ["operator"],
        "tags": {"runas": login},
    }
    with server.client(admin) as client:
        answer = client.post("/users", json=body)
    assert answer.status_code == 201, answer.text


def _host_status(server: Server, token: str, host_id: str) -> str:
    with server.client(token) as client:
        return str(client.get(f"/hosts/{host_id}").json()["status"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # The server's certificate comes from the test's own throwaway CA, which Chromium does not know.
    context: BrowserContext = browser.new_context(
        ignore_https_errors=True, viewport={"width": 1200, "height": 800}
    )
    context.add_init_script(RECORD_VIOLATIONS)
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def _log_in(page: Page, server: Server, user: str = OPERATOR, password: str = OPERATOR_PASSWORD) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("#view-login:not([hidden])")
    page.fill("#login-user", user)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_selector("#view-hosts:not([hidden])")


def _terminal_text(page: Page, name: str = "rampartTerm") -> str:
    return str(page.evaluate(TERMINAL_TEXT, name))


def _wait_for_text(page: Page, pattern: str, name: str = "rampartTerm") -> None:
    # Polled from here: the page's policy (rightly) refuses the string evaluation page.wait_for_function uses.
    wait_for(lambda: re.search(pattern, _terminal_text(page, name), re.MULTILINE), f"{pattern!r} in {name}")


def _wait_for_content(page: Page, selector: str, text: str | None = None) -> str:
    """The element's text once it is `text` (or, without `text`, once it is not empty)."""

    def content() -> str | None:
        found = page.text_content(selector) or ""
        return found if (found == text if text is not None else found) else None

    return str(wait_for(content, f"{selector} to read {text!r}"))


def _violations(page: Page) -> list[dict[str, Any]]:
    return list(page.evaluate("window.__violations"))


def _blocking_violations(page: Page) -> list[dict[str, Any]]:
    """Violations other than xterm.js's own <style> elements (mirrored into an adopted sheet instead)."""
    return [
        v for v in _violations(page) if not (v["directive"] == "style-src-elem" and v["blocked"] == "inline")
    ]


def test_login_shows_the_enrolled_host(fleet: tuple[Server, str], page: Page) -> None:
    server, _ = fleet
    page.goto(server.url + "/")
    assert page.url == server.url + "/ui/"
    page.fill("#login-user", OPERATOR)
    page.fill("#login-password", "wrong password")
    page.click("#login-submit")
    assert _wait_for_content(page, "#login-error") == "wrong user name or password"
    _log_in(page, server)
    row = page.locator("#hosts-body tr", has_text=HOSTNAME)
    row.wait_for()
    cells = row.locator("td").all_text_contents()
    assert cells[:3] == [HOSTNAME, "online", "env=test"]
    assert row.locator("button", has_text="Open terminal").is_visible()
    stored = page.evaluate("[sessionStorage.length, localStorage.length, document.cookie]")
    assert stored[0] == 1 and stored[1] == 0 and stored[2] == ""
    assert _blocking_violations(page) == []


def test_terminal_runs_a_command_then_replays_it(fleet: tuple[Server, str], page: Page) -> None:
    server, _ = fleet
    _log_in(page, server)
    page.locator("#hosts-body tr", has_text=HOSTNAME).locator("button").click()
    _wait_for_content(page, "#terminal-status", "connected")
    page.click("#terminal .xterm")
    page.keyboard.type("echo hello-$((6*7))")
    page.keyboard.press("Enter")
    _wait_for_text(page, "^hello-42$")
    assert _terminal_rows_coloured(page, "#terminal")
    page.keyboard.type("exit")
    page.keyboard.press("Enter")
    _wait_for_text(page, r"\[session ended: ")
    assert _blocking_violations(page) == []
    session_id = str(page.evaluate("window.rampartSession.id"))

    # Recordings are for auditors and admins: the operator's own role does not include viewing them.
    page.click("#logout")
    _log_in(page, server, ADMIN, ADMIN_PASSWORD)
    _wait_for_recording(server, session_id)
    page.click("nav a[href='#/recordings']")
    row = page.locator("#recordings-body tr", has_text=OPERATOR).first
    row.wait_for()
    row.locator("button", has_text="Replay").click()
    page.select_option("#player-speed", "8")
    _wait_for_text(page, "^hello-42$", "rampartPlayerTerm")
    assert page.text_content("#player-verified") == "verified"
    assert page.evaluate("window.rampartPlayerTerm.options.disableStdin") is True
    _wait_for_content(page, "#player-status", "finished")
    assert _blocking_violations(page) == []


def _wait_for_recording(server: Server, session_id: str) -> None:
    admin = server.login()

    last: list[str] = []

    def stored() -> bool:
        """The session has ended (so its recording is closed) and the recording is readable."""
        with server.client(admin) as client:
            info = client.get(f"/sessions/{session_id}")
            answer = client.get(f"/sessions/{session_id}/recording")
        last[:] = [f"HTTP {answer.status_code}: {answer.text[:300]}", info.text[:300]]
        return info.status_code == 200 and not info.json()["active"] and answer.status_code == 200

    try:
        wait_for(stored, f"the recording of session {session_id}", timeout=30)
    except AssertionError as error:
        raise AssertionError(f"{error}; the last answer was {last}") from None


def _terminal_rows_coloured(page: Page, container: str) -> bool:
    """xterm's theme rules reached the page: the rows use its foreground, not the page's text colour."""
    colour = page.evaluate(f"getComputedStyle(document.querySelector('{container} .xterm-rows')).color")
    return bool(colour == "rgb(255, 255, 255)")


class _PageAudit(HTMLParser):
    """Inline scripts, inline styles and event-handler attributes in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.problems += [f"{tag} has {name}" for name in named if name.startswith("on") or name == "style"]
        if tag == "style":
            self.problems.append("a <style> element")
        if tag == "script":
            self._in_script = True
            if not named.get("src"):
                self.problems.append("a script without src")
            self.scripts.append(named.get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script text")


def _ui_client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, verify=client_context(server.ca_pem), timeout=30)


def _assert_secure_headers(answer: httpx.Response) -> None:
    assert answer.headers["content-security-policy"] == EXPECTED_CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"


def test_pages_carry_the_policy_and_no_inline_script(fleet: tuple[Server, str], page: Page) -> None:
    server, _ = fleet
    with _ui_client(server) as client:
        assert client.get("/").headers["location"] == "/ui/"
        index = client.get("/ui/")
        assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
        _assert_secure_headers(index)
        audit = _PageAudit()
        audit.feed(index.text)
        assert audit.problems == [] and audit.scripts == ["app.js"]
        for asset in ("app.js", "live.js", "app.css", "vendor/xterm/xterm.mjs", "vendor/xterm/xterm.css"):
            answer = client.get(f"/ui/{asset}")
            assert answer.status_code == 200, asset
            _assert_secure_headers(answer)
        assert "javascript" in client.get("/ui/vendor/xterm/addon-fit.mjs").headers["content-type"]
    page.goto(server.url + "/ui/")
    page.wait_for_selector("#view-login:not([hidden])")
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    assert _violations(page) == []


def test_the_page_source_has_no_markup_sinks() -> None:
    """Text from the API reaches the DOM through textContent only."""
    static = Path(__file__).parents[2] / "src" / "rampart" / "server" / "static"
    sources = {p.name: p.read_text() for p in static.glob("*.js")}
    assert sources, static
    for name, text in sources.items():
        for sink in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "localStorage",
        ):
            assert sink not in text, f"{name} uses {sink}"
        assert not re.search(r"new Function\b|setTimeout\(\s*['\"]", text), name


def test_a_dropped_socket_resumes_without_losing_or_repeating(fleet: tuple[Server, str], page: Page) -> None:
    server, _ = fleet
    _log_in(page, server)
    page.locator("#hosts-body tr", has_text=HOSTNAME).locator("button").click()
    _wait_for_content(page, "#terminal-status", "connected")
    page.click("#terminal .xterm")
    page.keyboard.type("echo one-$((1+1))")
    page.keyboard.press("Enter")
    _wait_for_text(page, "^one-2$")
    page.evaluate("window.rampartSession.ws.close(4000)")  # not a final close code: the page must resume
    page.keyboard.type("echo two-$((1+2))")  # typed while the socket is down: kept, then sent once
    page.keyboard.press("Enter")
    _wait_for_content(page, "#terminal-status", "reconnected")
    _wait_for_text(page, "^two-3$")
    text = _terminal_text(page)
    assert len(re.findall("^one-2$", text, re.MULTILINE)) == 1
    assert len(re.findall("^two-3$", text, re.MULTILINE)) == 1
    page.click("#terminal-terminate")
    _wait_for_text(page, r"\[session ended: ")

"""The staff console in a real browser (issue 25): a demo kehu (embedded profile, demo tenants of
every vertical) per test worker, Debian's Chromium driven by Playwright for Python.

Every test gets a ``console`` (a :class:`Console`): a fresh browser context, offline but for kehu,
with the console's Content-Security-Policy enforced. At the end of each test, no CSP refusal and no
uncaught script error may have happened. Screenshots go to ``build/console-screenshots/<test>/``
(``CONSOLE_SCREENSHOTS`` moves the folder); axe-core (``gateway/console/node_modules``, installed by
``npm ci``) checks each screen for serious or critical accessibility violations.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.cli import DEMO_ADMIN
from tests.support import chromium_path as support_chromium_path

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "gateway" / "console" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("CONSOLE_SCREENSHOTS") or REPO / "build" / "console-screenshots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
AXE_PATH = "/console/assets/__axe-under-test.js"  # served to the page by the test, same origin: CSP allows it
BLOCKING = {"serious", "critical"}

# A full mainland mobile number or resident ID number: what a user without unmask must never see.
FULL_PHONE = re.compile(r"(?<![\d*])(?:\+?86[- ]?)?1[3-9]\d{9}(?![\d*])")  # as typed or stored (+86…)
FULL_RESIDENT_ID = re.compile(r"(?<![\dXx*])\d{17}[\dXx](?![\dXx*])")


def chromium_path() -> str:
    return support_chromium_path("the console browser tests")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVER_LOG: list[Path] = []  # the demo server's log, for a failed test's output


def _server_warnings(limit: int = 30) -> str:
    if not SERVER_LOG or not SERVER_LOG[-1].is_file():
        return "no server log"
    lines = SERVER_LOG[-1].read_text(errors="replace").splitlines()
    wanted = ("[warning", "[error", "[critical", "Traceback", "Error")
    return "\n".join([line for line in lines if any(w in line for w in wanted)][-limit:]) or "none"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps the call's report on the test, so the console fixture can tell a failed test."""
    report = yield
    if report.when == "call":
        item.kehu_call_report = report
    return report


@pytest.fixture(scope="session")
def console_base(tmp_path_factory) -> Iterator[str]:
    """A demo kehu on its embedded default, as `make demo` starts it; its address."""
    from tests.support import wait_until_healthy

    chromium_path()  # no server when no browser will use it
    port = _free_port()
    folder = tmp_path_factory.mktemp("console-demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    SERVER_LOG.append(folder / "kehu.log")
    log = (folder / "kehu.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=folder, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, 120, "kehu demo")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield launched
        finally:
            launched.close()


def graphql(base: str, query: str, token: str | None = None, **variables) -> dict:
    """One GraphQL call over HTTP, as an integrator makes it (to set data up or change it behind the
    browser's back); the data, or an AssertionError naming the errors."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers, timeout=30)
    body = answer.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def token_for(base: str, tenant: str, username: str = DEMO_ADMIN.username, password: str = DEMO_ADMIN.password) -> str:
    data = graphql(base, "mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, "
                         "password: $p) { accessToken errors { code message } } }", t=tenant, u=username, p=password)
    assert data["login"]["accessToken"], data["login"]["errors"]
    return data["login"]["accessToken"]


class Console:
    """A browser tab on the console, with what the tests need: sign in, go to a screen, screenshot
    it at phone and desktop width, check it with axe-core and for unmasked personal data."""

    def __init__(self, page, base: str, shots: Path) -> None:
        self.page = page
        self.base = base
        self.shots = shots
        self.refused: list[str] = []  # CSP refusals and uncaught errors seen by the page
        page.on("console", lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda e: self.refused.append(f"page error: {e}"))
        # the page's last GraphQL exchanges and failed requests: printed when a test fails
        self.exchanges: list = []
        self.failed_requests: list[str] = []
        page.on("response", lambda r: self._keep(r) if r.url.endswith("/graphql") else None)
        page.on("requestfailed", lambda r: self.failed_requests.append(f"{r.method} {r.url}: {r.failure}"))

    def _keep(self, response) -> None:
        self.exchanges.append(response)
        del self.exchanges[:-60]

    def report(self) -> str:
        """What the page asked and was answered with errors (operation, status, codes), for a
        failed test's output; tokens and passwords are not in it (only the query's first words)."""
        lines = [f"failed request: {f}" for f in self.failed_requests[-20:]]
        for response in self.exchanges:
            try:
                sent = json.loads(response.request.post_data or "{}")
                body = response.json()
            except Exception as error:  # noqa: BLE001 - a diagnostic: say why the body is missing
                lines.append(f"{response.status} (body unavailable: {type(error).__name__})")
                continue
            errors = list(body.get("errors") or [])
            for root in (body.get("data") or {}).values():  # a mutation payload's coded errors
                if isinstance(root, dict) and isinstance(root.get("errors"), list):
                    errors += root["errors"]
            if response.status != 200 or errors:
                operation = " ".join(str(sent.get("query", "")).split()[:3])
                codes = [e.get("code") or (e.get("extensions") or {}).get("code") or e.get("message") for e in errors]
                lines.append(f"{response.status} {operation} vars={sorted(sent.get('variables') or {})}: {codes}")
        return "\n".join(lines) or "no GraphQL errors seen by the page"

    def open(self, route: str = "") -> None:
        self.page.goto(f"{self.base}/console/{('#' + route) if route else ''}")
        self.page.wait_for_selector("#app > *")

    def sign_in(self, tenant: str, username: str = DEMO_ADMIN.username, password: str = DEMO_ADMIN.password) -> None:
        self.submit_sign_in(tenant, username, password)
        self.page.wait_for_selector("nav.side a")

    def submit_sign_in(self, tenant: str, username: str = DEMO_ADMIN.username,
                       password: str = DEMO_ADMIN.password) -> None:
        """Fill the sign-in form and press the button, whatever the answer (a refusal, a password change)."""
        if "/console/" not in self.page.url:
            self.open()
        form = self.page.locator("#signin")
        form.locator("[name=tenant]").fill(tenant)
        form.locator("[name=username]").fill(username)
        form.locator("[name=password]").fill(password)
        form.locator("button[type=submit]").click()

    def go(self, route: str, ready: str) -> None:
        """Follow a hash route (#/audit) and wait for a selector of the screen."""
        self.page.evaluate("(r) => { location.hash = r; }", route)
        self.page.wait_for_selector(ready)

    def text(self) -> str:
        """Everything a person can read on the page: its text and the values of its fields."""
        return self.page.evaluate("""() => document.body.innerText + '\\n' +
            [...document.querySelectorAll('input, textarea, select')].map((e) => e.value).join('\\n')""")

    def assert_masked(self, where: str) -> None:
        seen = self.text()
        assert not FULL_PHONE.findall(seen), f"{where}: a full phone number is shown: {FULL_PHONE.findall(seen)}"
        assert not FULL_RESIDENT_ID.findall(seen), f"{where}: a full ID number is shown: {FULL_RESIDENT_ID.findall(seen)}"

    def shoot(self, name: str) -> None:
        """The current screen at phone and at desktop width, full page."""
        self.shots.mkdir(parents=True, exist_ok=True)
        for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
            self.page.set_viewport_size(size)
            self.page.wait_for_timeout(50)  # one layout pass
            self.page.screenshot(path=str(self.shots / f"{name}-{label}.png"), full_page=True)

    def axe(self, where: str) -> list[dict]:
        """axe-core's serious and critical violations on the current screen (none expected)."""
        if not AXE.is_file():
            if os.environ.get("CI"):
                raise AssertionError("CI runs axe-core: `npm ci` in gateway/console installs it (.ci/run does)")
            pytest.skip("axe-core is not installed: run `npm ci` in gateway/console (CI does)")
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(url=self.base + AXE_PATH)
        result = self.page.evaluate("""async () => {
            const r = await window.axe.run(document, { resultTypes: ['violations'] });
            return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
        }""")
        return [dict(v, where=where) for v in result if v["impact"] in BLOCKING]

    def check(self, name: str) -> None:
        """Screenshot the screen at both widths and require axe-core to find nothing serious, at both."""
        self.shoot(name)
        found = []
        for size in (PHONE, DESKTOP):
            self.page.set_viewport_size(size)
            found += self.axe(f"{name} at {size['width']}px")
        assert found == [], json.dumps(found, ensure_ascii=False, indent=1)


@pytest.fixture
def console(browser, console_base, request) -> Iterator[Console]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    # Offline but for kehu: a CDN or font reference would fail loudly.
    context.route(re.compile(r"^(?!" + re.escape(console_base) + r"|data:|blob:).*"), lambda route: route.abort())
    if AXE.is_file():
        context.route(console_base + AXE_PATH, lambda route: route.fulfill(
            status=200, content_type="text/javascript", body=AXE.read_bytes()))
    page = context.new_page()
    shots = SHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    tab = Console(page, console_base, shots)
    try:
        yield tab
        report = getattr(request.node, "kehu_call_report", None)
        if report is not None and report.failed:
            print("The console's GraphQL errors and failed requests:\n" + tab.report())
            print("The demo server's last warnings and errors:\n" + _server_warnings())
    finally:
        context.close()
    assert tab.refused == [], tab.refused


@pytest.fixture
def unique() -> str:
    """A short suffix that makes names of this run unique (the demo server lives for the session)."""
    return f"{int(time.time() * 1000) % 10_000_000:07d}"

"""GraphiQL works offline (issue 17 point 6): the page and everything it loads come from kehu itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from gateway.graphiql import ASSETS_PATH, CONTENT_SECURITY_POLICY

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


class _References(HTMLParser):
    """Every URL the page makes the browser load: scripts, stylesheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def _page(client):
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    return page


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


def test_the_graphiql_page_names_no_other_host(client):
    """Issue 17 point 6: no CDN, no font download: no URL to another host appears in the page, and
    every script and stylesheet it loads is one of kehu's own assets."""
    html = _page(client).text
    assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE) == []
    urls = _references(html)
    assert urls, "the page loads its assets"
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme or parts.scheme == "data", url
        assert not parts.netloc, url
        assert parts.scheme == "data" or parts.path.startswith(ASSETS_PATH + "/"), url


def test_every_asset_the_page_loads_is_served_by_kehu_with_its_content_type(client):
    """Issue 17 point 6: each script and stylesheet answers 200 from kehu with the right content type,
    cacheable for a long time (the URL carries the content hash); React, ReactDOM, GraphiQL and the
    explorer plugin are all there."""
    urls = [u for u in _references(_page(client).text) if not u.startswith("data:")]
    names = {urlsplit(u).path.rsplit("/", 1)[1] for u in urls}
    assert {"react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql.min.css",
            "graphiql-plugin-explorer.umd.js"} <= names
    for url in urls:
        assert "?v=" in url, url
        answer = client.get(url)
        assert answer.status_code == 200, url
        suffix = "." + urlsplit(url).path.rsplit(".", 1)[1]
        assert answer.headers["content-type"].split(";")[0] == CONTENT_TYPES[suffix], url
        assert "max-age=31536000" in answer.headers["cache-control"], url
        assert len(answer.content) > 100, url


def test_the_stylesheets_fetch_nothing_from_elsewhere(client):
    """Issue 17 point 6: GraphiQL's fonts are embedded in its stylesheet (data: URLs), so no CSS rule
    makes the browser download a font or an image from another host."""
    for url in _references(_page(client).text):
        if urlsplit(url).path.endswith(".css"):
            css = client.get(url).text
            assert "@import" not in css
            for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
                assert target.startswith("data:"), target


def test_the_page_allows_the_browser_to_load_only_from_kehu(client):
    """Issue 17 point 6: a Content-Security-Policy that allows this origin only (and data: for the
    embedded fonts); no inline script, and the page may not be framed by another site."""
    page = _page(client)
    policy = page.headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    for sources in directives.values():
        assert "http" not in sources and "*" not in sources
    assert "<script>" not in page.text  # every script is a file: 'self' covers it without 'unsafe-inline'


def test_the_page_offers_sign_in_and_keeps_the_token_in_memory_only(client):
    """Issue 17 point 6: the schema explorer needs a signed-in caller, so the page has a sign-in bar;
    the token is kept in a variable, never in localStorage, sessionStorage, a cookie or the URL, and
    GraphiQL's headers editor does not persist what is typed into it."""
    html = _page(client).text
    assert 'id="kehu-signin"' in html and 'type="password"' in html
    script_url = next(u for u in _references(html) if "kehu-graphiql.js" in u)
    script = client.get(script_url).text
    assert "login(tenant:" in script and "Authorization" in script
    for storage in ("localStorage", "sessionStorage", "document.cookie", "history.replaceState"):
        assert storage not in script
    assert "shouldPersistHeaders: false" in script


# --- in a real browser, offline ---------------------------------------------------------------------

class _Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (no extra package): messages are
    JSON objects, each ended by a NUL byte, on file descriptors 3 (to Chromium) and 4 (from it)."""

    def __init__(self, executable: str, profile_dir) -> None:
        import os
        import subprocess

        to_child, self._to_browser = os.pipe()
        self._from_browser, from_child = os.pipe()
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile_dir}", "--remote-debugging-pipe",
                # offline: no name resolves, so nothing outside this machine can load
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"]
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_child} 4>&{from_child}', executable, *args],
            pass_fds=(to_child, from_child), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        import json
        import os
        import select
        import time

        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "the browser did not answer in time"
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                assert chunk, "the browser closed its pipe"
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, session: str | None = None, timeout: float = 30, **params) -> dict:
        import json
        import os
        import time

        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                assert "error" not in answer, answer
                return answer.get("result", {})
            self.events.append(answer)

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", session, expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait_for(self, session: str, expression: str, timeout: float = 30):
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(session, expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"never true in the page: {expression}")

    def close(self) -> None:
        import os

        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a browser that hangs on exit is killed
            self.process.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)


def _chromium() -> str:
    import os
    import shutil

    import pytest

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        raise AssertionError("CI needs Chromium for the GraphiQL browser test (.ci/run installs Debian's chromium)")
    pytest.skip("Chromium is not installed (apt-get install chromium); CI runs this test")


def test_graphiql_renders_offline_and_its_schema_explorer_works_after_signing_in(tmp_path):
    """Issue 17 point 6, as a person sees it: in a browser that cannot reach any other host, the page
    renders GraphiQL's editor; signing in with the page's sign-in bar loads the schema, so the
    documentation explorer lists the root types; nothing is requested from another host and the
    Content-Security-Policy refuses nothing the page needs."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from gateway.cli import DEMO_ADMIN

    executable = _chromium()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    browser = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "kehu demo did not come up"
            time.sleep(0.2)
        browser = _Browser(executable, tmp_path / "chromium-profile")
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.navigate", session, url=f"{base}/graphql")
        browser.wait_for(session, "!!document.querySelector('.graphiql-container .graphiql-query-editor .CodeMirror')")
        assert "kehu GraphiQL" in browser.evaluate(session, "document.querySelector('.CodeMirror').CodeMirror.getValue()")

        browser.evaluate(session, f"""(() => {{
            const form = document.getElementById('kehu-signin');
            form.elements.tenant.value = 'demo-automotive';
            form.elements.username.value = {DEMO_ADMIN.username!r};
            form.elements.password.value = {DEMO_ADMIN.password!r};
            form.requestSubmit();
            return true; }})()""")
        browser.wait_for(session, "!document.getElementById('kehu-signed-in').hidden")
        browser.evaluate(session, "document.querySelector('[aria-label=\"Show Documentation Explorer\"]').click(), true")
        explorer = browser.wait_for(session, "(() => { const d = document.querySelector('.graphiql-doc-explorer');"
                                             " return d && /Query/.test(d.innerText) && d.innerText; })()")
        assert "Root Types" in explorer and "query: Query" in explorer, explorer  # the schema loaded
        # the token stays in memory: nothing of it in the browser's storage or the address
        stored = browser.evaluate(session, "JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
                                           " + document.cookie + location.href")
        assert "eyJ" not in stored  # a JWT starts with eyJ

        requested = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
        assert requested and all(url.startswith(base) or url.startswith("data:") for url in requested), requested
        refused = [e["params"]["entry"]["text"] for e in browser.events if e.get("method") == "Log.entryAdded"
                   and "Content Security Policy" in e["params"]["entry"].get("text", "")]
        assert refused == []
    finally:
        if browser is not None:
            browser.close()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

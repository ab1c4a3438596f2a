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

def test_graphiql_renders_offline_and_its_schema_explorer_works_after_signing_in(tmp_path):
    """Issue 17 point 6, as a person sees it: in a browser that cannot reach any other host, the page
    renders GraphiQL's editor; signing in with the page's sign-in bar loads the schema, so the
    documentation explorer lists the root types; nothing is requested from another host and the
    Content-Security-Policy refuses nothing the page needs. Debian's Chromium, driven by Playwright."""
    import os
    import signal
    import socket
    import subprocess
    import sys

    from playwright.sync_api import sync_playwright

    from gateway.cli import DEMO_ADMIN
    from tests.support import chromium_path, wait_until_healthy

    executable = chromium_path("the GraphiQL browser test")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    server = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, 90, "kehu demo")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            try:
                page = browser.new_context().new_page()
                requested: list[str] = []
                refused: list[str] = []
                page.on("request", lambda request: requested.append(request.url))
                page.on("console", lambda message: refused.append(message.text)
                        if "Content Security Policy" in message.text else None)
                # Offline but for kehu: any other host is cut off, so a CDN reference would break the page.
                page.route(re.compile(r"^(?!" + re.escape(base) + r"|data:).*"), lambda route: route.abort())
                page.goto(f"{base}/graphql")
                # Selectors and functions, not expression strings: the page's CSP forbids eval, as it should.
                page.wait_for_selector(".graphiql-container .graphiql-query-editor .CodeMirror")
                assert "kehu GraphiQL" in page.evaluate(
                    "() => document.querySelector('.CodeMirror').CodeMirror.getValue()")

                form = page.locator("#kehu-signin")
                form.locator("[name=tenant]").fill("demo-automotive")
                form.locator("[name=username]").fill(DEMO_ADMIN.username)
                form.locator("[name=password]").fill(DEMO_ADMIN.password)
                page.evaluate("() => document.getElementById('kehu-signin').requestSubmit()")
                page.wait_for_selector("#kehu-signed-in", state="visible")
                page.click("[aria-label='Show Documentation Explorer']")
                explorer = page.wait_for_selector(".graphiql-doc-explorer:has-text('query: Query')").inner_text()
                assert "Root Types" in explorer and "query: Query" in explorer, explorer  # the schema loaded
                # the token stays in memory: nothing of it in the browser's storage or the address
                stored = page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
                                       " + document.cookie + location.href")
                assert "eyJ" not in stored  # a JWT starts with eyJ
                assert requested and all(url.startswith(base) or url.startswith("data:") for url in requested), requested
                assert refused == []
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

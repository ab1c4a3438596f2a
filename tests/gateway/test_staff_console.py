"""Serving the staff console (issue 25): its page and assets, compressed, cached right, under a strict CSP."""

from __future__ import annotations

import gzip
import re

from gateway.staff_console import CONTENT_SECURITY_POLICY, DIST_DIR


def _assets() -> list[str]:
    return re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', (DIST_DIR / "index.html").read_text())


def test_the_console_page_is_served_with_a_strict_csp_and_never_cached(client):
    """Issue 25: /console/ answers the app's page in every profile; the CSP lets it load and call
    nothing but this origin (no inline script, no frames, no form posts elsewhere)."""
    for path in ("/console/", "/console"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), path
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert page.headers["cache-control"] == "no-store"  # it names the current asset hashes
        assert page.headers["x-content-type-options"] == "nosniff"
        assert '<div id="app"' in page.text
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY


def test_console_assets_are_sent_compressed_when_accepted_and_cached_for_a_year(client):
    """Issue 25 point 4: the hashed assets go out gzip-compressed (pre-built twins) to browsers that
    accept it, as they are to those that do not, and may be cached forever (the name is the hash)."""
    assets = _assets()
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for url in assets:
        plain = client.get(url, headers={"accept-encoding": "identity"})
        assert plain.status_code == 200 and "content-encoding" not in plain.headers
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        kind = "text/javascript" if url.endswith(".js") else "text/css"
        assert plain.headers["content-type"] == f"{kind}; charset=utf-8"
        packed = client.get(url, headers={"accept-encoding": "gzip, br"})
        assert packed.headers["content-encoding"] == "gzip" and "accept-encoding" in packed.headers["vary"].lower()
        assert packed.content == plain.content  # the client unpacked it: the same file
        assert len(gzip.compress(plain.content)) < len(plain.content)


def test_unknown_or_escaping_console_paths_are_not_found(client):
    """Issue 25: only the build's files are served: no directory walk, no .gz twin by name."""
    for path in ("/console/assets/nothing.js", "/console/assets/..%2Fstamp.json", "/console/assets/%2e%2e%2Fdist",
                 "/console/assets/" + _assets()[0].rsplit("/", 1)[1] + ".gz"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert b"<html" not in answer.content.lower() and b"sources" not in answer.content, path


def test_console_files_do_not_spend_the_anonymous_request_budget(client):
    """Loading the console (page and assets, no credentials) is not counted against the per-address
    budget of anonymous API calls, so opening it a few times never locks a user out of signing in."""
    before = client.get("/console/").headers.get("ratelimit")
    assert before is None  # no budget charged, none reported

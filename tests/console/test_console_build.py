"""The committed console build (issue 25): it is what its sources build, and it loads nothing from elsewhere."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "gateway" / "console"
DIST = CONSOLE / "dist"
# What stamp.mjs hashes (keep the two lists equal): the build's inputs and the SDL the operations are typed against.
SOURCES = ("index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json", "codegen.ts",
           "stamp.mjs", "src")


def _source_digest() -> str:
    names = []
    for name in SOURCES:
        path = CONSOLE / name
        names += [p.relative_to(CONSOLE).as_posix() for p in path.rglob("*") if p.is_file()] if path.is_dir() else [name]
    digest = hashlib.sha256()
    for name in sorted([*names, "../../schema.graphql"]):
        digest.update(name.encode() + b"\0")
        digest.update((CONSOLE / name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def test_the_committed_console_build_is_not_older_than_its_sources():
    """Issue 25: `make console` rebuilds gateway/console/dist; a source (or the SDL) changed without a
    rebuild fails here, so the console kehu serves is always the one its sources describe."""
    stamp = json.loads((DIST / "stamp.json").read_text())
    assert stamp["sources"] == _source_digest(), (
        "gateway/console/dist is older than its sources: run `make console` and commit dist/")


def test_the_console_page_loads_only_its_own_hashed_assets():
    """Issue 25: no CDN, no font download: the page names only /console/assets/ files with a content
    hash, each present with its pre-compressed twin; no inline script or style (the CSP forbids them)."""
    html = (DIST / "index.html").read_text()
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html, re.IGNORECASE)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(re.fullmatch(r"/console/assets/[\w-]+-[\w-]{8}\.(js|css)", u) for u in urls), urls
    for url in urls:
        asset = DIST / url.removeprefix("/console/")
        assert asset.is_file() and Path(f"{asset}.gz").is_file(), url
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    for css in DIST.glob("assets/*.css"):
        assert "@import" not in css.read_text() and not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text())

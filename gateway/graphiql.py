"""GraphiQL served by kehu itself (issue 17 point 6): the page and every script, style and font it
loads come from this process, so it works without internet access, and a Content-Security-Policy
lets the browser load nothing from anywhere else.

The vendored builds are in ``gateway/static/graphiql`` (versions and licences in its README). The
page asks for them by content hash (``?v=…``), so they can be cached for a year and a new build
is still fetched at once.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from litestar import Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.static_files import create_static_files_router

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphql-assets"
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z0-9._-]+)\}\}")

# Only this origin; no inline script (the page's own code is a file). GraphiQL's stylesheet embeds
# its fonts as data: URLs and the editor sets inline styles, hence data: fonts and inline styles.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self' data:",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # small, and it names the current asset hashes
}


def asset_url(name: str) -> str:
    """The URL of a vendored asset, with its content hash so a long cache never serves a stale build."""
    path = ASSETS_DIR / name
    if not path.is_file() or path.parent != ASSETS_DIR:
        raise FileNotFoundError(f"GraphiQL asset {name!r} is missing from {ASSETS_DIR.name}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"{ASSETS_PATH}/{name}?v={digest}"


@functools.cache
def page_html() -> str:
    """The page, its ``{{asset}}`` placeholders replaced by the assets' URLs (built once)."""
    template = (ASSETS_DIR / "index.html").read_text(encoding="utf-8")
    return _PLACEHOLDER.sub(lambda match: asset_url(match.group(1)), template)


def page_response() -> Response[str]:
    return Response(page_html(), media_type=MediaType.HTML, headers=PAGE_HEADERS)


def assets_router() -> Router:
    """The vendored files, publicly cacheable for a year (their URLs change with their content)."""
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[ASSETS_DIR],
        name="graphiql-assets",
        cache_control=CacheControlHeader(max_age=365 * 24 * 3600, public=True, immutable=True),
        include_in_schema=False,
    )

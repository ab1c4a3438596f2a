"""The web console for tenants' staff (issue 25), served at ``/console/`` in every profile.

The console is a single-page app over the public GraphQL API (source in ``gateway/console``, built
with Vite; the build in ``gateway/console/dist`` is committed, so serving it needs no Node). This
module only hands out its files: the page itself is never cached (it names the current asset
hashes), the hashed assets are cached for a year, and a pre-compressed ``.gz`` twin is sent to
browsers that accept gzip. A strict Content-Security-Policy lets the page load and call nothing but
this origin.
"""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path

from litestar import Request, Response, get
from litestar.params import FromPath

DIST_DIR = Path(__file__).parent / "console" / "dist"
PATH = "/console"

# Only this origin; no inline script or style at all (the build inlines nothing), no frames.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))
_COMMON_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_PAGE_CACHE = "no-store"
_ASSET_CACHE = "public, max-age=31536000, immutable"  # the file name carries its content hash
# Litestar adds "; charset=utf-8" to text types itself.
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
          ".json": "application/json"}


class ConsoleNotBuilt(RuntimeError):
    """The committed build is missing (a checkout without ``gateway/console/dist``)."""


@functools.cache
def _file(relative: str, gzipped: bool) -> bytes | None:
    """A file of the build (or its .gz twin), read once; None when there is no such file."""
    path = (DIST_DIR / relative).resolve()
    if DIST_DIR.resolve() not in path.parents:
        return None  # no way out of the build folder
    if gzipped:
        path = path.with_name(path.name + ".gz")
    return path.read_bytes() if path.is_file() else None


def _accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "").lower()


def _answer(request: Request, relative: str, cache: str) -> Response[bytes]:
    suffix = Path(relative).suffix
    media_type = _TYPES.get(suffix) or mimetypes.guess_type(relative)[0] or "application/octet-stream"
    headers = {**_COMMON_HEADERS, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    body = _file(relative, True) if _accepts_gzip(request) else None
    if body is not None:
        headers["Content-Encoding"] = "gzip"
    else:
        body = _file(relative, False)
    if body is None:
        if relative == "index.html":
            raise ConsoleNotBuilt("the console build is missing: run `make console`")
        return Response(b"not found", status_code=404, media_type="text/plain", headers=_COMMON_HEADERS)
    return Response(body, media_type=media_type, headers=headers)


# Litestar treats /console and /console/ as one path; the page names its assets absolutely (/console/assets/…).
@get(PATH, include_in_schema=False, sync_to_thread=False)
def console_page(request: Request) -> Response[bytes]:
    return _answer(request, "index.html", _PAGE_CACHE)


@get(PATH + "/assets/{asset:str}", include_in_schema=False, sync_to_thread=False)  # "name" is reserved by Litestar
def console_asset(request: Request, asset: FromPath[str]) -> Response[bytes]:
    if "/" in asset or asset.endswith(".gz"):
        return Response(b"not found", status_code=404, media_type="text/plain", headers=_COMMON_HEADERS)
    return _answer(request, f"assets/{asset}", _ASSET_CACHE)


CONSOLE_HANDLERS = [console_page, console_asset]

"""The built-in chat page: ``/ui`` (with ``/`` redirecting to it) and its static assets.

The page is plain HTML, CSS and ES modules shipped in ``deepsearch/server/static``
(Markdown and sanitising libraries are vendored there), so it runs offline with no build
step. It talks to the same server's ``POST /v1/chat/completions`` with ``stream: true``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, RedirectResponse, Response

STATIC_DIR = Path(__file__).parent / "static"

# The page only ever loads its own files and talks to its own origin; no inline script runs,
# so even a sanitiser bypass could not execute injected markup.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".md": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    """Send visitors of the bare server address to the chat page."""
    return RedirectResponse("/ui", status_code=307)


@router.get("/ui")
async def chat_page() -> Response:
    """Serve the chat page."""
    return FileResponse(STATIC_DIR / "index.html", headers=SECURITY_HEADERS)


@router.get("/ui/static/{name:path}")
async def static_asset(name: str) -> Response:
    """Serve one file of the page's static folder (nothing outside it)."""
    path = asset_path(name)
    if path is None:
        raise HTTPException(status_code=404, detail="Not found")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)


def asset_path(name: str) -> Path | None:
    """Return the file ``name`` inside the static folder, or None if it is not a servable asset."""
    root = STATIC_DIR.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file() or path.suffix not in MEDIA_TYPES:
        return None
    return path

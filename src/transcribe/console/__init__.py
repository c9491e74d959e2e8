"""The web console at /console: plain HTML, CSS and ES modules shipped in this package
(`static/`), served by the service itself. Nothing is fetched from elsewhere and nothing is
built: the files here are what the browser runs.

The page talks to the same /v1 API as any client, with an application's JWT that the user
pastes in (kept in the tab's sessionStorage); the audio player reads the recording through a
signed link (`POST /v1/files/{uuid}/link`), as an `<audio>` element cannot send a header.
Every answer carries a Content-Security-Policy that allows this origin's scripts, styles,
media and API only, so a transcript's text can never run as code in the page that holds the
token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from transcribe.errors import NotFoundError

STATIC = Path(__file__).parent / "static"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidated each time (ETag): a new version of the service is seen at once.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _assets() -> dict[str, Path]:
    """Every file the console may serve, by its path under /console/: this fixed list, so no
    request path ever reaches the file system."""
    return {
        p.relative_to(STATIC).as_posix(): p
        for p in STATIC.rglob("*")
        if p.is_file() and p.suffix in MEDIA_TYPES
    }


ASSETS = _assets()


@router.get("/console")
def console_root() -> RedirectResponse:
    """The page's relative links resolve under /console/."""
    return RedirectResponse("/console/", status_code=308)


@router.get("/console/")
def console_page() -> FileResponse:
    return _serve("index.html")


@router.get("/console/{name:path}")
def console_asset(name: str) -> FileResponse:
    return _serve(name)


def _serve(name: str) -> FileResponse:
    path = ASSETS.get(name)
    if path is None:
        raise NotFoundError(f"no console file {name!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=HEADERS)

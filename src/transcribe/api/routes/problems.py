"""/problems/<slug>: the page an error answer's `type` leads to, saying what that kind of
error means and what to do (HTML, or JSON with `Accept: application/json`); /problems lists
them all. The texts live with the statuses, in api/errors.py."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from transcribe.api.errors import OTHER_PROBLEM, PROBLEM_TYPES, PROBLEMS_PATH, ProblemType
from transcribe.errors import NotFoundError

router = APIRouter(prefix=PROBLEMS_PATH, include_in_schema=False)

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42em;margin:2em auto;padding:0 1em;"
    "line-height:1.5}code{background:#f2f2f2;padding:0 .2em}"
)


@router.get("")
async def all_problems(request: Request) -> Response:
    if _wants_json(request):
        return JSONResponse([_as_json(p) for p in _every()])
    items = "".join(
        f'<li><a href="problems/{p.slug}">{escape(p.title)}</a>{_status(p)}</li>' for p in _every()
    )
    return _page(
        "Problem types",
        "<p>Every error answer of the API is a JSON problem <code>{type, title, detail, "
        "invalid_parameters?}</code>; its <code>type</code> is one of these pages.</p>"
        f"<ul>{items}</ul>",
    )


@router.get("/{slug}")
async def one_problem(slug: str, request: Request) -> Response:
    found = next((p for p in _every() if p.slug == slug), None)
    if found is None:
        raise NotFoundError(f"no problem type {slug!r}; /problems lists them", field="slug")
    if _wants_json(request):
        return JSONResponse(_as_json(found))
    return _page(
        found.title,
        f"<p>{_status(found).strip(' ()') or 'Any other HTTP status'}. Answers of this kind "
        f'carry <code>"type": "{escape(found.url)}"</code>; their <code>detail</code> says '
        "what was wrong with that request.</p>"
        f"<h2>What it means</h2><p>{_code(found.meaning)}</p>"
        f"<h2>What to do</h2><p>{_code(found.remedy)}</p>"
        '<p><a href="../problems">Every problem type</a> &middot; '
        '<a href="../docs">the API</a></p>',
    )


def _every() -> list[ProblemType]:
    return [*PROBLEM_TYPES.values(), OTHER_PROBLEM]


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _as_json(p: ProblemType) -> dict[str, object]:
    return {
        "type": p.url,
        "title": p.title,
        "status": p.status or None,
        "meaning": p.meaning,
        "remedy": p.remedy,
    }


def _status(p: ProblemType) -> str:
    return f" (HTTP status {p.status})" if p.status else ""


def _code(text: str) -> str:
    """The texts mark code with backquotes, as in the README."""
    parts = escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} - transcribe</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )

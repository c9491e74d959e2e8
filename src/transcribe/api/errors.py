"""Every error the API returns is a JSON problem: {type, title, detail, invalid_parameters?}.

This is the one place where domain errors become HTTP statuses. Nothing reaches a client as
a traceback: an unexpected exception is logged with its request id and answered with a 500
problem that names that id.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from transcribe import errors
from transcribe.live.framing import POLICY, TRY_AGAIN_LATER
from transcribe.logs import request_id

log = logging.getLogger(__name__)

STATUS: list[tuple[type[errors.TranscribeError], int]] = [
    (errors.AuthError, 401),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.PayloadTooLargeError, 413),
    (errors.UnsupportedAudioError, 415),
    (errors.HeaderTooLargeError, 431),
    (errors.InvalidAudioError, 422),
    (errors.UnsupportedLanguageError, 422),
    (errors.InvalidRequestError, 422),
    (errors.ModelNotFoundError, 503),
    (errors.UnavailableError, 503),
]

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Invalid parameters",
    431: "Request header fields too large",
    500: "Internal error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    invalid_parameters: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": f"https://transcribe.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "detail": detail,
    }
    if invalid_parameters:
        body["invalid_parameters"] = invalid_parameters
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(exc: errors.TranscribeError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def close_code_of(exc: errors.TranscribeError) -> int:
    """The WebSocket close code for a leg refused by a domain error: 1013 (try again later)
    for a passing condition, 1008 (policy) for the rest (credentials, ownership, state)."""
    return TRY_AGAIN_LATER if isinstance(exc, errors.UnavailableError) else POLICY


def retry_after(exc: errors.TranscribeError) -> dict[str, str] | None:
    """The Retry-After header of an error that says when to try again."""
    if isinstance(exc, errors.UnavailableError) and exc.retry_after_s is not None:
        return {"Retry-After": str(exc.retry_after_s)}
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.TranscribeError)
    async def domain_error(_: Request, exc: errors.TranscribeError) -> JSONResponse:
        if isinstance(exc, errors.InvalidParametersError):
            params = [{"name": name, "reason": reason} for name, reason in exc.problems]
        else:
            params = [{"name": exc.field, "reason": exc.message}] if exc.field else []
        return problem(status_of(exc), exc.message, params or None, retry_after(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        params = [
            {
                "name": ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query")),
                "reason": str(e.get("msg", "invalid")),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{p['name']}: {p['reason']}" for p in params) or "invalid request"
        return problem(422, detail, params)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        rid = request_id.get()
        log.exception("unhandled error in request %s", rid)
        return problem(500, f"an internal error occurred; quote request id {rid}")

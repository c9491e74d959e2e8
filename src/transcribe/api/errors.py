"""Every error the API returns is a JSON problem: {type, title, detail, invalid_parameters?}.
Its `type` is a relative URL, `/problems/<slug>`, that the service answers with a page about
that kind of error (`PROBLEM_TYPES`, served by routes/problems.py).

This is the one place where domain errors become HTTP statuses. Nothing reaches a client as
a traceback: an unexpected exception is logged with its request id and answered with a 500
problem that names that id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    (errors.UnsupportedMediaTypeError, 415),
    (errors.HeaderTooLargeError, 431),
    (errors.InvalidAudioError, 422),
    (errors.UnsupportedLanguageError, 422),
    (errors.InvalidRequestError, 422),
    (errors.ModelNotFoundError, 503),
    (errors.UnavailableError, 503),
]

PROBLEMS_PATH = "/problems"


@dataclass(frozen=True)
class ProblemType:
    """A kind of error answer. Its `type` is a relative URL (`/problems/<slug>`) that this
    service answers with a page saying what the error means and what to do about it."""

    status: int
    title: str
    meaning: str
    remedy: str

    @property
    def slug(self) -> str:
        return self.title.lower().replace(" ", "-")

    @property
    def url(self) -> str:
        return f"{PROBLEMS_PATH}/{self.slug}"


# Every problem type the API answers with, by status: `problem()` picks from here (and
# `OTHER_PROBLEM` for a status not listed), and /problems serves a page for each.
PROBLEM_TYPES: dict[int, ProblemType] = {
    p.status: p
    for p in (
        ProblemType(
            400,
            "Bad request",
            "The request could not be read as HTTP the API understands.",
            "Check the method, the URL and the body against /docs and send it again.",
        ),
        ProblemType(
            401,
            "Unauthorized",
            "The request carries no valid credentials: no `Authorization: Bearer <JWT>` "
            "header, or a token that is unsigned, not RS256, expired, not yet valid, living "
            "longer than the service allows, or signed for an application it does not know. "
            "Application management takes the admin token instead.",
            "Mint a fresh token with `transcribe token --application-id ID --private-key "
            "private.pem` (claims application_id, iat, exp, jti; RS256, signed by the private "
            "key of the public key the application was registered with). `detail` names the "
            "check that failed.",
        ),
        ProblemType(
            403,
            "Forbidden",
            "The credentials are valid but do not allow this request.",
            "Use the credentials of the application that owns the thing, or the admin token.",
        ),
        ProblemType(
            404,
            "Not found",
            "There is no such thing for this application: the id is wrong or not a uuid, the "
            "thing was deleted or is past its retention, or it belongs to another application "
            "(the API never says which).",
            "Check the id (take recording_url and transcription_url as the API gives them) "
            "and the token's application.",
        ),
        ProblemType(
            405,
            "Method not allowed",
            "The URL exists but does not take this HTTP method.",
            "See /docs for the methods each URL takes.",
        ),
        ProblemType(
            409,
            "Conflict",
            "The thing exists but is not in a state that allows this yet (for example a "
            "transcript that is still being made).",
            "Wait for the webhook (or poll GET /v1/recordings/{uuid}) and try again.",
        ),
        ProblemType(
            413,
            "Payload too large",
            "An upload is over a limit: its size (TRANSCRIBE__MAX_UPLOAD_BYTES) or the length "
            "of its audio read from its header (TRANSCRIBE__MAX_AUDIO_SECONDS).",
            "Send a smaller or shorter file (split a long call), or ask the operator to raise "
            "the limit named in `detail`.",
        ),
        ProblemType(
            415,
            "Unsupported media type",
            "The body or a file in it is not of a type the endpoint takes: audio that is not "
            "WAV, FLAC, MP3 or OGG, or an upload sent as a raw body instead of a "
            "multipart/form-data form.",
            "Send uploads as multipart/form-data (`curl -F file=@call.wav`) with audio in "
            "WAV, FLAC, MP3 or OGG.",
        ),
        ProblemType(
            416,
            "Range not satisfiable",
            "The `Range` header asks for bytes the file does not have.",
            "Ask for a range within the file's size (a request without `Range` gets it all).",
        ),
        ProblemType(
            422,
            "Invalid parameters",
            "A field of the request is malformed, missing or out of range, or the audio in it "
            "is damaged, truncated, has too many channels, or is in a language the model "
            "cannot transcribe. `invalid_parameters` names each field with its reason.",
            "Fix every field listed in `invalid_parameters` and send the request again.",
        ),
        ProblemType(
            431,
            "Request header fields too large",
            "A request header is over its limit (the Authorization header: 8 KiB); it was "
            "refused before anything read it.",
            "Send a real token: an RS256 JWT with the claims the API asks for is well under "
            "the limit.",
        ),
        ProblemType(
            500,
            "Internal error",
            "Something went wrong in the service itself, not in the request.",
            "Try again later; if it persists, give the operator the request id in `detail` "
            "(also the X-Request-ID header) so they can find it in the logs.",
        ),
        ProblemType(
            503,
            "Service unavailable",
            "The service cannot take this now: its disk is nearly full "
            "(TRANSCRIBE__MIN_FREE_DISK_BYTES), the model is still loading or could not be "
            "loaded, or its database does not answer.",
            "Try again after the `Retry-After` header's seconds where there is one; "
            "`detail` says what is missing, for the operator to fix.",
        ),
    )
}

OTHER_PROBLEM = ProblemType(
    0,
    "Error",
    "The request failed with the HTTP status of the answer; `detail` says why.",
    "Read `detail`, fix the request, and see /docs for what each endpoint takes.",
)


def problem_type(status: int) -> ProblemType:
    return PROBLEM_TYPES.get(status, OTHER_PROBLEM)


def problem(
    status: int,
    detail: str,
    invalid_parameters: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    kind = problem_type(status)
    body: dict[str, Any] = {"type": kind.url, "title": kind.title, "detail": detail}
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

"""GET and DELETE /v1/files/{uuid}: recordings' audio and transcription documents; POST
/v1/files/{uuid}/link: a signed link that reads one of them with no header (the console's
audio player; see `auth/links.py`).

Fetching `transcription_url` is the API's hottest read, so a file served before is answered
from memory (its metadata, and the bytes of a small one), and `FastFileReads` answers such a
fetch, by a token verified before, in front of the router: no routing, no dependency
resolution, no thread. Anything else (a first fetch, a new token, a Range request, an error)
goes through the route below, which gives the same answer the slow way.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from transcribe.api.deps import CurrentApp, FileReader, ServiceDep, bearer
from transcribe.clock import iso
from transcribe.errors import TranscribeError
from transcribe.recordings import FileView
from transcribe.service import Service
from transcribe.store.files import parse_uuid
from transcribe.views import FileLinkView

PREFIX = "/v1/files/"

router = APIRouter(prefix=PREFIX.rstrip("/"), tags=["files"])


@router.get("/{file_uuid}", response_model=None)
async def get_file(
    file_uuid: str, request: Request, app_id: FileReader, service: ServiceDep
) -> Response:
    """The recording's audio (Range requests work) or the transcription JSON, with the
    application's JWT or, without an Authorization header, as a signed link from POST
    /v1/files/{file_uuid}/link.

    A file served before comes from memory (its metadata, and the bytes of a small one):
    fetching transcription_url is the API's hottest read."""
    view = service.files.cached(app_id, file_uuid)
    if view is None:
        view = await run_in_threadpool(service.files.serve, app_id, file_uuid)
    answer = from_memory(view, request.headers.get("if-none-match"), "range" in request.headers)
    if answer is not None:
        return answer
    return FileResponse(
        view.path,
        media_type=view.content_type,
        filename=view.name,
        content_disposition_type="inline",
        headers=_headers(view),
    )


@router.post("/{file_uuid}/link")
def link_file(file_uuid: str, app_id: CurrentApp, service: ServiceDep) -> FileLinkView:
    """A URL that reads this one file with GET (Range included) and no Authorization header,
    for FILE_LINK_TTL_S (15 minutes): what an `<audio>` element, which cannot send a header,
    can play. It reads nothing else, and cannot delete."""
    service.files.serve(app_id, file_uuid)  # 404 unless this application's, and stored
    link = service.links.sign(app_id, file_uuid)
    url = service.urls.file_link(parse_uuid(file_uuid) or file_uuid, link.query())
    return FileLinkView(url=url, expires_at=iso(link.expires_at))


@router.delete("/{file_uuid}", status_code=204)
def delete_file(file_uuid: str, app_id: CurrentApp, service: ServiceDep) -> Response:
    """Erase this file now; its URL answers 404 from then on."""
    service.files.delete(app_id, file_uuid)
    return Response(status_code=204)


def _headers(view: FileView) -> dict[str, str]:
    return {"ETag": view.etag, "Cache-Control": "private, max-age=0", "Accept-Ranges": "bytes"}


def from_memory(view: FileView, if_none_match: str | None, ranged: bool) -> Response | None:
    """A 304, or a small file's bytes; None when the answer must come from the file on disk."""
    if if_none_match == view.etag:
        return Response(status_code=304, headers=_headers(view))
    if view.body is not None and not ranged:
        return Response(view.body, media_type=view.content_type, headers=_headers(view))
    return None


class FastFileReads:
    """ASGI front for GET /v1/files/{uuid}: answers from memory when the token and the file
    are both known already, otherwise hands the request on to `app` unchanged."""

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(PREFIX):
                answer = self._answer(path[len(PREFIX) :], scope["headers"])
                if answer is not None:
                    await answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _answer(self, file_uuid: str, raw: list[tuple[bytes, bytes]]) -> Response | None:
        service: Service | None = getattr(self.state, "service", None)
        if service is None or "/" in file_uuid:
            return None
        authorization = if_none_match = None
        ranged = False
        for name, value in raw:  # the first of each, as Request.headers.get has it
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name == b"range":
                ranged = True
        try:
            app_id = service.tokens.cached(bearer(authorization))
            if app_id is None:
                return None
            view = service.files.cached(app_id, file_uuid)
        except TranscribeError:  # the route gives the error its proper answer
            return None
        return None if view is None else from_memory(view, if_none_match, ranged)

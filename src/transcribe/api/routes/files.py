from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from transcribe.api.deps import CurrentApp, ServiceDep

router = APIRouter(prefix="/v1/files", tags=["files"])


@router.get("/{file_uuid}", response_model=None)
async def get_file(
    file_uuid: str, request: Request, app_id: CurrentApp, service: ServiceDep
) -> Response:
    """The recording's audio (Range requests work) or the transcription JSON.

    A file served before comes from memory (its metadata, and the bytes of a small one):
    fetching transcription_url is the API's hottest read."""
    view = service.cached_file(app_id, file_uuid)
    if view is None:
        view = await run_in_threadpool(service.file, app_id, file_uuid)
    headers = {"ETag": view.etag, "Cache-Control": "private, max-age=0", "Accept-Ranges": "bytes"}
    if request.headers.get("if-none-match") == view.etag:
        return Response(status_code=304, headers=headers)
    if view.body is not None and "range" not in request.headers:
        return Response(view.body, media_type=view.content_type, headers=headers)
    return FileResponse(
        view.path,
        media_type=view.content_type,
        filename=view.name,
        content_disposition_type="inline",
        headers=headers,
    )


@router.delete("/{file_uuid}", status_code=204)
def delete_file(file_uuid: str, app_id: CurrentApp, service: ServiceDep) -> Response:
    """Erase this file now; its URL answers 404 from then on."""
    service.delete_file(app_id, file_uuid)
    return Response(status_code=204)

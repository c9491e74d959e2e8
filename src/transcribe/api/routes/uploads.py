"""Uploads: a finished recording to transcribe (and, with the engine, per-leg files)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.api.schemas import Accepted
from transcribe.errors import InvalidRequestError, PayloadTooLargeError
from transcribe.service import Service

router = APIRouter(prefix="/v1", tags=["uploads"])


def check_length(request: Request, service: Service) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > service.settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the upload is {int(length)} bytes; the limit is {service.settings.max_upload_bytes}"
        )


def save_upload(upload: UploadFile, service: Service, field: str) -> Path:
    """Copy an uploaded part to a temp file next to the store, enforcing the size limit."""
    suffix = Path(upload.filename or "").suffix.lower()[:8]
    target = service.files.tmp_path(suffix if suffix.isascii() else "")
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    if target.stat().st_size > service.settings.max_upload_bytes:
        target.unlink()
        raise PayloadTooLargeError(f"{field} is over the upload limit", field=field)
    if target.stat().st_size == 0:
        target.unlink()
        raise InvalidRequestError(f"{field} is empty", field=field)
    return target


@router.post("/transcriptions", status_code=202, response_model=Accepted)
async def transcribe_recording(
    request: Request,
    app_id: CurrentApp,
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="WAV, MP3, OGG or FLAC; 1-32 channels")],
    language: Annotated[str | None, Form(max_length=16)] = None,
    eventUrl: Annotated[str | None, Form(max_length=2000)] = None,
    eventMethod: Annotated[Literal["POST", "GET"], Form()] = "POST",
) -> dict[str, str]:
    """Transcribe an existing recording, each channel on its own; `transcribed` follows."""
    check_length(request, service)
    path = await run_in_threadpool(save_upload, file, service, "file")
    options = {"language": language, "eventUrl": eventUrl, "eventMethod": eventMethod}
    try:
        recording = await run_in_threadpool(service.accept_recording_upload, app_id, path, options)
    finally:
        path.unlink(missing_ok=True)
    return {"recording_uuid": recording.uuid, "conversation_uuid": recording.conversation_uuid}

"""Uploads: a finished recording to transcribe, or per-leg files to render."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.errors import (
    InvalidRequestError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from transcribe.limits import (
    MAX_CHANNELS,
    MAX_JSON_FIELD_CHARS,
    MAX_LEG_OFFSET_MS,
    MAX_UPLOAD_LEGS,
)
from transcribe.ncco import parse_record, parse_transcription
from transcribe.service import Service
from transcribe.views import Accepted

router = APIRouter(prefix="/v1", tags=["uploads"])

_EXTENSION = re.compile(r"\.[a-z0-9]{1,7}")


def check_length(request: Request, service: Service) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > service.settings.max_upload_bytes:
        raise PayloadTooLargeError(
            f"the upload is {int(length)} bytes; the limit is {service.settings.max_upload_bytes}"
        )


def require_form(request: Request, how: str) -> None:
    """An upload whose body is not a form at all (the audio as the raw body, say) is refused
    saying what the endpoint takes, not with its form fields reported missing. A form without
    its file (url-encoded, say) goes on to have the missing field named."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        got = f"not {media}" if media else "and this body has no Content-Type"
        raise UnsupportedMediaTypeError(
            f"{request.method} {request.url.path} takes multipart/form-data, {got}: {how}",
            field="Content-Type",
        )


async def transcription_form(request: Request) -> None:
    require_form(
        request,
        "send the recording as the form field `file` (curl -F file=@call.wav), and `language`, "
        "`eventUrl` and `eventMethod` as fields of their own",
    )


async def legs_form(request: Request) -> None:
    require_form(
        request,
        "send the record action as the form field `record` (JSON text) and each leg's audio "
        "as a field `leg`, in join order (curl -F record='{}' -F leg=@caller.wav "
        "-F leg=@agent.wav)",
    )


def save_upload(upload: UploadFile, service: Service, field: str) -> Path:
    """Copy an uploaded part to a temp file next to the store, enforcing the size limit.

    The client's file name is kept only for an extension like `.wav` (a hint to the
    decoder); anything else in it (a NUL, a slash, bytes that are not text) is dropped."""
    suffix = Path(upload.filename or "").suffix.lower()
    target = service.files.tmp_path(suffix if _EXTENSION.fullmatch(suffix) else "")
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    if target.stat().st_size > service.settings.max_upload_bytes:
        target.unlink()
        raise PayloadTooLargeError(f"{field}: over the upload limit", field=field)
    if target.stat().st_size == 0:
        target.unlink()
        raise InvalidRequestError(f"{field}: the upload is empty", field=field)
    return target


@router.post("/recordings", status_code=202)
async def render_recording(
    request: Request,
    app_id: CurrentApp,
    service: ServiceDep,
    _form: Annotated[None, Depends(legs_form)],
    record: Annotated[
        str, Form(description="The record action as JSON text", max_length=MAX_JSON_FIELD_CHARS)
    ],
    leg: Annotated[
        list[UploadFile], File(description="One audio file per leg, in join order", min_length=1)
    ],
    offset_ms: Annotated[
        list[int] | None, Form(description="Each leg's start in ms, same order")
    ] = None,
) -> Accepted:
    """Render per-leg files into a recording, like live legs but faster than real time.

    `record` (webhook) follows when the file is written, then `transcribed` if asked for."""
    check_length(request, service)
    await run_in_threadpool(service.disk.check)
    action = parse_record(_json_field(record, "record"))
    offsets = offset_ms or [0] * len(leg)
    if len(offsets) != len(leg):
        raise InvalidRequestError(
            f"{len(offsets)} offset_ms values for {len(leg)} legs; give one per leg or none",
            field="offset_ms",
        )
    if any(o < 0 or o > MAX_LEG_OFFSET_MS for o in offsets):
        raise InvalidRequestError(
            f"offset_ms must be within 0..{MAX_LEG_OFFSET_MS}", field="offset_ms"
        )
    if len(leg) > MAX_UPLOAD_LEGS:
        raise InvalidRequestError(f"at most {MAX_UPLOAD_LEGS} legs per recording", field="leg")
    paths: list[Path] = []
    try:
        for index, upload in enumerate(leg):
            paths.append(await run_in_threadpool(save_upload, upload, service, f"leg[{index}]"))
        recording = await run_in_threadpool(
            service.intake.legs, app_id, action, paths, [o / 1000 for o in offsets]
        )
    finally:
        for path in paths:
            path.unlink(missing_ok=True)
    return Accepted(recording_uuid=recording.uuid, conversation_uuid=recording.conversation_uuid)


def _json_field(text: str, field: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"{field} is not valid JSON: {exc.msg}", field=field) from exc
    except RecursionError as exc:  # `[[[[...` past Python's recursion limit
        raise InvalidRequestError(f"{field} is nested too deeply", field=field) from exc


@router.post("/transcriptions", status_code=202)
async def transcribe_recording(
    request: Request,
    app_id: CurrentApp,
    service: ServiceDep,
    _form: Annotated[None, Depends(transcription_form)],
    file: Annotated[
        UploadFile, File(description=f"WAV, MP3, OGG or FLAC; 1-{MAX_CHANNELS} channels")
    ],
    language: Annotated[
        str | None,
        Form(
            max_length=16,
            description="BCP-47, from Vonage's list (en-US by default, es-MX, fr-FR, ja-JP, "
            "...); other codes are refused with the list",
        ),
    ] = None,
    eventUrl: Annotated[str | None, Form(max_length=2000)] = None,
    eventMethod: Annotated[Literal["POST", "GET"], Form()] = "POST",
    sentimentAnalysis: Annotated[
        bool, Form(description="Add `sentiment` (-1 to 1) to every sentence of the transcript")
    ] = False,
) -> Accepted:
    """Transcribe an existing recording, each channel on its own; `transcribed` follows.

    The options follow the same rules as an NCCO's `record.transcription`."""
    check_length(request, service)
    await run_in_threadpool(service.disk.check)
    options = parse_transcription(
        {
            "language": language,
            "eventUrl": eventUrl,
            "eventMethod": eventMethod,
            "sentimentAnalysis": sentimentAnalysis,
        }
    )
    path = await run_in_threadpool(save_upload, file, service, "file")
    try:
        recording = await run_in_threadpool(service.intake.upload, app_id, path, options)
    finally:
        path.unlink(missing_ok=True)
    return Accepted(recording_uuid=recording.uuid, conversation_uuid=recording.conversation_uuid)

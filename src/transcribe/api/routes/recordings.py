from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.api.schemas import RecordingPage, RecordingView

router = APIRouter(prefix="/v1/recordings", tags=["recordings"])


@router.get("", response_model=RecordingPage)
def list_recordings(
    app_id: CurrentApp,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    conversation_uuid: Annotated[str | None, Query(max_length=36)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
) -> dict[str, object]:
    """This application's recordings, newest first, a page at a time."""
    items, next_cursor = service.list_recordings(
        app_id, limit=limit, cursor=cursor, conversation_uuid=conversation_uuid, status=status
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{recording_uuid}", response_model=RecordingView)
def get_recording(
    recording_uuid: str, app_id: CurrentApp, service: ServiceDep
) -> dict[str, object]:
    return service.recording_view(app_id, recording_uuid)


@router.delete("/{recording_uuid}", status_code=204)
def delete_recording(recording_uuid: str, app_id: CurrentApp, service: ServiceDep) -> Response:
    """Erase the recording, its transcript and their files now."""
    service.delete_recording(app_id, recording_uuid)
    return Response(status_code=204)

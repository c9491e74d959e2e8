from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.limits import MAX_PAGE_SIZE
from transcribe.store.states import RecordingStatus
from transcribe.views import RecordingPage, RecordingView

router = APIRouter(prefix="/v1/recordings", tags=["recordings"])


@router.get("")
def list_recordings(
    app_id: CurrentApp,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    conversation_uuid: Annotated[str | None, Query(max_length=36)] = None,
    status: RecordingStatus | None = None,
) -> RecordingPage:
    """This application's recordings, newest first, a page at a time."""
    return service.recordings.page(
        app_id, limit=limit, cursor=cursor, conversation_uuid=conversation_uuid, status=status
    )


@router.get("/{recording_uuid}")
def get_recording(recording_uuid: str, app_id: CurrentApp, service: ServiceDep) -> RecordingView:
    return service.recordings.view(app_id, recording_uuid)


@router.delete("/{recording_uuid}", status_code=204)
def delete_recording(recording_uuid: str, app_id: CurrentApp, service: ServiceDep) -> Response:
    """Erase the recording, its transcript and their files now."""
    service.recordings.delete(app_id, recording_uuid)
    return Response(status_code=204)

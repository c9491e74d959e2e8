from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.api.schemas import DeliveryView

router = APIRouter(prefix="/v1/webhooks/deliveries", tags=["webhooks"])


@router.get("", response_model=list[DeliveryView])
def list_deliveries(
    app_id: CurrentApp,
    service: ServiceDep,
    recording_uuid: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[dict[str, object]]:
    """Events sent to this application, newest first, with every attempt."""
    return service.list_deliveries(app_id, recording_uuid, limit)


@router.post("/{delivery_id}/redeliver", status_code=202, response_model=DeliveryView)
def redeliver(delivery_id: str, app_id: CurrentApp, service: ServiceDep) -> dict[str, object]:
    """Send this event again (with a fresh 24 hours of retries)."""
    return service.redeliver(app_id, delivery_id)

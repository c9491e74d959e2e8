from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from transcribe.api.deps import CurrentApp, ServiceDep
from transcribe.limits import MAX_PAGE_SIZE
from transcribe.views import DeliveryView

router = APIRouter(prefix="/v1/webhooks/deliveries", tags=["webhooks"])


@router.get("")
def list_deliveries(
    app_id: CurrentApp,
    service: ServiceDep,
    recording_uuid: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> list[DeliveryView]:
    """Events sent to this application, newest first, with every attempt."""
    return service.outbox.page(app_id, recording_uuid, limit)


@router.post("/{delivery_id}/redeliver", status_code=202)
def redeliver(delivery_id: str, app_id: CurrentApp, service: ServiceDep) -> DeliveryView:
    """Send this event again (with a fresh 24 hours of retries)."""
    return service.outbox.redeliver(app_id, delivery_id)

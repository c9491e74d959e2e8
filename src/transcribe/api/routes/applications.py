from __future__ import annotations

from fastapi import APIRouter

from transcribe.api.deps import AdminDep, ServiceDep
from transcribe.api.schemas import ApplicationIn, ApplicationOut

router = APIRouter(prefix="/v1/applications", tags=["applications"])


@router.post("", status_code=201, response_model=ApplicationOut)
def create_application(body: ApplicationIn, service: ServiceDep, _: AdminDep) -> dict[str, object]:
    """Register an application (admin token). Keep `signature_secret`: it verifies webhooks."""
    return service.create_application(
        body.name,
        body.public_key,
        str(body.event_url) if body.event_url else None,
        body.event_method,
    )

from __future__ import annotations

from fastapi import APIRouter

from transcribe.api.deps import AdminDep, ServiceDep
from transcribe.api.schemas import ApplicationIn
from transcribe.views import ApplicationView

router = APIRouter(prefix="/v1/applications", tags=["applications"])


@router.post("", status_code=201)
def create_application(body: ApplicationIn, service: ServiceDep, _: AdminDep) -> ApplicationView:
    """Register an application (admin token). Keep `signature_secret`: it verifies webhooks."""
    return service.applications.create(
        body.name,
        body.public_key,
        str(body.event_url) if body.event_url else None,
        body.event_method,
    )

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from transcribe.api.deps import ServiceDep
from transcribe.api.errors import problem
from transcribe.views import Ready

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(service: ServiceDep) -> Response | Ready:
    """Ready when the database answers and (where this process transcribes) the model is loaded."""
    try:
        with service.db.session() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        return problem(503, f"the database does not answer: {type(exc).__name__}")
    if service.settings.embedded_worker and not service.engines.ready:
        detail = service.engines.error or "the model is still loading"
        return problem(503, detail)
    return Ready(status="ready", model=service.settings.asr.model)


@router.get("/metrics")
def metrics(service: ServiceDep) -> Response:
    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""`create_app(settings)`: the FastAPI application with its service, workers and model.

The lifespan builds the `Service` (migrating the database), starts the in-process queue
consumers when `embedded_worker` is on (the default for `transcribe serve`), and loads and
warms the model in a background thread so the port opens at once; /readyz turns 200 when the
model is ready.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from transcribe import __version__
from transcribe.api import errors
from transcribe.api.routes import applications, files, health, recordings, uploads, webhooks
from transcribe.config import Settings
from transcribe.logs import request_id
from transcribe.service import Service

log = logging.getLogger(__name__)
access = logging.getLogger("transcribe.access")


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service(settings)
        app.state.service = service
        if settings.embedded_worker:
            threading.Thread(target=_warm, args=(service,), name="warm-up", daemon=True).start()
            service.start_workers()
        try:
            yield
        finally:
            service.close()

    app = FastAPI(
        title="transcribe",
        version=__version__,
        description="Self-hosted call recording and per-channel transcription.",
        lifespan=lifespan,
    )
    errors.install(app)
    for module in (applications, recordings, uploads, files, webhooks, health):
        app.include_router(module.router)

    @app.middleware("http")
    async def with_request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        rid = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
            access.info(
                "%s %s %d %.1f ms",
                request.method,
                request.url.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        finally:
            request_id.reset(token)
        response.headers["X-Request-ID"] = rid
        return response

    return app


def _warm(service: Service) -> None:
    try:
        service.warm_up()
    except Exception:
        log.exception("the model could not be loaded; /readyz says why")

"""`create_app(settings)`: the FastAPI application with its service, workers and model.

The lifespan builds the `Service` (migrating the database), starts the in-process queue
consumers when `embedded_worker` is on (the default for `transcribe serve`), and loads and
warms the models in a background thread so the port opens at once; /readyz turns 200 when
they are ready. `clock` is for tests that move time on.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from transcribe import __version__, console
from transcribe.api import errors
from transcribe.api.routes import (
    applications,
    conversations,
    docs,
    files,
    health,
    problems,
    recordings,
    search,
    uploads,
    webhooks,
)
from transcribe.clock import Clock
from transcribe.config import Settings
from transcribe.engines import settle_heap
from transcribe.jobs import run_in_background
from transcribe.live import LiveCalls
from transcribe.logs import request_id
from transcribe.service import Service

log = logging.getLogger(__name__)
access = logging.getLogger("transcribe.access")


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service(settings, clock)
        app.state.service = service
        app.state.calls = LiveCalls(
            service.conversations,
            service.intake,
            settings.live.max_legs_per_application,
            settings.jobs.heartbeat_s,
        )
        if settings.embedded_worker:
            threading.Thread(target=_warm, args=(service,), name="warm-up", daemon=True).start()
            service.start_workers()
        else:
            settle_heap()  # no models here; warm_up does it where they load
        try:
            yield
        finally:
            service.close()

    app = Api(
        title="transcribe",
        version=__version__,
        description="Self-hosted call recording and per-channel transcription.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's loads Swagger UI from a CDN: ours is served locally
        redoc_url=None,
    )
    errors.install(app)
    for module in (
        applications,
        conversations,
        recordings,
        search,
        uploads,
        files,
        webhooks,
        health,
    ):
        app.include_router(module.router)
    app.include_router(console.router)
    app.include_router(docs.router)
    app.include_router(problems.router)
    docs.mount_assets(app)
    return app


class Api(FastAPI):
    """FastAPI behind a thin front for HTTP requests: every request gets its id and access
    line (`RequestIdMiddleware`, outermost, so even a 500 carries the id), and a repeated
    file fetch is answered from memory before routing (`files.FastFileReads`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._front = RequestIdMiddleware(files.FastFileReads(super().__call__, self.state))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


class RequestIdMiddleware:
    """Gives each request an id (the caller's X-Request-ID, or a new one) for its log lines
    and its response, and logs one access line. Plain ASGI: no per-request task overhead."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access.info(
                "%s %s %d %.1f ms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )
            request_id.reset(token)


def _warm(service: Service) -> None:
    run_in_background()  # the model's compute threads, started here, inherit it
    try:
        service.engines.warm_up()
    except Exception:
        log.exception("the model could not be loaded; /readyz says why")

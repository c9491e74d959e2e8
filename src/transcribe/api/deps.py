"""Dependencies the routes declare: the service and the calling application."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from transcribe.errors import AuthError
from transcribe.service import Service


async def get_service(request: Request) -> Service:
    """Async, so resolving it costs no thread hop on every request."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("an Authorization: Bearer <JWT> header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <JWT>'")
    return token.strip()


async def current_application(
    service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The application_id of a valid RS256 token of a registered application."""
    token = bearer(authorization)
    cached = service.tokens.cached(token)
    if cached is not None:
        return cached
    application_id: str = await run_in_threadpool(service.tokens.verify, token)
    return application_id


CurrentApp = Annotated[str, Depends(current_application)]


def require_admin(
    service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    expected = service.settings.admin_token
    if not expected:
        raise AuthError(
            "application management over HTTP is off: set TRANSCRIBE__ADMIN_TOKEN, "
            "or use `transcribe app create`"
        )
    if not hmac.compare_digest(bearer(authorization).encode(), expected.encode()):
        raise AuthError("the admin token is wrong")


AdminDep = Annotated[None, Depends(require_admin)]

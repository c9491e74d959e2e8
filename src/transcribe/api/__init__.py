"""The HTTP API (FastAPI): thin routes over the parts that `transcribe.service.Service` wires.

`create_app` is imported on first use, so `transcribe.api.schemas` (the request bodies)
loads without the service, the model or spaCy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transcribe.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from transcribe.api.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

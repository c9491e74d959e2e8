"""The HTTP API (FastAPI): thin routes over `transcribe.service.Service`."""

from transcribe.api.app import create_app

__all__ = ["create_app"]

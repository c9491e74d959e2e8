"""Request and response bodies of the API, as they appear in /openapi.json."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=1, max_length=10_000, description="PEM, RSA >= 2048 bits")
    event_url: HttpUrl | None = None
    event_method: Literal["POST", "GET"] = "POST"


class ApplicationOut(BaseModel):
    id: str
    name: str
    signature_secret: str = Field(description="HS256 secret that signs this app's webhooks")
    event_url: str | None
    event_method: str
    created_at: str


class TranscriptionView(BaseModel):
    status: str
    language: str | None
    transcription_url: str | None
    error: str | None


class RecordingView(BaseModel):
    recording_uuid: str
    conversation_uuid: str
    status: str
    error: str | None
    format: str | None
    channels: int | None
    duration: float | None
    size: int | None
    end_reason: str | None
    start_time: str | None
    end_time: str | None
    recording_url: str | None
    transcription: TranscriptionView | None
    created_at: str
    expires_at: str


class RecordingPage(BaseModel):
    items: list[RecordingView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class Accepted(BaseModel):
    recording_uuid: str
    conversation_uuid: str


class AttemptView(BaseModel):
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryView(BaseModel):
    id: str
    event: str
    recording_uuid: str | None
    url: str
    method: str
    status: str
    payload: dict[str, object]
    attempts: list[AttemptView]
    next_attempt_at: str | None
    created_at: str


class Problem(BaseModel):
    type: str
    title: str
    detail: str
    invalid_parameters: list[dict[str, str]] | None = None

"""What the API answers, as typed models: the routes return these, the OpenAPI schema is
made from them, and the Python client reads them back."""

from __future__ import annotations

from pydantic import BaseModel, Field

from transcribe.store.states import DeliveryStatus, RecordingStatus, TranscriptionStatus


class ApplicationView(BaseModel):
    id: str
    name: str
    signature_secret: str = Field(description="HS256 secret that signs this app's webhooks")
    event_url: str | None
    event_method: str
    created_at: str


class TranscriptionView(BaseModel):
    status: TranscriptionStatus
    language: str | None
    transcription_url: str | None
    error: str | None


class RecordingView(BaseModel):
    recording_uuid: str
    conversation_uuid: str
    status: RecordingStatus
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


class SearchHit(BaseModel):
    recording_uuid: str
    channel: int = Field(description="0-based, as in the transcription document's `channels`")
    timestamp: int = Field(description="The sentence's start, in ms from the recording's start")
    sentence: str = Field(description="The sentence as written in the transcript")
    snippet: str = Field(
        description="The sentence, HTML-escaped, each match in <mark>...</mark>; a long one "
        "is cut to the words around the first match, with an ellipsis"
    )


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class Accepted(BaseModel):
    recording_uuid: str
    conversation_uuid: str


class IgnoredAction(BaseModel):
    index: int = Field(description="The action's place in the NCCO, from 0")
    action: str
    reason: str = Field(description="Why it is not carried out here")


class IgnoredField(BaseModel):
    name: str = Field(description="As in the NCCO: ncco[0].musicOnHoldUrl")
    reason: str


class ConversationView(BaseModel):
    conversation_uuid: str = Field(
        description="The conversation the legs join: an existing one where the NCCO's "
        "conversation action named a live conversation"
    )
    legs_url: str = Field(description="Each call leg running this NCCO opens a WebSocket here")
    ignored_actions: list[IgnoredAction] = Field(
        default_factory=list,
        description="Actions accepted but not carried out: they need a phone network",
    )
    ignored_fields: list[IgnoredField] = Field(
        default_factory=list, description="Options of carried-out actions that have no effect here"
    )


class FileLinkView(BaseModel):
    url: str = Field(
        description="GET reads this one file, Range included, with no Authorization header"
    )
    expires_at: str


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
    status: DeliveryStatus
    payload: dict[str, object]
    attempts: list[AttemptView]
    next_attempt_at: str | None
    created_at: str


class Ready(BaseModel):
    status: str
    model: str

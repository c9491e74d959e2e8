"""The states a stored row moves through. The database stores the string; code compares
members. The README ("States") says what each one means to a user."""

from __future__ import annotations

from enum import StrEnum


class RecordingStatus(StrEnum):
    RECORDING = "recording"  # a live call is being recorded
    QUEUED = "queued"  # audio is on disk, waiting for the render job
    RENDERING = "rendering"  # the render job is writing the file
    READY = "ready"  # the file is stored; recording_url serves it
    FAILED = "failed"  # no file could be made; `error` says why


class TranscriptionStatus(StrEnum):
    NONE = "none"  # no transcription was asked for
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker is transcribing it
    DONE = "done"  # transcription_url serves the document
    FAILED = "failed"  # `error` says why


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not delivered yet; the next attempt is scheduled
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # a final answer (4xx) or 24 hours of retries without success
    BLOCKED = "blocked"  # not contacted: the URL resolves into a blocked network; final


class ConversationStatus(StrEnum):
    OPEN = "open"  # legs may join
    ENDED = "ended"  # the last leg left


class FileKind(StrEnum):
    RECORDING = "recording"
    TRANSCRIPTION = "transcription"


class JobTask(StrEnum):
    """The queue's tasks; each takes one id."""

    RENDER = "render"  # a recording's uuid
    TRANSCRIBE = "transcribe"  # a recording's uuid
    DELIVER = "deliver"  # a delivery's id

"""The tables. Every row that belongs to a customer carries its `application_id`.

Times are timezone-aware UTC. JSON columns hold what the customer sent (the record action,
the transcription options, webhook payloads) exactly as validated.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Application(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(Text)
    signature_secret: Mapped[str] = mapped_column(String(128))
    event_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    event_method: Mapped[str] = mapped_column(String(8), default="POST")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """A call created by POST /v1/conversations; its legs join over WebSockets. `ncco` is
    the NCCO that created it; NCCOs that joined it by `name` are `JoinedNcco`s."""

    __tablename__ = "conversations"
    __table_args__ = (
        # One live conversation of a name per application: a second POST naming it joins it.
        Index(
            "uq_conversations_open_name",
            "application_id",
            "name",
            unique=True,
            sqlite_where=text("status = 'open' AND name IS NOT NULL"),
            postgresql_where=text("status = 'open' AND name IS NOT NULL"),
        ),
    )

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    ncco: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="open")  # ConversationStatus
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class JoinedNcco(Base):
    """The NCCO of a POST /v1/conversations that named a live conversation: its legs join
    that conversation through their own legs_url, with this NCCO's per-leg options."""

    __tablename__ = "joined_nccos"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_uuid: Mapped[str] = mapped_column(ForeignKey("conversations.uuid"), index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    ncco: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Recording(Base):
    """A recording from live legs or uploaded legs, or an uploaded recording file."""

    __tablename__ = "recordings"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    conversation_uuid: Mapped[str] = mapped_column(String(36), index=True)
    # RecordingStatus. Live: recording -> (queued -> rendering ->) ready | failed;
    # uploaded legs: queued -> rendering -> ready | failed; uploaded file: ready.
    status: Mapped[str] = mapped_column(String(16), default="recording")
    render_attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    record_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    file_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    format: Mapped[str | None] = mapped_column(String(8), nullable=True)
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration: Mapped[float | None] = mapped_column(nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    start_time: Mapped[datetime | None] = mapped_column(nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(nullable=True)
    # TranscriptionStatus: none | queued -> running -> done | failed
    transcription_status: Mapped[str] = mapped_column(String(16), default="none")
    transcription_options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    transcription_file_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    transcription_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    transcription_attempts: Mapped[int] = mapped_column(Integer, default=0)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class StoredFile(Base):
    """A file served at /v1/files/{uuid}: a recording's audio or its transcription JSON."""

    __tablename__ = "files"

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    recording_uuid: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # FileKind
    name: Mapped[str] = mapped_column(String(64))  # file name inside the files dir
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Delivery(Base):
    """One webhook event to one URL; written before the first attempt so none is lost."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    recording_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    event: Mapped[str] = mapped_column(String(32))  # record | transcribed | notify
    url: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_ms: Mapped[int] = mapped_column(Integer)


class SearchSentence(Base):
    """One sentence of a stored transcript, as `GET /v1/search` finds it (`transcribe.search`).

    `terms` is the sentence's words as the search compares them (lower case, accents
    dropped, one space apart); the full-text index is built over it: an FTS5 table
    `search_fts` on SQLite, a generated `tsv` column with a GIN index on PostgreSQL (both
    made by the migration, outside this model). Rows are written with the transcript and
    deleted with it; `expires_at` is the recording's, so an expired one is never found
    even before the retention sweep deletes it."""

    __tablename__ = "search_sentences"
    __table_args__ = (Index("ix_search_sentences_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    recording_uuid: Mapped[str] = mapped_column(ForeignKey("recordings.uuid"), index=True)
    channel: Mapped[int] = mapped_column(Integer)
    timestamp: Mapped[int] = mapped_column(Integer)  # ms from the recording's start
    sentence: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    question: Mapped[bool] = mapped_column(Boolean)  # the sentence has a question span
    answer: Mapped[bool] = mapped_column(Boolean)
    action_item: Mapped[bool] = mapped_column(Boolean)
    call_start: Mapped[datetime] = mapped_column()  # the recording's start_time (since/until)
    expires_at: Mapped[datetime] = mapped_column()

"""Reading and deleting an application's recordings: GET and DELETE /v1/recordings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import or_, select

from transcribe.clock import Clock, iso
from transcribe.errors import InvalidRequestError
from transcribe.recordings.files import RecordingFiles
from transcribe.store.access import owned
from transcribe.store.db import Database
from transcribe.store.files import parse_uuid
from transcribe.store.models import Recording
from transcribe.store.states import RecordingStatus, TranscriptionStatus
from transcribe.urls import Urls
from transcribe.views import RecordingPage, RecordingView, TranscriptionView


@dataclass
class RecordingQueries:
    db: Database
    files: RecordingFiles
    urls: Urls
    clock: Clock

    def view(self, application_id: str, recording_uuid: str) -> RecordingView:
        with self.db.session() as session:
            recording = owned(session, Recording, recording_uuid, application_id, self.clock.now())
            return self._view(recording)

    def page(
        self,
        application_id: str,
        *,
        limit: int,
        cursor: str | None,
        conversation_uuid: str | None,
        status: RecordingStatus | None,
    ) -> RecordingPage:
        """Newest first; the cursor is the last item's (created_at, uuid), opaque to callers."""
        query = select(Recording).where(
            Recording.application_id == application_id, Recording.expires_at > self.clock.now()
        )
        if conversation_uuid:
            query = query.where(Recording.conversation_uuid == conversation_uuid)
        if status:
            query = query.where(Recording.status == status)
        if cursor:
            created, after = _decode_cursor(cursor)
            query = query.where(
                or_(
                    Recording.created_at < created,
                    (Recording.created_at == created) & (Recording.uuid < after),
                )
            )
        query = query.order_by(Recording.created_at.desc(), Recording.uuid.desc()).limit(limit + 1)
        with self.db.session() as session:
            rows = session.scalars(query).all()
            items = [self._view(r) for r in rows[:limit]]
            last = rows[limit - 1] if len(rows) > limit else None
        next_cursor = _encode_cursor(last.created_at, last.uuid) if last else None
        return RecordingPage(items=items, next_cursor=next_cursor)

    def delete(self, application_id: str, recording_uuid: str) -> None:
        """Erase the recording, its transcript and their files now."""
        with self.db.session() as session:
            recording = owned(session, Recording, recording_uuid, application_id, self.clock.now())
            uuid = recording.uuid
        self.files.erase(uuid)

    def _view(self, r: Recording) -> RecordingView:
        options = r.transcription_options
        transcription = None
        if options is not None:
            transcription = TranscriptionView(
                status=TranscriptionStatus(r.transcription_status),
                language=options.get("language"),
                transcription_url=self.urls.file(r.transcription_file_uuid)
                if r.transcription_file_uuid
                else None,
                error=r.transcription_error,
            )
        return RecordingView(
            recording_uuid=r.uuid,
            conversation_uuid=r.conversation_uuid,
            status=RecordingStatus(r.status),
            error=r.error,
            format=r.format,
            channels=r.channels,
            duration=r.duration,
            size=r.size,
            end_reason=r.end_reason,
            start_time=iso(r.start_time) if r.start_time else None,
            end_time=iso(r.end_time) if r.end_time else None,
            recording_url=self.urls.file(r.file_uuid) if r.file_uuid else None,
            transcription=transcription,
            created_at=iso(r.created_at),
            expires_at=iso(r.expires_at),
        )


def _encode_cursor(created_at: datetime, uuid: str) -> str:
    return f"{created_at.timestamp():.6f}_{uuid}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, uuid) that `_encode_cursor` wrote. Anything else is the caller's
    mistake: a stamp that is no time (`nan`, `inf`, `1e308`) or a uuid that is none."""
    stamp, _, after = cursor.partition("_")
    created: datetime | None
    try:
        created = datetime.fromtimestamp(float(stamp), UTC)
    except (ValueError, OverflowError, OSError):
        created = None
    uuid = parse_uuid(after)
    if created is None or uuid is None:
        raise InvalidRequestError("cursor is not one this API returned", field="cursor")
    return created, uuid

"""The periodic sweep: the database, not the queue, is the source of truth. Every pass
queues again what the queue may have lost (due webhook attempts, jobs whose worker stopped
beating), renders live calls whose process stopped beating mid-call (what reached disk, as
ended by a restart) and deletes what is past its retention. A process sweeps once as it
starts, then every interval."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select

from transcribe.clock import Clock
from transcribe.config import JobSettings
from transcribe.limits import MAX_JOB_ATTEMPTS
from transcribe.recordings.files import RecordingFiles
from transcribe.recordings.intake import Intake
from transcribe.recordings.lifecycle import Enqueue, Lifecycle
from transcribe.store.db import Database
from transcribe.store.models import Recording
from transcribe.store.states import JobTask, RecordingStatus, TranscriptionStatus
from transcribe.webhooks.delivery import claim_due

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Stale:
    task: JobTask
    recording_uuid: str
    attempts: int


@dataclass
class Sweeper:
    db: Database
    files: RecordingFiles
    lifecycle: Lifecycle
    enqueue: Enqueue
    clock: Clock
    settings: JobSettings
    intake: Intake

    def __call__(self) -> None:
        for delivery_id in claim_due(self.db, self.clock.now()):
            self.enqueue(JobTask.DELIVER, delivery_id)
        for recording_uuid in self._lost_live_calls():
            self.intake.live_lost(recording_uuid)
        for stale in self._stale_jobs():
            if stale.attempts < MAX_JOB_ATTEMPTS:
                self.enqueue(stale.task, stale.recording_uuid)
                continue
            reason = f"the worker stopped {stale.attempts} times while working on this recording"
            if stale.task == JobTask.RENDER:
                self.lifecycle.render_failed(stale.recording_uuid, reason)
            else:
                self.lifecycle.transcription_finished(stale.recording_uuid, None, reason)
        self.purge_expired()

    def _lost_live_calls(self) -> list[str]:
        """Recordings still `recording` whose process stopped beating (`LiveCalls`): it was
        killed or crashed during the call, or its API node is gone."""
        stale = self.clock.now() - timedelta(seconds=self.settings.stale_after_s)
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Recording.uuid).where(
                        Recording.status == RecordingStatus.RECORDING,
                        func.coalesce(Recording.heartbeat_at, Recording.created_at) < stale,
                    )
                )
            )

    def _stale_jobs(self) -> list[_Stale]:
        """Jobs whose worker stopped beating (killed, crashed), marked queued again unless
        they have killed their worker MAX_JOB_ATTEMPTS times already."""
        now = self.clock.now()
        stale = now - timedelta(seconds=self.settings.stale_after_s)
        lost = now - timedelta(seconds=10 * self.settings.stale_after_s)
        found: list[_Stale] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(Recording).where(
                    or_(
                        (Recording.status == RecordingStatus.RENDERING)
                        & (Recording.heartbeat_at < stale),
                        (Recording.status == RecordingStatus.QUEUED)
                        & (Recording.heartbeat_at < lost),
                        (Recording.transcription_status == TranscriptionStatus.RUNNING)
                        & (Recording.heartbeat_at < stale),
                        (Recording.transcription_status == TranscriptionStatus.QUEUED)
                        & (Recording.heartbeat_at < lost),
                    )
                )
            ).all()
            for recording in rows:
                recording.heartbeat_at = now
                render = recording.status in (RecordingStatus.QUEUED, RecordingStatus.RENDERING)
                task = JobTask.RENDER if render else JobTask.TRANSCRIBE
                attempts = recording.render_attempts if render else recording.transcription_attempts
                found.append(_Stale(task, recording.uuid, attempts))
                if attempts >= MAX_JOB_ATTEMPTS:
                    continue
                log.warning("%s of %s went quiet; queued again", task, recording.uuid)
                if render:
                    recording.status = RecordingStatus.QUEUED
                else:
                    recording.transcription_status = TranscriptionStatus.QUEUED
        return found

    def purge_expired(self) -> int:
        """Delete recordings, transcripts and their files past their expiry."""
        with self.db.session() as session:
            expired = session.scalars(
                select(Recording.uuid).where(Recording.expires_at <= self.clock.now())
            )
            uuids = list(expired)
        for recording_uuid in uuids:
            self.files.erase(recording_uuid)
        if uuids:
            log.info("retention: deleted %d expired recordings", len(uuids))
        return len(uuids)

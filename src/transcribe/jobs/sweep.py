"""The periodic sweep: the database, not the queue, is the source of truth. Every pass
queues again what the queue may have lost (due webhook attempts, jobs whose worker stopped
beating), renders live calls whose process stopped beating mid-call (what reached disk, as
ended by a restart), deletes what is past its retention, and now and then the files no row
refers to. A process sweeps once as it starts, then every interval."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from transcribe.clock import Clock
from transcribe.config import JobSettings
from transcribe.limits import MAX_JOB_ATTEMPTS, ORPHAN_SWEEP_INTERVAL_S
from transcribe.recordings.files import RecordingFiles
from transcribe.recordings.intake import Intake
from transcribe.recordings.lifecycle import Enqueue, Lifecycle
from transcribe.store.db import Database
from transcribe.store.files import parse_uuid
from transcribe.store.models import Recording, StoredFile
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
    _files_swept_at: datetime | None = field(default=None, init=False)

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
        now = self.clock.now()
        last = self._files_swept_at
        if last is None or now - last >= timedelta(seconds=ORPHAN_SWEEP_INTERVAL_S):
            self._files_swept_at = now
            self.sweep_files()

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

    def sweep_files(self) -> int:
        """Delete what a process that died left behind, once nothing has written to it for
        `orphan_after_s`: work files under files/tmp (an upload, a render, a document), stored
        files without their row (a crash between the rename and the commit) and legs folders
        without their recording. Age is the last write, so work in progress is never touched;
        rows are looked up after the listing, so a file adopted meanwhile is kept."""
        cutoff = self.clock.now().timestamp() - self.settings.orphan_after_s
        root = self.files.store.root
        work = [p for p in _children(root / "tmp") if p.is_file() and _idle(p, cutoff)]
        stored = [p for p in _children(root) if p.is_file() and parse_uuid(p.stem)]
        stored = [p for p in stored if _idle(p, cutoff)]
        legs = [p for p in _children(root / "legs") if p.is_dir() and _idle(p, cutoff)]
        with self.db.session() as session:
            kept = _existing(session, StoredFile.name, [p.name for p in stored])
            kept |= _existing(session, Recording.uuid, [p.name for p in legs])
        orphans = work + [p for p in stored + legs if p.name not in kept]
        for path in orphans:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if orphans:
            log.warning("deleted %d orphaned files: %s", len(orphans), [p.name for p in orphans])
        return len(orphans)


def _children(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


def _idle(path: Path, cutoff: float) -> bool:
    """Last written before `cutoff` (and still there: another node may sweep too)."""
    try:
        return path.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _existing(
    session: Session, column: InstrumentedAttribute[str], values: Iterable[str]
) -> set[str]:
    """Those of `values` that `column` holds, asked in chunks (a bound on query parameters)."""
    values = list(values)
    found: set[str] = set()
    for first in range(0, len(values), 500):
        chunk = values[first : first + 500]
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found

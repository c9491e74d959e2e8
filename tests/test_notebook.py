"""notebooks/call_analysis.ipynb runs top to bottom, headless, on two real calls.

Once against the service on loopback (the environment variables point it there), once on
the same documents saved to a folder. Every code cell must run without an error and every
figure must be written as a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from transcribe.client import Client

from calls import clips_call, dialogue_call
from live import KeyPair, LiveApi
from speech import REPO, Clip

NOTEBOOK = REPO / "notebooks" / "call_analysis.ipynb"
FIGURES = {"talk_time", "timeline", "confidence", "batch_talk_share", "batch_confidence"}
RECORD = {"split": "conversation", "format": "wav", "transcription": {"language": "en"}}
PNG = b"\x89PNG\r\n\x1a\n"


def run_notebook(environment: dict[str, str], workdir: Path) -> Any:
    """Execute the notebook with `environment` set; the executed notebook is returned."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env={**os.environ, **environment})
    return notebook


def check_ran(notebook: Any, figures: Path) -> str:
    """Every code cell ran without an error; the PNGs exist; returns all printed text."""
    text = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, cell.source[:80]
        for output in cell.outputs:
            assert output.output_type != "error", "\n".join(output.get("traceback", []))
            text.append(output.get("text", "") + output.get("data", {}).get("text/plain", ""))
    for name in FIGURES:
        png = figures / f"{name}.png"
        assert png.is_file(), f"{png} was not written"
        assert png.read_bytes()[:8] == PNG and png.stat().st_size > 5_000
    return "\n".join(text)


@pytest.fixture(scope="module")
def service(
    api: LiveApi,
    keys: KeyPair,
    clips: dict[str, Clip],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """The service with two transcribed calls; returns the notebook's environment for it."""
    app = api.register(keys)
    key = tmp_path_factory.mktemp("notebook-key") / "private.pem"
    key.write_text(keys.private_pem)
    with Client(api.url, app["id"], key) as client:
        for call in (clips_call(clips), dialogue_call()):
            accepted = client.upload_legs(call.leg_files(), RECORD, call.offsets_ms)
            client.wait(accepted.recording_uuid, timeout=300)
    return {
        "TRANSCRIBE_URL": api.url,
        "TRANSCRIBE_APPLICATION_ID": app["id"],
        "TRANSCRIBE_PRIVATE_KEY": str(key),
    }


def test_notebook_runs_against_the_service(service: dict[str, str], tmp_path: Path) -> None:
    figures = tmp_path / "figures"
    notebook = run_notebook({**service, "TRANSCRIBE_FIGURES": str(figures)}, tmp_path)
    printed = check_ran(notebook, figures)
    assert "2 calls loaded" in printed
    assert "invoice" in printed  # the dialogue's question, answer and action item are shown


def test_notebook_runs_on_a_folder_of_documents(service: dict[str, str], tmp_path: Path) -> None:
    documents = tmp_path / "documents"
    documents.mkdir()
    with Client(
        service["TRANSCRIBE_URL"],
        service["TRANSCRIBE_APPLICATION_ID"],
        Path(service["TRANSCRIBE_PRIVATE_KEY"]),
    ) as client:
        for view in client.recordings():
            client.transcript(view).save(documents / f"{view.recording_uuid}.json")
    figures = tmp_path / "figures"
    environment = {"TRANSCRIBE_DOCUMENTS": str(documents), "TRANSCRIBE_FIGURES": str(figures)}
    notebook = run_notebook(environment, tmp_path)
    printed = check_ran(notebook, figures)
    assert "2 calls loaded" in printed

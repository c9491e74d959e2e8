"""The `transcribe file` command as a user runs it: real files, the real model, what lands on
stdout and stderr and the exit status. It runs in this process (tests/commands.py) but for
the terminal test, which needs a process of its own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import srt
import webvtt

from transcribe.document import TranscriptionDocument

from commands import Command
from speech import SPEECH_DIR


@pytest.mark.model
def test_file_prints_the_document(run_cli: Command) -> None:
    result = run_cli("file", str(SPEECH_DIR / "jfk.flac"), "--language", "en-US")
    assert result.returncode == 0, result.stderr
    doc = TranscriptionDocument.model_validate_json(result.stdout)
    assert len(doc.channels) == 2  # jfk.flac is stereo
    for channel in doc.channels:
        assert "ask not what your country can do for you" in " ".join(
            s.raw_sentence for s in channel.transcript
        )
    assert json.loads(result.stdout)["model"] == "tiny.en"
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


@pytest.mark.model
def test_srt_and_vtt_parse_back(tmp_path: Path, run_cli: Command) -> None:
    out_srt = run_cli("file", SPEECH_DIR / "ls_dev-clean_2412-153948-0000.flac", "--output", "srt")
    assert out_srt.returncode == 0, out_srt.stderr
    subtitles = list(srt.parse(out_srt.stdout))
    assert len(subtitles) == 2
    assert subtitles[0].content.startswith("Channel 1: If the reader")
    assert subtitles[0].start < subtitles[0].end <= subtitles[1].start

    out_vtt = run_cli("file", SPEECH_DIR / "goforward.wav", "--output", "vtt")
    assert out_vtt.returncode == 0, out_vtt.stderr
    path = tmp_path / "x.vtt"
    path.write_text(out_vtt.stdout)
    captions = webvtt.read(str(path))
    assert len(captions) == 1 and "forward" in captions[0].text.lower()
    assert captions[0].voice == "Channel 1"


@pytest.mark.model
def test_txt_output(run_cli: Command) -> None:
    result = run_cli("file", SPEECH_DIR / "goforward.wav", "--output", "txt")
    assert result.returncode == 0
    assert result.stdout.startswith("[00:00:00.") and "Channel 1: Go forward" in result.stdout


def test_bad_file_is_one_clear_line(tmp_path: Path, run_cli: Command) -> None:
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"\x00" * 1000)
    result = run_cli("file", bad)
    assert result.returncode == 2
    assert result.stdout == ""
    # libmpg123's notes about the junk it searched are held back: ours is the one line.
    assert result.stderr.startswith("transcribe: error: ") and result.stderr.count("\n") == 1
    assert "broken.mp3: not a WAV" in result.stderr


def test_a_directory_or_a_missing_file_says_which(tmp_path: Path, run_cli: Command) -> None:
    folder = run_cli("file", tmp_path)
    assert folder.returncode == 2
    assert folder.stderr == (
        f"transcribe: error: {tmp_path}: is a directory; give an audio file "
        "(WAV, FLAC, MP3 or OGG) in it\n"
    )
    missing = run_cli("file", tmp_path / "call.wav")
    assert missing.returncode == 2
    assert missing.stderr == f"transcribe: error: {tmp_path / 'call.wav'}: no such file\n"


@pytest.mark.model  # English-only is a property of the model: it loads to say so
def test_other_languages_are_refused_without_a_multilingual_model(run_cli: Command) -> None:
    env = {"TRANSCRIBE__ASR__MULTILINGUAL_MODEL": ""}
    result = run_cli("file", SPEECH_DIR / "goforward.wav", "--language", "fr-FR", env=env)
    assert result.returncode == 2
    assert "English only" in result.stderr and "Traceback" not in result.stderr


def test_unknown_model_says_how_to_fix_it(run_cli: Command) -> None:
    env = {"TRANSCRIBE__ASR__MODEL": "no-such-model"}
    result = run_cli("file", SPEECH_DIR / "goforward.wav", env=env)
    assert result.returncode == 2
    assert "no-such-model" in result.stderr and "ALLOW_DOWNLOAD" in result.stderr


def test_help_explains_the_command(run_cli: Command) -> None:
    result = run_cli("file", "--help")
    assert result.returncode == 0
    for words in ("WAV, FLAC, MP3 or OGG", "--language", "--output", "channel"):
        assert words in result.stdout


@pytest.mark.model
def test_progress_bar_on_a_terminal() -> None:
    """With stderr on a terminal, a bar counts seconds of audio; stdout is still the JSON."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    parent, child = pty.openpty()
    # A terminal of 24 x 100: tqdm sizes the bar to it (a new pty is 0 x 0, showing nothing).
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "transcribe", "file", str(SPEECH_DIR / "jfk.wav")],
            stdout=subprocess.PIPE,
            stderr=child,
            timeout=300,
        )
        os.close(child)
        child = -1
        shown = b""
        while True:
            try:
                chunk = os.read(parent, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if child != -1:
            os.close(child)
        os.close(parent)
    assert result.returncode == 0
    TranscriptionDocument.model_validate_json(result.stdout)
    assert b"jfk.wav" in shown and b"100%" in shown and b"11/11 s of audio" in shown


@pytest.mark.model
def test_file_sentiment_scores_every_sentence(run_cli: Command) -> None:
    path = SPEECH_DIR / "jfk.flac"
    plain = json.loads(run_cli("file", path, "--no-analytics").stdout)
    assert all("sentiment" not in s for c in plain["channels"] for s in c["transcript"])
    result = run_cli("file", path, "--no-analytics", "--sentiment")
    assert result.returncode == 0, result.stderr
    sentences = [s for c in json.loads(result.stdout)["channels"] for s in c["transcript"]]
    assert sentences and all(-1.0 <= s["sentiment"] <= 1.0 for s in sentences)

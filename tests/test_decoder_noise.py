"""libmpg123 (libsndfile's MP3 decoder) prints notes about damaged frames on file descriptor 2;
none of them may reach stderr, and nothing else written there may be lost on the way."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import soundfile as sf

from transcribe import decoder_noise
from transcribe.audio import SAMPLE_RATE, open_audio
from transcribe.decoder_noise import quiet_decoder

from bombs import damaged
from commands import Command
from speech import SPEECH_DIR


@pytest.fixture
def bad_mp3(tmp_path: Path) -> Path:
    """Real speech as an MP3 with noise over a stretch of its frames: libmpg123 notes each
    resync ("Note: Illegal Audio-MPEG-Header ...", "Note: Trying to resync...")."""
    speech, rate = sf.read(SPEECH_DIR / "jfk.wav", dtype="float32")
    clean = tmp_path / "clean.mp3"
    sf.write(clean, speech, rate, format="MP3", subtype="MPEG_LAYER_III")
    return damaged(clean, tmp_path / "bad.mp3", at=0.3, length=400)


def test_decoding_a_damaged_mp3_prints_nothing(
    bad_mp3: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    audio = open_audio(bad_mp3)
    audio.check_intact()
    decoded = audio.read([0])
    assert len(decoded.channels[0]) > 5 * SAMPLE_RATE  # it did decode, around the damage
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def test_record_with_a_damaged_mp3_leg_prints_only_its_summary(
    tmp_path: Path, bad_mp3: Path, run_cli: Command
) -> None:
    done = run_cli("record", "-o", tmp_path / "call.wav", bad_mp3)
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.startswith("{")


def test_junk_named_mp3_is_one_line_of_ours(tmp_path: Path, run_cli: Command) -> None:
    junk = tmp_path / "broken.mp3"
    junk.write_bytes(b"\x00" * 1000)  # libmpg123 searches it for a frame header, aloud
    for command in (["file", junk], ["record", "-o", tmp_path / "out.wav", junk]):
        result = run_cli(*command)
        assert result.returncode == 2
        assert result.stderr.startswith("transcribe: error: ")
        assert result.stderr.count("\n") == 1, result.stderr


def test_other_writes_to_stderr_during_decoding_all_come_through(
    bad_mp3: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """fd 2 is pointed away from stderr only while the decoder runs, and what another thread
    writes there meanwhile is passed on, once: in order, but for a line caught mid-write as fd
    2 is put back, which follows with the decoder's next call (the service makes them all the
    time; the one after the loop stands for them)."""
    capfd.readouterr()
    done = threading.Event()

    def decode() -> None:
        try:
            for _ in range(5):
                open_audio(bad_mp3).read([0])
        finally:
            done.set()

    decoder = threading.Thread(target=decode)
    decoder.start()
    lines = []
    while not done.is_set() or len(lines) < 100:
        line = f"line {len(lines)} from another thread\n"
        os.write(2, line.encode())
        lines.append(line)
    decoder.join()
    open_audio(bad_mp3)
    passed_on = capfd.readouterr().err.splitlines(keepends=True)
    assert sorted(passed_on) == sorted(lines)


def test_fd_2_pointed_elsewhere_during_decoding_stays_there(
    bad_mp3: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Whatever re-points fd 2 while the decoder runs (a test runner's capture) is not undone
    when the decoder's block ends."""
    elsewhere = tmp_path / "elsewhere.log"
    original = os.dup(2)
    try:
        with elsewhere.open("wb") as target, quiet_decoder():
            open_audio(bad_mp3).read([0])
            os.dup2(target.fileno(), 2)
        os.write(2, b"after the block\n")
    finally:
        os.dup2(original, 2)
        os.close(original)
    assert elsewhere.read_bytes() == b"after the block\n"
    assert capfd.readouterr().err == ""


def test_the_scratch_file_is_emptied_once_quiet(
    bad_mp3: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A service decodes for months: what libmpg123 said does not pile up in its scratch
    file (here emptied at any size after no time at all, instead of 1 MiB after a second)."""
    monkeypatch.setattr(decoder_noise, "_EMPTY_AT_BYTES", 1)
    monkeypatch.setattr(decoder_noise, "_EMPTY_AFTER_S", 0.0)
    sizes = []
    for _ in range(4):
        open_audio(bad_mp3).read([0])
        sizes.append(os.fstat(decoder_noise._scratch).st_size)
    assert sizes[0] > 0 and sizes == sizes[:1] * 4  # each decode's notes, not all of them
    os.write(2, b"still passed on\n")
    with quiet_decoder():
        os.write(2, b"and from inside\n")
    assert capfd.readouterr().err == "still passed on\nand from inside\n"

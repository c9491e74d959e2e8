"""`transcribe record`, run in this process: per-leg files in, a recording and a JSON summary
out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, load_audio

from bombs import damaged
from commands import Command
from signals import find_offset
from speech import SPEECH_DIR

CALLER = SPEECH_DIR / "jfk.flac"  # 44.1 kHz 24-bit stereo: resampled and mixed down
AGENT = SPEECH_DIR / "ls_test-clean_1089-134686-0001.wav"


def test_record_renders_legs_at_their_offsets_and_prints_a_summary(
    tmp_path: Path, run_cli: Command
) -> None:
    out = tmp_path / "call.wav"
    done = run_cli("record", "-o", out, "--split", "conversation", CALLER, f"{AGENT}@2500")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["file"] == str(out) and summary["format"] == "wav"
    assert summary["channels"] == 2 and summary["sample_rate"] == 16000
    assert summary["end_reason"] == "hangup" and summary["size"] == out.stat().st_size
    audio, rate = sf.read(str(out), dtype="float32", always_2d=True)
    assert rate == 16000 and audio.shape == (round(summary["duration"] * SAMPLE_RATE), 2)
    offset, match = find_offset(audio[:, 1], load_audio(AGENT).samples[0])
    assert abs(offset - 2.5) <= 0.02 and match > 0.9


def test_record_defaults_to_mp3_and_stops_at_the_timeout(tmp_path: Path, run_cli: Command) -> None:
    out = tmp_path / "call"
    done = run_cli("record", "-o", out, "--timeout", "4", "--beep-start", CALLER, AGENT)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["format"], summary["channels"]) == ("mp3", 1)
    assert (summary["duration"], summary["end_reason"]) == (4.0, "timeout")
    assert sf.info(str(out)).format == "MP3"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channels", "40"], "--channels: must be less than or equal to 32"),
        (["--channels", "two"], "--channels: must be a whole number"),
        (["--end-on-silence", "1"], "--end-on-silence: must be greater than or equal to 3"),
        (["--end-on-key", "x"], "--end-on-key: must be"),
        (["--format", "mp3", "--channels", "3"], "--format: mp3 holds at most 2 channels"),
        (["--format", "flac"], "--format: must be 'mp3', 'wav' or 'ogg'"),
        (["--split", "yes"], "--split: must be 'conversation'"),
    ],
)
def test_bad_options_are_one_line_errors(
    tmp_path: Path, run_cli: Command, args: list[str], message: str
) -> None:
    done = run_cli("record", "-o", tmp_path / "out", *args, CALLER)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_bad_legs_are_one_line_errors(tmp_path: Path, run_cli: Command) -> None:
    missing = run_cli("record", "-o", tmp_path / "a.wav", CALLER, tmp_path / "nope.wav")
    assert missing.returncode == 2 and "nope.wav: no such file" in missing.stderr
    (tmp_path / "noise.wav").write_bytes(b"not audio at all" * 100)
    junk = run_cli("record", "-o", tmp_path / "b.wav", tmp_path / "noise.wav")
    assert junk.returncode == 2 and "Traceback" not in junk.stderr
    clash = run_cli("record", "-o", tmp_path / "c.wav", "--format", "ogg", CALLER)
    assert clash.returncode == 2 and "c.wav says wav" in clash.stderr
    for result in (missing, junk, clash):
        assert result.stderr.count("\n") == 1
    assert not any(tmp_path.glob("[abc].wav"))


def test_a_leg_whose_offset_is_not_a_number_says_so(tmp_path: Path, run_cli: Command) -> None:
    """`agent.wav@abc` is a typo for an offset, not a file name (unless such a file exists)."""
    typo = run_cli("record", "-o", tmp_path / "a.wav", f"{AGENT}@abc")
    assert typo.returncode == 2 and typo.stderr.count("\n") == 1
    assert f"{AGENT}@abc: no such file, and 'abc' after the @ is not an offset" in typo.stderr
    assert f"e.g. {AGENT}@1500" in typo.stderr
    named = tmp_path / "leg@abc"  # a file that really has an @ in its name is a leg
    named.write_bytes(AGENT.read_bytes())
    taken = run_cli("record", "-o", tmp_path / "b.wav", named)
    assert taken.returncode == 0, taken.stderr


def test_an_output_that_is_also_a_leg_is_refused(tmp_path: Path, run_cli: Command) -> None:
    leg = tmp_path / "x.wav"
    leg.write_bytes((SPEECH_DIR / "goforward.wav").read_bytes())
    before = leg.read_bytes()
    for output in (leg, tmp_path / "sub" / ".." / "x.wav"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        done = run_cli("record", "-o", output, leg)
        assert done.returncode == 2
        assert "-o/--output: " in done.stderr and "is also a leg" in done.stderr
        assert leg.read_bytes() == before
    # The same file by another name (a hard link) is the same file.
    (tmp_path / "link.wav").hardlink_to(leg)
    assert run_cli("record", "-o", tmp_path / "link.wav", CALLER, leg).returncode == 2
    assert leg.read_bytes() == before


def test_a_render_that_fails_part_way_leaves_the_output_as_it_was(
    tmp_path: Path, run_cli: Command
) -> None:
    """The recording is written beside the output and renamed onto it once whole: a leg that
    stops decoding half-way fails the command, and a file already at the output is kept."""
    out = tmp_path / "call.wav"
    out.write_bytes(b"yesterday's recording")
    wav = tmp_path / "caller.flac"
    sf.write(wav, load_audio(CALLER).samples.T, SAMPLE_RATE, subtype="PCM_16")
    broken = damaged(wav, tmp_path / "broken.flac")
    done = run_cli("record", "-o", out, broken)
    assert done.returncode == 2 and "corrupt or truncated" in done.stderr
    assert ".part" not in done.stderr  # the error names the files the user gave
    assert out.read_bytes() == b"yesterday's recording"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.flac", "call.wav", "caller.flac"]
    # And a render that succeeds replaces it.
    assert run_cli("record", "-o", out, wav).returncode == 0
    assert sf.info(str(out)).duration == pytest.approx(11.0, abs=0.1)

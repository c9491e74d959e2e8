"""endOnKey: keypad tones in a leg (ITU-T Q.24 limits) and keypad events end the recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soxr

from recordings import record
from transcribe.audio import SAMPLE_RATE
from transcribe.ncco import parse_record
from transcribe.recording import Recorder
from transcribe.recording.dtmf import DtmfDetector

from signals import DTMF, dtmf, place, seconds, speech_onset, tone, white_noise
from speech import Clip


def detect(samples: np.ndarray, chunk: int = 320) -> list[tuple[str, float]]:
    """Digits found, with the time (s) each was recognised, feeding `chunk` samples at a time."""
    detector = DtmfDetector()
    found = []
    for i in range(0, len(samples), chunk):
        found += [(d, at / SAMPLE_RATE) for d, at in detector.feed(samples[i : i + chunk])]
    return found


def key(low: float, high: float, low_dbfs: float, high_dbfs: float, on: float = 0.1) -> np.ndarray:
    return tone(low, on, low_dbfs) + tone(high, on, high_dbfs)


def test_every_digit_is_recognised_once_and_in_order() -> None:
    digits = "0123456789*#ABCD"
    found = detect(place(seconds(4), [(0.5, dtmf(digits, on=0.05, off=0.05))]), chunk=1234)
    assert "".join(d for d, _ in found) == digits
    for k, (_, at) in enumerate(found):  # within 50 ms of each tone's start
        assert 0 < at - (0.5 + 0.1 * k) <= 0.05


@pytest.mark.parametrize("dbfs", [-3.0, -10.0, -20.0, -30.0, -35.0])
def test_tones_across_the_level_range_are_recognised(dbfs: float) -> None:
    assert [d for d, _ in detect(place(seconds(1), [(0.3, dtmf("5", dbfs=dbfs))]))] == ["5"]


def test_tones_too_quiet_to_be_a_keypad_are_ignored() -> None:
    assert detect(place(seconds(1), [(0.3, dtmf("5", dbfs=-45))])) == []


@pytest.mark.parametrize(
    ("twist", "valid"), [(-9, False), (-7.5, True), (0, True), (3.5, True), (5, False)]
)
def test_twist_limits(twist: float, valid: bool) -> None:
    """High tone up to 4 dB louder or 8 dB quieter than the low one (Q.24 national limits)."""
    low, high = DTMF["#"]
    found = detect(place(seconds(1), [(0.3, key(low, high, -12, -12 + twist))]))
    assert found == ([("#", pytest.approx(0.34, abs=0.011))] if valid else [])


@pytest.mark.parametrize("deviation", [-0.015, 0.015])
def test_keypads_up_to_one_and_a_half_percent_off_are_recognised(deviation: float) -> None:
    low, high = DTMF["9"]
    found = detect(
        place(seconds(1), [(0.3, key(low * (1 + deviation), high * (1 + deviation), -12, -12))])
    )
    assert [d for d, _ in found] == ["9"]


def test_tones_of_40ms_are_recognised_wherever_they_fall_and_of_25ms_never() -> None:
    for start in range(0, 320, 23):  # every alignment against the 10 ms hop
        short = place(seconds(0.5), [(0.2 + start / SAMPLE_RATE, dtmf("7", on=0.025, off=0))])
        long = place(seconds(0.5), [(0.2 + start / SAMPLE_RATE, dtmf("7", on=0.040, off=0))])
        assert detect(short) == []
        assert [d for d, _ in detect(long)] == ["7"]


def test_a_single_tone_or_the_wrong_pair_is_not_a_key() -> None:
    for signal in (tone(1000, 0.2, -10), tone(941, 0.2, -10), key(697, 770, -12, -12)):
        assert detect(place(seconds(1), [(0.3, signal)])) == []


def test_tones_under_line_noise_are_recognised() -> None:
    call = place(seconds(1), [(0.3, dtmf("#", dbfs=-25))]) + white_noise(1, -50)
    assert [d for d, _ in detect(call)] == ["#"]


def test_no_speech_clip_presses_a_key(clips: dict[str, Clip]) -> None:
    """Talk-off: all the real speech, as recorded, at telephone bandwidth, louder, and noisy."""
    for clip in clips.values():
        phone = soxr.resample(soxr.resample(clip.samples, SAMPLE_RATE, 8000), 8000, SAMPLE_RATE)
        noisy = clip.samples + white_noise(clip.duration, -50)[: len(clip.samples)]
        for version in (clip.samples, phone, np.clip(clip.samples * 4, -1, 1), noisy):
            assert detect(version.astype(np.float32), chunk=4000) == [], clip.file


def _speech_then_key(clips: dict[str, Clip], tone_at: float) -> np.ndarray:
    speech = clips["ls_test-clean_1089-134686-0001.wav"].samples
    return place(seconds(tone_at + 2), [(0.5, speech), (tone_at, dtmf("#", on=0.08, dbfs=-12))])


def test_end_on_key_stops_the_recording_at_the_tone(tmp_path: Path, clips: dict[str, Clip]) -> None:
    caller = _speech_then_key(clips, tone_at=8.0)
    agent = clips["librivox_sas01_0870.wav"].samples
    result, audio = record(
        tmp_path / "key.wav", [(0.0, caller), (1.0, agent)], endOnKey="#", format="wav"
    )
    assert result.end_reason == "key"
    assert 8.0 <= result.end_time <= 8.2
    assert audio.shape[1] == round(result.duration * SAMPLE_RATE)


def test_end_on_key_in_a_leg_that_joined_late(tmp_path: Path, clips: dict[str, Clip]) -> None:
    speech = clips["goforward.wav"].samples
    agent = place(seconds(6), [(0.2, speech), (4.0, dtmf("1", on=0.06))])
    legs = [(0.0, clips["jfk.wav"].samples), (3.0, agent)]
    result, _ = record(tmp_path / "key.mp3", legs, endOnKey="1", split="conversation")
    assert result.end_reason == "key" and 7.0 <= result.end_time <= 7.2


def test_speech_alone_or_another_key_does_not_end_it(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    speech = [(0.0, clip.samples) for clip in clips.values()][:6]
    result, _ = record(tmp_path / "talk.wav", speech, endOnKey="#", format="wav")
    assert result.end_reason == "hangup"
    other = _speech_then_key(clips, tone_at=8.0)
    result, _ = record(tmp_path / "other.wav", [(0.0, other)], endOnKey="5", format="wav")
    assert result.end_reason == "hangup" and result.duration == pytest.approx(10.0)


def test_keypad_events_end_it_too(tmp_path: Path, clips: dict[str, Clip]) -> None:
    """A `websocket:dtmf` event: the recording ends at its time, even when audio ran ahead."""
    speech = clips["ls_test-clean_1221-135766-0001.wav"].samples
    recorder = Recorder(parse_record({"endOnKey": "*", "format": "wav"}), tmp_path / "event.wav")
    leg = recorder.add_leg("caller", 16000, join_time=0.0)
    leg.write(speech[: seconds(2)])
    leg.dtmf("3", at=1.0)  # not the end key
    leg.dtmf("*", at=3.5)  # ahead of the audio: ends when the audio gets there
    assert not recorder.ended
    leg.write(speech[seconds(2) : seconds(6)])
    assert recorder.ended and recorder.end_reason == "key"
    assert recorder.end_time == pytest.approx(3.5)
    assert speech_onset(speech) < 3.5  # there was speech in what was kept
    result = recorder.finish()
    assert result.duration == pytest.approx(3.5) and result.end_reason == "key"

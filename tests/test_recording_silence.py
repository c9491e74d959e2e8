"""endOnSilence: the recording ends that many seconds after the last speech, noise or not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recordings import record
from transcribe.audio import SAMPLE_RATE

from signals import place, seconds, speech_offset, white_noise
from speech import Clip

# jfk.wav ends in crowd noise as loud as the speech before it: no clean "last word" to time.
CLEAN_ENDINGS = [
    "ls_test-clean_1089-134686-0001.wav",
    "ls_test-clean_1221-135766-0002.wav",
    "ls_dev-clean_2412-153948-0000.flac",
    "librivox_sas01_0890.wav",
    "librivox_sas01_0930.wav",
    "goforward.wav",
    "cards_003.wav",
    "ami_ES2011a_headset0_40-46s.wav",
]


@pytest.mark.parametrize("noise_dbfs", [None, -50.0])
def test_ends_three_seconds_after_the_last_speech(
    tmp_path: Path, clips: dict[str, Clip], noise_dbfs: float | None
) -> None:
    for name in CLEAN_ENDINGS:
        speech = clips[name].samples
        call = place(seconds(1.0 + clips[name].duration + 8.0), [(1.0, speech)])
        if noise_dbfs is not None:
            call += white_noise(len(call) / SAMPLE_RATE, noise_dbfs)
        result, audio = record(tmp_path / "call.wav", [(0.0, call)], endOnSilence=3, format="wav")
        last_word = 1.0 + speech_offset(speech)
        assert result.end_reason == "silence", name
        assert abs(result.end_time - (last_word + 3.0)) <= 0.25, name
        assert audio.shape[1] == round(result.duration * SAMPLE_RATE)


def test_pauses_shorter_than_the_limit_do_not_end_it(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    """Two legs taking turns with 2 s pauses, the second joining late, over line noise."""
    first, second = clips["goforward.wav"].samples, clips["cards_005.wav"].samples
    turns = [(0.5, first), (0.5 + len(first) / SAMPLE_RATE + 2.0, first)]
    caller = place(seconds(20), turns) + white_noise(20, -50, seed=1)
    reply_at = turns[1][0] + len(first) / SAMPLE_RATE + 2.0
    agent = place(seconds(12), [(reply_at - 5.0, second)]) + white_noise(12, -50, seed=2)
    result, _ = record(
        tmp_path / "turns.wav", [(0.0, caller), (5.0, agent)], endOnSilence=4, format="wav"
    )
    last_word = reply_at + speech_offset(second)
    assert result.end_reason == "silence"
    assert abs(result.end_time - (last_word + 4.0)) <= 0.25


def test_a_line_that_never_speaks_does_not_end_on_silence(tmp_path: Path) -> None:
    noise = white_noise(12, -50) + place(seconds(12), [(6.0, np.full(40, 0.3, np.float32))])
    result, _ = record(tmp_path / "hiss.wav", [(0.0, noise)], endOnSilence=3, format="wav")
    assert result.end_reason == "hangup" and result.duration == 12.0

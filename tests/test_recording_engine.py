"""The recording engine on real speech: who ends up in which channel, and exactly when."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soxr

from recordings import FRAME, frames_of, read, record
from transcribe.audio import SAMPLE_RATE
from transcribe.errors import InvalidAudioError, InvalidRequestError
from transcribe.ncco import parse_record
from transcribe.recording import Recorder

from signals import find_offset, place, rms_dbfs, seconds, tone
from speech import Clip

FRAME_S = FRAME / SAMPLE_RATE
A, B, C = "jfk.wav", "ls_test-clean_1089-134686-0001.wav", "librivox_sas01_0870.wav"


def _three_legs(clips: dict[str, Clip]) -> list[tuple[float, np.ndarray]]:
    """The caller from 0.5 s, a second leg from 3.25 s and a third from 6.1 s (over the second)."""
    return [(0.5, clips[A].samples), (3.25, clips[B].samples), (6.1, clips[C].samples)]


def _assert_at(channel: np.ndarray, clip: np.ndarray, offset: float, least: float = 0.5) -> None:
    found, match = find_offset(channel, clip)
    assert abs(found - offset) <= FRAME_S, f"found at {found:.3f} s, placed at {offset} s"
    assert match > least, f"only a {match:.2f} match"


def _absent(channel: np.ndarray, clip: np.ndarray) -> None:
    _, match = find_offset(channel, clip)
    assert match < 0.2, f"a {match:.2f} match where the clip should not be"


def test_two_channels_put_the_caller_alone_in_the_first(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    legs = _three_legs(clips)
    result, audio = record(tmp_path / "call.wav", legs, channels=2, format="wav")
    assert audio.shape[0] == 2 and result.channels == 2
    _assert_at(audio[0], clips[A].samples, 0.5)
    _absent(audio[0], clips[B].samples)
    _absent(audio[0], clips[C].samples)
    _assert_at(audio[1], clips[B].samples, 3.25)
    _assert_at(audio[1], clips[C].samples, 6.1)
    _absent(audio[1], clips[A].samples)
    # The mix is the plain sum of the legs, to 16-bit precision, wherever it is below the knee.
    expected = place(audio.shape[1], legs[1:])
    quiet = np.abs(expected) < 0.85
    assert np.abs(audio[1][quiet] - expected[quiet]).max() < 1.5 / 32768


def test_split_puts_the_caller_left_and_everyone_else_right(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    _, audio = record(
        tmp_path / "split.wav", _three_legs(clips), split="conversation", format="wav"
    )
    assert audio.shape[0] == 2
    _assert_at(audio[0], clips[A].samples, 0.5)
    _absent(audio[0], clips[B].samples)
    _assert_at(audio[1], clips[B].samples, 3.25)
    _assert_at(audio[1], clips[C].samples, 6.1)


def test_mono_holds_everyone_and_ends_with_the_last_leg(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    legs = _three_legs(clips)
    result, audio = record(tmp_path / "mono.wav", legs, format="wav")
    assert audio.shape[0] == 1
    for offset, samples in legs:
        _assert_at(audio[0], samples, offset, least=0.25)  # the others talk over it
    last_end = max(offset + len(s) / SAMPLE_RATE for offset, s in legs)
    assert result.duration == pytest.approx(last_end, abs=1 / SAMPLE_RATE)
    assert result.end_reason == "hangup"


def test_legs_beyond_the_channel_count_share_the_last_channel(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    names = [A, B, C, "goforward.wav", "cards_005.wav"]
    legs = [(1.0 + 2 * k, clips[name].samples) for k, name in enumerate(names)]
    _, audio = record(tmp_path / "multi.wav", legs, channels=3)
    assert audio.shape[0] == 3
    _assert_at(audio[0], clips[A].samples, 1.0)
    _assert_at(audio[1], clips[B].samples, 3.0)
    for k in (2, 3, 4):
        _assert_at(audio[2], clips[names[k]].samples, 1.0 + 2 * k, least=0.25)
        _absent(audio[1], clips[names[k]].samples)


def test_single_leg_is_recorded_bit_for_bit(tmp_path: Path, clips: dict[str, Clip]) -> None:
    pcm = np.round(clips[B].samples * 16384).astype(np.int16)  # -6 dB: below the limiter knee
    recorder = Recorder(parse_record({"format": "wav"}), tmp_path / "one.wav")
    leg = recorder.add_leg("caller", 16000, join_time=0.0)
    for i in range(0, len(pcm), FRAME):
        leg.write(pcm[i : i + FRAME].tobytes())
    leg.close()
    recorder.finish()
    written = np.round(read(tmp_path / "one.wav")[0] * 32768).astype(np.int16)
    assert np.array_equal(written, pcm)


def test_telephone_legs_at_8khz_come_out_at_16khz_on_time(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    narrow = {name: soxr.resample(clips[name].samples, SAMPLE_RATE, 8000) for name in (A, B)}
    legs = [(0.75, narrow[A]), (2.0, narrow[B])]
    result, audio = record(tmp_path / "phone.mp3", legs, rate=8000, split="conversation")
    assert result.format == "mp3" and result.sample_rate == 16000 and audio.shape[0] == 2
    telephone_band = {name: soxr.resample(narrow[name], 8000, SAMPLE_RATE) for name in (A, B)}
    _assert_at(audio[0], telephone_band[A], 0.75)
    _assert_at(audio[1], telephone_band[B], 2.0)
    last_end = max(offset + len(samples) / 8000 for offset, samples in legs)
    assert result.duration == pytest.approx(last_end, abs=1 / 8000)


def test_streamed_frames_and_whole_files_give_the_same_recording(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    """Live legs sending frames (of a different size each) in the order they happen, as sockets
    would, against an offline render of the same legs."""
    legs = _three_legs(clips)
    record(tmp_path / "offline.wav", legs, channels=2, format="wav")
    recorder = Recorder(parse_record({"channels": 2, "format": "wav"}), tmp_path / "live.wav")
    live = [recorder.add_leg(f"leg{k}", 16000, offset) for k, (offset, _) in enumerate(legs)]
    arrivals = []
    for k, (offset, samples) in enumerate(legs):
        size = 320 + 17 * k
        for i in range(0, len(samples), size):
            arrivals.append((offset + (i + size) / SAMPLE_RATE, k, samples[i : i + size]))
    for _, k, frame in sorted(arrivals, key=lambda a: (a[0], a[1])):
        live[k].write(frame)
    for leg in live:
        leg.close()
    recorder.finish()
    assert np.array_equal(read(tmp_path / "live.wav"), read(tmp_path / "offline.wav"))


def test_late_join_early_leave_and_gaps_are_silence_never_a_shift(tmp_path: Path) -> None:
    beep = tone(440, 1.0, -12)
    recorder = Recorder(parse_record({"channels": 2, "format": "wav"}), tmp_path / "gaps.wav")
    caller = recorder.add_leg("caller", 16000, join_time=0.0)
    agent = recorder.add_leg("agent", 16000, join_time=2.0)  # joins late
    for frame in frames_of(beep):  # 0-1 s
        caller.write(frame)
    caller.write(beep, at=3.0)  # paused 1-3 s, then 3-4 s
    frames = frames_of(beep)
    for k, frame in enumerate(frames):  # 20 ms frames from 2 s, every fifth one lost
        if k % 5 != 2:
            agent.write(frame, at=2.0 + k * FRAME_S)
    agent.write(beep, at=4.0)  # 4-5 s
    agent.close(at=4.5)  # hangs up halfway through that
    caller.write(beep, at=5.0)  # 5-6 s
    caller.close()
    result = recorder.finish()
    audio = read(tmp_path / "gaps.wav")

    def loud(channel: int, start: float, stop: float) -> bool:
        return rms_dbfs(audio[channel, seconds(start) : seconds(stop)]) > -20

    def silent(channel: int, start: float, stop: float) -> bool:
        return not np.any(audio[channel, seconds(start) : seconds(stop)])

    assert result.duration == pytest.approx(6.0)
    assert loud(0, 0, 1) and silent(0, 1, 3) and loud(0, 3, 4) and silent(0, 4, 5)
    assert loud(0, 5, 6)
    assert silent(1, 0, 2) and silent(1, 3, 4) and loud(1, 4, 4.5) and silent(1, 4.5, 6)
    for k, frame in enumerate(frames):
        start = seconds(2.0 + k * FRAME_S)
        written = audio[1, start : start + len(frame)]
        if k % 5 == 2:
            assert not np.any(written), f"lost frame {k} is not silence"
        else:
            assert np.allclose(written, frame, atol=1 / 16384), f"frame {k} moved"


def test_audio_from_before_the_start_is_cut_not_moved(tmp_path: Path) -> None:
    """A live leg's first chunk began before the recording did (clock_start is wall time)."""
    ramp = np.linspace(-0.5, 0.5, seconds(1.0), dtype=np.float32)
    recorder = Recorder(parse_record({"format": "wav"}), tmp_path / "t.wav", clock_start=50.0)
    recorder.add_leg("caller", 16000, join_time=49.0).write(ramp, at=49.5)
    result = recorder.finish()
    assert result.duration == 0.5
    assert np.allclose(read(tmp_path / "t.wav")[0], ramp[seconds(0.5) :], atol=1 / 32768)


def test_a_stalled_leg_holds_the_recording_back_only_so_long(tmp_path: Path) -> None:
    recorder = Recorder(
        parse_record({"split": "conversation", "format": "wav"}),
        tmp_path / "stall.wav",
        max_lag=1.0,
    )
    caller = recorder.add_leg("caller", 16000, join_time=0.0)
    agent = recorder.add_leg("agent", 16000, join_time=0.0)
    agent.write(tone(500, 0.5, -12))  # then nothing for a while
    for frame in frames_of(tone(440, 5.0, -12)):
        caller.write(frame)
    assert 3.9 <= recorder.position <= 4.0  # 5 s from the caller, less the 1 s allowed lag
    agent.write(tone(500, 0.5, -12))  # it comes back: carries on from where the recording is
    caller.close()
    agent.close()
    result = recorder.finish()
    audio = read(tmp_path / "stall.wav")
    assert result.duration == pytest.approx(5.0)
    assert rms_dbfs(audio[1, : seconds(0.5)]) > -20
    assert not np.any(audio[1, seconds(0.5) : seconds(3.9)])
    assert rms_dbfs(audio[1, seconds(4.0) : seconds(4.4)]) > -20


def test_the_clock_alone_ends_a_recording_at_its_timeout(tmp_path: Path) -> None:
    recorder = Recorder(parse_record({"timeOut": 3}), tmp_path / "t.mp3", clock_start=100.0)
    recorder.add_leg("caller", 8000)  # joins and never sends a frame
    recorder.advance(101.0)
    assert not recorder.ended
    recorder.advance(110.0)
    assert recorder.ended and recorder.end_reason == "timeout"
    assert recorder.end_time == pytest.approx(103.0)
    result = recorder.finish()
    assert (result.duration, result.start_time, result.end_time) == (3.0, 100.0, 103.0)


def test_timeout_cuts_a_long_call_and_later_audio_is_ignored(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    legs = [(0.0, clips["ls_test-clean_1221-135766-0001.wav"].samples)]
    result, audio = record(tmp_path / "t.wav", legs, timeOut=5, format="wav")
    assert result.end_reason == "timeout"
    assert result.duration == 5.0 and audio.shape[1] == seconds(5.0)


def test_loud_legs_are_limited_never_wrapped(tmp_path: Path) -> None:
    loud = tone(300, 1.0, -1.0)  # two of these in phase sum to 1.8x full scale
    _, audio = record(tmp_path / "loud.wav", [(0.0, loud), (0.0, loud)], format="wav")
    peak = np.abs(audio[0]).max()
    assert 0.95 < peak <= 1.0
    big = np.abs(loud) > 0.1
    assert np.all(np.sign(audio[0][big]) == np.sign(loud[big])), "a peak wrapped around"


def test_beep_start_is_audible_at_the_start(tmp_path: Path, clips: dict[str, Clip]) -> None:
    legs = [(1.0, clips[A].samples)]
    _, plain = record(tmp_path / "plain.wav", legs, format="wav")
    _, beeped = record(tmp_path / "beep.wav", legs, format="wav", beepStart=True)
    start = beeped[0, : seconds(0.3)]
    assert not np.any(plain[0, : seconds(0.3)])
    assert rms_dbfs(start) > -20
    spectrum = np.abs(np.fft.rfft(start))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(start) - 1000) < 10
    assert np.array_equal(beeped[0, seconds(0.5) :], plain[0, seconds(0.5) :])


def test_bad_leg_input_is_refused(tmp_path: Path) -> None:
    recorder = Recorder(parse_record({}), tmp_path / "bad.mp3")
    with pytest.raises(InvalidRequestError, match="8000 or 16000"):
        recorder.add_leg("caller", 44100)
    leg = recorder.add_leg("caller", 16000)
    with pytest.raises(InvalidRequestError, match="joined already"):
        recorder.add_leg("caller", 16000)
    with pytest.raises(InvalidAudioError, match="whole number"):
        leg.write(b"\x00\x01\x02")
    with pytest.raises(InvalidAudioError, match="one channel"):
        leg.write(np.zeros((2, 320), np.float32))
    leg.close()
    with pytest.raises(InvalidRequestError, match="has left"):
        leg.write(b"\x00\x00")
    assert recorder.finish().duration == 0.0

"""Packing speech regions into Whisper windows and mapping word times back to the channel;
finding speech and word levels on a long channel without copies of it."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from faster_whisper.vad import get_speech_timestamps

from transcribe.asr.packing import (
    PAUSE_S,
    VAD,
    WINDOW_S,
    find_speech,
    missing_regions,
    pack,
    unpack,
)
from transcribe.asr.timing import frame_levels
from transcribe.audio import SAMPLE_RATE, FloatArray
from transcribe.document import TimedWord

from signals import white_noise
from speech import Clip

S = SAMPLE_RATE


def test_regions_are_copied_with_pauses_and_windows_end_at_boundaries() -> None:
    samples = np.arange(120 * S, dtype=np.float32)
    speech = [(s * S, (s + 8) * S) for s in (5, 20, 40, 60, 80, 100)]  # six 8 s turns
    packing = pack(samples, speech)
    for region in packing.regions:
        copied = packing.samples[region.packed_start : region.packed_start + region.length]
        assert np.array_equal(copied, samples[region.start : region.end])
    assert all(end - start <= WINDOW_S for start, end in packing.windows)
    # 8 s turns + 0.5 s pauses: three per window, and no window cuts a turn.
    assert len(packing.windows) == 2
    boundaries = {r.packed_start / S for r in packing.regions}
    assert all(start in boundaries for start, _ in packing.windows)
    assert packing.regions[1].packed_start == 8 * S + round(PAUSE_S * S)


def test_a_window_for_each_region_when_asked() -> None:
    """The retry of skipped regions packs each one alone, however short."""
    samples = np.zeros(60 * S, np.float32)
    speech = [(5 * S, 8 * S), (10 * S, 12 * S), (20 * S, 23 * S)]
    packing = pack(samples, speech, window_s=0)
    starts = [r.packed_start / S for r in packing.regions]
    ends = [(r.packed_start + r.length) / S for r in packing.regions]
    assert packing.windows == list(zip(starts, ends, strict=True))
    assert len(pack(samples, speech).windows) == 1


def test_word_times_map_back_to_their_region() -> None:
    samples = np.zeros(60 * S, np.float32)
    packing = pack(samples, [(10 * S, 14 * S), (40 * S, 43 * S)])
    second = packing.regions[1].packed_start / S
    words = [
        TimedWord(" hello", 0.5, 0.9, 0.9),
        TimedWord(" there", second + 1.0, second + 1.4, 0.8),
        # Placed in the pause between the regions (0.5 s): each goes to the nearer one. A word
        # of the second region given to the first would leave the second looking transcribed
        # and the first's own words, which the decoder skipped, never retried.
        TimedWord(" early", second - 0.4, second + 0.1, 0.7),
        TimedWord(" late", 4.0, 4.1, 0.7),
    ]
    hello, there, early, late = unpack(words, packing)
    assert (hello.start, hello.end) == pytest.approx((10.5, 10.9))
    assert (there.start, there.end) == pytest.approx((41.0, 41.4))
    assert 40 <= early.start <= early.end <= 43
    assert 10 <= late.start <= late.end <= 14


def test_a_region_at_the_recording_start_is_given_its_pad_as_silence() -> None:
    """Every other region starts with VAD's pad of sound before its speech; the first, when the
    recording starts with speech, gets the pad as silence, and its words map back unmoved."""
    samples = np.ones(20 * S, np.float32)
    pad = round(VAD.speech_pad_ms * S / 1000)
    packing = pack(samples, [(0, 3 * S), (10 * S, 12 * S)])
    first, second = packing.regions
    assert first.packed_start == pad
    assert not packing.samples[:pad].any()
    assert packing.windows[0][0] == 0
    assert second.packed_start == pad + 3 * S + round(PAUSE_S * S)
    (hello,) = unpack([TimedWord(" hello", pad / S + 0.5, pad / S + 0.9, 0.9)], packing)
    assert (hello.start, hello.end) == pytest.approx((0.5, 0.9))
    # A region that starts within the pad of the recording's start gets the rest of it.
    assert pack(samples, [(S // 10, 3 * S)]).regions[0].packed_start == pad - S // 10
    assert pack(samples, [(S, 3 * S)]).regions[0].packed_start == 0


def test_regions_without_words_are_found() -> None:
    speech = [(0, 3 * S), (10 * S, 12 * S), (20 * S, 20 * S + S // 2)]
    words = [TimedWord(" a", 1.0, 1.2, 0.9)]
    # The 2 s region got nothing; the 0.5 s one is too short to count as dropped.
    assert missing_regions(words, speech) == [(10 * S, 12 * S)]
    assert missing_regions([], []) == []


def test_seconds_without_words_inside_a_region_are_found() -> None:
    """Whisper stopped part-way through a 26 s region (back-to-back speech, no pause for VAD
    to split at): its first 4 s got words, the rest is decoded again; a short gap is not."""
    speech = [(23 * S, 50 * S)]
    said = [
        "yet",
        "these",
        "thoughts",
        "affected",
        "hester",
        "prynne",
        "less",
        "with",
        "hope",
        "than",
        "apprehension",
    ]
    words = [TimedWord(f" {w}", 23.8 + 0.35 * i, 24.1 + 0.35 * i, 0.9) for i, w in enumerate(said)]
    words[-1] = TimedWord(" apprehension", 27.3, 27.7, 0.9)
    assert missing_regions(words, speech) == [(round(27.7 * S), 50 * S)]
    words.append(TimedWord(" if", 28.7, 28.9, 0.9))  # a second's pause, then a word
    words.append(TimedWord(" myself", 49.0, 49.5, 0.9))
    assert missing_regions(words, speech) == [(round(28.9 * S), 49 * S)]


def test_a_word_stretched_over_a_region_does_not_hide_it() -> None:
    """Whisper skipped a 6 s turn and stretched the last word before it over the whole of it
    ("heaven." lay over "had he married a more amiable woman..."): the turn is decoded again."""
    speech = [(30 * S, 33 * S), (34 * S, 40 * S)]
    words = [TimedWord(" soul", 30.6, 31.0, 0.9), TimedWord(" in", 31.2, 31.3, 0.9)]
    stretched = TimedWord(" heaven.", 34.0, 40.0, 0.6)
    assert missing_regions([*words, stretched], speech) == [(34 * S, 40 * S)]
    # A word of an ordinary length covers its stretch as before.
    assert missing_regions([*words, TimedWord(" had", 34.1, 34.4, 0.9)], speech) == [
        (round(34.4 * S), 40 * S)
    ]


def _call_of(clips: dict[str, Clip], minutes: float) -> FloatArray:
    """Real speech with pauses between the clips, repeated to `minutes`."""
    rng = np.random.default_rng(3)
    parts = []
    for clip in clips.values():
        parts += [clip.samples, np.zeros(int(rng.integers(S // 10, 4 * S)), np.float32)]
    once = np.concatenate(parts)
    return np.resize(once, round(minutes * 60 * S)).astype(np.float32)


def test_speech_is_found_where_faster_whisper_finds_it(clips: dict[str, Clip]) -> None:
    """Our Silero pass runs in slices to save memory; its regions are faster-whisper's own,
    across slice boundaries (every 320 s) and at the odd lengths its padding treats apart."""
    call = _call_of(clips, 11)
    for length in (len(call), 512 * 20_000, 512 * 10_000 + 7, 9000):
        samples = call[:length]
        expected = [(r["start"], r["end"]) for r in get_speech_timestamps(samples.copy(), VAD)]
        assert find_speech(samples) == expected
    assert len(find_speech(call)) > 100


def test_a_long_channel_is_not_copied_to_find_speech_or_word_levels() -> None:
    """faster-whisper's VAD holds three copies of a channel at once and the word levels held
    two in float64: 1.4 and 1.8 GB more for two hours. Here each holds a slice at a time, the
    same for any length (this channel is 96 MB)."""
    samples = white_noise(25 * 60, -60)
    tracemalloc.start()
    try:
        find_speech(samples)
        levels = frame_levels(samples)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(levels) == len(samples) // 160
    assert peak < 100_000_000

"""Word times on real speech with pauses inserted between its words: every word starts where
its sound starts, and none starts, ends or lies in a pause, or spans one."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from transcribe.asr import Transcriber
from transcribe.asr.timing import clamp_to_islands, islands
from transcribe.audio import SAMPLE_RATE, Audio, FloatArray
from transcribe.document import TimedWord

from speech import Clip, assert_document_invariants

FRAME = SAMPLE_RATE // 100  # 10 ms
CLIPS = (
    "jfk.wav",
    "librivox_sas01_0870.wav",
    "librivox_sas01_0890.wav",
    "ls_test-clean_1089-134686-0001.wav",
    "ls_dev-clean_2412-153948-0000.flac",
)


@dataclass(frozen=True)
class Piece:
    """A stretch of a clip between two inserted pauses: where its sound starts and ends."""

    onset: float  # seconds, in the built channel
    offset: float


def _levels(samples: FloatArray) -> np.ndarray:
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    return 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12)


def _with_pauses(
    clip: Clip, rng: np.random.Generator, seconds: float = 60.0
) -> tuple[FloatArray, list[Piece], list[tuple[float, float]]]:
    """The clip cut at its quiet gaps between words (50 ms or more at least three quarters of
    the way in dB from its peak down to its floor), with a pause of 0.3 to 1.2 s of the clip's
    own noise floor inserted at each cut and before, and the noise after it up to `seconds`
    (a channel has one noise floor, as a call's does).

    Returns the channel, its pieces of speech (onset and offset: the first and last 10 ms
    frame at least halfway in dB from the clip's floor to the piece's peak) and the inserted
    pauses.
    """
    parts: list[FloatArray] = []
    pieces: list[Piece] = []
    pauses: list[tuple[float, float]] = []
    level = _levels(clip.samples)
    floor, peak = float(np.percentile(level, 20)), float(level.max())
    loud = level >= floor + (peak - floor) / 2
    quiet = level < floor + (peak - floor) / 4
    position = 0

    def pause(length: int | None = None) -> None:
        nonlocal position
        length = length or round(rng.uniform(0.3, 1.2) * SAMPLE_RATE)
        noise = rng.standard_normal(length) * 10 ** (floor / 20)
        parts.append(noise.astype(np.float32))
        pauses.append((position / SAMPLE_RATE, (position + length) / SAMPLE_RATE))
        position += length

    # Cut in the middle of each quiet run of 50 ms or more between the first and last loud
    # frames.
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    cuts, run = [], 0
    for i in range(first, last):
        run = run + 1 if quiet[i] else 0
        if run >= 5 and (i + 1 == last or not quiet[i + 1]):
            cuts.append(i + 1 - run // 2)
    bounds = [0, *cuts, len(level)]
    pause()
    for a, b in pairwise(bounds):
        # Halfway from the floor to this piece's own peak: a quiet word has its onset too.
        in_piece = np.flatnonzero(level[a:b] >= floor + (level[a:b].max() - floor) / 2)
        onset, offset = position + in_piece[0] * FRAME, position + (in_piece[-1] + 1) * FRAME
        pieces.append(Piece(onset / SAMPLE_RATE, offset / SAMPLE_RATE))
        parts.append(clip.samples[a * FRAME : b * FRAME])
        position += (b - a) * FRAME
        if b < len(level):
            pause()
    pause(round(seconds * SAMPLE_RATE) - position)
    return np.concatenate(parts), pieces, pauses


def test_words_start_at_their_sound_and_stay_out_of_pauses(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """Five clips, each on a channel of its own, cut between words with pauses inserted."""
    rng = np.random.default_rng(3)
    built = [_with_pauses(clips[name], rng) for name in CLIPS]
    stacked = np.stack([samples for samples, _, _ in built])
    doc = transcriber.transcribe(
        Audio(samples=stacked, source_rate=SAMPLE_RATE, source_format="WAV")
    )
    assert_document_invariants(doc)

    good = total = 0
    for channel, (_, pieces, pauses) in zip(doc.channels, built, strict=True):
        words = [w for s in channel.transcript for w in s.words]
        assert len(words) >= 8
        total += len(words)
        # No word starts, ends or lies in an inserted pause, or spans one (10 ms of slack: the
        # level is measured in 10 ms frames).
        for word in words:
            start, end = word.start_time / 1000, word.end_time / 1000
            for a, b in pauses:
                assert not a + 0.01 < start < b - 0.01, (word, a, b)
                assert not a + 0.01 < end < b - 0.01, (word, a, b)
                assert not (start <= a and end >= b), (word, a, b)
        # The first word of each piece starts within 100 ms of the piece's onset; any later
        # word starts inside its piece.
        onsets = np.array([p.onset for p in pieces])
        seen = set()
        for word in words:
            start = word.start_time / 1000
            index = max(0, int(np.searchsorted(onsets, start + 0.1, side="right")) - 1)
            piece = pieces[index]
            if index in seen:
                ok = piece.onset - 0.1 <= start <= piece.offset
            else:
                seen.add(index)
                ok = abs(start - piece.onset) <= 0.1
            good += ok
    print(f"{good} of {total} words start at their sound")
    assert good >= 0.95 * total


def _word(text: str, start: float, end: float) -> TimedWord:
    return TimedWord(text=text, start=start, end=end, probability=0.9)


def test_words_in_a_pause_join_the_speech_their_phrase_belongs_to() -> None:
    """Islands of sound at 1-2 s and 4-5 s. Whisper stretched "there" over the pause and put
    "what" and "now." inside it: each word ends up inside one island, in order."""
    sound = np.zeros(600, bool)
    sound[100:200] = sound[400:500] = True
    found = islands(sound)
    assert [(float(a), float(b)) for a, b in zip(*found, strict=True)] == [(1.0, 2.0), (4.0, 5.0)]
    words = [
        _word(" hello", 1.1, 1.5),
        _word(" there", 1.5, 3.0),  # over the pause, mostly in the first island
        _word(" now.", 3.1, 3.2),  # ends a phrase: back to the first island
        _word(" what", 3.3, 3.4),  # after a phrase's end: on to the next
        _word(" is", 4.2, 4.4),
        _word(" it", 4.4, 4.6),
    ]
    out = clamp_to_islands(words, found)
    assert [w.text for w in out] == [w.text for w in words]
    first, second = out[:3], out[3:]
    assert all(1.0 <= w.start <= w.end <= 2.0 for w in first)
    assert all(4.0 <= w.start <= w.end <= 5.0 for w in second)
    assert out[0].start == 1.0 and out[2].end == 2.0 and out[3].start == 4.0
    assert all(a.end <= b.start for a, b in pairwise(out))
    assert all(w.end > w.start for w in out)

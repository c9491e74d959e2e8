"""Word times on real speech with pauses inserted between its words (`bench/word_timing.py`
builds them): every word starts where its sound starts, and none starts, ends or lies in a
pause, or spans one."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from transcribe.asr import Transcriber
from transcribe.asr.timing import MAX_WORD_S, clamp_to_islands, islands, tighten
from transcribe.audio import SAMPLE_RATE, Audio
from transcribe.document import TimedWord
from word_timing import with_pauses

from speech import Clip, assert_document_invariants

CLIPS = (
    "jfk.wav",
    "librivox_sas01_0870.wav",
    "librivox_sas01_0890.wav",
    "ls_test-clean_1089-134686-0001.wav",
    "ls_dev-clean_2412-153948-0000.flac",
)


def test_words_start_at_their_sound_and_stay_out_of_pauses(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """Five clips, each on a channel of its own, cut between words with pauses inserted."""
    rng = np.random.default_rng(3)
    built = [with_pauses(clips[name].samples, rng, seconds=60.0) for name in CLIPS]
    stacked = np.stack([b.samples for b in built])
    doc = transcriber.transcribe(
        Audio(samples=stacked, source_rate=SAMPLE_RATE, source_format="WAV")
    )
    assert_document_invariants(doc)

    good = total = 0
    for channel, b in zip(doc.channels, built, strict=True):
        pieces, pauses = b.pieces, b.pauses
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


def test_a_word_drawn_over_seconds_of_sound_is_cut_to_a_word_length() -> None:
    """Whisper put "hold" over 4 s of unbroken sound (music on a line): it keeps its start."""
    sound = np.ones(600, bool)
    (word,) = tighten([_word(" hold", 1.0, 5.0)], sound)
    assert word.start == 1.0 and word.end - word.start <= MAX_WORD_S < 2.5

"""The leakage gate on real speech: each party's words on its own channel only, overlap kept.

A two-party call of 27 s built from the shared clips at similar levels: four turns, each
overlapping the next by 1 to 3 s, and each channel also carrying the other party 20 dB quieter
and 25 ms late (headset echo). The gate must keep the other party's words off a channel while
keeping the party's own, including those said while the other talks; on a mono file and on
clean split channels it must change nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from jiwer import wer
from whisper_normalizer.english import EnglishTextNormalizer

from transcribe.asr import Transcriber
from transcribe.audio import SAMPLE_RATE, Audio, ChannelSource, FloatArray, open_audio
from transcribe.document import TranscriptionDocument

from leakage import at_level, leak
from signals import place, seconds
from speech import Clip, assert_document_invariants

normalise = EnglishTextNormalizer()

# (offset in seconds, clip) per channel: the parties alternate, both talking at 9.5-12.7 s,
# 14.5-16.1 s and 20.5-21.6 s.
LAYOUT = {
    0: [(1.0, "ls_dev-clean_2412-153948-0000.flac"), (14.5, "librivox_sas01_0870.wav")],
    1: [(9.5, "ls_test-clean_1089-134686-0001.wav"), (20.5, "ls_test-clean_1221-135766-0002.wav")],
}
# Words each party says while the other talks (seconds the overlap spans).
OVERLAPPED = {
    0: [("tedious", 9.5, 12.7), ("painful", 9.5, 12.7), ("dashwood", 14.5, 16.1)],
    1: [("brothels", 14.5, 16.1), ("thoughts", 20.5, 21.6)],
}


def _call(clips: dict[str, Clip]) -> FloatArray:
    """The two parties' own channels, without leakage, shape (2, frames)."""
    length = seconds(27.0)
    return np.stack(
        [
            place(length, [(offset, at_level(clips[name].samples)) for offset, name in pieces])
            for pieces in LAYOUT.values()
        ]
    )


def _audio(samples: FloatArray) -> Audio:
    return Audio(samples=samples, source_rate=SAMPLE_RATE, source_format="WAV")


def _words(doc: TranscriptionDocument, channel: int) -> list[tuple[str, float]]:
    """(normalised word, start seconds) of a channel."""
    return [
        (normalise(w.word), w.start_time / 1000)
        for s in doc.channels[channel].transcript
        for w in s.words
    ]


def _references(clips: dict[str, Clip]) -> list[str]:
    return [
        normalise(" ".join(clips[name].reference for _, name in pieces))
        for pieces in LAYOUT.values()
    ]


def _assert_each_party_on_its_own_channel(
    doc: TranscriptionDocument, clips: dict[str, Clip]
) -> None:
    assert_document_invariants(doc)
    references = _references(clips)
    for channel in (0, 1):
        words = _words(doc, channel)
        text = " ".join(w for w, _ in words)
        others = set(references[1 - channel].split()) - set(references[channel].split())
        assert not others & {w for w, _ in words}, (channel, others & {w for w, _ in words})
        assert wer(references[channel], text) <= 0.15, (channel, text)
        for word, start, end in OVERLAPPED[channel]:
            assert any(w == word and start - 0.5 <= t <= end for w, t in words), (word, text)


def test_the_other_partys_leaked_speech_stays_off_a_channel(
    transcriber: Transcriber, clips: dict[str, Clip], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gate on: each party's words on its own channel, overlapped ones too; gate off, the
    first party's turn, heard on the second channel while it is silent, lands there as well."""
    audio = _audio(leak(_call(clips), -20.0, 25.0))
    _assert_each_party_on_its_own_channel(transcriber.transcribe(audio), clips)

    monkeypatch.setattr(transcriber.settings, "leakage_gate", False)
    ungated = transcriber.transcribe(audio)
    first_only = set(_references(clips)[0].split()) - set(_references(clips)[1].split())
    assert len(first_only & {w for w, _ in _words(ungated, 1)}) >= 5


def test_the_gate_works_on_a_file_read_a_channel_at_a_time(
    transcriber: Transcriber,
    clips: dict[str, Clip],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With room for one channel only, the leakage is measured in a first pass over the
    channels (frame levels only) and the document keeps each party on its own channel."""
    path = tmp_path / "call.wav"
    sf.write(path, leak(_call(clips), -20.0, 25.0).T, SAMPLE_RATE, subtype="PCM_16")
    audio = open_audio(path)
    monkeypatch.setattr(transcriber.settings, "audio_memory_mb", 1)
    assert audio.groups(1 << 20) == [[0], [1]]
    _assert_each_party_on_its_own_channel(transcriber.transcribe(audio), clips)


@pytest.mark.parametrize("layout", ["mono", "clean split"])
def test_the_gate_changes_nothing_without_leakage(
    transcriber: Transcriber,
    clips: dict[str, Clip],
    monkeypatch: pytest.MonkeyPatch,
    layout: str,
) -> None:
    """A mono file (the two parties mixed), and the two channels without leakage: the same
    document with the gate on and off."""
    own = _call(clips)
    audio: ChannelSource = _audio(own.sum(axis=0, keepdims=True) if layout == "mono" else own)
    gated = transcriber.transcribe(audio)
    monkeypatch.setattr(transcriber.settings, "leakage_gate", False)
    ungated = transcriber.transcribe(audio)
    assert ungated.channels == gated.channels and ungated.warnings == gated.warnings
    assert all(channel.transcript for channel in gated.channels)

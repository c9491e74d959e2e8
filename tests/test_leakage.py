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
from transcribe.asr import leakage as asr_leakage
from transcribe.asr.leakage import MIN_ERLE_DB, Echo, measure, subtract_echoes
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


def test_the_echo_is_subtracted_from_under_the_partys_own_speech(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """The second party's headset carries the first party 12 dB down and 60 ms late: the gate
    cannot cut that from under the second party's own speech, where it turned "brothels" (said
    while the first party talks) into "brothel". With the echo subtracted each channel is
    transcribed as well as the call without leakage."""
    own = _call(clips)
    references = _references(clips)
    clean = transcriber.transcribe(_audio(own))
    one_way = np.stack([own[0], leak(own, -12.0, 60.0)[1]])
    leaked = transcriber.transcribe(_audio(one_way))
    _assert_each_party_on_its_own_channel(leaked, clips)
    for channel in (0, 1):
        without = wer(references[channel], " ".join(w for w, _ in _words(clean, channel)))
        heard = wer(references[channel], " ".join(w for w, _ in _words(leaked, channel)))
        assert heard <= without + 0.01, (channel, heard, without)


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


def _filtered_leak(own: FloatArray, level_db: float, delay_ms: float) -> FloatArray:
    """Each channel also carrying the other through a real echo path, not one tap: low-passed
    at 1 kHz, then a diffuse tail of 0.3 s (half the direct part's energy) 12 ms after it; the
    whole path `level_db` in energy, its direct part `delay_ms` late."""
    taps = np.arange(-32, 33)
    lowpass = np.sinc(2 * 1000 / SAMPLE_RATE * taps) * np.hamming(len(taps))
    t = np.arange(seconds(0.3))
    tail = np.random.default_rng(0).standard_normal(len(t)) * np.exp(-6.9 * t / len(t))
    room = np.concatenate([[1.0], np.zeros(200), np.sqrt(0.5) * tail / np.linalg.norm(tail)])
    path = np.concatenate([np.zeros(seconds(delay_ms / 1000)), np.convolve(lowpass, room)])
    path *= 10 ** (level_db / 20) / np.linalg.norm(path)
    size = 1 << int(np.ceil(np.log2(own.shape[1] + len(path))))
    heard = np.fft.irfft(np.fft.rfft(own[::-1], size) * np.fft.rfft(path, size), size)
    return (own + heard[:, : own.shape[1]]).astype(np.float32)


def _db(x: FloatArray) -> float:
    return float(10 * np.log10(np.sum(x.astype(np.float64) ** 2) + 1e-30))


@pytest.mark.parametrize("source", ["memory", "file"])
def test_an_exact_echo_is_subtracted_from_the_channel(
    clips: dict[str, Clip], tmp_path: Path, source: str
) -> None:
    """Each channel carries the other 20 dB quieter, 25 ms late: each echo is found to the
    sample, explains the pure leak (ERLE far over the line), and the channels handed on are
    the parties' own, the leak gone from under their speech too. Audio in memory is the
    caller's and stays as it was; a file's decoded channels change in place."""
    own = _call(clips)
    leaked = leak(own, -20.0, 25.0)
    given = leaked.copy()
    audio: ChannelSource = _audio(given)
    if source == "file":
        sf.write(tmp_path / "call.wav", leaked.T, SAMPLE_RATE, subtype="FLOAT")
        audio = open_audio(tmp_path / "call.wav")
    found, held = measure(audio, [[0, 1]])
    assert held is not None
    for channel, gate in enumerate(found):
        assert gate is not None
        (echo,) = gate.echoes
        assert (echo.source, echo.delay) == (1 - channel, seconds(0.025))
        assert echo.gain == pytest.approx(0.1, rel=0.02)
        assert echo.erle_db >= MIN_ERLE_DB + 20 and echo.subtracted
        left = _db(held.channels[channel] - own[channel]) - _db(leaked[channel] - own[channel])
        assert left <= -15.0, left  # what is left is the faint echo of the party's own speech
    assert np.array_equal(given, leaked)


def test_a_filtered_leak_is_not_subtracted(
    clips: dict[str, Clip], caplog: pytest.LogCaptureFixture
) -> None:
    """A leak through a low-passed, reverberant path: one tap explains little of it (ERLE
    under the line), so the channel is handed on as it is and only the gate applies."""
    leaked = _filtered_leak(_call(clips), -20.0, 25.0)
    with caplog.at_level("INFO", logger=asr_leakage.__name__):
        found, held = measure(_audio(leaked), [[0, 1]])
    assert held is not None
    echoes = [echo for gate in found if gate is not None for echo in gate.echoes]
    assert echoes, "the leak is found"
    assert all(echo.erle_db < MIN_ERLE_DB - 3 and not echo.subtracted for echo in echoes)
    assert all(np.array_equal(x, y) for x, y in zip(held.channels, leaked, strict=True))
    assert "not subtracted" in caplog.text


def test_echoes_are_subtracted_from_the_original_samples_a_chunk_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In place, chunk by chunk, each channel less gain x its sources' ORIGINAL samples, even
    where a source is itself subtracted and the delay reaches into the chunk before."""
    monkeypatch.setattr(asr_leakage, "_SUBTRACT_SAMPLES", 50)
    original = np.random.default_rng(1).standard_normal((3, 1000)).astype(np.float32)
    echoes = [
        [Echo(source=1, delay=7, gain=0.3, erle_db=40.0)],
        [Echo(source=0, delay=73, gain=-0.2, erle_db=40.0)],
        [Echo(source=0, delay=0, gain=0.1, erle_db=40.0), Echo(1, 120, 0.05, erle_db=40.0)],
    ]
    expected = original.copy()
    for channel, found in enumerate(echoes):
        for echo in found:
            late = np.concatenate([np.zeros(echo.delay), original[echo.source]])[:1000]
            expected[channel] -= np.float32(echo.gain) * late.astype(np.float32)
    channels = list(original.copy())
    subtract_echoes(channels, echoes)
    np.testing.assert_allclose(np.stack(channels), expected, atol=1e-6)

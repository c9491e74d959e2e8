"""The real tiny.en model on real speech: accuracy, channel separation, timing, no inventions."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from jiwer import wer
from whisper_normalizer.english import EnglishTextNormalizer

from transcribe.asr import Transcriber
from transcribe.audio import SAMPLE_RATE, Audio, load_audio, open_audio
from transcribe.document import TranscriptionDocument
from transcribe.errors import UnsupportedLanguageError

from signals import dtmf, place, seconds, speech_onset, tone, white_noise
from speech import Clip, assert_document_invariants

normalise = EnglishTextNormalizer()


def _audio(*channels: np.ndarray) -> Audio:
    length = max(len(c) for c in channels)
    stacked = np.zeros((len(channels), length), np.float32)
    for i, c in enumerate(channels):
        stacked[i, : len(c)] = c
    return Audio(samples=stacked, source_rate=SAMPLE_RATE, source_format="WAV")


def _text(doc: TranscriptionDocument, channel: int) -> str:
    return " ".join(s.sentence for s in doc.channels[channel].transcript)


def test_word_error_rate_on_real_speech(transcriber: Transcriber, clips: dict[str, Clip]) -> None:
    """The 17 transcribed clips (all but the partly transcribed AMI one) score WER <= 6%."""
    scored = [c for name, c in clips.items() if not name.startswith("ami_")]
    assert len(scored) == 17
    references, hypotheses = [], []
    for clip in scored:
        doc = transcriber.transcribe(_audio(clip.samples), language="en-US")
        assert_document_invariants(doc)
        references.append(normalise(clip.reference))
        hypotheses.append(normalise(_text(doc, 0)))
    score = wer(references, hypotheses)
    print(f"WER over {len(scored)} clips: {score:.2%}")
    assert score <= 0.06


def test_multichannel_call_keeps_each_speaker_in_its_channel(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """Clips at known offsets on 3 channels plus a silent 4th: text, timing, empty channel."""
    layout = {
        0: [(1.0, "jfk.wav"), (25.0, "goforward.wav")],
        1: [(12.5, "ls_test-clean_1089-134686-0001.wav"), (29.0, "librivox_sas01_0920.wav")],
        2: [(4.0, "librivox_sas01_0870.wav"), (19.5, "ls_test-clean_1221-135766-0002.wav")],
    }
    length = seconds(40.0)
    channels = [
        place(length, [(offset, clips[name].samples) for offset, name in pieces])
        for pieces in layout.values()
    ]
    channels.append(np.zeros(length, np.float32))
    doc = transcriber.transcribe(_audio(*channels))
    assert_document_invariants(doc)
    assert len(doc.channels) == 4

    for index, pieces in layout.items():
        channel = doc.channels[index]
        reference = normalise(" ".join(clips[name].reference for _, name in pieces))
        assert wer(reference, normalise(_text(doc, index))) <= 0.15, _text(doc, index)
        starts = [s.timestamp for s in channel.transcript]
        for offset, name in pieces:
            onset_ms = (offset + speech_onset(clips[name].samples)) * 1000
            nearest = min(starts, key=lambda t: abs(t - onset_ms))
            assert abs(nearest - onset_ms) <= 300, (name, onset_ms, starts)
        # Nothing is placed outside the clips' spans on this channel.
        for sentence in channel.transcript:
            inside = any(
                offset * 1000 - 300 <= sentence.timestamp <= (offset + clips[name].duration) * 1000
                for offset, name in pieces
            )
            assert inside, sentence.sentence

    silent = doc.channels[3]
    assert silent.transcript == []
    assert silent.duration == pytest.approx(40.0, abs=0.001)
    assert all(c.duration == pytest.approx(40.0, abs=0.001) for c in doc.channels)


def test_a_sentence_said_five_times_is_transcribed_five_times(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """The AMI clip five times over: one window of it decodes as a skipping repetition that
    the loop guard drops; each repetition must still come back, at its own time."""
    clip = clips["ami_ES2011a_headset0_40-46s.wav"]
    doc = transcriber.transcribe(_audio(np.tile(clip.samples, 5)))
    assert_document_invariants(doc)
    words = [w for s in doc.channels[0].transcript for w in s.words]
    reference = normalise("I'm Abigail Claflin, you can call me Abbie")
    for repetition in range(5):
        start, end = repetition * clip.duration * 1000, (repetition + 1) * clip.duration * 1000
        heard = " ".join(w.word for w in words if start <= w.start_time < end)
        assert wer(reference, normalise(heard)) <= 0.3, (repetition, heard)


@pytest.mark.parametrize(
    "name,signal",
    [
        ("silence", lambda: np.zeros(seconds(60), np.float32)),
        ("white noise at -40 dBFS", lambda: white_noise(60, dbfs=-40)),
        ("440 Hz tone", lambda: tone(440, 60)),
        ("DTMF digits", lambda: np.tile(dtmf("0123456789*#", on=0.1, off=0.15), 20)[: seconds(60)]),
        (
            "a beep, then line noise",
            lambda: np.concatenate([tone(1000, 0.5, -3), white_noise(59.5, -50)]),
        ),
    ],
)
def test_no_speech_gives_an_empty_transcript(
    transcriber: Transcriber, name: str, signal: object
) -> None:
    samples = signal()  # type: ignore[operator]
    doc = transcriber.transcribe(_audio(samples))
    assert doc.channels[0].transcript == [], (name, _text(doc, 0))
    assert doc.channels[0].duration == pytest.approx(len(samples) / SAMPLE_RATE, abs=0.001)


def test_speech_on_one_channel_and_noise_on_the_other(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """Split stereo with the caller speaking and the far end holding only line noise."""
    speech = place(seconds(20), [(2.0, clips["librivox_sas01_0890.wav"].samples)])
    doc = transcriber.transcribe(_audio(speech, white_noise(20, -45, seed=3)))
    assert_document_invariants(doc)
    assert "selfish" in _text(doc, 0).lower()
    assert doc.channels[1].transcript == []


def test_sentences_follow_punctuation_not_whisper_windows(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """The dev-clean clip is two sentences in one Whisper window; we return two sentences."""
    doc = transcriber.transcribe(_audio(clips["ls_dev-clean_2412-153948-0000.flac"].samples))
    assert_document_invariants(doc)
    sentences = [s.sentence for s in doc.channels[0].transcript]
    assert len(sentences) == 2, sentences
    assert sentences[0].endswith("country.") and sentences[1].startswith("The narrative")


def test_progress_reaches_the_whole_recording(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    seen: list[tuple[float, float]] = []
    audio = _audio(clips["jfk.wav"].samples, clips["cards_005.wav"].samples)
    transcriber.transcribe(audio, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == pytest.approx(seen[-1][1], abs=0.01)
    assert seen[-1][1] == pytest.approx(2 * audio.duration, abs=0.01)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


@pytest.mark.parametrize("language", ["en", "en-US", "EN_gb", None])
def test_english_codes_are_accepted(transcriber: Transcriber, language: str | None) -> None:
    assert transcriber.check_language(language) == "en"


@pytest.mark.parametrize("language", ["fr", "de-DE", "xx-YY", "klingon"])
def test_languages_tiny_en_cannot_do_are_refused(transcriber: Transcriber, language: str) -> None:
    with pytest.raises(UnsupportedLanguageError) as info:
        transcriber.check_language(language)
    assert language in info.value.message


def test_a_file_read_a_channel_at_a_time_is_transcribed_as_from_memory(
    transcriber: Transcriber,
    clips: dict[str, Clip],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With room for one channel only, each is decoded from the file on its own: the document
    is the one the whole decoded file gives."""
    left = place(seconds(14), [(0.5, clips["jfk.wav"].samples)])
    right = place(seconds(14), [(10.5, clips["goforward.wav"].samples)])
    path = tmp_path / "call.wav"
    sf.write(path, np.stack([left, right], axis=1), SAMPLE_RATE, subtype="PCM_16")
    audio = open_audio(path)
    monkeypatch.setattr(transcriber.settings, "audio_memory_mb", 1)
    assert audio.groups(1 << 20) == [[0], [1]]
    from_file = transcriber.transcribe(audio)
    from_memory = transcriber.transcribe(load_audio(path))
    assert from_file.channels == from_memory.channels and from_file.warnings == []
    assert "ask not what your country" in _text(from_file, 0).lower()

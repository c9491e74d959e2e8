"""The pipeline against the faster-whisper it wraps: never less accurate, no words on babble.

"Raw" is the transcriber's own loaded model called as a user of faster-whisper would
(`WhisperModel.transcribe(samples, beam_size=<ours>, word_timestamps=True)`), so both sides
run the same weights with the same beam. On the 17 transcribed clips, clean and as telephone
audio (`bench/accuracy.py` prints them clip by clip): the pipeline once lost words there that
raw kept, cut at speech edges by VAD on telephone audio ("ask", "eight of spades").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf
import soxr
from faster_whisper import decode_audio
from jiwer import wer
from whisper_normalizer.english import EnglishTextNormalizer

from transcribe.asr import Transcriber
from transcribe.asr.packing import find_speech
from transcribe.audio import SAMPLE_RATE, Audio, load_audio
from transcribe.document import TranscriptionDocument

from signals import babble
from speech import Clip, assert_document_invariants

TOLERANCE = 0.005  # half a point of WER

normalise = EnglishTextNormalizer()


@dataclass(frozen=True)
class Outputs:
    references: list[str]
    ours: list[str]
    raw: list[str]

    def wer(self, side: str) -> float:
        hypotheses = self.ours if side == "ours" else self.raw
        return float(
            wer([normalise(r) for r in self.references], [normalise(h) for h in hypotheses])
        )

    def worse(self) -> list[tuple[str, str, str]]:
        """(reference, ours, raw) of the clips where ours has more errors than raw."""
        rows = zip(self.references, self.ours, self.raw, strict=True)
        return [
            (r, o, w)
            for r, o, w in rows
            if wer(normalise(r), normalise(o)) > wer(normalise(r), normalise(w))
        ]


def _ours(transcriber: Transcriber, samples: np.ndarray) -> str:
    doc = transcriber.transcribe(
        Audio(samples=samples[None, :], source_rate=SAMPLE_RATE, source_format="WAV")
    )
    assert_document_invariants(doc)
    return _text(doc)


def _text(doc: TranscriptionDocument) -> str:
    return " ".join(s.sentence for ch in doc.channels for s in ch.transcript)


def _raw(transcriber: Transcriber, samples: np.ndarray) -> str:
    segments, _ = transcriber.model.transcribe(
        samples, beam_size=transcriber.settings.beam_size, word_timestamps=True
    )
    return " ".join(s.text for s in segments)


def _scored(clips: dict[str, Clip]) -> list[Clip]:
    return [c for name, c in sorted(clips.items()) if not name.startswith("ami_")]


@pytest.fixture(scope="module")
def clean(transcriber: Transcriber, clips: dict[str, Clip]) -> Outputs:
    scored = _scored(clips)
    return Outputs(
        references=[c.reference for c in scored],
        ours=[_ours(transcriber, c.samples) for c in scored],
        raw=[_raw(transcriber, c.samples) for c in scored],
    )


@pytest.fixture(scope="module")
def telephone(
    transcriber: Transcriber, clips: dict[str, Clip], tmp_path_factory: pytest.TempPathFactory
) -> Outputs:
    """Each clip as a phone system records it, 8 kHz G.711 mu-law in a WAV file: the service
    reads it with its own resampler, raw with faster-whisper's `decode_audio`, as its users do."""
    path = tmp_path_factory.mktemp("telephone") / "call.wav"
    ours, raw = [], []
    for clip in _scored(clips):
        sf.write(path, soxr.resample(clip.samples, SAMPLE_RATE, 8000), 8000, subtype="ULAW")
        ours.append(_ours(transcriber, load_audio(path).samples[0]))
        raw.append(_raw(transcriber, decode_audio(str(path))))
    return Outputs(references=[c.reference for c in _scored(clips)], ours=ours, raw=raw)


def test_on_clean_clips_the_pipeline_is_no_worse_than_raw_faster_whisper(clean: Outputs) -> None:
    print(f"clean WER: ours {clean.wer('ours'):.2%}, raw {clean.wer('raw'):.2%}")
    assert len(clean.references) == 17
    assert clean.wer("ours") <= clean.wer("raw") + TOLERANCE, clean.worse()


def test_on_telephone_audio_the_pipeline_is_no_worse_than_raw(telephone: Outputs) -> None:
    print(f"mu-law WER: ours {telephone.wer('ours'):.2%}, raw {telephone.wer('raw'):.2%}")
    assert telephone.wer("ours") <= telephone.wer("raw") + TOLERANCE, telephone.worse()


def test_telephone_audio_is_within_a_point_of_clean(clean: Outputs, telephone: Outputs) -> None:
    assert telephone.wer("ours") <= clean.wer("ours") + 0.01, list(
        zip(telephone.ours, clean.ours, strict=True)
    )


def test_babble_of_reversed_voices_gives_no_words(
    transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """A minute of seven voices played backwards: speech to VAD, but not a word in it."""
    voices = [c.samples for name, c in sorted(clips.items()) if not name.startswith("ami_")]
    noise = babble(voices, duration=60.0, voices=7, seed=3)
    assert find_speech(noise), "VAD hears speech in the babble: the guard is what is tested"
    doc = transcriber.transcribe(
        Audio(samples=noise[None, :], source_rate=SAMPLE_RATE, source_format="WAV")
    )
    assert _text(doc) == ""

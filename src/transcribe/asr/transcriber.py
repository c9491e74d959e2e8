"""Per-channel Whisper inference: one recording in, one transcription document out.

Each channel is transcribed on its own, so who said what is exact. A file is decoded a group
of channels at a time, as many as fit `audio_memory_mb` (at least one), so memory follows one
channel's length and never the channel count; a channel that stops decoding part-way is
transcribed up to there, and the document's `warnings` say so. Silero VAD finds each
channel's speech (every channel of a group at once, a core each: Silero runs on one), which
is packed into 30 s windows (`packing.py`) and decoded in batches (`BatchedInferencePipeline`),
so the silence of a call costs nothing. Regions the decoder skipped are decoded once more,
packed together and then, if still skipped, each in a window of its own. Channels run
concurrently up to `workers`.

With batching across jobs (`batch_across_jobs`, on by default with CUDA) the channel threads
of every transcription hand their windows to one decode thread (`batcher.py`), which decodes
them in shared batches, so a GPU sees full batches even when each call is short.

On a recording with several channels, speech of one party heard again on another channel
(headset or handset echo: quieter, a little late) is that party's, not the channel's: the
leakage gate (`leakage.py`), measured over the whole recording before the groups are
transcribed, cuts it from each channel's speech regions and drops words taken from it; when
the channels are held together and the leak is an exact delayed, scaled copy, it is also
subtracted from the channel (under the party's own speech too) before VAD and Whisper.

Whisper invents text for audio with no speech in it. The guards keep a channel of silence,
line noise, tones, DTMF, hold music or babble empty: VAD finds no speech chunk there; and a
window or segment the model's own signals rate as not speech is dropped (`segments.py`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ctranslate2
from faster_whisper import BatchedInferencePipeline, WhisperModel

from transcribe.asr.batcher import BatchObserver, DecodeStats, WindowBatcher, detect_language
from transcribe.asr.leakage import Gate
from transcribe.asr.leakage import measure as measure_leakage
from transcribe.asr.models import ResolvedModel, resolve_model
from transcribe.asr.packing import WINDOW_S, find_speech, missing_regions, pack
from transcribe.asr.segments import Heard, words_of
from transcribe.asr.timing import time_words
from transcribe.audio import SAMPLE_RATE, ChannelSource, Decoded, FloatArray
from transcribe.config import AsrSettings, cpu_count
from transcribe.document import (
    DEFAULT_LANGUAGE,
    Channel,
    DocumentWarning,
    TimedWord,
    TranscriptionDocument,
    build_sentences,
)
from transcribe.errors import UnsupportedLanguageError
from transcribe.languages import describe, whisper_language
from transcribe.threads import plan_threads, tune_allocator

log = logging.getLogger(__name__)


# Called with (seconds of audio done, seconds in all) as channels progress.
ProgressCallback = Callable[[float, float], None]


@dataclass(frozen=True)
class Runtime:
    """Where and how the model runs, decided once from the settings and the machine."""

    device: str
    compute_type: str
    workers: int  # channels transcribed at the same time, per transcription
    cpu_threads: int  # threads per model worker
    batch_across_jobs: bool = False
    model_workers: int = 1  # CTranslate2 workers: batches the model runs at the same time
    vad_threads: int = 1  # channels Silero looks at at once


def choose_runtime(settings: AsrSettings) -> Runtime:
    """`auto` means CUDA float16 when CTranslate2 sees a GPU, else CPU int8; the threads are
    `threads.plan_threads`' for the cores this process may use."""
    device = settings.device
    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    compute_type = settings.compute_type
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    batching = settings.batch_across_jobs == "on" or (
        settings.batch_across_jobs == "auto" and device == "cuda"
    )
    plan = plan_threads(
        cpu_count(),
        cuda=device == "cuda",
        batching=batching,
        workers=settings.workers,
        cpu_threads=settings.cpu_threads,
    )
    return Runtime(
        device=device,
        compute_type=compute_type,
        workers=plan.workers,
        cpu_threads=plan.cpu_threads,
        batch_across_jobs=batching,
        model_workers=plan.model_workers,
        vad_threads=plan.vad_threads,
    )


def normalise_language(code: str | None) -> str | None:
    """`en-US`, `en_GB`, `EN` -> `en`, `es-MX` -> `es` (see `languages.py`); None or empty
    stays None (detect, or English for English-only models)."""
    if code is None or not code.strip():
        return None
    return whisper_language(code)


@dataclass(frozen=True)
class Detected:
    """The language a multilingual model hears in a channel's speech."""

    language: str  # Whisper's code
    probability: float


class Transcriber:
    """Loads the model once; transcribes any number of recordings, concurrently if asked.

    `on_batch` hears (windows, channels) of every decode batch, for the metrics. `model`
    names another model than `settings.model` (the multilingual one), on the same settings;
    each Transcriber has its own decode thread when batching across jobs, so a batch never
    holds windows for two models.
    """

    def __init__(
        self,
        settings: AsrSettings,
        on_batch: BatchObserver | None = None,
        model: str | None = None,
    ) -> None:
        self.settings = settings
        self.model_info: ResolvedModel = resolve_model(settings, model)
        self.runtime = choose_runtime(settings)
        tune_allocator()  # before the model's threads start: see threads.py
        started = time.perf_counter()
        self.model = WhisperModel(
            self.model_info.path,
            device=self.runtime.device,
            compute_type=self.runtime.compute_type,
            cpu_threads=self.runtime.cpu_threads,
            num_workers=self.runtime.model_workers,
            download_root=str(settings.models_dir) if not self.model_info.local else None,
            local_files_only=self.model_info.local,
        )
        self.multilingual: bool = bool(self.model.model.is_multilingual)
        self.stats = DecodeStats(settings.batch_size, on_batch)
        self.batcher: WindowBatcher | None = None
        if self.runtime.batch_across_jobs:
            self.batcher = WindowBatcher(
                self.model,
                batch_size=settings.batch_size,
                beam_size=settings.beam_size,
                wait_s=settings.batch_wait_ms / 1000,
                stats=self.stats,
            )
        self.load_seconds = time.perf_counter() - started
        log.info(
            "loaded model %s from %s on %s/%s (%d threads x %d workers, %d channel threads, "
            "batching across jobs %s) in %.2f s",
            self.model_info.name,
            self.model_info.path,
            self.runtime.device,
            self.runtime.compute_type,
            self.runtime.cpu_threads,
            self.runtime.model_workers,
            self.runtime.workers,
            "on" if self.batcher else "off",
            self.load_seconds,
        )

    def close(self) -> None:
        """Stop the decode thread, if there is one, once it has decoded what it was given."""
        if self.batcher is not None:
            self.batcher.close()

    def check_language(self, language: str | None) -> str | None:
        """The Whisper code to decode with; an error if this model cannot do that language."""
        code = normalise_language(language)
        if not self.multilingual and code not in (None, "en"):
            raise UnsupportedLanguageError(
                f"model {self.model_info.name} transcribes English only; {language!r} needs "
                "a multilingual model (TRANSCRIBE__ASR__MULTILINGUAL_MODEL, base by default)",
                field="language",
            )
        return code if self.multilingual else "en"

    def transcribe(
        self,
        audio: ChannelSource,
        language: str | None = None,
        progress: ProgressCallback | None = None,
    ) -> TranscriptionDocument:
        """Transcribe every channel of `audio` (decoded, or a file) into the documented JSON."""
        code = self.check_language(language)
        tracker = _Progress(audio.channels, audio.duration, progress)
        channels: list[Channel] = []
        warnings: list[DocumentWarning] = []
        groups = audio.groups(self.settings.audio_memory_mb << 20)
        gates: list[Gate | None] = [None] * audio.channels
        held: Decoded | None = None  # a file read whole to measure its leakage, kept to use
        if self.settings.leakage_gate:
            gates, held = measure_leakage(audio, groups)
        with ThreadPoolExecutor(max_workers=self.runtime.workers) as pool:
            for group in groups:
                decoded = held or audio.read(group)
                held = None
                # Silero runs on one core: the group's channels are looked at together first.
                with ThreadPoolExecutor(max_workers=self.runtime.vad_threads) as finder:
                    speech = list(finder.map(find_speech, decoded.channels))
                futures = [
                    pool.submit(
                        self._channel, samples, found, code, tracker.for_channel(i), gates[i]
                    )
                    for i, samples, found in zip(group, decoded.channels, speech, strict=True)
                ]
                damage = decoded.damage
                del decoded  # the threads hold the group's audio until each channel is done
                for index, future in zip(group, futures, strict=True):
                    channel, detected = future.result()
                    channels.append(channel)
                    warning = self._mismatch(index, language, code, detected)
                    if warning is not None:
                        warnings.append(warning)
                if damage and all(w.message != damage for w in warnings):
                    warnings.append(DocumentWarning(code="audio_damaged", message=damage))
        return TranscriptionDocument(
            channels=channels,
            language=language.strip() if language and language.strip() else DEFAULT_LANGUAGE,
            model=self.model_info.name,
            warnings=warnings,
        )

    def _mismatch(
        self, index: int, asked: str | None, code: str | None, detected: Detected | None
    ) -> DocumentWarning | None:
        """A warning when the channel's speech is, with high probability, another language."""
        threshold = self.settings.language_mismatch_probability
        if detected is None or code is None or detected.language == code:
            return None
        if detected.probability < threshold:
            return None
        return DocumentWarning(
            code="language_mismatch",
            message=f"channel {index}: the speech sounds like {describe(detected.language)}, "
            f"with probability {detected.probability:.2f}, not {describe(code)} as asked "
            f"({asked!r}); the transcript is in {describe(code)} and may be wrong",
        )

    def _channel(
        self,
        samples: FloatArray,
        speech: list[tuple[int, int]],
        language: str | None,
        progress: Callable[[float], None],
        gate: Gate | None = None,
    ) -> tuple[Channel, Detected | None]:
        """The channel's sentences, and the language a multilingual model hears in it when
        one was asked for (the decoder is told the language; this is only a check). `speech`:
        its speech regions, found by VAD; `gate`: the other channels' speech leaked into this
        one, left out (leakage.py)."""
        duration = round(len(samples) / SAMPLE_RATE, 3)
        if gate is not None:
            speech = gate.regions(speech)
        detected = None
        if self.multilingual and language is not None and speech:
            detected = Detected(*detect_language(self.model, pack(samples, speech)))
        heard = self._decode(samples, speech, language, progress)
        words = self._retry(samples, speech, heard, language)
        words = time_words(words, samples)
        if gate is not None:
            words = gate.words(words)
        progress(duration)
        return Channel(transcript=build_sentences(words), duration=duration), detected

    def _retry(
        self,
        samples: FloatArray,
        speech: list[tuple[int, int]],
        heard: Heard,
        language: str | None,
    ) -> list[TimedWord]:
        """The words `heard`, with those of the regions that got none decoded again: packed
        together first (few windows), then each still missing alone. All of them missing means
        the packing would be the same, so they go alone at once (a sentence said over and
        over). Regions whose window the guard judged not speech are not tried again."""
        words = heard.words
        silent = set(heard.silent)
        missed = [r for r in missing_regions(words, speech) if r not in silent]
        for alone in (missed == speech, True):
            if not missed:
                break
            log.info("%d speech regions got no words; decoding them again", len(missed))
            again = self._decode(samples, missed, language, None, alone=alone)
            words = words + again.words
            if alone:
                break
            silent.update(again.silent)
            missed = [r for r in missing_regions(words, missed) if r not in silent]
        return sorted(words, key=lambda w: w.start)

    def _decode(
        self,
        samples: FloatArray,
        speech: list[tuple[int, int]],
        language: str | None,
        progress: Callable[[float], None] | None,
        alone: bool = False,
    ) -> Heard:
        """Words of the speech regions, decoded in batches of packed windows (`alone`: a window
        for each region)."""
        if not speech:
            return Heard()
        packing = pack(samples, speech, window_s=0 if alone else WINDOW_S)
        if self.batcher is not None:
            if language is None:  # a multilingual model and no language asked for
                language = detect_language(self.model, packing)[0] if self.multilingual else "en"
            return self.batcher.decode(packing, language, progress)
        self.stats.record([len(packing.windows)])
        # A pipeline of its own: it keeps the last word's time between windows (faster-whisper
        # times a first word after a pause by it), and channel threads decode at once.
        segments, _ = BatchedInferencePipeline(self.model).transcribe(
            packing.samples,
            language=language,
            word_timestamps=True,
            clip_timestamps=[{"start": a, "end": b} for a, b in packing.windows],
            batch_size=self.settings.batch_size,
            beam_size=self.settings.beam_size,
        )
        return words_of(segments, packing, progress)


class _Progress:
    """Adds up how far each channel has got and reports the total, from any thread."""

    def __init__(self, channels: int, duration: float, callback: ProgressCallback | None) -> None:
        self._done = [0.0] * channels
        self._total = duration * channels
        self._callback = callback
        self._lock = threading.Lock()

    def for_channel(self, index: int) -> Callable[[float], None]:
        def update(seconds: float) -> None:
            if self._callback is None:
                return
            with self._lock:
                self._done[index] = max(self._done[index], seconds)
                done = sum(self._done)
            self._callback(done, self._total)

        return update

"""Batching across jobs (`asr.batch_across_jobs`), forced on, on CPU with the real tiny.en.

What a channel gets from a shared decode call is compared with what the ordinary path (the
session's `transcriber`, batching off) gives the same audio. Mostly that is word for word,
times and confidences alike; two differences are allowed, both seen when 16 channels of these
clips were compared this way (whether a run here meets them depends on which windows end up
sharing a batch, which depends on thread timing):

- a confidence may differ in the second or third decimal: a window's numbers depend a little
  on which windows share its batch (int8 matrix products and padded alignment over a batch);
- the first word of a decode pass may start later. faster-whisper shortens an over-long first
  word after a pause, judging the pause from the previous window's last word (state it keeps
  across a call's windows). In a call of its own a channel's first window has no previous
  window; in a shared call it follows another channel's window, so the pause is long and an
  over-long first word (the one case: "for" in cards_002, 780 ms) is cut to twice the median
  word length. This is what the ordinary path already does for every later window of a channel.
  Only the first word's start moves (by at most that word's length, never past its end).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from jiwer import wer
from whisper_normalizer.english import EnglishTextNormalizer

from transcribe.asr import Transcriber
from transcribe.asr.batcher import DecodeStats, WindowBatcher
from transcribe.asr.packing import Packing, Region, find_speech, pack
from transcribe.asr.transcriber import choose_runtime
from transcribe.audio import SAMPLE_RATE, Audio, FloatArray
from transcribe.config import AsrSettings, Settings, cpu_count
from transcribe.document import TimedWord, TranscriptionDocument
from transcribe.metrics import Metrics

from signals import place, seconds, white_noise
from speech import Clip, assert_document_invariants

pytestmark = pytest.mark.model  # the `batching` fixture loads a model of its own

normalise = EnglishTextNormalizer()

# Each recording's channels hold clips no other recording has, so a word that strayed into
# another channel or recording would show.
RECORDINGS = [
    [[(0.5, "jfk.wav")], [(1.0, "librivox_sas01_0870.wav")]],
    [
        [(0.3, "ls_test-clean_1089-134686-0001.wav")],
        [(0.5, "cards_002.wav"), (4.0, "cards_005.wav")],
    ],
    [[(1.0, "librivox_sas01_0880.wav")], [(0.2, "goforward.wav"), (4.0, "cards_003.wav")]],
]


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture(scope="module")
def batching(metrics: Metrics) -> Iterator[Transcriber]:
    """tiny.en on CPU with batching across jobs forced on, its batches observed by `metrics`."""
    transcriber = Transcriber(
        AsrSettings(device="cpu", batch_across_jobs="on", workers=2, batch_wait_ms=300),
        on_batch=metrics.observe_asr_batch,
    )
    assert transcriber.batcher is not None
    yield transcriber
    transcriber.close()


def _audio(channels: list[FloatArray]) -> Audio:
    length = max(len(c) for c in channels)
    stacked = np.zeros((len(channels), length), np.float32)
    for i, c in enumerate(channels):
        stacked[i, : len(c)] = c
    return Audio(samples=stacked, source_rate=SAMPLE_RATE, source_format="WAV")


def _recording(layout: list[list[tuple[float, str]]], clips: dict[str, Clip]) -> Audio:
    length = seconds(1.0 + max(o + clips[n].duration for ch in layout for o, n in ch))
    return _audio([place(length, [(o, clips[n].samples) for o, n in ch]) for ch in layout])


def _words(doc: TranscriptionDocument, channel: int) -> list[TimedWord]:
    return [
        TimedWord(w.word, w.start_time, w.end_time, w.confidence)
        for s in doc.channels[channel].transcript
        for w in s.words
    ]


def _assert_same_words(alone: list[TimedWord], shared: list[TimedWord]) -> None:
    """Same words at the same times, but for the two differences the module explains."""
    assert [w.text for w in shared] == [w.text for w in alone]
    for i, (a, b) in enumerate(zip(alone, shared, strict=True)):
        assert b.probability == pytest.approx(a.probability, abs=0.02), (i, a, b)
        assert b.end == a.end, (i, a, b)
        if i == 0:
            assert a.start <= b.start <= b.end, (a, b)
        else:
            assert b.start == a.start, (i, a, b)


def _packing(samples: FloatArray) -> Packing:
    return pack(samples, find_speech(samples))


def test_concurrent_recordings_get_the_words_each_would_get_alone(
    batching: Transcriber, transcriber: Transcriber, clips: dict[str, Clip]
) -> None:
    """Three 2-channel recordings transcribed at once, from three threads, through one batcher."""
    audios = [_recording(layout, clips) for layout in RECORDINGS]
    alone = [transcriber.transcribe(audio) for audio in audios]
    before = batching.stats.snapshot()
    start = threading.Barrier(len(audios))

    def run(audio: Audio) -> TranscriptionDocument:
        start.wait()
        return batching.transcribe(audio, language="en-US")

    with ThreadPoolExecutor(len(audios)) as pool:
        shared = list(pool.map(run, audios))

    after = batching.stats.snapshot()
    assert after["requests"] - before["requests"] >= 6  # every channel went through it
    for layout, a, b in zip(RECORDINGS, alone, shared, strict=True):
        assert_document_invariants(b)
        for channel, pieces in enumerate(layout):
            _assert_same_words(_words(a, channel), _words(b, channel))
            reference = normalise(" ".join(clips[name].reference for _, name in pieces))
            text = " ".join(s.sentence for s in b.channels[channel].transcript)
            assert wer(reference, normalise(text)) <= 0.25, (pieces, text)


def test_windows_of_different_channels_share_a_decode_batch(
    batching: Transcriber, metrics: Metrics, clips: dict[str, Clip]
) -> None:
    """Three channels queued together are decoded in one batch, and each gets its own words."""
    assert batching.batcher is not None
    names = ["jfk.wav", "librivox_sas01_0890.wav", "cards_004.wav"]
    packings = [_packing(clips[name].samples) for name in names]
    alone = [batching.batcher.decode(p, "en").words for p in packings]  # one request per call
    before = batching.stats.snapshot()
    channels_before = metrics.registry.get_sample_value("transcribe_asr_batch_channels_sum") or 0

    futures = [batching.batcher.submit(p, "en") for p in packings]
    shared = [f.result(timeout=60).words for f in futures]

    after = batching.stats.snapshot()
    assert after["calls"] == before["calls"] + 1
    assert after["mixed_batches"] > before["mixed_batches"]
    assert after["max_requests_per_batch"] >= 3
    channels = metrics.registry.get_sample_value("transcribe_asr_batch_channels_sum")
    assert channels is not None and channels - channels_before == 3
    windows = metrics.registry.get_sample_value("transcribe_asr_batch_windows_count")
    assert windows is not None and windows >= after["batches"]
    for name, a, b in zip(names, alone, shared, strict=True):
        assert a, name
        _assert_same_words(a, b)


def test_an_error_reaches_only_its_caller_and_the_batcher_goes_on(
    batching: Transcriber, clips: dict[str, Clip]
) -> None:
    """A request faster-whisper cannot decode fails alone; so does one whose callback raises."""
    assert batching.batcher is not None
    good = [_packing(clips[name].samples) for name in ("cards_001.wav", "goforward.wav")]
    # A window that ends before it starts: faster-whisper raises while aligning the batch.
    broken = Packing(
        samples=np.zeros(seconds(3), np.float32),
        regions=[Region(0, seconds(3), 0)],
        windows=[(2.0, 1.0)],
    )
    futures = [
        batching.batcher.submit(good[0], "en"),
        batching.batcher.submit(broken, "en"),
        batching.batcher.submit(good[1], "en"),
    ]
    with pytest.raises(TypeError):
        futures[1].result(timeout=60)
    assert "of" in " ".join(w.text.lower() for w in futures[0].result(timeout=60).words)
    assert "forward" in " ".join(w.text.lower() for w in futures[2].result(timeout=60).words)

    def refuse(seconds_done: float) -> None:
        raise RuntimeError("progress bar closed")

    futures = [
        batching.batcher.submit(good[0], "en", refuse),
        batching.batcher.submit(good[1], "en"),
    ]
    with pytest.raises(RuntimeError, match="progress bar closed"):
        futures[0].result(timeout=60)
    assert futures[1].result(timeout=60).words
    # And the decode thread still serves whole transcriptions.
    doc = batching.transcribe(_audio([clips["cards_003.wav"].samples]))
    assert "clubs" in doc.channels[0].transcript[0].raw_sentence


def test_silent_and_noisy_channels_stay_empty_and_progress_completes(
    batching: Transcriber, clips: dict[str, Clip]
) -> None:
    speech = place(seconds(20), [(2.0, clips["librivox_sas01_0930.wav"].samples)])
    silence = np.zeros(seconds(20), np.float32)
    noise = white_noise(20, -45, seed=5)
    seen: list[tuple[float, float]] = []
    doc = batching.transcribe(
        _audio([speech, silence, noise]), progress=lambda done, total: seen.append((done, total))
    )
    assert_document_invariants(doc)
    assert doc.channels[0].transcript
    assert doc.channels[1].transcript == [] and doc.channels[2].transcript == []
    assert all(c.duration == pytest.approx(20.0, abs=0.001) for c in doc.channels)
    assert seen and seen[-1][0] == pytest.approx(seen[-1][1], abs=0.01)
    assert seen[-1][1] == pytest.approx(3 * 20.0, abs=0.01)


def test_close_finishes_what_was_queued_then_refuses(
    batching: Transcriber, clips: dict[str, Clip]
) -> None:
    """A batcher of its own on the loaded model: queued work is decoded, later work refused."""
    batcher = WindowBatcher(
        batching.model, batch_size=16, beam_size=1, wait_s=0.2, stats=DecodeStats(16)
    )
    future = batcher.submit(_packing(clips["cards_002.wav"].samples), "en")
    batcher.close(timeout=60)
    assert "queen" in " ".join(w.text.lower() for w in future.result(timeout=0).words)
    assert batcher._thread is not None and not batcher._thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit(_packing(clips["cards_001.wav"].samples), "en")
    assert batcher.submit(Packing(np.zeros(0, np.float32), [], []), "en").result().words == []


def test_runtime_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    cores = cpu_count()
    cpu = choose_runtime(AsrSettings(device="cpu"))
    assert not cpu.batch_across_jobs and cpu.model_workers == cpu.workers == max(1, cores // 4)
    forced = choose_runtime(AsrSettings(device="cpu", batch_across_jobs="on"))
    assert forced.batch_across_jobs and forced.model_workers == 1 and forced.cpu_threads == cores
    gpu = choose_runtime(AsrSettings(device="cuda"))
    assert gpu.batch_across_jobs and gpu.compute_type == "float16" and gpu.model_workers == 1
    assert gpu.workers == min(32, max(2, cores))
    assert choose_runtime(AsrSettings(device="cuda", workers=3)).workers == 3
    unbatched = choose_runtime(AsrSettings(device="cuda", batch_across_jobs="off"))
    assert not unbatched.batch_across_jobs and unbatched.model_workers == unbatched.workers
    monkeypatch.setenv("TRANSCRIBE__ASR__BATCH_ACROSS_JOBS", "on")
    monkeypatch.setenv("TRANSCRIBE__ASR__BATCH_WAIT_MS", "10")
    settings = Settings()
    assert settings.asr.batch_across_jobs == "on" and settings.asr.batch_wait_ms == 10

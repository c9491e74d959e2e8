"""Silero VAD over a channel of any length in bounded memory.

faster-whisper's `get_speech_timestamps` pads a copy of the whole channel and builds a second,
larger copy with each window's context before it runs the model: three times the channel at
once, 1.4 GB for a two-hour channel. This module runs the same model on the same inputs, in
the same batches of `_BATCH` windows with the same recurrent state carried between them, but
builds each batch's input from the channel as it goes; the probabilities are therefore
identical, and so are the regions, which come from a port of the same post-processing
(faster-whisper 1.2, MIT licence). `tests/test_packing.py` checks both against faster-whisper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.vad import VadOptions, get_vad_model

from transcribe.audio import SAMPLE_RATE, FloatArray

_WINDOW = 512  # samples per model step at 16 kHz
_CONTEXT = 64  # samples of the previous window the model also sees
_BATCH = 10_000  # windows per model call, as faster-whisper runs them


def speech_probabilities(samples: FloatArray) -> npt.NDArray[np.float32]:
    """The model's speech probability for each 32 ms window of `samples`.

    As faster-whisper does: the signal is padded to a whole number of windows (a whole extra
    window when it has one already), and the last window's last `_CONTEXT` samples are zeroed.
    """
    model: Any = get_vad_model()
    windows = len(samples) // _WINDOW + 1
    h = np.zeros((1, 1, 128), dtype="float32")
    c = np.zeros((1, 1, 128), dtype="float32")
    previous = np.zeros(_CONTEXT, np.float32)
    probabilities = []
    for first in range(0, windows, _BATCH):
        count = min(_BATCH, windows - first)
        batch = np.zeros((count, _WINDOW), np.float32)
        chunk = samples[first * _WINDOW : (first + count) * _WINDOW]
        batch.reshape(-1)[: len(chunk)] = chunk
        if first + count == windows:
            batch[-1, -_CONTEXT:] = 0
        context = np.concatenate([previous[None, :], batch[:-1, -_CONTEXT:]])
        inputs = np.concatenate([context, batch], axis=1)
        output, h, c = model.session.run(None, {"input": inputs, "h": h, "c": c})
        probabilities.append(output)
        previous = batch[-1, -_CONTEXT:].copy()
    return np.concatenate(probabilities)


def speech_regions(samples: FloatArray, options: VadOptions) -> list[tuple[int, int]]:
    """Speech regions (start, end) in samples: what `get_speech_timestamps` returns."""
    probabilities = speech_probabilities(samples)
    speeches = _find(probabilities, len(samples), options)
    _pad(speeches, len(samples), SAMPLE_RATE * options.speech_pad_ms / 1000)
    return [(speech["start"], speech["end"]) for speech in speeches]


def _find(
    probabilities: npt.NDArray[np.float32], length: int, options: VadOptions
) -> list[dict[str, int]]:
    """Hysteresis over the probabilities, regions cut at `max_speech_duration_s`; unpadded.
    `length`: the channel's, where a region still open at the end closes."""
    threshold = options.threshold
    neg_threshold = options.neg_threshold
    if neg_threshold is None:
        neg_threshold = max(threshold - 0.15, 0.01)
    min_speech = SAMPLE_RATE * options.min_speech_duration_ms / 1000
    pad = SAMPLE_RATE * options.speech_pad_ms / 1000
    max_speech = SAMPLE_RATE * options.max_speech_duration_s - _WINDOW - 2 * pad
    min_silence = SAMPLE_RATE * options.min_silence_duration_ms / 1000
    min_silence_at_max_speech = SAMPLE_RATE * 98 / 1000
    triggered = False
    speeches: list[dict[str, int]] = []
    current: dict[str, int] = {}
    temp_end = prev_end = next_start = 0
    for i, probability in enumerate(probabilities):
        at = _WINDOW * i
        if probability >= threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = at
        if probability >= threshold and not triggered:
            triggered = True
            current["start"] = at
            continue
        if triggered and at - current["start"] > max_speech:
            if prev_end:
                current["end"] = prev_end
                speeches.append(current)
                current = {}
                if next_start < prev_end:
                    triggered = False
                else:
                    current["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                current["end"] = at
                speeches.append(current)
                current = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue
        if probability < neg_threshold and triggered:
            if not temp_end:
                temp_end = at
            if at - temp_end > min_silence_at_max_speech:
                prev_end = temp_end
            if at - temp_end < min_silence:
                continue
            current["end"] = temp_end
            if current["end"] - current["start"] > min_speech:
                speeches.append(current)
            current = {}
            prev_end = next_start = temp_end = 0
            triggered = False
    if current and length - current["start"] > min_speech:
        current["end"] = length
        speeches.append(current)
    return speeches


def _pad(speeches: list[dict[str, int]], length: int, pad: float) -> None:
    """Widen each region by `pad` each side, or by half the gap where two would overlap."""
    for i, speech in enumerate(speeches):
        if i == 0:
            speech["start"] = int(max(0, speech["start"] - pad))
        if i != len(speeches) - 1:
            silence = speeches[i + 1]["start"] - speech["end"]
            if silence < 2 * pad:
                speech["end"] += int(silence // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - silence // 2))
            else:
                speech["end"] = int(min(length, speech["end"] + pad))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - pad))
        else:
            speech["end"] = int(min(length, speech["end"] + pad))

"""`endOnSilence`: find the moment the line has been quiet for so many seconds after speech.

Energy, measured against the line's own noise floor rather than a fixed level, so that the
hiss of a -50 dBFS line counts as silence while a quiet talker on a clean line counts as
speech. Per 20 ms frame:

- the noise floor is a low percentile of the recent frame levels (digital silence, such as a
  leg that has not joined yet, is left out: it says nothing about the line's noise);
- a frame is speech when it is `SPEECH_MARGIN_DB` above that floor and above `MIN_SPEECH_DBFS`;
- speech counts once it lasts `MIN_SPEECH_FRAMES` frames, so a click does not restart the wait;
- the recording ends `seconds` after the end of the last speech frame, once speech was heard.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from transcribe.audio import SAMPLE_RATE, FloatArray

FRAME = 320  # 20 ms
SPEECH_MARGIN_DB = 12.0
MIN_SPEECH_DBFS = -60.0
DIGITAL_SILENCE_DBFS = -85.0
MIN_SPEECH_FRAMES = 3
FLOOR_HISTORY_FRAMES = 250  # 5 s
FLOOR_PERCENTILE = 10
FLOOR_EVERY_FRAMES = 5  # re-estimate the floor every 100 ms


class SilenceDetector:
    """Feeds on the sum of the recorded legs, in chunks of any size, from the recording start."""

    def __init__(self, seconds: float) -> None:
        self._wait = round(seconds * SAMPLE_RATE)
        self._pending = np.zeros(0, np.float32)
        self._position = 0  # stream position of _pending[0]
        self._history: deque[float] = deque(maxlen=FLOOR_HISTORY_FRAMES)
        self._floor = MIN_SPEECH_DBFS - SPEECH_MARGIN_DB
        self._since_floor = 0
        self._run = 0
        self.last_speech_end: int | None = None

    def feed(self, samples: FloatArray) -> int | None:
        """The stream position where the recording should end, if that happens in this chunk."""
        buffer = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        count = len(buffer) // FRAME
        frames = buffer[: count * FRAME].reshape(count, FRAME).astype(np.float64)
        levels = 10 * np.log10(np.einsum("ij,ij->i", frames, frames) / FRAME + 1e-12)
        end = None
        for k, level in enumerate(levels.tolist()):
            frame_end = self._position + (k + 1) * FRAME
            end = self._frame(level, frame_end)
            if end is not None:
                break
        self._pending = buffer[count * FRAME :].copy()
        self._position += count * FRAME
        return end

    def _frame(self, level: float, frame_end: int) -> int | None:
        if level > DIGITAL_SILENCE_DBFS:
            self._history.append(level)
            self._since_floor += 1
            # Every frame while the history is short, so the first frames of line noise
            # already set the floor instead of passing for speech.
            if (
                len(self._history) < FLOOR_HISTORY_FRAMES // 5
                or self._since_floor >= FLOOR_EVERY_FRAMES
            ):
                self._floor = float(np.percentile(self._history, FLOOR_PERCENTILE))
                self._since_floor = 0
        if level > max(self._floor + SPEECH_MARGIN_DB, MIN_SPEECH_DBFS):
            self._run += 1
            if self._run >= MIN_SPEECH_FRAMES:
                self.last_speech_end = frame_end
        else:
            self._run = 0
        if self.last_speech_end is not None and frame_end - self.last_speech_end >= self._wait:
            return self.last_speech_end + self._wait
        return None

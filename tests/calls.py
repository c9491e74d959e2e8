"""Two-leg calls built from real speech, for the client, notebook and analytics tests.

`clips_call`: real recorded speech. The caller says JFK's line; the agent joins 9 s in and
talks over its last 2 s ("go forward ten meters"), then 5 s of silence, then introduces
herself. `dialogue_call`: espeak-ng speaks a short support call with questions, answers
and a commitment, one turn after another.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, FloatArray, load_audio

from speech import Clip

TURNS = [
    (0, "Hello. Could you send me the invoice by Friday?"),
    (1, "Yes. I will send the invoice tomorrow morning."),
    (0, "When did the order ship?"),
    (1, "It shipped on Monday."),
]


@dataclass(frozen=True)
class TwoLegCall:
    name: str
    legs: list[FloatArray]  # 16 kHz mono, one per leg in join order
    offsets_ms: list[int]

    def leg_files(self) -> list[tuple[str, bytes]]:
        """Each leg as a WAV upload (file name, bytes)."""
        out = []
        for index, samples in enumerate(self.legs):
            buffer = io.BytesIO()
            sf.write(buffer, samples, SAMPLE_RATE, format="WAV", subtype="PCM_16")
            out.append((f"{self.name}-leg{index}.wav", buffer.getvalue()))
        return out


def espeak(text: str, voice: str = "en-us") -> FloatArray:
    """`text` spoken by espeak-ng (installed by `make system-deps`) in `voice`, 16 kHz mono."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        pytest.fail("espeak-ng is missing: run `make system-deps` (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run([binary, "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
        return load_audio(wav).samples[0]


def dialogue(turns: list[tuple[int, str]] = TURNS) -> FloatArray:
    """(2, samples): each turn on its channel, 0.5 s lead-in, 1 s of silence between turns."""
    spoken = [(channel, espeak(text)) for channel, text in turns]
    total = sum(len(s) for _, s in spoken) + SAMPLE_RATE * (len(spoken) + 1)
    call = np.zeros((2, total), np.float32)
    position = SAMPLE_RATE // 2
    for channel, samples in spoken:
        call[channel, position : position + len(samples)] = samples
        position += len(samples) + SAMPLE_RATE
    return call


def dialogue_call() -> TwoLegCall:
    caller, agent = dialogue()
    return TwoLegCall("dialogue", [caller, agent], [0, 0])


def clips_call(clips: dict[str, Clip]) -> TwoLegCall:
    agent = np.concatenate(
        [
            clips["goforward.wav"].samples,
            np.zeros(5 * SAMPLE_RATE, np.float32),
            clips["ami_ES2011a_headset0_40-46s.wav"].samples,
        ]
    )
    return TwoLegCall("clips", [clips["jfk.wav"].samples, agent], [0, 9000])

"""Decoding recordings into per-channel 16 kHz float32 audio, the form the model takes.

Files are read in blocks through libsndfile (WAV, FLAC, MP3, OGG Vorbis/Opus) and resampled
with soxr, a band-limited resampler, so a long recording at 44.1 kHz is never held in memory
at its original rate. Anything we cannot decode is an `InvalidAudioError` or
`UnsupportedAudioError` naming the file and the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from transcribe.errors import InvalidAudioError, UnsupportedAudioError
from transcribe.limits import MAX_CHANNELS

SAMPLE_RATE = 16_000
SUPPORTED_FORMATS = ("WAV", "WAVEX", "RF64", "FLAC", "MP3", "OGG")
_BLOCK_FRAMES = 1 << 16

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Audio:
    """Decoded audio: `samples` has shape (channels, frames) at `SAMPLE_RATE`."""

    samples: FloatArray
    source_rate: int
    source_format: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Seconds of audio in each channel."""
        return float(self.samples.shape[1] / SAMPLE_RATE)


def load_audio(path: str | Path) -> Audio:
    """Decode a recording file into per-channel 16 kHz float32 samples."""
    name, info = _probe(Path(path))
    parts = list(_blocks(name, info))
    if parts:
        samples = np.ascontiguousarray(np.concatenate(parts).T)
    else:
        samples = np.zeros((info.channels, 0), dtype=np.float32)
    if samples.shape[1] == 0:
        raise InvalidAudioError(f"{name}: the file holds no audio frames", field="file")
    return Audio(samples=samples, source_rate=info.samplerate, source_format=info.format)


def stream_audio(path: str | Path) -> Iterator[FloatArray]:
    """A file's audio as (frames, channels) blocks at 16 kHz, decoded as they are consumed.

    For audio too long to hold (a two-hour call leg): memory stays at one block. The file is
    checked now, so a bad one fails here rather than halfway through the caller's work;
    corruption further in is an `InvalidAudioError` from the iteration.
    """
    name, info = _probe(Path(path))
    return _blocks(name, info)


def _probe(path: Path) -> tuple[str, sf._SoundFileInfo]:
    """The file's header, checked: we can decode it and its shape is one we take."""
    name = str(path)
    if not path.is_file():
        raise InvalidAudioError(f"{name}: no such file", field="file")
    if path.stat().st_size == 0:
        raise InvalidAudioError(f"{name}: the file is empty", field="file")
    try:
        info = sf.info(name)
    except sf.LibsndfileError as exc:
        raise UnsupportedAudioError(
            f"{name}: not a WAV, FLAC, MP3 or OGG file we can decode",
            field="file",
        ) from exc
    if info.format not in SUPPORTED_FORMATS:
        raise UnsupportedAudioError(
            f"{name}: {info.format_info} is not supported; use WAV, FLAC, MP3 or OGG",
            field="file",
        )
    if info.channels > MAX_CHANNELS:
        raise InvalidAudioError(
            f"{name}: {info.channels} channels; at most {MAX_CHANNELS} are supported",
            field="file",
        )
    if info.samplerate < 4000 or info.samplerate > 384_000:
        raise InvalidAudioError(f"{name}: sample rate {info.samplerate} Hz is not audio")
    return name, info


def _blocks(name: str, info: sf._SoundFileInfo) -> Iterator[FloatArray]:
    """Read blocks and resample each as a stream, so the source rate is never held whole."""
    resampler = (
        soxr.ResampleStream(info.samplerate, SAMPLE_RATE, info.channels, dtype="float32")
        if info.samplerate != SAMPLE_RATE
        else None
    )
    try:
        with sf.SoundFile(name) as f:
            while True:
                block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                last = len(block) < _BLOCK_FRAMES
                if resampler is not None:
                    block = resampler.resample_chunk(block, last=last)
                if len(block):
                    yield np.ascontiguousarray(block)
                if last:
                    break
    except sf.LibsndfileError as exc:
        raise InvalidAudioError(
            f"{name}: the audio data is corrupt or truncated ({exc.error_string})", field="file"
        ) from exc
    if info.format in ("WAV", "WAVEX"):
        _check_wav_complete(name)


def _check_wav_complete(name: str) -> None:
    """libsndfile quietly shortens a cut-off WAV; compare the data chunk's size with the file."""
    with open(name, "rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF":
            return
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            size = int.from_bytes(chunk[4:], "little")
            if chunk[:4] == b"data":
                start = f.tell()
                end = f.seek(0, 2)
                streaming = size in (0, 0xFFFFFFFF)
                if not streaming and end - start < size:
                    raise InvalidAudioError(
                        f"{name}: truncated: the WAV header declares {size} bytes of audio, "
                        f"only {end - start} are there",
                        field="file",
                    )
                return
            f.seek(size + (size & 1), 1)


def to_int16(samples: FloatArray) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1] to 16-bit PCM, limited rather than wrapped at full scale."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)

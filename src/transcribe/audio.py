"""Decoding recordings into per-channel 16 kHz float32 audio, the form the model takes.

A file is checked from its header before anything is decoded (`open_audio`): the format, the
channel count and the duration against the limits, so a small file that would decode into
gigabytes (hours of silence, dozens of channels) is refused at once. Decoding then goes block
by block through libsndfile (WAV, FLAC, MP3, OGG Vorbis/Opus) and soxr, a band-limited
resampler, so the source rate is never held whole, and keeps only the channels asked for
(`AudioFile.read`): a transcription holds one channel's audio at a time, not the file's.
Every call into libsndfile runs in `quiet_decoder()`, which keeps libmpg123's notes about
damaged MP3 frames off stderr (see decoder_noise.py).

Damage is handled per format (`AudioFile.check_intact`, `AudioFile.read`):
- a cut-off WAV (its data chunk is shorter than its header declares), a FLAC whose end does
  not decode, an OGG whose last page is incomplete or not the end of its stream: refused;
- audio that stops decoding part-way (a corrupt FLAC or MP3 frame, an MP3 cut short): `read`
  returns what came before the damage and says where it stopped (`Decoded.damage`), so the
  caller can go on and tell the user; `load_audio` and `stream_audio` refuse it instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from math import ceil
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from transcribe.decoder_noise import quiet_decoder
from transcribe.errors import InvalidAudioError, PayloadTooLargeError, UnsupportedAudioError
from transcribe.limits import MAX_CHANNELS, MAX_RECORD_SECONDS

SAMPLE_RATE = 16_000
SUPPORTED_FORMATS = ("WAV", "WAVEX", "RF64", "FLAC", "MP3", "OGG")
_BLOCK_FRAMES = 1 << 16
# How much of a file's end `check_intact` decodes to see that it is all there.
_TAIL_S = 1.0
# Audio that decodes this much shorter than its header says was cut or damaged (lossy codecs
# differ from their headers by a frame or two of padding, far less than this).
_SHORT_S = 1.0
# An OGG page is at most 27 + 255 + 255 * 255 bytes: the last one lies within this.
_OGG_MAX_PAGE = 65_307
# What libsndfile reports as the length of a file whose header does not give it (a FLAC
# written as a stream): SF_COUNT_MAX.
_UNKNOWN_LENGTH = (1 << 63) - 1

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Decoded:
    """Some channels of a recording at 16 kHz, each one contiguous array; `damage` says why
    decoding stopped before the end, when it did (the arrays hold what came before)."""

    channels: list[FloatArray]
    damage: str | None = None


class ChannelSource(Protocol):
    """Audio a transcription reads channel by channel: in memory (`Audio`) or a file
    (`AudioFile`), which decodes only the channels asked for."""

    @property
    def channels(self) -> int: ...

    @property
    def duration(self) -> float: ...

    def groups(self, budget_bytes: int) -> list[list[int]]:
        """Channels to `read` together, in order, so that each group fits `budget_bytes`."""
        ...

    def read(self, channels: Sequence[int]) -> Decoded: ...


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

    def groups(self, budget_bytes: int) -> list[list[int]]:
        """All channels at once: they are in memory already."""
        return [list(range(self.channels))]

    def read(self, channels: Sequence[int]) -> Decoded:
        return Decoded([self.samples[i] for i in channels])


@dataclass(frozen=True)
class AudioFile:
    """A recording file whose header passed the limits; nothing of it decoded yet."""

    path: Path
    name: str  # how errors name the file
    channels: int
    source_rate: int
    source_format: str
    frames: int  # per channel at `source_rate`, as the header says
    max_seconds: float

    @property
    def duration(self) -> float:
        """Seconds of audio in each channel, as the header says."""
        return self.frames / self.source_rate

    def groups(self, budget_bytes: int) -> list[list[int]]:
        """As many channels per group as fit the budget at 16 kHz float32, at least one."""
        per_channel = 4 * ceil(self.duration * SAMPLE_RATE) or 1
        size = max(1, budget_bytes // per_channel)
        return [list(range(i, min(i + size, self.channels))) for i in range(0, self.channels, size)]

    def check_intact(self) -> None:
        """Cheap checks that the file is whole, without decoding it all: its first block
        decodes, and its end is where its header says (each format in its own way; see the
        module's docstring). Raises `InvalidAudioError` naming what is wrong."""
        reason = None
        try:
            with quiet_decoder(), sf.SoundFile(str(self.path)) as f:
                f.read(min(_BLOCK_FRAMES, self.frames), dtype="float32")
                if self.source_format == "FLAC":  # its length is exact: the end must decode
                    tail = min(self.frames, round(_TAIL_S * self.source_rate))
                    f.seek(self.frames - tail)
                    if len(f.read(tail, dtype="float32")) < tail:
                        reason = "its end is missing"
        except sf.LibsndfileError as exc:
            reason = exc.error_string
        if reason is not None:
            raise InvalidAudioError(
                f"{self.name}: the audio data is corrupt or truncated ({reason}); "
                f"the header says {self.duration:.1f} s",
                field="file",
            )
        if self.source_format in ("WAV", "WAVEX"):
            _check_wav_complete(self.path, self.name)
        if self.source_format == "OGG" and not _ogg_ends_cleanly(self.path):
            raise InvalidAudioError(
                f"{self.name}: truncated: the OGG stream stops without its last page",
                field="file",
            )

    def read(self, channels: Sequence[int]) -> Decoded:
        """These channels, whole, at 16 kHz: the file is decoded block by block and only they
        are kept, in one array filled as it goes (never a list of blocks joined at the end,
        which would hold everything twice). Decoding that fails part-way, or ends well short
        of the header's length, returns what came before with `damage` saying so."""
        columns = list(channels)
        out = np.empty((len(columns), ceil(self.duration * SAMPLE_RATE) + 1), np.float32)
        filled = 0
        damage = None
        try:
            for block in self._decode(columns):
                if filled + len(block) > out.shape[1]:  # the header undercounted (MP3 VBR)
                    out = _grow(out, filled + len(block))
                out[:, filled : filled + len(block)] = block.T
                filled += len(block)
        except _Damaged as exc:
            damage = exc.reason
        seconds = filled / SAMPLE_RATE
        if damage is None and self._short(seconds):
            damage = "the file is cut short"
        if damage is not None:
            damage = (
                f"the audio stops decoding at {seconds:.1f} s of the {self.duration:.1f} s its "
                f"header says ({damage}); transcribed up to there"
            )
        return Decoded([out[i, :filled] for i in range(len(columns))], damage)

    def blocks(self) -> Iterator[FloatArray]:
        """Every channel as (frames, channels) blocks at 16 kHz, decoded as they are consumed;
        damage on the way, or an end well before the header's, is an `InvalidAudioError` from
        the iteration."""
        produced = 0
        try:
            for block in self._decode(list(range(self.channels))):
                produced += len(block)
                yield block
        except _Damaged as exc:
            raise InvalidAudioError(
                f"{self.name}: the audio data is corrupt or truncated ({exc.reason})", field="file"
            ) from None
        if self._short(produced / SAMPLE_RATE):
            raise InvalidAudioError(
                f"{self.name}: truncated: the audio ends at {produced / SAMPLE_RATE:.1f} s of "
                f"the {self.duration:.1f} s its header says",
                field="file",
            )

    def _short(self, seconds: float) -> bool:
        return seconds < self.duration - _SHORT_S

    def _decode(self, columns: list[int]) -> Iterator[FloatArray]:
        """(frames, len(columns)) blocks at 16 kHz; `_Damaged` where decoding fails, and an
        error if the audio runs past `max_seconds` whatever its header said."""
        every = columns == list(range(self.channels))
        resampler = (
            soxr.ResampleStream(self.source_rate, SAMPLE_RATE, len(columns), dtype="float32")
            if self.source_rate != SAMPLE_RATE
            else None
        )
        limit = self.max_seconds * self.source_rate
        read = 0
        try:
            with quiet_decoder():  # each call into the decoder, never across a yield
                f = sf.SoundFile(str(self.path))
            with f:
                while True:
                    with quiet_decoder():
                        block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                    last = len(block) < _BLOCK_FRAMES
                    read += len(block)
                    if read > limit:
                        raise _too_long(self.name, self.max_seconds)
                    if not every:
                        block = block[:, columns]
                    if resampler is not None:
                        block = resampler.resample_chunk(block, last=last)
                    if len(block):
                        yield np.ascontiguousarray(block)
                    if last:
                        return
        except sf.LibsndfileError as exc:
            raise _Damaged(exc.error_string or "a corrupt frame") from exc


class _Damaged(Exception):
    """Decoding stopped part-way; `reason` is libsndfile's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def open_audio(
    path: str | Path, max_seconds: float = MAX_RECORD_SECONDS, name: str | None = None
) -> AudioFile:
    """A recording file, checked from its header alone: a format we decode, a sample rate
    that is audio, at most `MAX_CHANNELS` channels and at most `max_seconds` long (the
    `max_audio_seconds` setting). Nothing is decoded here. Errors call the file `name`
    (default: its path; a server's own files are not for users to see)."""
    path = Path(path)
    name = name or str(path)
    if path.is_dir():
        raise InvalidAudioError(
            f"{name}: is a directory; give an audio file (WAV, FLAC, MP3 or OGG) in it",
            field="file",
        )
    if not path.exists():
        raise InvalidAudioError(f"{name}: no such file", field="file")
    if not path.is_file():
        raise InvalidAudioError(
            f"{name}: not a regular file; give an audio file (WAV, FLAC, MP3 or OGG)", field="file"
        )
    if path.stat().st_size == 0:
        raise InvalidAudioError(f"{name}: the file is empty", field="file")
    try:
        with quiet_decoder():
            info = sf.info(str(path))
    except sf.LibsndfileError as exc:
        raise UnsupportedAudioError(
            f"{name}: not a WAV, FLAC, MP3 or OGG file we can decode", field="file"
        ) from exc
    if info.format not in SUPPORTED_FORMATS:
        raise UnsupportedAudioError(
            f"{name}: {info.format_info} is not supported; use WAV, FLAC, MP3 or OGG", field="file"
        )
    if info.channels > MAX_CHANNELS:
        raise InvalidAudioError(
            f"{name}: {info.channels} channels; at most {MAX_CHANNELS} are supported", field="file"
        )
    if info.samplerate < 4000 or info.samplerate > 384_000:
        raise InvalidAudioError(
            f"{name}: sample rate {info.samplerate} Hz is not audio", field="file"
        )
    if info.frames == 0:
        raise InvalidAudioError(f"{name}: the file holds no audio frames", field="file")
    if info.frames == _UNKNOWN_LENGTH:
        raise InvalidAudioError(
            f"{name}: the header does not say how long the audio is, so it cannot be checked "
            f"against max_audio_seconds ({max_seconds:g} s); write the file with its length",
            field="file",
        )
    if info.frames / info.samplerate > max_seconds:
        raise _too_long(name, max_seconds, info.frames / info.samplerate)
    return AudioFile(
        path, name, info.channels, info.samplerate, info.format, info.frames, max_seconds
    )


def load_audio(path: str | Path, max_seconds: float = MAX_RECORD_SECONDS) -> Audio:
    """Decode a whole recording file into per-channel 16 kHz float32 samples, refusing a file
    that is damaged anywhere. For short audio (tests, benchmarks, clips): a transcription of
    a file reads it through `open_audio`, a few channels at a time."""
    audio = open_audio(path, max_seconds)
    audio.check_intact()
    decoded = audio.read(range(audio.channels))
    if decoded.damage is not None:
        raise InvalidAudioError(f"{audio.name}: corrupt or truncated: {decoded.damage}")
    if not len(decoded.channels[0]):
        raise InvalidAudioError(f"{audio.name}: the file holds no audio frames", field="file")
    return Audio(np.stack(decoded.channels), audio.source_rate, audio.source_format)


def stream_audio(path: str | Path, max_seconds: float = MAX_RECORD_SECONDS) -> Iterator[FloatArray]:
    """A file's audio as (frames, channels) blocks at 16 kHz, decoded as they are consumed.

    For audio too long to hold (a two-hour call leg): memory stays at one block. The file is
    checked now, so a bad one fails here rather than halfway through the caller's work;
    corruption further in is an `InvalidAudioError` from the iteration.
    """
    audio = open_audio(path, max_seconds)
    audio.check_intact()
    return audio.blocks()


def _too_long(name: str, max_seconds: float, seconds: float | None = None) -> PayloadTooLargeError:
    length = "longer" if seconds is None else f"{seconds:.0f} s"
    return PayloadTooLargeError(
        f"{name}: the audio is {length}; the limit is max_audio_seconds = {max_seconds:g} s",
        field="file",
    )


def _grow(out: FloatArray, needed: int) -> FloatArray:
    bigger = np.empty((out.shape[0], max(needed, out.shape[1] * 5 // 4)), np.float32)
    bigger[:, : out.shape[1]] = out
    return bigger


def _check_wav_complete(path: Path, name: str) -> None:
    """libsndfile quietly shortens a cut-off WAV; compare the data chunk's size with the file."""
    with open(path, "rb") as f:
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


def _ogg_ends_cleanly(path: Path) -> bool:
    """The file ends with a whole OGG page that closes its stream (the end-of-stream flag).

    libsndfile takes an OGG's length from the last page it finds, so a cut file looks whole
    to it. Pages are found from the end by their capture pattern; one that also occurs inside
    packet data fails the size check, and the search goes on to the real page start.
    """
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        f.seek(max(0, size - _OGG_MAX_PAGE))
        tail = f.read()
    at = len(tail)
    while (at := tail.rfind(b"OggS", 0, at)) >= 0:
        if len(tail) - at < 27:
            continue
        segments = tail[at + 26]
        body = sum(tail[at + 27 : at + 27 + segments])
        if at + 27 + segments + body == len(tail):
            return bool(tail[at + 5] & 0x04)
    return False


def to_int16(samples: FloatArray) -> npt.NDArray[np.int16]:
    """Float samples in [-1, 1] to 16-bit PCM, limited rather than wrapped at full scale."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)

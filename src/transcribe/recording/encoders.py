"""Recording file writers: 16 kHz WAV (16-bit PCM), MP3 (constant 32 kbps) and OGG Vorbis.

Each writer takes blocks as the engine produces them and hands them straight to libsndfile,
which encodes and writes as it goes, so memory does not grow with the length of the call.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, FloatArray
from transcribe.errors import InvalidRequestError, TranscribeError
from transcribe.ncco import RecordingFormat

MP3_KBPS = 32

# libsndfile turns a compression level c into an MPEG-2 (16-24 kHz) CBR bitrate of
# int(160 - 152 c) kbps. c = 128/152 is exactly 32 kbps on paper but may round down to 31 in
# floating point, so we aim a hair above 32; the test reads every frame header back.
_MP3_COMPRESSION = (160 - MP3_KBPS) / 152 - 1e-4

# sf_command code asking libsndfile to write RF64 only if the file outgrows 4 GiB and a plain
# WAV otherwise (soundfile does not name it). Two channels stay under 4 GiB for the longest
# recording (7200 s), 32 channels pass it after 70 minutes.
_SFC_RF64_AUTO_DOWNGRADE = 0x1210
_WAV_MAX_PLAIN_CHANNELS = 2

# LAME starts every stream with 576 samples of encoder delay, and decoders add 529 more. A
# tagged file tells gapless decoders to trim them, but libsndfile writes no such tag, so
# libsndfile and FFmpeg both return the audio 1105 samples (69 ms) late. We drop the first
# 1105 samples instead: the first 69 ms of a call (the connect, or the start of the beep) go,
# and in exchange every word in the decoded MP3 is where the recording clock says it is.
MP3_CODEC_DELAY = 1105

MIME_TYPES: dict[RecordingFormat, str] = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
}


class RecordingWriter:
    """Streams (frames, channels) float32 blocks in [-1, 1) into one recording file."""

    def __init__(self, path: Path, file_format: RecordingFormat, channels: int) -> None:
        self.path = path
        self.format = file_format
        self.channels = channels
        self._skip = MP3_CODEC_DELAY if file_format == "mp3" else 0
        try:
            self._file = _open(path, file_format, channels)
        except (sf.LibsndfileError, OSError) as exc:
            raise InvalidRequestError(
                f"{path}: cannot write a {file_format} recording there ({exc})", field="output"
            ) from exc

    def write(self, block: FloatArray) -> None:
        if self._skip:
            dropped = min(self._skip, len(block))
            block, self._skip = block[dropped:], self._skip - dropped
        if not len(block):
            return
        if self.format == "wav":
            self._file.write(_pcm16(block))
        else:
            # Floats, not int16: libsndfile 1.2's 16-bit stereo MP3 path copies half the data.
            self._file.write(np.ascontiguousarray(block, dtype=np.float32))

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def transcode(source: Path, path: Path, file_format: RecordingFormat) -> None:
    """Encode a 16 kHz recording WAV, as the engine wrote it, into `file_format` at `path`:
    the same file the engine would have written in that format (the same encoder and the same
    MP3 delay trimming), block by block. `path` appears only once it is complete."""
    with sf.SoundFile(source) as wav, replacing(path) as partial:
        if wav.samplerate != SAMPLE_RATE:
            raise InvalidRequestError(
                f"{source}: a {wav.samplerate} Hz WAV is not a recording", field="source"
            )
        writer = RecordingWriter(partial, file_format, wav.channels)
        try:
            for block in wav.blocks(SAMPLE_RATE * 4, dtype="float32", always_2d=True):
                writer.write(block)
        finally:
            writer.close()


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write a file at; renamed onto `path` when the block
    ends, deleted if it fails. So `path` is never a half-written file, and a file already
    there stays as it was unless a whole new one replaces it. Errors name `path`."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        yield partial
    except TranscribeError as exc:
        partial.unlink(missing_ok=True)
        raise type(exc)(exc.message.replace(str(partial), str(path)), field=exc.field) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def _open(path: Path, file_format: RecordingFormat, channels: int) -> sf.SoundFile:
    if file_format == "mp3":
        return sf.SoundFile(
            path,
            "w",
            SAMPLE_RATE,
            channels,
            format="MP3",
            subtype="MPEG_LAYER_III",
            compression_level=_MP3_COMPRESSION,
            bitrate_mode="CONSTANT",
        )
    if file_format == "ogg":
        return sf.SoundFile(path, "w", SAMPLE_RATE, channels, format="OGG", subtype="VORBIS")
    if channels <= _WAV_MAX_PLAIN_CHANNELS:  # the most widely readable WAV: format tag 1
        return sf.SoundFile(path, "w", SAMPLE_RATE, channels, format="WAV", subtype="PCM_16")
    # WAVE_FORMAT_EXTENSIBLE, as more than two channels should be, or RF64 past 4 GiB.
    f = sf.SoundFile(path, "w", SAMPLE_RATE, channels, format="RF64", subtype="PCM_16")
    sf._snd.sf_command(f._file, _SFC_RF64_AUTO_DOWNGRADE, sf._ffi.NULL, 1)
    return f


def _pcm16(block: FloatArray) -> npt.NDArray[np.int16]:
    """Scaled by 32768, the inverse of how legs' 16-bit PCM became floats, so a leg recorded
    alone comes out bit for bit."""
    scaled: FloatArray = np.rint(block * np.float32(32768.0))
    return np.clip(scaled, -32768, 32767).astype(np.int16)

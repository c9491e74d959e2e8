"""The files the engine writes: what a player or another tool finds when it opens them."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings import read, record
from transcribe.audio import SAMPLE_RATE

from conftest import Clip
from signals import find_offset

A, B, C = "jfk.wav", "ls_test-clean_1089-134686-0001.wav", "librivox_sas01_0870.wav"

MPEG2_LAYER3_KBPS = (None, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, None)
MPEG2_RATES = (22050, 24000, 16000, None)
MONO = 3


@dataclass(frozen=True)
class Mp3Frame:
    version: int  # 2 is MPEG-2
    layer: int  # 3 is Layer III
    kbps: int | None
    sample_rate: int | None
    channel_mode: int  # 0 stereo, 1 joint stereo, 2 dual channel, 3 mono


def mp3_frames(data: bytes) -> list[Mp3Frame]:
    """Every MPEG audio frame header, walking the file frame by frame from start to end."""
    pos, end = 0, len(data)
    if data[:3] == b"ID3":  # ID3v2 tag: 10-byte header, then a syncsafe size
        pos = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    if data[-128:-125] == b"TAG":  # ID3v1 trailer
        end -= 128
    frames = []
    while pos < end:
        header = int.from_bytes(data[pos : pos + 4], "big")
        assert header >> 21 == 0x7FF, f"no frame sync at byte {pos}"
        version = {0: 25, 2: 2, 3: 1}[(header >> 19) & 3]
        layer = 4 - ((header >> 17) & 3)
        kbps = MPEG2_LAYER3_KBPS[(header >> 12) & 15]
        rate = MPEG2_RATES[(header >> 10) & 3]
        frame = Mp3Frame(version, layer, kbps, rate, (header >> 6) & 3)
        assert (version, layer) == (2, 3), frame  # the tables above are MPEG-2 Layer III's
        assert kbps and rate, frame
        frames.append(frame)
        pos += 72 * kbps * 1000 // rate + ((header >> 9) & 1)  # 576 samples per frame
    assert pos == end, "the last frame runs past the end of the file"
    return frames


@pytest.mark.parametrize(("options", "channels"), [({}, 1), ({"split": "conversation"}, 2)])
def test_mp3_is_constant_32kbps_at_16khz_in_every_frame(
    tmp_path: Path, clips: dict[str, Clip], options: dict[str, str], channels: int
) -> None:
    legs = [(0.0, clips[A].samples), (2.0, clips[B].samples)]
    result, audio = record(tmp_path / "call.mp3", legs, **options)
    assert result.format == "mp3" and result.channels == channels
    frames = mp3_frames((tmp_path / "call.mp3").read_bytes())
    assert {f.kbps for f in frames} == {32}
    assert {f.sample_rate for f in frames} == {16000}
    assert {f.channel_mode == MONO for f in frames} == {channels == 1}
    assert len(frames) * 576 / SAMPLE_RATE == pytest.approx(result.duration, abs=0.1)
    assert result.size == pytest.approx(32000 / 8 * result.duration, rel=0.03)
    info = sf.info(str(tmp_path / "call.mp3"))
    assert (info.samplerate, info.channels) == (16000, channels)
    # LAME's coding delay is taken out, so the audio is on the recording clock when decoded.
    offset, match = find_offset(audio[-1], clips[B].samples)
    assert abs(offset - 2.0) <= 0.02 and match > 0.3


def test_more_than_two_channels_and_no_format_is_a_multichannel_wav(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    legs = [(0.0, clips[A].samples), (1.0, clips[B].samples), (2.0, clips[C].samples)]
    result, audio = record(tmp_path / "three", legs, channels=3)
    data = (tmp_path / "three").read_bytes()
    assert result.format == "wav" and data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    info = sf.info(str(tmp_path / "three"))
    assert (info.channels, info.samplerate, info.subtype) == (3, 16000, "PCM_16")
    assert audio.shape == (3, round(result.duration * SAMPLE_RATE))
    for channel, (offset, clip) in enumerate(legs):
        found, _ = find_offset(audio[channel], clip)
        assert abs(found - offset) <= 1 / SAMPLE_RATE


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_ogg_vorbis_decodes_back_to_the_same_call(
    tmp_path: Path, clips: dict[str, Clip], channels: int
) -> None:
    legs = [(0.25, clips[A].samples), (1.5, clips[B].samples), (3.0, clips[C].samples)]
    result, audio = record(tmp_path / "call.ogg", legs, channels=channels, format="ogg")
    info = sf.info(str(tmp_path / "call.ogg"))
    assert (info.format, info.subtype) == ("OGG", "VORBIS")
    assert (info.channels, info.samplerate) == (channels, 16000)
    assert audio.shape[1] == round(result.duration * SAMPLE_RATE)
    _, wav = record(tmp_path / "call.wav", legs, channels=channels, format="wav")
    for channel in range(channels):  # lossy, but the same sound at the same time
        _, match = find_offset(audio[channel], wav[channel])
        assert match > 0.9
        assert find_offset(audio[channel], wav[channel])[0] == 0.0


def test_wav_of_two_legs_is_plain_pcm_any_reader_takes(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    legs = [(0.0, clips[A].samples), (0.5, clips[B].samples)]
    result, audio = record(tmp_path / "call.wav", legs, split="conversation", format="wav")
    with wave.open(str(tmp_path / "call.wav")) as w:  # the standard library's reader
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 16000, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2).T
    assert np.array_equal(pcm / 32768, read(tmp_path / "call.wav"))
    assert result.size == (tmp_path / "call.wav").stat().st_size
    assert audio.shape[1] == round(result.duration * SAMPLE_RATE)

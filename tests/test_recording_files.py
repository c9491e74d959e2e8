"""The files the engine writes: what a player or another tool finds when it opens them."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from recordings import MONO, mp3_frames, read, record
from transcribe.audio import SAMPLE_RATE, to_int16
from transcribe.ncco import parse_record
from transcribe.recording import Recorder
from transcribe.recording.encoders import transcode

from signals import find_offset
from speech import Clip

A, B, C = "jfk.wav", "ls_test-clean_1089-134686-0001.wav", "librivox_sas01_0870.wav"


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


@pytest.mark.parametrize("file_format", ["mp3", "ogg"])
def test_a_recording_written_as_wav_then_encoded_is_the_file_the_engine_writes(
    tmp_path: Path, clips: dict[str, Clip], file_format: str
) -> None:
    """Live calls record WAV and encode afterwards (`transcode`): the result must be the file
    a recording straight into that format gives, on the same clock, to the sample."""
    legs = [(0.0, clips[A].samples), (1.25, clips[B].samples)]
    options = {"split": "conversation", "format": file_format}
    direct, direct_audio = record(tmp_path / f"direct.{file_format}", legs, **options)
    path = tmp_path / "live.wav"
    recorder = Recorder(parse_record(options), path, max_lag=None, file_format="wav")
    joined = [recorder.add_leg(f"leg{k}", join_time=offset) for k, (offset, _) in enumerate(legs)]
    for leg, (offset, samples) in zip(joined, legs, strict=True):
        leg.write(samples, at=offset)
    for leg in joined:
        leg.close()
    wav = recorder.finish()
    assert wav.format == "wav" and sf.info(str(wav.path)).format == "WAV"
    assert wav.duration == direct.duration

    transcode(wav.path, tmp_path / f"encoded.{file_format}", file_format)  # type: ignore[arg-type]
    encoded = read(tmp_path / f"encoded.{file_format}")
    assert encoded.shape == direct_audio.shape
    if file_format == "mp3":
        frames = mp3_frames((tmp_path / "encoded.mp3").read_bytes())
        assert {(f.kbps, f.sample_rate) for f in frames} == {(32, 16000)}
    for channel in range(2):
        offset, match = find_offset(encoded[channel], direct_audio[channel])
        assert offset == 0.0 and match > 0.99


def test_transcode_leaves_nothing_behind_when_it_cannot_read_the_source(tmp_path: Path) -> None:
    (tmp_path / "broken.wav").write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(sf.LibsndfileError):
        transcode(tmp_path / "broken.wav", tmp_path / "out.mp3", "mp3")
    assert not (tmp_path / "out.mp3").exists()


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_a_live_wav_cut_off_by_a_kill_still_reads_in_full(
    tmp_path: Path, clips: dict[str, Clip], channels: int
) -> None:
    """A process killed mid-call never finishes its WAV's header (its sizes stay 0), yet
    libsndfile reads the audio up to the end of the file: what a restart renders. Plain WAV
    up to two channels, WAVE_FORMAT_EXTENSIBLE (RF64 past 4 GiB) above."""
    pcm = to_int16(clips[A].samples[:SAMPLE_RATE])  # one second, as a leg sends it
    np.save(tmp_path / "speech.npy", pcm)
    path = tmp_path / "live.wav"
    child = f"""
import os, numpy as np
from transcribe.ncco import parse_record
from transcribe.recording import Recorder
recorder = Recorder(parse_record({{"action": "record", "channels": {channels}}}),
                    {str(path)!r}, file_format="wav")
recorder.add_leg("caller").write(np.load({str(tmp_path / "speech.npy")!r}))
os._exit(0)  # as SIGKILL: no finish(), no close
"""
    subprocess.run([sys.executable, "-c", child], check=True, env={**os.environ})
    samples, rate = sf.read(path, dtype="int16", always_2d=True)
    assert rate == SAMPLE_RATE and samples.shape == (SAMPLE_RATE, channels)
    assert np.array_equal(samples[:, 0], pcm)  # a lone leg is bit-exact

"""Decoding: each format and rate comes out as 16 kHz float channels; bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, load_audio
from transcribe.errors import InvalidAudioError, UnsupportedAudioError

from signals import tone
from speech import SPEECH_DIR


def _tone_at(rate: int, freq: float, duration: float, channels: int = 1) -> np.ndarray:
    t = np.arange(round(rate * duration)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([mono * (i + 1) / channels for i in range(channels)], axis=1)


@pytest.mark.parametrize(
    "suffix,subtype", [("wav", "PCM_16"), ("flac", "PCM_16"), ("mp3", None), ("ogg", "VORBIS")]
)
@pytest.mark.parametrize("rate", [8000, 16000, 44100])
def test_formats_and_rates_decode_to_16k(
    tmp_path: Path, suffix: str, subtype: str, rate: int
) -> None:
    path = tmp_path / f"x.{suffix}"
    sf.write(path, _tone_at(rate, 440, 2.0, channels=2), rate, subtype=subtype)
    audio = load_audio(path)
    assert audio.channels == 2
    assert audio.source_rate == rate
    assert audio.samples.dtype == np.float32
    # Lossy codecs pad a little; duration is the same to within a codec frame.
    assert audio.duration == pytest.approx(2.0, abs=0.08)
    # Channel 2 was written twice as loud as channel 1: the channels stay apart.
    rms = np.sqrt((audio.samples[:, 4000:20000] ** 2).mean(axis=1))
    assert rms[1] / rms[0] == pytest.approx(2.0, rel=0.1)


def test_resampling_is_band_limited(tmp_path: Path) -> None:
    """A 10 kHz tone at 44.1 kHz is above 16 kHz's Nyquist: it must vanish, not alias to 6 kHz."""
    path = tmp_path / "high.wav"
    sf.write(path, _tone_at(44100, 10_000, 1.0), 44100, subtype="PCM_16")
    audio = load_audio(path)
    assert np.sqrt((audio.samples**2).mean()) < 0.005  # from 0.35 RMS before


def test_resampled_tone_keeps_its_pitch(tmp_path: Path) -> None:
    path = tmp_path / "tone8k.wav"
    sf.write(path, _tone_at(8000, 1000, 1.0), 8000, subtype="PCM_16")
    samples = load_audio(path).samples[0]
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(1000, abs=2)


def test_real_flac_at_44k_stereo(tmp_path: Path) -> None:
    audio = load_audio(SPEECH_DIR / "jfk.flac")
    assert (audio.channels, audio.source_rate) == (2, 44100)
    assert audio.duration == pytest.approx(11.0, abs=0.01)


def test_32_channels_decode(tmp_path: Path) -> None:
    path = tmp_path / "many.wav"
    sf.write(path, np.zeros((1600, 32), np.float32), SAMPLE_RATE, subtype="PCM_16")
    assert load_audio(path).channels == 32


def test_more_than_32_channels_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "too-many.wav"
    sf.write(path, np.zeros((1600, 33), np.float32), SAMPLE_RATE, subtype="PCM_16")
    with pytest.raises(InvalidAudioError, match="33 channels; at most 32"):
        load_audio(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(InvalidAudioError, match=r"empty\.wav: the file is empty"):
        load_audio(path)


def test_header_only_wav_has_no_audio(tmp_path: Path) -> None:
    path = tmp_path / "header.wav"
    sf.write(path, np.zeros((0, 1), np.float32), SAMPLE_RATE, subtype="PCM_16")
    with pytest.raises(InvalidAudioError, match="no audio"):
        load_audio(path)


def test_truncated_wav(tmp_path: Path) -> None:
    whole = (SPEECH_DIR / "jfk.wav").read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidAudioError, match=r"cut\.wav: truncated"):
        load_audio(path)


def test_truncated_flac(tmp_path: Path) -> None:
    whole = (SPEECH_DIR / "jfk.flac").read_bytes()
    path = tmp_path / "cut.flac"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidAudioError, match=r"cut\.flac: .*corrupt or truncated"):
        load_audio(path)


def test_garbage_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is a text file, not audio\n" * 50)
    with pytest.raises(UnsupportedAudioError, match=r"notes\.wav: not a WAV, FLAC, MP3 or OGG"):
        load_audio(path)


def test_other_audio_formats_are_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "x.aiff"
    sf.write(path, tone(440, 0.5)[:, None], SAMPLE_RATE, format="AIFF", subtype="PCM_16")
    with pytest.raises(UnsupportedAudioError, match="not supported; use WAV, FLAC, MP3 or OGG"):
        load_audio(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidAudioError, match="no such file"):
        load_audio(tmp_path / "nope.wav")

"""Decoding: each format and rate comes out as 16 kHz float channels; bad files fail clearly;
files are checked from their header before decoding, and read a few channels at a time."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, load_audio, open_audio
from transcribe.errors import InvalidAudioError, PayloadTooLargeError, UnsupportedAudioError

from bombs import cut, damaged, flac_bomb, ogg_bomb
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


def _peak_bytes(work: Callable[[], object]) -> int:
    """The most memory Python and numpy held at once while `work` ran, above the start."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_long_silent_flac_is_refused_from_its_header(tmp_path: Path) -> None:
    """394 kB of FLAC hold 2 h 10 min: refused by the duration limit before any decoding (the
    whole of it is 500 MB of float32)."""
    path = flac_bomb(tmp_path)
    assert path.stat().st_size < 500_000
    caught: list[PayloadTooLargeError] = []

    def load() -> None:
        with pytest.raises(PayloadTooLargeError) as error:
            load_audio(path)
        caught.append(error.value)

    assert _peak_bytes(load) < 1_000_000
    assert "7800 s; the limit is max_audio_seconds = 7200 s" in caught[0].message
    assert open_audio(path, max_seconds=8000).duration == 7800  # the limit is a setting


def test_a_file_without_its_length_in_the_header_is_refused(tmp_path: Path) -> None:
    """A FLAC written as a stream (total samples 0) cannot be checked against the limit."""
    path = tmp_path / "stream.flac"
    sf.write(path, tone(440, 1.0)[:, None], SAMPLE_RATE, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    # STREAMINFO's last 36 bits before the MD5 are the total sample count (bytes 21..25).
    data[21] &= 0xF0
    data[22:26] = bytes(4)
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidAudioError, match="does not say how long the audio is"):
        open_audio(path)


def test_a_wide_file_is_read_a_channel_at_a_time(tmp_path: Path) -> None:
    """The issue's OGG (32 x 10 min in 117 kB) is within the limits; reading one channel holds
    that channel, not the 32 of them (1.2 GB at 16 kHz)."""
    audio = open_audio(ogg_bomb(tmp_path))
    assert (audio.channels, audio.duration) == (32, 600)
    one_channel = 600 * SAMPLE_RATE * 4
    assert audio.groups(20 * one_channel) == [list(range(20)), list(range(20, 32))]
    assert audio.groups(one_channel // 2) == [[i] for i in range(32)]
    read = []
    peak = _peak_bytes(lambda: read.append(audio.read([5])))
    (decoded,) = read
    assert len(decoded.channels) == 1 and decoded.damage is None
    assert len(decoded.channels[0]) == pytest.approx(600 * SAMPLE_RATE, abs=SAMPLE_RATE // 10)
    assert peak < 1.5 * one_channel  # the channel, and a block of the file as it is read


def test_a_channel_read_alone_is_the_same_as_decoded_with_the_others() -> None:
    whole = load_audio(SPEECH_DIR / "jfk.flac")  # stereo at 44.1 kHz: resampled
    audio = open_audio(SPEECH_DIR / "jfk.flac")
    assert np.array_equal(audio.read([1]).channels[0], whole.samples[1])
    both = audio.read([0, 1]).channels
    assert all(np.array_equal(a, b) for a, b in zip(both, whole.samples, strict=True))


def _speech_as(tmp_path: Path, suffix: str, subtype: str) -> Path:
    path = tmp_path / f"speech.{suffix}"
    audio = load_audio(SPEECH_DIR / "jfk.flac")
    sf.write(path, audio.samples.T, SAMPLE_RATE, subtype=subtype)
    return path


@pytest.mark.parametrize("suffix,subtype", [("ogg", "VORBIS"), ("flac", "PCM_16")])
def test_a_cut_ogg_or_flac_is_refused_from_its_ends(
    tmp_path: Path, suffix: str, subtype: str
) -> None:
    """libsndfile takes a cut OGG's length from its last page, so it looks whole: its end is
    checked instead (the last page closes the stream). A cut FLAC's end does not decode."""
    path = cut(_speech_as(tmp_path, suffix, subtype), tmp_path / f"cut.{suffix}")
    with pytest.raises(InvalidAudioError, match=rf"cut\.{suffix}: .*truncated"):
        load_audio(path)
    with pytest.raises(InvalidAudioError, match="truncated"):
        open_audio(path).check_intact()


def test_a_cut_mp3_is_never_silently_shortened(tmp_path: Path) -> None:
    """An MP3's length is in its Xing/Info header; a cut one decodes to where it stops."""
    path = cut(_speech_as(tmp_path, "mp3", "MPEG_LAYER_III"), tmp_path / "cut.mp3")
    with pytest.raises(InvalidAudioError, match=r"stops decoding at 5\.\d s of the 11\.0 s"):
        load_audio(path)
    decoded = open_audio(path).read([0, 1])  # what the transcription job does
    assert decoded.damage is not None and "transcribed up to there" in decoded.damage
    assert all(4.5 * SAMPLE_RATE < len(c) < 6 * SAMPLE_RATE for c in decoded.channels)


@pytest.mark.parametrize("suffix,subtype", [("flac", "PCM_16"), ("mp3", "MPEG_LAYER_III")])
def test_damage_part_way_gives_the_audio_before_it_and_says_where(
    tmp_path: Path, suffix: str, subtype: str
) -> None:
    path = damaged(_speech_as(tmp_path, suffix, subtype), tmp_path / f"bad.{suffix}")
    audio = open_audio(path)
    audio.check_intact()  # the ends are fine: only decoding finds it
    decoded = audio.read([0, 1])
    assert decoded.damage is not None
    assert decoded.damage.startswith("the audio stops decoding at ")
    assert "of the 11.0 s its header says" in decoded.damage
    assert all(2 * SAMPLE_RATE < len(c) < 8 * SAMPLE_RATE for c in decoded.channels)
    with pytest.raises(InvalidAudioError, match="corrupt or truncated"):
        load_audio(path)

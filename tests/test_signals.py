"""The non-speech generators of signals.py (bench/accuracy.py's no-words cases): the level
asked for, the same signal for the same seed, and the sound they are named after."""

from __future__ import annotations

import numpy as np

from transcribe.audio import SAMPLE_RATE

from signals import babble, hold_music, line_noise, pink_noise, rms_dbfs, seconds, tone


def _band_power(samples: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def test_levels_lengths_and_seeds() -> None:
    voices = [tone(f, 1.5, -12.0) for f in (200.0, 310.0, 450.0)]
    cases = {
        "babble": (lambda seed: babble(voices, 10.0, voices=4, seed=seed), -20.0),
        "music": (lambda seed: hold_music(10.0, seed=seed), -20.0),
        "hum": (lambda seed: line_noise(10.0, hum_dbfs=-40.0, noise_dbfs=-200.0, seed=seed), -40.0),
        "pink": (lambda seed: pink_noise(10.0, seed=seed), -60.0),
    }
    for name, (make, dbfs) in cases.items():
        first = make(0)
        assert first.dtype == np.float32 and len(first) == seconds(10.0), name
        assert abs(rms_dbfs(first) - dbfs) < 0.1, name
        assert np.array_equal(first, make(0)), name
        assert not np.array_equal(first, make(1)), name


def test_babble_is_the_clips_reversed() -> None:
    rising = np.linspace(-0.5, 0.5, SAMPLE_RATE, dtype=np.float32)  # a ramp: reversed, it falls
    out = babble([rising], 0.5, voices=1, seed=3)
    steps = np.diff(out)
    assert (steps <= 0).mean() > 0.99


def test_hold_music_loops_every_eight_seconds() -> None:
    music = hold_music(20.0)
    np.testing.assert_allclose(music[: seconds(8.0)], music[seconds(8.0) : seconds(16.0)])


def test_line_noise_hums_at_the_mains_frequency() -> None:
    for mains in (50.0, 60.0):
        hum = line_noise(5.0, mains=mains, noise_dbfs=-80.0)
        assert _band_power(hum, mains - 1, mains + 1) > 100 * _band_power(hum, 1000, 8000)


def test_pink_noise_falls_with_frequency() -> None:
    noise = pink_noise(10.0)
    # 1/f: each octave holds the same power, so a band ten times higher but as wide holds
    # about a tenth.
    ratio = _band_power(noise, 100, 200) / _band_power(noise, 1000, 1100)
    assert 5 < ratio < 20

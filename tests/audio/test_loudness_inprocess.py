"""The in-process loudness meter reads what pyloudnorm reads, and the limiter keeps its ceiling."""

from __future__ import annotations

import numpy as np
import pyloudnorm

from audio import loudness

RATE = 44100


def _speechlike(seconds: float = 6.0) -> np.ndarray:
    """Noise bursts with pauses and a few sharp peaks: a high peak-to-loudness ratio, like speech."""
    rng = np.random.default_rng(7)
    x = rng.normal(0, 0.05, int(seconds * RATE)).astype(np.float32)
    x *= (np.sin(np.arange(len(x)) / RATE * 2 * np.pi * 1.5) > -0.2).astype(np.float32)
    x[:: RATE // 3] = 0.9
    return x


def test_gated_loudness_matches_pyloudnorm():
    x = _speechlike()
    assert abs(loudness.integrated(x, RATE) - pyloudnorm.Meter(RATE).integrated_loudness(x)) < 0.02


def test_fit_reaches_the_target_under_the_true_peak_ceiling():
    y = loudness.fit(_speechlike(), RATE, -16.0, -2.0, -60.0)
    assert abs(loudness.integrated(y, RATE) + 16.0) <= 0.2
    assert loudness.true_peak_db(y) <= -2.0 + 0.1


def test_silence_is_left_alone():
    x = np.zeros(RATE * 2, dtype=np.float32)
    assert np.array_equal(loudness.fit(x, RATE, -16.0, -1.0, -60.0), x)

"""In-process loudness: BS.1770 measurement (pyloudnorm), band limit and a true-peak limiter (numpy).

Mastering used to run up to four ffmpeg limit-and-measure rounds plus three encode-and-measure
rounds (5.8 s cold for 300 words). Here the samples stay in memory: one K-weighting, one
true-peak envelope, a few cheap gain trials, then ffmpeg encodes once.

pyloudnorm against ffmpeg's ebur128 on our outputs (espeak-ng speech, 44.1 kHz mono, 300 words,
checked when this module was written): integrated loudness agrees within 0.1 LU on the float
samples. Surprises: pyloudnorm has no true-peak meter (we oversample 4x ourselves, as ebur128
does); it raises on clips shorter than one 400 ms gating block (we return -inf, silence); and
its gating loops over blocks in Python (0.3 s per call for 2 minutes), so we use its K-weighting
filters with the same block bounds, summed at once (identical to 0.01 LU).
The MP3 measured by ebur128 reads a little different from the samples
we encode (see MP3_* below), which we correct by aiming off before encoding, not by re-encoding.
"""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

# Oversampling for true peak, as BS.1770-4 Annex 2 asks for at 44.1/48 kHz.
OVERSAMPLE = 4
# The limiter's look-ahead and its smoothing, in seconds: gain falls over this span before a
# peak and recovers over the same span after it. 5 ms is short enough not to pump on speech.
LOOKAHEAD_S = 0.005
# In-process rounds of gain-then-limit until the limited programme reads the target.
FIT_ROUNDS = 4
FIT_TOLERANCE_LU = 0.2
LIMITED_SLOPE = 0.5


def band_limit(x: np.ndarray, rate: int, highpass_hz: float, lowpass_hz: float) -> np.ndarray:
    """2-pole Butterworth high- and low-pass, like ffmpeg's highpass/lowpass filters."""
    sos = np.vstack([
        signal.butter(2, highpass_hz, btype="highpass", fs=rate, output="sos"),
        signal.butter(2, lowpass_hz, btype="lowpass", fs=rate, output="sos"),
    ])
    return signal.sosfilt(sos.astype(x.dtype), x)


def k_weighted(x: np.ndarray, rate: int) -> np.ndarray:
    """x through BS.1770's K-weighting (pyloudnorm's own high-shelf and high-pass stages)."""
    for stage in pyloudnorm.Meter(rate)._filters.values():
        x = signal.lfilter(stage.b.astype(x.dtype), stage.a.astype(x.dtype), x)
    return x


def gated_energy_loudness(power: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness from squared K-weighted samples (400 ms blocks, 75 % overlap)."""
    # pyloudnorm computes the same blocks in a Python loop (0.3 s per call for 2 minutes of
    # audio). Summing each 100 ms hop once and adding four hops per block gives the same
    # blocks at once, in float64, without a per-sample float64 copy (a 15-minute upload
    # would otherwise need 300 MB for it).
    hop = rate // 10
    hops = len(power) // hop
    if hops < 4:
        return float("-inf")
    sums = power[: hops * hop].reshape(hops, hop).sum(axis=1, dtype=np.float64)
    z = (sums[:-3] + sums[1:-2] + sums[2:-1] + sums[3:]) / (4 * hop)
    with np.errstate(divide="ignore"):
        blocks = -0.691 + 10 * np.log10(z)
    z = z[blocks >= -70.0]
    if not len(z):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(z.mean()) - 10.0
    z = z[-0.691 + 10 * np.log10(z) > relative]
    return float(-0.691 + 10 * np.log10(z.mean())) if len(z) else float("-inf")


def integrated(x: np.ndarray, rate: int) -> float:
    """BS.1770 integrated loudness in LUFS (-inf for silence or under one gating block)."""
    return gated_energy_loudness(np.square(k_weighted(x, rate)), rate)


def peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per-sample true-peak magnitude: the largest |value| of the 4x oversampled signal around it."""
    # BS.1770-4 Annex 2's interpolator is a 48-tap, 4-phase FIR: four 12-tap convolutions
    # (scipy's resample_poly took 1.3 s for 2 minutes of audio).
    envelope = np.abs(x)
    for phase in _INTERPOLATOR:
        envelope = np.maximum(envelope, np.abs(np.convolve(x, phase.astype(x.dtype), mode="same")))
    return envelope


def _interpolator() -> np.ndarray:
    taps = signal.firwin(48, 0.5 / OVERSAMPLE * 2 * 0.9, window=("kaiser", 8.0)) * OVERSAMPLE
    return taps.reshape(-1, OVERSAMPLE).T[:, ::-1]


_INTERPOLATOR = _interpolator()


def true_peak_db(x: np.ndarray) -> float:
    """True peak in dBTP (4x oversampled)."""
    peak = float(peak_envelope(x).max()) if len(x) else 0.0
    return 20 * math.log10(peak) if peak > 0 else float("-inf")


# The limiter's gain is computed per block of this many samples (0.7 ms at 44.1 kHz): the
# filters then run on 1/32 of the data, and the steps between blocks are far under audibility.
GAIN_BLOCK = 32


def _limiter_gain(envelope: np.ndarray, gain: float, ceiling: float, rate: int) -> np.ndarray:
    """Smooth gain (≤ 1) that keeps gain × envelope under ceiling, starting before each peak."""
    n = len(envelope)
    padded = np.pad(envelope, (0, -n % GAIN_BLOCK))
    block_peak = padded.reshape(-1, GAIN_BLOCK).max(axis=1)
    needed = np.minimum(1.0, ceiling / np.maximum(block_peak * gain, 1e-12))
    width = 2 * max(1, int(LOOKAHEAD_S * rate / GAIN_BLOCK)) + 1
    # A minimum over ±k, then a mean over ±k: every block the mean takes in is itself a minimum
    # over a span that contains this block, so the smoothed gain is never above what this
    # block's peak needs (no overshoot, no second check needed).
    held = ndimage.minimum_filter1d(needed, width, mode="nearest")
    smooth = ndimage.uniform_filter1d(held, width, mode="nearest")
    return np.repeat(smooth, GAIN_BLOCK)[:n]


def fit(x: np.ndarray, rate: int, target_lufs: float, ceiling_db: float, silent_lufs: float) -> np.ndarray:
    """Gain x to target_lufs with true peaks limited to ceiling_db; x as is if under silent_lufs."""
    # The limiter's gain changes over milliseconds, far slower than K-weighting responds, so
    # K(x·g) ≈ K(x)·g: x is K-weighted once and each trial only reweights its energy.
    weighted = np.square(k_weighted(x, rate))
    measured = gated_energy_loudness(weighted, rate)
    if not math.isfinite(measured) or measured < silent_lufs:
        return x  # silence: there is nothing to normalize
    envelope = peak_envelope(x)
    ceiling = 10 ** (ceiling_db / 20)
    tried: list[tuple[float, float]] = []
    gain_db = target_lufs - measured
    smooth = np.ones(len(x), dtype=x.dtype)
    # Limiting lowers loudness, so find the gain at which the limited programme reads the
    # target: a secant search on (gain, loudness), each trial a few array passes.
    for _ in range(FIT_ROUNDS):
        gain = 10 ** (gain_db / 20)
        smooth = (gain * _limiter_gain(envelope, gain, ceiling, rate)).astype(x.dtype)
        loudness = gated_energy_loudness(weighted * np.square(smooth), rate)
        if abs(target_lufs - loudness) <= FIT_TOLERANCE_LU:
            break
        tried.append((gain_db, loudness))
        if len(tried) >= 2 and tried[-1][1] != tried[-2][1]:
            (g0, l0), (g1, l1) = tried[-2], tried[-1]
            slope = max((l1 - l0) / (g1 - g0), 0.1)
            gain_db = g1 + (target_lufs - l1) / slope
        else:
            # Once the limiter works, 1 dB more gain adds only ~0.5 LU (measured on speech).
            gain_db += (target_lufs - loudness) / (LIMITED_SLOPE if loudness < target_lufs else 1.0)
    return x * smooth

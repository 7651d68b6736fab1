"""Motion features of a clip: one fixed-length vector of statistics of its facial motion.

The input is a clip's per-frame motion [T, 58]: the 52 ARKit blendshapes, head rotation (3) and head
translation (3), in the column order of a motion track and of the first 58 columns of the captured
features training caches (``painsynth.train.features``). The landmark distances that follow there are
left out on purpose: they measure the shape of a face, not how it moves, and the appearance audit
already covers faces.

The vector (:data:`FEATURE_NAMES`, :data:`N_MOTION_FEATURES` long) holds, in this order:

- per channel (58): mean, std, 10th, 50th and 90th percentile, mean absolute velocity and velocity std
  (per second) -- 7 × 58 = 406 values;
- blinks, from the mean of eyeBlinkLeft/Right: rate (per second), mean duration (s), mean peak closure -- 3;
- asymmetry per Left/Right blendshape pair (20): mean and std of left minus right -- 40;
- spectra of 8 summary signals (head pitch, yaw, roll, head height, blink, jaw open, brow down, smile):
  the share of each signal's power in the bands 0-0.5, 0.5-1, 1-2, 2-4 and 4-8 Hz, and its log total
  power -- 8 × 6 = 48.

In all 497 values, every one finite (a flat signal gives zeros, not NaN).
"""

from __future__ import annotations

import numpy as np

from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, MotionTrack

POSE_NAMES = ("head_rot_x", "head_rot_y", "head_rot_z", "head_trans_x", "head_trans_y", "head_trans_z")
CHANNELS = (*ARKIT_BLENDSHAPES, *POSE_NAMES)
N_CHANNELS = len(CHANNELS)  # 58
CHANNEL_STATS = ("mean", "std", "p10", "p50", "p90", "speed_mean", "velocity_std")

# A blink is the mean lid closure rising above this; MediaPipe's and the retargeted scores both reach
# 0.5-1 in a full blink and stay under 0.3 with open eyes.
BLINK_THRESHOLD = 0.35

PAIRS = tuple((name, name[:-4] + "Right") for name in ARKIT_BLENDSHAPES if name.endswith("Left"))
SPECTRAL_BANDS_HZ = ((0.0, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0))
SPECTRAL_SIGNALS = ("head_pitch", "head_yaw", "head_roll", "head_height", "blink", "jaw_open", "brow_down", "smile")
MIN_FRAMES = 4  # velocities and spectra need a few frames


def _feature_names() -> tuple[str, ...]:
    names = [f"{c}.{s}" for s in CHANNEL_STATS for c in CHANNELS]
    names += ["blink.rate", "blink.duration", "blink.peak"]
    names += [f"{left[:-4]}.asym_{s}" for s in ("mean", "std") for left, _ in PAIRS]
    names += [f"{sig}.band_{lo:g}-{hi:g}hz" for sig in SPECTRAL_SIGNALS for lo, hi in SPECTRAL_BANDS_HZ]
    names += [f"{sig}.log_power" for sig in SPECTRAL_SIGNALS]
    return tuple(names)


FEATURE_NAMES = _feature_names()
N_MOTION_FEATURES = len(FEATURE_NAMES)


class MotionFeatureError(ValueError):
    """A clip's motion cannot be summarised (wrong shape, too few frames)."""


def track_motion(track: MotionTrack) -> np.ndarray:
    """A motion track's per-frame motion [T, 58] (blendshapes, head rotation, head translation)."""
    return np.concatenate([track.blendshapes, track.head_rotation, track.head_translation], axis=1)


def clip_features(motion: np.ndarray, fps: float) -> np.ndarray:
    """The motion feature vector [N_MOTION_FEATURES] of one clip's motion [T, >= 58] at ``fps``."""
    motion = np.asarray(motion, dtype=np.float64)
    if motion.ndim != 2 or motion.shape[1] < N_CHANNELS:
        raise MotionFeatureError(f"motion must be [T, >= {N_CHANNELS}], got {motion.shape}")
    if len(motion) < MIN_FRAMES:
        raise MotionFeatureError(f"motion has {len(motion)} frames; at least {MIN_FRAMES} are needed")
    if not fps > 0:
        raise MotionFeatureError(f"fps must be positive, got {fps!r}")
    motion = np.nan_to_num(motion[:, :N_CHANNELS])
    parts = [_channel_stats(motion, fps), _blinks(motion, fps), _asymmetry(motion), _spectra(motion, fps)]
    return np.concatenate(parts).astype(np.float32)


def track_features(track: MotionTrack) -> np.ndarray:
    """The motion feature vector of a motion track."""
    return clip_features(track_motion(track), track.fps)


def _channel_stats(motion: np.ndarray, fps: float) -> np.ndarray:
    velocity = np.diff(motion, axis=0) * fps
    p10, p50, p90 = np.percentile(motion, [10, 50, 90], axis=0)
    return np.concatenate([motion.mean(0), motion.std(0), p10, p50, p90,
                           np.abs(velocity).mean(0), velocity.std(0)])


def _blinks(motion: np.ndarray, fps: float) -> np.ndarray:
    closure = motion[:, [BLENDSHAPE_INDEX["eyeBlinkLeft"], BLENDSHAPE_INDEX["eyeBlinkRight"]]].mean(1)
    shut = closure > BLINK_THRESHOLD
    starts = np.flatnonzero(shut[1:] & ~shut[:-1]) + 1
    if shut[0]:
        starts = np.r_[0, starts]  # a clip may begin mid-blink
    seconds = len(motion) / fps
    if not len(starts):
        return np.array([0.0, 0.0, 0.0])
    return np.array([len(starts) / seconds, shut.sum() / fps / len(starts), closure[shut].mean()])


def _asymmetry(motion: np.ndarray) -> np.ndarray:
    left = motion[:, [BLENDSHAPE_INDEX[a] for a, _ in PAIRS]]
    right = motion[:, [BLENDSHAPE_INDEX[b] for _, b in PAIRS]]
    difference = left - right
    return np.concatenate([difference.mean(0), difference.std(0)])


def _spectral_signals(motion: np.ndarray) -> np.ndarray:
    """[T, 8]: the summary signals of SPECTRAL_SIGNALS, in that order."""
    def mean_of(*names: str) -> np.ndarray:
        return motion[:, [BLENDSHAPE_INDEX[n] for n in names]].mean(1)

    rot = N_CHANNELS - 6
    return np.stack([motion[:, rot], motion[:, rot + 2], motion[:, rot + 1], motion[:, rot + 4],
                     mean_of("eyeBlinkLeft", "eyeBlinkRight"), mean_of("jawOpen"),
                     mean_of("browDownLeft", "browDownRight"), mean_of("mouthSmileLeft", "mouthSmileRight")], 1)


def _spectra(motion: np.ndarray, fps: float) -> np.ndarray:
    signals = _spectral_signals(motion)
    signals = signals - signals.mean(0)
    power = np.abs(np.fft.rfft(signals * np.hanning(len(signals))[:, None], axis=0)) ** 2
    hz = np.fft.rfftfreq(len(signals), 1.0 / fps)
    total = power[1:].sum(0)  # the constant term is gone after centring
    shares = [power[(hz >= lo) & (hz < hi) & (hz > 0)].sum(0) / np.maximum(total, 1e-12)
              for lo, hi in SPECTRAL_BANDS_HZ]
    # log with a floor: a still signal gives the floor, not -inf
    return np.concatenate([np.stack(shares, 1).ravel(), np.log10(total + 1e-10)])

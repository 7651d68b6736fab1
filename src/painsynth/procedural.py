"""Procedural pain motion: motion tracks whose per-frame FACS action units and PSPI are known.

A clip mirrors one BioVid Part A window (138 frames at 25 fps, 5.5 s by default); its level
0-4 mirrors BL1, PA1-PA4. Pain shows as episodes of the Prkachin-Solomon pain action units
(PSPI = AU4 + max(AU6, AU7) + max(AU9, AU10) + AU43) and the AUs that commonly join them, each
with an onset-apex-offset time course and left/right asymmetry. Higher levels make episodes
likelier, stronger and longer; level 0 has none.

Every clip, whatever its level, also carries idle behaviour (blinks, gaze shifts, head sway and
nods) and non-pain expressions (talking, smiles, brow raises, yawns) drawn with the same
probabilities at every level, so that a model cannot learn that any motion means pain. Each
behaviour draws from its own random stream, so one seed gives the same idle behaviour and
non-pain expressions at every level: clips of one seed differ only by their pain.

Labels. ``track.au`` is the ground truth of what the face does, not only of the pain: every
activity that drives a labelled AU's blendshapes is coded, so a Duchenne smile raises AU6 and
AU12, talking AU25 and AU26, a yawn AU25-AU27 and AU7, and PSPI rises a little with them, as it
would for a human coder. Blinks are coded as AU45, their own FACS unit, not as AU43: FACS tells a
blink from eye closure and PSPI counts closure only. Asymmetric activity is coded at its stronger
side. Activity outside the labelled AUs (brow raises AU1+2, lip funnel and pucker, gaze) drives
its blendshapes directly and is not labelled, because no pain measure uses it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, MotionTrack

DEFAULT_N_FRAMES = 138  # 5.5 s, the BioVid Part A window
DEFAULT_FPS = 25.0
MIN_FRAMES = 8

AU_NAMES: tuple[str, ...] = (
    "AU4", "AU6", "AU7", "AU9", "AU10", "AU12", "AU20", "AU25", "AU26", "AU27", "AU43", "AU45",
)
AU_INDEX = {name: i for i, name in enumerate(AU_NAMES)}
MAX_AU_INTENSITY = 5.0  # FACS intensities A-E as 1-5
# Prkachin & Solomon score AU43 as present (1) or absent (0); it counts once the lids cover at
# least half the eye.
AU43_CLOSED_FROM = 2.5

# How each AU moves the ARKit blendshapes: blendshape = weight * intensity / 5, summed over AUs
# and clipped to [0, 1]. Secondary weights carry the visible side effects FACS describes for
# each unit (e.g. a raised cheek narrows the eye from below).
AU_TO_BLENDSHAPES: dict[str, dict[str, float]] = {
    # brow lowerer
    "AU4": {"browDownLeft": 1.0, "browDownRight": 1.0},
    # cheek raiser
    "AU6": {"cheekSquintLeft": 1.0, "cheekSquintRight": 1.0,
            "eyeSquintLeft": 0.25, "eyeSquintRight": 0.25},
    # lid tightener
    "AU7": {"eyeSquintLeft": 1.0, "eyeSquintRight": 1.0},
    # nose wrinkler: also lifts the upper lip and pulls the inner brows down
    "AU9": {"noseSneerLeft": 1.0, "noseSneerRight": 1.0,
            "mouthUpperUpLeft": 0.3, "mouthUpperUpRight": 0.3,
            "browDownLeft": 0.15, "browDownRight": 0.15},
    # upper lip raiser
    "AU10": {"mouthUpperUpLeft": 1.0, "mouthUpperUpRight": 1.0,
             "noseSneerLeft": 0.2, "noseSneerRight": 0.2},
    # lip corner puller (smile, and the grimace "smile" of pain)
    "AU12": {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0,
             "cheekSquintLeft": 0.2, "cheekSquintRight": 0.2},
    # lip stretcher
    "AU20": {"mouthStretchLeft": 1.0, "mouthStretchRight": 1.0},
    # lips part
    "AU25": {"mouthLowerDownLeft": 0.4, "mouthLowerDownRight": 0.4,
             "mouthUpperUpLeft": 0.15, "mouthUpperUpRight": 0.15, "jawOpen": 0.1},
    # jaw drop
    "AU26": {"jawOpen": 0.6, "mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2},
    # mouth stretch: the jaw pulled wide open
    "AU27": {"jawOpen": 1.0, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3,
             "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3},
    # eyes closed
    "AU43": {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
    # blink
    "AU45": {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0},
}


@dataclass(frozen=True)
class PainLevel:
    """How one BioVid level shows on the face."""

    episode_probabilities: tuple[float, float]  # of a first and of a second pain episode
    apex_intensity: tuple[float, float]  # range of the episode's apex, AU intensity 0-5
    hold_s: tuple[float, float]  # range of how long the apex is held


PAIN_LEVELS: tuple[PainLevel, ...] = (
    PainLevel((0.0, 0.0), (0.0, 0.0), (0.0, 0.0)),  # BL1: baseline, no pain
    PainLevel((0.45, 0.05), (0.7, 1.6), (0.2, 0.8)),  # PA1: pain threshold, many show nothing
    PainLevel((0.7, 0.15), (1.3, 2.3), (0.5, 1.4)),  # PA2
    PainLevel((0.9, 0.3), (1.9, 3.1), (0.9, 2.2)),  # PA3
    PainLevel((1.0, 0.45), (2.6, 4.0), (1.4, 3.0)),  # PA4: tolerance
)

# The pain face: AU -> (intensity relative to the episode apex, apex at which the AU is recruited
# half the time). Brow lowering and orbit tightening come first, the levator and mouth AUs and
# eye closure join as pain grows.
PAIN_FACE: dict[str, tuple[float, float]] = {
    "AU4": (1.0, 0.0),
    "AU7": (0.9, 0.4),
    "AU6": (0.8, 1.2),
    "AU10": (0.7, 1.6),
    "AU9": (0.6, 2.0),
    "AU25": (0.6, 2.0),
    "AU20": (0.5, 2.6),
    "AU12": (0.3, 2.8),
    "AU26": (0.5, 3.0),
    "AU43": (1.0, 3.4),
    "AU27": (0.6, 4.0),
}
RECRUITMENT_SPREAD = 0.6  # AU intensity; how sharply an AU switches on around its threshold
MAX_PAIN_EPISODES = 2
PAIN_ONSET_FRACTION = (0.05, 0.6)  # of the clip; BioVid stimuli start 1-2 s into the window
PAIN_RISE_S = (0.3, 1.0)
PAIN_FALL_S = (0.5, 1.5)
MAX_AU_LAG_S = 0.25  # AUs of one episode do not start in the same frame
APEX_WOBBLE = 0.1  # fraction; a held grimace is never frozen
MAX_ASYMMETRY = 0.3  # the weaker side shows up to this fraction less


@dataclass(frozen=True)
class Expression:
    """A non-pain expression, drawn at most once per clip with the same probability at every level."""

    probability: float
    au: dict[str, float]  # apex AU intensities
    blendshapes: dict[str, float]  # apex values of blendshapes outside the labelled AUs
    rise_s: tuple[float, float]
    hold_s: tuple[float, float]
    fall_s: tuple[float, float]
    syllable_hz: tuple[float, float] | None = None  # talking opens and closes the mouth


NON_PAIN_EXPRESSIONS: dict[str, Expression] = {
    "smile": Expression(0.3, {"AU12": 2.5, "AU6": 1.0, "AU25": 0.5}, {},
                        (0.3, 0.8), (0.5, 2.5), (0.4, 1.0)),
    "brow_raise": Expression(0.25, {}, {"browInnerUp": 0.5, "browOuterUpLeft": 0.45,
                                        "browOuterUpRight": 0.45},
                             (0.15, 0.4), (0.2, 1.2), (0.3, 0.8)),
    "talk": Expression(0.3, {"AU25": 2.5, "AU26": 2.5},
                       {"mouthFunnel": 0.25, "mouthPucker": 0.2, "mouthClose": 0.15},
                       (0.1, 0.2), (1.0, 3.0), (0.1, 0.3), syllable_hz=(3.0, 5.5)),
    "yawn": Expression(0.08, {"AU25": 4.0, "AU26": 4.0, "AU27": 3.0, "AU7": 1.5},
                       {"browInnerUp": 0.3}, (0.8, 1.5), (0.8, 2.0), (0.8, 1.5)),
}
EXPRESSION_STRENGTH = (0.6, 1.2)

BLINK_INTERVAL_SPREAD = (0.6, 1.4)  # times the performer's mean interval
BLINK_CLOSE_S = (0.06, 0.09)  # lids close faster than they open; a blink lasts 150-260 ms
BLINK_SHUT_S = (0.0, 0.04)
BLINK_OPEN_S = (0.09, 0.13)

FIXATION_S = (0.3, 1.8)
GAZE_SPREAD = (0.15, 0.1)  # blendshape units, horizontal and vertical
# Gaze blendshape -> (axis, sign); axis 0 is horizontal (+ towards the performer's left),
# axis 1 vertical (+ up).
GAZE_BLENDSHAPES: dict[str, tuple[int, float]] = {
    "eyeLookOutLeft": (0, 1.0), "eyeLookInRight": (0, 1.0),
    "eyeLookInLeft": (0, -1.0), "eyeLookOutRight": (0, -1.0),
    "eyeLookUpLeft": (1, 1.0), "eyeLookUpRight": (1, 1.0),
    "eyeLookDownLeft": (1, -1.0), "eyeLookDownRight": (1, -1.0),
}

# Head motion bounds, before the performer's sway gain (at most 1.3): sway plus a nod stay under
# 5.2 degrees, so the pose relative to the clip's median stays under 0.2 rad.
HEAD_SWAY_RAD = np.radians([2.0, 2.5, 1.0])  # about x (pitch), y (yaw), z (roll)
HEAD_SWAY_M = np.array([0.003, 0.002, 0.004])
SWAY_HZ = (0.05, 0.5)
SWAY_COMPONENTS = 3
NOD_PROBABILITY = 0.35
NOD_RAD = np.radians([1.5, 2.0])


@dataclass(frozen=True)
class PerformerStyle:
    """What clips of one motion performer share."""

    expressiveness: float  # gain on every expression's intensity
    blink_interval_s: float  # mean time between blinks
    left_weaker_probability: float  # side bias of expression asymmetry
    head_sway: float  # gain on head sway, nods and translation
    timing: float = 1.0  # gain on how long expressions rise, hold and fall (a habit of tempo)
    sway_hz: float | None = None  # the habitual head-sway frequency; None: drawn anew in every clip


def performer_style(performer: str) -> PerformerStyle:
    """The style of a performer id; the same id always gives the same style."""
    rng = np.random.default_rng(zlib.crc32(performer.encode("utf-8")))
    return PerformerStyle(
        expressiveness=float(rng.uniform(0.75, 1.25)),
        blink_interval_s=float(rng.uniform(2.5, 5.0)),
        left_weaker_probability=float(rng.uniform(0.2, 0.8)),
        head_sway=float(rng.uniform(0.7, 1.3)),
    )


def signature_style(performer: str) -> PerformerStyle:
    """A strongly individual style for a performer id: wider ranges than :func:`performer_style` and a
    tempo of its own, like the habits that set people apart (a stand-in for motion re-identification)."""
    rng = np.random.default_rng([zlib.crc32(performer.encode("utf-8")), 7])
    return PerformerStyle(
        expressiveness=float(rng.uniform(0.6, 1.4)),
        blink_interval_s=float(rng.uniform(1.2, 6.0)),
        left_weaker_probability=float(rng.uniform(0.0, 1.0)),
        head_sway=float(rng.uniform(0.4, 1.3)),  # at most 1.3: see the head motion bounds
        timing=float(rng.uniform(0.6, 1.6)),
        sway_hz=float(rng.uniform(*SWAY_HZ)),
    )


def pspi_from_au(au: np.ndarray, au_names: tuple[str, ...] = AU_NAMES) -> np.ndarray:
    """Prkachin-Solomon pain intensity per frame (0-16) from AU intensities [T, K]."""
    au = np.asarray(au, dtype=np.float32)
    names = tuple(au_names)
    if au.ndim != 2 or au.shape[1] != len(names):
        raise ValueError(f"au must be [T, {len(names)}] to match au_names, got {au.shape}")
    missing = [name for name in ("AU4", "AU6", "AU7", "AU9", "AU10", "AU43") if name not in names]
    if missing:
        raise ValueError(f"PSPI needs {missing}, which au_names lacks")
    column = {name: au[:, names.index(name)] for name in names}
    eyes_closed = (column["AU43"] >= AU43_CLOSED_FROM).astype(np.float32)
    return (column["AU4"] + np.maximum(column["AU6"], column["AU7"])
            + np.maximum(column["AU9"], column["AU10"]) + eyes_closed).astype(np.float32)


def balanced_levels(n_clips: int, n_levels: int = len(PAIN_LEVELS)) -> list[int]:
    """Levels for n_clips clips, cycling 0, 1, ..., so counts per level differ by at most one."""
    if n_clips < 0 or n_levels < 1:
        raise ValueError(f"need n_clips >= 0 and n_levels >= 1, got {n_clips} and {n_levels}")
    return [i % n_levels for i in range(n_clips)]


def make_track(level: int, seed: int, n_frames: int = DEFAULT_N_FRAMES, fps: float = DEFAULT_FPS,
               performer: str = "", style: PerformerStyle | None = None) -> MotionTrack:
    """A procedural motion track of pain level 0-4 (BL1, PA1-PA4) with per-frame AU and PSPI labels.

    ``style`` overrides the performer's own (:func:`performer_style`), e.g. :func:`signature_style`.
    """
    _check_arguments(level, seed, n_frames, fps)
    style = style or performer_style(performer)
    pain_rng, blink_rng, gaze_rng, head_rng, expression_rng = (
        np.random.default_rng(stream)
        for stream in np.random.SeedSequence([seed, zlib.crc32(performer.encode("utf-8"))]).spawn(5)
    )
    t = np.arange(n_frames) / fps
    expression_au, direct = _non_pain_expressions(expression_rng, t, style)
    au_sides = (_pain_episodes(pain_rng, PAIN_LEVELS[level], t, style) + expression_au
                + _blinks(blink_rng, t, style))
    np.clip(au_sides, 0.0, MAX_AU_INTENSITY, out=au_sides)
    au = au_sides.max(axis=0)
    blendshapes = np.clip(_blendshapes_from_au(au_sides, au) + direct + _gaze(gaze_rng, t), 0.0, 1.0)
    head_rotation, head_translation = _head_motion(head_rng, t, style)
    return MotionTrack(
        blendshapes=blendshapes,
        head_rotation=head_rotation,
        head_translation=head_translation,
        valid=np.ones(n_frames, dtype=bool),
        fps=float(fps),
        subject=performer,
        label=int(level),
        source="procedural",
        au=au,
        au_names=AU_NAMES,
        pspi=pspi_from_au(au),
    )


def _check_arguments(level: int, seed: int, n_frames: int, fps: float) -> None:
    if level not in range(len(PAIN_LEVELS)):
        raise ValueError(f"level must be an integer 0-{len(PAIN_LEVELS) - 1}, got {level!r}")
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if int(n_frames) != n_frames or n_frames < MIN_FRAMES:
        raise ValueError(f"n_frames must be an integer >= {MIN_FRAMES}, got {n_frames!r}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive, got {fps!r}")


def _au_vector(intensities: dict[str, float]) -> np.ndarray:
    vector = np.zeros(len(AU_NAMES))
    for name, value in intensities.items():
        vector[AU_INDEX[name]] = value
    return vector


def _blendshape_vector(values: dict[str, float]) -> np.ndarray:
    vector = np.zeros(len(ARKIT_BLENDSHAPES))
    for name, value in values.items():
        vector[BLENDSHAPE_INDEX[name]] = value
    return vector


_AU_TO_BLENDSHAPE_MATRIX = np.stack([_blendshape_vector(AU_TO_BLENDSHAPES[name]) for name in AU_NAMES])
_LEFT = np.array([name.endswith("Left") for name in ARKIT_BLENDSHAPES])
_RIGHT = np.array([name.endswith("Right") for name in ARKIT_BLENDSHAPES])
# Index into [left gain, right gain, 1] for each blendshape; midline shapes take no side gain.
_BLENDSHAPE_SIDE = np.where(_LEFT, 0, np.where(_RIGHT, 1, 2))
_PAIN_RELATIVE = _au_vector({name: relative for name, (relative, _) in PAIN_FACE.items()})
_PAIN_RECRUITED_AT = np.full(len(AU_NAMES), np.inf)
_PAIN_RECRUITED_AT[[AU_INDEX[name] for name in PAIN_FACE]] = [at for _, at in PAIN_FACE.values()]
_GAZE_COLUMNS = np.array([BLENDSHAPE_INDEX[name] for name in GAZE_BLENDSHAPES])
_GAZE_AXES = np.array([axis for axis, _ in GAZE_BLENDSHAPES.values()])
_GAZE_SIGNS = np.array([sign for _, sign in GAZE_BLENDSHAPES.values()])


def _blendshapes_from_au(au_sides: np.ndarray, au: np.ndarray) -> np.ndarray:
    """Blendshapes [T, 52] from per-side AU intensities [2, T, K]; midline shapes follow the coded AU."""
    per_side = au_sides @ _AU_TO_BLENDSHAPE_MATRIX / MAX_AU_INTENSITY
    return np.where(_LEFT, per_side[0], np.where(_RIGHT, per_side[1],
                                                 au @ _AU_TO_BLENDSHAPE_MATRIX / MAX_AU_INTENSITY))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _envelope(t: np.ndarray, onset: np.ndarray | float, rise: np.ndarray | float,
              hold: np.ndarray | float, fall: np.ndarray | float) -> np.ndarray:
    """Onset-apex-offset time course in [0, 1]: eased rise, apex hold, eased fall.

    Parameters broadcast against each other; time is the last axis of the result.
    """
    onset, rise, hold, fall = (np.asarray(p, dtype=float)[..., None] for p in (onset, rise, hold, fall))
    return _smoothstep((t - onset) / rise) * (1.0 - _smoothstep((t - onset - rise - hold) / fall))


def _side_gains(rng: np.random.Generator, n: int, style: PerformerStyle) -> np.ndarray:
    """[n, 2] gains (left, right): the stronger side shows the full expression."""
    weaker = 1.0 - rng.uniform(0.0, MAX_ASYMMETRY, n)
    left_weaker = rng.random(n) < style.left_weaker_probability
    return np.stack([np.where(left_weaker, weaker, 1.0), np.where(left_weaker, 1.0, weaker)], axis=-1)


def _span(bounds: tuple[float, float], u: np.ndarray) -> np.ndarray:
    """Uniform draws u in [0, 1) mapped into bounds; the same u at every level keeps levels coupled."""
    return bounds[0] + u * (bounds[1] - bounds[0])


def _pain_episodes(rng: np.random.Generator, level: PainLevel, t: np.ndarray,
                   style: PerformerStyle) -> np.ndarray:
    """Per-side AU intensities [2, T, K] of the clip's pain episodes."""
    # Every level makes the same draws and maps them through its own ranges, so one seed's
    # episodes grow monotonically from level to level.
    shape = (MAX_PAIN_EPISODES, len(AU_NAMES))
    occurs = rng.random(MAX_PAIN_EPISODES) < np.array(level.episode_probabilities)
    apex = _span(level.apex_intensity, rng.random(MAX_PAIN_EPISODES)) * style.expressiveness
    onset = rng.uniform(*PAIN_ONSET_FRACTION, MAX_PAIN_EPISODES) * t[-1]
    rise = rng.uniform(*PAIN_RISE_S, MAX_PAIN_EPISODES) * style.timing
    hold = _span(level.hold_s, rng.random(MAX_PAIN_EPISODES)) * style.timing
    fall = rng.uniform(*PAIN_FALL_S, MAX_PAIN_EPISODES) * style.timing
    lag = rng.uniform(0.0, MAX_AU_LAG_S, shape)
    recruited = apex[:, None] + rng.normal(0.0, RECRUITMENT_SPREAD, shape) > _PAIN_RECRUITED_AT
    amplitude = (apex[:, None] * _PAIN_RELATIVE * rng.lognormal(0.0, 0.2, shape)
                 * recruited * occurs[:, None])
    wobble = 1.0 + APEX_WOBBLE * np.sin(
        2 * np.pi * rng.uniform(0.3, 1.0, (MAX_PAIN_EPISODES, 1)) * t
        + rng.uniform(0.0, 2 * np.pi, (MAX_PAIN_EPISODES, 1)))
    envelope = _envelope(t, onset[:, None] + lag, rise[:, None], hold[:, None], fall[:, None])
    intensity = amplitude[:, :, None] * envelope * wobble[:, None, :]  # [episode, K, T]
    return np.einsum("ekt,es->stk", intensity, _side_gains(rng, MAX_PAIN_EPISODES, style))


def _non_pain_expressions(rng: np.random.Generator, t: np.ndarray,
                          style: PerformerStyle) -> tuple[np.ndarray, np.ndarray]:
    """Per-side AU intensities [2, T, K] and unlabelled blendshape activity [T, 52]."""
    au_sides = np.zeros((2, len(t), len(AU_NAMES)))
    direct = np.zeros((len(t), len(ARKIT_BLENDSHAPES)))
    for expression in NON_PAIN_EXPRESSIONS.values():
        occurs = rng.random() < expression.probability
        strength = rng.uniform(*EXPRESSION_STRENGTH) * style.expressiveness * occurs
        # Onsets before 0 let an expression already under way when the clip starts.
        envelope = strength * _envelope(
            t, rng.uniform(-0.5, 0.8 * t[-1]), rng.uniform(*expression.rise_s) * style.timing,
            rng.uniform(*expression.hold_s) * style.timing, rng.uniform(*expression.fall_s) * style.timing)
        au_envelope = lips_envelope = envelope
        if expression.syllable_hz is not None:
            syllable_hz = rng.uniform(*expression.syllable_hz)
            au_envelope = envelope * _opening(t, syllable_hz, rng.uniform(0, 2 * np.pi))
            lips_envelope = envelope * _opening(t, syllable_hz / 2, rng.uniform(0, 2 * np.pi))
        gains = _side_gains(rng, 1, style)[0]
        au_sides += gains[:, None, None] * np.outer(au_envelope, _au_vector(expression.au))
        direct += np.outer(lips_envelope, _blendshape_vector(expression.blendshapes)
                           * np.append(gains, 1.0)[_BLENDSHAPE_SIDE])
    return au_sides, direct


def _opening(t: np.ndarray, hz: float, phase: float) -> np.ndarray:
    """0-1 oscillation, like a mouth opening and closing while speaking."""
    return 0.5 * (1.0 - np.cos(2 * np.pi * hz * t + phase))


def _blinks(rng: np.random.Generator, t: np.ndarray, style: PerformerStyle) -> np.ndarray:
    """Per-side AU45 intensities [2, T, K] of spontaneous blinks."""
    n = int(t[-1] / (BLINK_INTERVAL_SPREAD[0] * style.blink_interval_s)) + 2
    intervals = style.blink_interval_s * rng.uniform(*BLINK_INTERVAL_SPREAD, n)
    # The clip starts at a random point of the performer's blink rhythm.
    onsets = np.cumsum(intervals) - rng.uniform(0.0, intervals[0])
    closure = rng.uniform(4.5, 5.0, n)[:, None] * _envelope(
        t, onsets, rng.uniform(*BLINK_CLOSE_S, n), rng.uniform(*BLINK_SHUT_S, n),
        rng.uniform(*BLINK_OPEN_S, n))
    au_sides = np.zeros((2, len(t), len(AU_NAMES)))
    au_sides[:, :, AU_INDEX["AU45"]] = closure.sum(axis=0)
    return au_sides


def _gaze(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """eyeLook* blendshape activity [T, 52]: fixations joined by saccades."""
    n = int(t[-1] / FIXATION_S[0]) + 2
    durations = rng.uniform(*FIXATION_S, n)
    saccade_times = np.cumsum(durations) - rng.uniform(0.0, durations[0])
    targets = np.clip(rng.normal(0.0, GAZE_SPREAD, (n + 1, 2)), -0.5, 0.5)
    gaze = targets[np.searchsorted(saccade_times, t, side="right")]
    # A saccade lasts 30-50 ms, about one frame: land halfway in the frame it starts.
    gaze[1:] = 0.5 * (gaze[1:] + gaze[:-1])
    direct = np.zeros((len(t), len(ARKIT_BLENDSHAPES)))
    direct[:, _GAZE_COLUMNS] = np.maximum(gaze[:, _GAZE_AXES] * _GAZE_SIGNS, 0.0)
    return direct


def _smooth_sway(rng: np.random.Generator, t: np.ndarray, amplitude: np.ndarray,
                 habit_hz: float | None = None) -> np.ndarray:
    """[T, 3] sum of slow sinusoids per axis, bounded by amplitude; near ``habit_hz`` when given."""
    shape = (SWAY_COMPONENTS, 3)
    weights = rng.dirichlet(np.ones(SWAY_COMPONENTS), size=3).T * rng.uniform(0.5, 1.0, 3)
    hz = rng.uniform(*SWAY_HZ, shape)[..., None]
    if habit_hz is not None:  # the same draws, squeezed to +-15 % around the habit: other streams stay put
        hz = habit_hz * (0.85 + 0.3 * (hz - SWAY_HZ[0]) / (SWAY_HZ[1] - SWAY_HZ[0]))
    phase = rng.uniform(0, 2 * np.pi, shape)[..., None]
    return amplitude * np.einsum("ca,cat->ta", weights, np.sin(2 * np.pi * hz * t + phase))


def _head_motion(rng: np.random.Generator, t: np.ndarray,
                 style: PerformerStyle) -> tuple[np.ndarray, np.ndarray]:
    """Head rotation (axis-angle, rad) and translation (m), [T, 3] each, relative to the median pose."""
    rotation = _smooth_sway(rng, t, HEAD_SWAY_RAD, style.sway_hz)
    nodding = rng.random() < NOD_PROBABILITY
    rotation[:, 0] += nodding * rng.uniform(*NOD_RAD) * _envelope(
        t, rng.uniform(0.0, t[-1]), rng.uniform(0.2, 0.4), rng.uniform(0.0, 0.2), rng.uniform(0.3, 0.5))
    translation = _smooth_sway(rng, t, HEAD_SWAY_M, style.sway_hz)
    # Angles this small compose almost additively (the error is about half their product), so
    # subtracting the median axis-angle gives the rotation relative to the median pose.
    return ((rotation - np.median(rotation, axis=0)) * style.head_sway,
            (translation - np.median(translation, axis=0)) * style.head_sway)

"""``hybrid`` retargeting (the default): MediaPipe's scores where its net tracks anny well (blinks, jaw,
mouth, smiles, brows up, gaze), the landmark fit for the PSPI units it misses, and the image cue for
the units the landmarks cannot see, as ``CUE_RULES`` says; ``hybrid-levels``: the same with each pain
unit scaled to its measured level; and ``cue``: MediaPipe's scores with the image cue's units from
the cue alone."""

from __future__ import annotations

import numpy as np

from painsynth.capture.retarget.base import Assets, Neutral, Observation
from painsynth.capture.retarget.cue import cue_retarget, eyes_shut, within_training_views
from painsynth.capture.retarget.direct import read_direct
from painsynth.capture.retarget.fit import fit_retarget
from painsynth.tracks import BLENDSHAPE_INDEX

# Units the hybrid takes from the fit: the PSPI units MediaPipe's net misses or under-scores on
# anny (benchmarks/roundtrip.py); everything else (blinks, jaw, mouth, smiles, brows up, gaze)
# stays MediaPipe's, which the fit does not solve.
FIT_UNITS = tuple(stem + side for stem in ("browDown", "cheekSquint", "eyeSquint", "noseSneer", "mouthUpperUp")
                  for side in ("Left", "Right"))

# Units the hybrid takes (partly) from the image cue, and how. cheekSquint hardly moves
# MediaPipe's landmarks: the cue alone. noseSneer: the fit and the cue each misread other units (the
# fit brow lowering and blinks on some identities, the cue brow lowering on others), so their
# geometric mean, which needs both to agree (single-unit clips of 12 identities of neither training
# set, frontal / 30 degrees: r 0.85 / 0.89, against 0.76 / 0.68 for the fit, 0.75 / 0.73 for the
# cue, 0.82 / 0.76 for their mean).
CUE_RULES = {stem + side: rule for stem, rule in (("cheekSquint", "cue"), ("noseSneer", "geometric"))
             for side in ("Left", "Right")}
# The units the cue joins in on strongly turned frames, where only the near eye's patch is read
# (within_training_views): it reads cheekSquint there about as well as frontally (r 0.48-0.56 against
# 0.77 on 12 held-out identities, sample_avatars(12, seed=3), with distractors and one-sided units) but
# noseSneer hardly (r 0.13-0.26), and the landmark fit alone did better than their geometric mean at
# 45 degrees (benchmarks/roundtrip.py: AU9 r 0.39 against 0.30), so noseSneer stays the fit's there.
TURNED_CUE_UNITS = tuple(unit for unit in CUE_RULES if unit.startswith("cheekSquint"))

# The pain units whose level hybrid-levels puts right with a measured gain each (Assets.levels, built by
# calibration.build_level_gains on identities of their own): the hybrid reads them at a fraction of
# their level on new faces (each held alone at 0.6-0.8, front, against the person's baseline clip:
# cheek raise 0.23, lid tightening 0.15, upper lip 0.39, nose wrinkle 0.25 of the truth, brows down
# 0.95; benchmarks/unit_levels.py), which a per-frame correlation does not see but a pain level does. It is
# not the default: scaling the weakest readings up scales their noise too, and the per-frame PSPI r of
# the round trip's held-out set falls (benchmarks/roundtrip.py; docs/measurements.md, "Capture fidelity").
LEVEL_STEMS = ("browDown", "cheekSquint", "eyeSquint", "noseSneer", "mouthUpperUp")


def hybrid_retarget(direct: np.ndarray, fitted: np.ndarray, units: tuple[str, ...] = FIT_UNITS,
                    cue: np.ndarray | None = None, cue_frames: np.ndarray | None = None,
                    rules: dict[str, str] = CUE_RULES) -> np.ndarray:
    """MediaPipe's calibrated scores, with the units it misses on anny taken from the fit, and with
    ``cue`` (:func:`painsynth.capture.retarget.cue.cue_retarget`'s weights) joining in as ``rules`` says,
    on the frames ``cue_frames`` marks as within the cue's trained views: [T] bool (default all), or
    [T, 2] int per side (Left, Right) naming the side whose cue reading stands for it, -1 for none
    (:func:`painsynth.capture.retarget.cue.within_training_views`: the near eye's on strongly turned
    frames, where only ``TURNED_CUE_UNITS`` take the cue)."""
    mixed = np.array(direct, np.float32, copy=True)
    columns = [BLENDSHAPE_INDEX[u] for u in units]
    mixed[:, columns] = fitted[:, columns]
    if cue is not None:
        n = min(len(mixed), len(cue))
        sides = ("Left", "Right")
        if cue_frames is None:
            sources = np.tile(np.arange(2), (n, 1))
        elif np.ndim(cue_frames) == 1:
            sources = np.where(np.asarray(cue_frames, bool)[:n, None], np.arange(2), -1)
        else:
            sources = np.asarray(cue_frames, int)[:n]
        turned = (sources[:, 0] == sources[:, 1]) & (sources[:, 0] >= 0)  # one eye read for both
        for unit, rule in rules.items():
            column = BLENDSHAPE_INDEX[unit]
            side = 0 if unit.endswith("Left") else 1
            stem = unit[:-len(sides[side])]
            for source in range(2):
                rows = np.flatnonzero((sources[:, side] == source) & (~turned | (unit in TURNED_CUE_UNITS)))
                seen = np.clip(cue[rows, BLENDSHAPE_INDEX[stem + sides[source]]], 0, None)
                mixed[rows, column] = seen if rule == "cue" else np.sqrt(np.clip(mixed[rows, column], 0, None) * seen)
    return mixed


def _cue(observation: Observation, neutral: Neutral, assets: Assets,
         direct: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    if observation.patches is None:
        return None, None
    return (cue_retarget(observation.patches, observation.valid, assets.cue_model, neutral=neutral.patches,
                         shut=eyes_shut(direct)),
            within_training_views(observation.landmarks, observation.image_size))


def retarget_hybrid(observation: Observation, neutral: Neutral, assets: Assets) -> np.ndarray:
    direct = read_direct(observation, neutral.scores)
    fitted = fit_retarget(observation.landmarks, observation.valid, observation.image_size, assets.fitter,
                          neutral=neutral.residual)
    cue, frames = _cue(observation, neutral, assets, direct)
    return hybrid_retarget(direct, fitted, cue=cue, cue_frames=frames)


def retarget_hybrid_levels(observation: Observation, neutral: Neutral, assets: Assets) -> np.ndarray:
    return at_level(retarget_hybrid(observation, neutral, assets), assets.levels)


def at_level(weights: np.ndarray, levels: np.ndarray | None) -> np.ndarray:
    """``weights`` [T, 52] times the per-unit gains ``levels`` [52], kept in [0, 1] (unchanged without)."""
    if levels is None:
        return weights
    return np.clip(weights * levels, 0.0, 1.0).astype(np.float32)


def retarget_cue(observation: Observation, neutral: Neutral, assets: Assets) -> np.ndarray:
    direct = read_direct(observation, neutral.scores)
    cue, frames = _cue(observation, neutral, assets, direct)
    all_cue = {stem + side: "cue" for stem in ("cheekSquint", "noseSneer") for side in ("Left", "Right")}
    return hybrid_retarget(direct, direct, units=(), cue=cue, cue_frames=frames, rules=all_cue)

"""Retargeting: MediaPipe's observation of a clip as anny's 52 face-unit weights.

``METHODS`` is the name table (``capture --method``); a new method is one module plus one entry.
Every method reads an :class:`Observation`, the person's :class:`Neutral` face and the built
:class:`Assets` (:func:`painsynth.capture.calibration.retarget_assets` builds what a method uses).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from painsynth.capture.retarget.base import CLIP_NEUTRAL, Assets, Neutral, Observation
from painsynth.capture.retarget.direct import read_direct
from painsynth.capture.retarget.fit import fit_retarget
from painsynth.capture.retarget.hybrid import retarget_cue, retarget_hybrid, retarget_hybrid_levels


@dataclass(frozen=True)
class Method:
    retarget: Callable[[Observation, Neutral, Assets], np.ndarray]  # -> weights [T, 52] in [0, 1]
    uses_fit: bool  # needs Assets.fitter
    uses_cue: bool  # needs Assets.cue_model
    summary: str
    uses_levels: bool = False  # needs Assets.levels


def _direct(observation: Observation, neutral: Neutral, assets: Assets) -> np.ndarray:
    return read_direct(observation, neutral.scores)


def _fit(observation: Observation, neutral: Neutral, assets: Assets) -> np.ndarray:
    return fit_retarget(observation.landmarks, observation.valid, observation.image_size, assets.fitter,
                        neutral=neutral.residual)


# hybrid first: the default, best on the round-trip benchmark (benchmarks/roundtrip.py)
METHODS: dict[str, Method] = {
    "hybrid": Method(retarget_hybrid, True, True, "MediaPipe's scores, the landmark fit for the pain units "
                                                  "it misses, the image cue for cheek raise and nose wrinkle"),
    "fit": Method(_fit, True, False, "anny's pain units solved from the 478 landmarks"),
    "cue": Method(retarget_cue, False, True, "MediaPipe's scores, cheek raise and nose wrinkle from the image cue"),
    "direct": Method(_direct, False, False, "MediaPipe's blendshape scores less the neutral face's"),
    "hybrid-levels": Method(retarget_hybrid_levels, True, True, "hybrid with each pain unit scaled to its "
                            "measured level: held pain keeps more of its level, the per-frame PSPI is noisier",
                            uses_levels=True),
}


def method(name: str) -> Method:
    """The method called ``name``; ValueError naming the allowed ones otherwise."""
    if name not in METHODS:
        raise ValueError(f"unknown retargeting method {name!r} (one of {', '.join(METHODS)})")
    return METHODS[name]


def retarget(name: str, observation: Observation, assets: Assets, neutral: Neutral = CLIP_NEUTRAL) -> np.ndarray:
    """Face-unit weights [T, 52] of one clip by method ``name``."""
    return method(name).retarget(observation, neutral, assets)


__all__ = ["CLIP_NEUTRAL", "METHODS", "Assets", "Method", "Neutral", "Observation", "method", "retarget"]

"""The hybrid's pain-unit level gains (6. in :mod:`painsynth.capture.calibration`)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.capture.calibration import store
from painsynth.capture.calibration.fitter import default_fitter
from painsynth.capture.calibration.image_cue import CUE_SIZE, cue_model, cue_path, training_motion
from painsynth.capture.calibration.measurement import calibration_path
from painsynth.capture.calibration.store import built
from painsynth.capture.calibration.studio import captured, loaded
from painsynth.capture.model import MODEL_SHA256, verified_model
from painsynth.capture.retarget import Assets
from painsynth.capture.retarget.cue import SIDES
from painsynth.capture.retarget.hybrid import CUE_RULES, FIT_UNITS, LEVEL_STEMS, TURNED_CUE_UNITS, retarget_hybrid
from painsynth.capture.retarget.neutral import neutral_from
from painsynth.procedural import make_track
from painsynth.render import create_renderer, frame_head, make_background, sample_lighting
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

LEVEL_VERSION = 30  # 30: as CORRESPONDENCE_VERSION 29 (earlier reasons: see the package docstring)
LEVEL_SEED = 6  # sample_avatars(.., seed=6): none of the other assets' or the round trip's identities
LEVEL_AVATARS = 8
LEVEL_VIEWS = ("front", "left30", "right30")
LEVEL_FRAMES = 100
LEVEL_PAIN = (3, 4)  # the levels of the procedural pain clips each identity plays


def level_path() -> Path:
    return store.keyed_path("hybrid_levels", LEVEL_VERSION, MODEL_SHA256, calibration_path().stem, cue_path().stem,
                            LEVEL_SEED, LEVEL_AVATARS, LEVEL_VIEWS, LEVEL_FRAMES, LEVEL_PAIN, LEVEL_STEMS,
                            sorted(CUE_RULES.items()), FIT_UNITS, TURNED_CUE_UNITS)


def _level_clips(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """(blendshapes [T, 52], rotation [T, 3]) per clip of one identity: the baseline first."""
    frames = LEVEL_FRAMES
    still = np.zeros((frames, 3), np.float32)
    clips = [(np.zeros((frames, len(ARKIT_BLENDSHAPES)), np.float32), still), training_motion(rng, frames)]
    for level in LEVEL_PAIN:
        track = make_track(level, int(rng.integers(2**31)), n_frames=frames)
        clips.append((track.blendshapes, track.head_rotation))
    return clips


def build_level_gains(model_path: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """``gains`` [len(LEVEL_STEMS)] and ``per_identity`` [LEVEL_AVATARS, len(LEVEL_STEMS)] (the same, one
    identity at a time: how far one face's gain strays). The hybrid's reading of a unit is, on average,
    a share b of its true level (least squares through the origin, reading on truth, over every valid
    frame of every clip and view, both sides pooled); its gain is 1 / b, so that a unit at a level is
    read back at that level on average. Two other rules were tried: the slope
    of truth on reading (least squared error) shrinks toward 0 wherever other units are misread as this
    one (it gave brows down x 0.66 and nose wrinkle x 0.76, lowering a held pain further); the ratio of
    their root mean squares lies between the two (docs/measurements.md, "Capture fidelity")."""
    rig = rig or HeadRig()
    model_path = verified_model(model_path)
    assets = Assets(fitter=default_fitter(), cue_model=cue_model())
    rng = np.random.default_rng(LEVEL_SEED)
    renderer = create_renderer(CUE_SIZE)
    columns = [[BLENDSHAPE_INDEX[stem + side] for side in SIDES] for stem in LEVEL_STEMS]
    sums = np.zeros((LEVEL_AVATARS, len(LEVEL_STEMS), 2))  # (sum truth^2, sum truth x reading)
    try:
        with tempfile.TemporaryDirectory() as folder:
            for index, avatar in enumerate(loaded(sample_avatars(LEVEL_AVATARS, LEVEL_SEED), rig, renderer)):
                identity = avatar.identity
                cameras = [frame_head(identity.mesh.head_box, view) for view in LEVEL_VIEWS]
                backgrounds = [make_background("solid", (CUE_SIZE, CUE_SIZE), rng) for _ in cameras]
                lighting = sample_lighting(rng)
                clips = _level_clips(rng)
                seen = [[] for _ in cameras]
                for shapes, rotation in clips:
                    for v, observation in enumerate(captured(renderer, identity, shapes, rotation, cameras,
                                                              lighting, backgrounds, folder, model_path)):
                        seen[v].append(observation)
                for observations in seen:
                    if not np.any(observations[0].valid):
                        continue
                    neutral = neutral_from([observations[0]], assets, "baseline", dedicated=True)
                    for (shapes, _), observation in zip(clips[1:], observations[1:]):
                        read = retarget_hybrid(observation, neutral, assets)
                        n = min(len(read), len(shapes))
                        keep = np.asarray(observation.valid[:n], bool)
                        for k, pair in enumerate(columns):
                            truth, got = shapes[:n][keep][:, pair], read[:n][keep][:, pair]
                            sums[index, k] += ((truth ** 2).sum(), (truth * got).sum())
    finally:
        renderer.release()
    def gain(total: np.ndarray) -> np.ndarray:
        return total[..., 0] / np.maximum(total[..., 1], 1e-9)
    return {"gains": gain(sums.sum(axis=0)), "per_identity": gain(sums)}


@functools.lru_cache(maxsize=1)
def level_gains() -> np.ndarray:
    """[52] the hybrid's gain per unit (:func:`build_level_gains`; 1 for units it leaves as read), cached."""
    arrays = built(level_path(), ("gains", "per_identity"), build_level_gains)
    levels = np.ones(len(ARKIT_BLENDSHAPES), np.float32)
    for stem, gain in zip(LEVEL_STEMS, arrays["gains"]):
        levels[[BLENDSHAPE_INDEX[stem + side] for side in SIDES]] = gain
    return levels

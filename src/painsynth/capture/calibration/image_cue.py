"""The image cue's regression from eye patches to units (3. in :mod:`painsynth.capture.calibration`)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import numpy as np

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.capture.calibration import store
from painsynth.capture.calibration.store import built
from painsynth.capture.calibration.studio import captured, loaded
from painsynth.capture.patches import EYE_CORNERS, PATCH, U_RANGE, V_RANGE
from painsynth.capture.model import MODEL_SHA256, verified_model
from painsynth.capture.retarget.cue import FLOW_BLOCK, FLOW_BLUR, FLOW_LIMIT, READ_STEMS, SIDES, blurred, features
from painsynth.procedural import AU_TO_BLENDSHAPES
from painsynth.render import create_renderer, frame_head, make_background, sample_lighting
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

CUE_VERSION = 33  # 33: as CORRESPONDENCE_VERSION 29; 31: the lids read too (READ_STEMS), to find shut eyes (earlier reasons: see the package docstring)
CUE_SEED = 2  # sample_avatars(.., seed=2): not the benchmark's (seed 0) nor the calibration's (seed 1)
CUE_AVATARS = 24  # identities rendered for training (12 read noseSneer worse on held-out identities, 36 no better)
CUE_VIEWS = ("front", "left30", "right30", "left45", "right45")
# Views in which only the near eye's patch is trained on (subject's side index): at 45 degrees the far
# eye is foreshortened and its inner half hidden by the nose (its patch read r ~0 on held-out identities)
NEAR_ONLY_VIEWS = {"left45": 0, "right45": 1}
# Their rows' weight in the regression, chosen on 12 identities of neither set (sample_avatars(12, seed=3),
# cue alone, mean of both sides' r): at full weight they cost the frontal reading (cheekSquint / noseSneer
# r 0.78 / 0.66 -> 0.71 / 0.63); at 0.1, 0.77 / 0.65, while the near eye at 45 degrees reads cheekSquint at
# r 0.48 (left) / 0.56 (right), against 0.45 / 0.41 untrained (0.54 / 0.60 at full weight)
NEAR_ONLY_WEIGHT = 0.1
CUE_FRAMES = 125  # per training clip
CUE_SIZE = 224  # px, as the benchmark's renders
CUE_RIDGE = 0.1  # relative to the features' mean squared norm per dimension (0.01-1 measured about alike)


def _bundle(rng: np.random.Generator) -> dict[str, float]:
    """One random expression (unit -> weight at the apex): a unit alone, a FACS bundle, or distractors."""
    kind = rng.random()
    sides = [("Left", "Right"), ("Left",), ("Right",)][rng.choice(3, p=[0.6, 0.2, 0.2])]
    if kind < 0.4:  # the cue's own units and their look-alikes, alone
        stem = str(rng.choice(["cheekSquint", "noseSneer", "cheekSquint", "noseSneer", "eyeSquint", "browDown",
                           "mouthSmile", "mouthUpperUp", "eyeBlink", "eyeWide", "browOuterUp", "mouthFrown"]))
        return {stem + side: 1.0 for side in sides}
    if kind < 0.75:  # a FACS bundle (as the procedural motion makes them)
        au = str(rng.choice(list(AU_TO_BLENDSHAPES)))
        return {name: w for name, w in AU_TO_BLENDSHAPES[au].items()
                if not name.endswith(("Left", "Right")) or name.endswith(sides)}
    others = ["browInnerUp", "jawOpen", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookUpLeft", "eyeLookUpRight",
              "eyeLookInLeft", "eyeLookOutRight", "eyeLookOutLeft", "eyeLookInRight", "mouthPucker", "cheekPuff"]
    return {str(rng.choice(others)): 1.0}


def training_motion(rng: np.random.Generator, frames: int = CUE_FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """(blendshapes [T, 52], head rotation [T, 3]): a third of the time neutral, otherwise random
    expressions (one or two at once, :func:`_bundle`) rising and falling, with a slow small head turn."""
    shapes = np.zeros((frames, len(ARKIT_BLENDSHAPES)), np.float32)
    start = 0
    while start < frames:
        length = int(rng.integers(8, 16))
        bump = np.sin(np.linspace(0, np.pi, length)) ** 2
        if rng.random() > 0.33:
            for _ in range(1 + int(rng.random() < 0.35)):
                amplitude = rng.uniform(0.3, 1.0)
                for name, weight in _bundle(rng).items():
                    end = min(frames, start + length)
                    shapes[start:end, BLENDSHAPE_INDEX[name]] += amplitude * weight * bump[:end - start]
        start += length
    phase = rng.uniform(0, 2 * np.pi, 3)
    t = np.arange(frames)[:, None] / frames
    rotation = 0.07 * np.sin(2 * np.pi * t * rng.uniform(0.5, 1.5, 3) + phase)
    return np.clip(shapes, 0, 1), rotation.astype(np.float32)



def training_clips(avatars: int = CUE_AVATARS, views: tuple[str, ...] = CUE_VIEWS, frames: int = CUE_FRAMES,
                   model_path: Path | None = None, rig=None) -> list[dict]:
    """Captured training clips: per identity and view, ``patches`` [T, 2, P, P], ``valid`` [T],
    ``targets`` [T, 2, len(READ_STEMS)], ``identity`` (index) and ``near`` (the only side to train on, or None)."""

    rig = rig or HeadRig()
    model_path = verified_model(model_path)
    rng = np.random.default_rng(CUE_SEED)
    extra = np.random.default_rng([CUE_SEED, 1])
    renderer = create_renderer(CUE_SIZE)
    clips = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for index, avatar in enumerate(loaded(sample_avatars(avatars, CUE_SEED), rig, renderer)):
                identity = avatar.identity
                shapes, rotation = training_motion(rng, frames)
                cameras = [frame_head(identity.mesh.head_box, view) for view in views]
                # the near-only views' backgrounds from a generator of their own: the other views' clips
                # stay those the cue was trained on before they were added
                backgrounds = [make_background("solid", (CUE_SIZE, CUE_SIZE),
                                               extra if view in NEAR_ONLY_VIEWS else rng) for view in views]
                lighting = sample_lighting(rng)
                targets = np.stack([[shapes[:, BLENDSHAPE_INDEX[stem + side]] for stem in READ_STEMS]
                                    for side in SIDES]).transpose(2, 0, 1)
                for v, seen in enumerate(captured(renderer, identity, shapes, rotation, cameras, lighting,
                                                   backgrounds, folder, model_path)):
                    patches, valid = seen.patches, seen.valid
                    n = min(len(patches), len(targets))
                    clips.append({"patches": patches[:n], "valid": valid[:n], "targets": targets[:n],
                                  "identity": index, "near": NEAR_ONLY_VIEWS.get(views[v])})
    finally:
        renderer.release()
    return clips


def fit_cue(clips: list[dict], ridge: float = CUE_RIDGE) -> dict[str, np.ndarray]:
    """The ridge regression from patch features to unit weights, trained the way it is applied:
    features against each clip's neutral frames (known in training), both sides pooled (only the near
    side in ``NEAR_ONLY_VIEWS``' clips, weighted ``NEAR_ONLY_WEIGHT``), valid frames."""
    xs, ys = [], []
    for clip in clips:
        calm = np.flatnonzero(clip["targets"].sum(axis=(1, 2)) == 0)
        smooth = blurred(clip["patches"])
        seen = features(smooth, smooth[calm if len(calm) else slice(None)].mean(axis=0))
        keep = np.asarray(clip["valid"], bool)
        sides = slice(None) if clip.get("near") is None else [clip["near"]]
        scale = 1.0 if clip.get("near") is None else np.sqrt(NEAR_ONLY_WEIGHT)  # a row weight
        xs.append(scale * seen[keep][:, sides].reshape(-1, seen.shape[-1]))
        ys.append(scale * clip["targets"][keep][:, sides].reshape(-1, len(READ_STEMS)))
    x, y = np.concatenate(xs).astype(np.float64), np.concatenate(ys).astype(np.float64)
    penalty = ridge * (x ** 2).sum() / len(x)  # per dimension: scale-free
    weights = np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ y)
    # the ridge shrinks the output; a gain per unit restores the weights' scale (the hybrid mixes
    # the cue with the fit's weights, and the PSPI adds them up)
    predicted = x @ weights
    weights *= (predicted * y).sum(axis=0) / np.maximum((predicted ** 2).sum(axis=0), 1e-12)
    return {"weights": weights.astype(np.float32)}


def build_cue_model(model_path: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """Render, capture and fit (see the package doc); ``weights`` [F, len(READ_STEMS)], F = per-block shifts
    (:func:`painsynth.capture.retarget.cue.features`) + per-sample intensity changes."""
    return fit_cue(training_clips(model_path=model_path, rig=rig))


def cue_path() -> Path:
    return store.keyed_path("anny_image_cue", CUE_VERSION, MODEL_SHA256, PATCH, EYE_CORNERS, U_RANGE, V_RANGE,
                            READ_STEMS, CUE_SEED, CUE_AVATARS, CUE_VIEWS, CUE_FRAMES, CUE_SIZE, CUE_RIDGE, FLOW_BLOCK, FLOW_BLUR,
                            FLOW_LIMIT, sorted(NEAR_ONLY_VIEWS.items()), NEAR_ONLY_WEIGHT)


@functools.lru_cache(maxsize=1)
def cue_model() -> dict[str, np.ndarray]:
    """The learned regression (:func:`build_cue_model`), from the on-disk cache or built (and cached) once."""
    return built(cue_path(), ("weights",), build_cue_model)

"""Image cue for the units MediaPipe's landmarks barely see on anny: cheekSquint (AU6) and noseSneer (AU9).

When anny raises its cheeks, MediaPipe's cheek landmarks hardly move, but the rendered skin does:
the shading under the eye darkens and the lower lid bulges. So, per frame, a small grey patch is
sampled around each eye in a frame fixed to the eye corners (which stay put), covering the inner
brow, the side of the nose bridge and the cheek; per clip, each patch's change from the clip's
most neutral frames (relative to its brightness) is mapped to that side's unit weights by a ridge
regression learned from anny renders with known units (:func:`build_cue_model`, built once and
cached under ``~/.cache/painsynth``). The two sides are sampled as mirror images so one regressor
serves both (twice the training data). The features are both the intensity change and a local
Lucas-Kanade shift per block (the skin slides up under the eye), which together read the cheek
raise better on held-out identities than either alone (r 0.88 against 0.83 for intensities, frontal).

1. **Per frame, while tracking** (:func:`extract_patches`, ~0.1 ms): the patches [2, PATCH, PATCH].
2. **Training** (:func:`build_cue_model`, ~3 min on 2 cores, once): identities of their own seed
   (none of the benchmark's), front, 30 and (near eye only, down-weighted) 45 degrees to each side,
   random sequences of single units,
   FACS bundles and distractors (eyeSquint, blinks, smiles, brows, jaw, gaze), with small head turns,
   encoded to H.264 and captured exactly as a video is.
3. **Per clip** (:func:`cue_retarget`): features against the clip's neutral (two passes, as the fit's),
   the regression, clipping and smoothing. On frames turned beyond ~35 degrees the near eye's reading
   stands for both sides (:func:`within_training_views`; the hybrid then takes only cheekSquint from it).
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from painsynth.fileio import cached_arrays
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

CUE_VERSION = 4  # 4: avatars with face shape, hair, garment and glasses
PATCH = 24  # samples per side of a patch: ~1.3 px apart at the benchmark's 224 px
SIDES = ("Left", "Right")  # the subject's; patch k belongs to SIDES[k]
# (inner, outer) eye corner landmarks per side: a similarity frame that cheek raising does not move
EYE_CORNERS = ((362, 263), (133, 33))
# The patch in eye widths: u from the inner corner outwards, v downwards (negative: above the eye line)
U_RANGE = (-0.9, 1.3)
V_RANGE = (-1.3, 1.7)  # from the brow (nose wrinkle pulls the inner brow down) to the cheek
FLOW_BLOCK = 4  # samples per side of the blocks a local shift is estimated in
FLOW_BLUR = 0.7  # samples, Gaussian sigma before the features (MediaPipe's jitter, H.264 noise)
FLOW_LIMIT = 3.0  # samples: a larger local shift is an occlusion (a blink), not skin sliding
MAX_SPACING = 1.5  # px between samples beyond which the image is first shrunk (no aliasing on big frames)
CUE_STEMS = ("cheekSquint", "noseSneer")  # predicted per side
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
# Frames whose eye widths in the image differ more than this (|log ratio|: ~0.35 at 30 degrees,
# 0.55-0.8 at 45, measured on anny renders) read the cue from the near eye's patch only, which then
# stands for both sides (the far patch reads nothing there, see NEAR_ONLY_VIEWS; pain's units are
# mostly bilateral); beyond MAX_EYE_RATIO (~60 degrees, never trained) the hybrid skips the cue.
BOTH_SIDES_EYE_RATIO = 0.5
MAX_EYE_RATIO = 1.0
NEUTRAL_SHARE = 0.2  # share of a clip's frames (the least active) taken as its neutral
SMOOTH_WINDOW = 5


# ---------------------------------------------------------------- per frame

def _grid(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Sample positions [2, PATCH, PATCH, 2] (pixels) of both patches for one frame's landmarks."""
    u = np.linspace(*U_RANGE, PATCH)
    v = np.linspace(*V_RANGE, PATCH)
    points = []
    for (inner, outer), sign in zip(EYE_CORNERS, (1.0, -1.0)):
        a = landmarks[inner, :2] * (width, height)
        axis = landmarks[outer, :2] * (width, height) - a
        down = sign * np.array([-axis[1], axis[0]])  # perpendicular, pointing down the face on both sides
        points.append(a + u[None, :, None] * axis + v[:, None, None] * down)
    return np.stack(points).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _cv2():
    import cv2  # OpenCV comes with mediapipe (the capture extra)

    cv2.setNumThreads(1)  # its worker pool would contend with MediaPipe's for tiny remaps (measured)
    return cv2


def extract_patches(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Grey patches [2, PATCH, PATCH] (float32, 0-255) around both eyes of an RGB uint8 image."""
    cv2 = _cv2()
    height, width = image.shape[:2]
    grid = _grid(np.asarray(landmarks, np.float64), width, height)
    spacing = np.linalg.norm(grid[0, 0, 1] - grid[0, 0, 0])
    if spacing > MAX_SPACING:  # shrink the face's bounding box first: area averaging, no aliasing
        low = np.maximum(np.floor(grid.reshape(-1, 2).min(axis=0)) - 2, 0).astype(int)
        high = np.minimum(np.ceil(grid.reshape(-1, 2).max(axis=0)) + 3, (width, height)).astype(int)
        if np.all(high - low > 2):
            crop = image[low[1]:high[1], low[0]:high[0]]
            factor = 1.0 / spacing
            size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
            image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            grid = (grid - low) * (np.array(size) / (crop.shape[1], crop.shape[0])).astype(np.float32)
    maps = np.ascontiguousarray(grid.reshape(2 * PATCH, PATCH, 2), np.float32)
    sampled = cv2.remap(np.ascontiguousarray(image), maps, None, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    grey = sampled.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return grey.reshape(2, PATCH, PATCH)


def within_training_views(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """[T, 2] int: per frame and side (``SIDES``), the side whose cue reading stands for it: its own on
    frames turned up to ``BOTH_SIDES_EYE_RATIO``, the near (wider) eye's for both up to ``MAX_EYE_RATIO``,
    -1 (cue skipped) beyond, where the cue was not trained."""
    scaled = np.asarray(landmarks, np.float64)[:, :, :2] * image_size
    widths = [np.linalg.norm(scaled[:, outer] - scaled[:, inner], axis=1) for inner, outer in EYE_CORNERS]
    ratio = np.log(np.maximum(widths[0], 1e-9) / np.maximum(widths[1], 1e-9))
    sources = np.tile(np.arange(len(SIDES)), (len(ratio), 1))
    turned = np.abs(ratio) > BOTH_SIDES_EYE_RATIO
    sources[turned] = np.where(ratio[turned] > 0, 0, 1)[:, None]
    sources[np.abs(ratio) > MAX_EYE_RATIO] = -1
    return sources


# ---------------------------------------------------------------- per clip

def _flow(patches: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """[T, 2, 2 * blocks]: per block of ``FLOW_BLOCK`` samples, the Lucas-Kanade shift (u, v; samples,
    clipped to +-FLOW_LIMIT) of each patch from the reference: unlike the intensity change, it does not
    scale with the skin's contrast and the lighting (the ridge on intensities alone read the cheek
    raise of dark-skinned identities weakly)."""
    def block(a):
        n = PATCH // FLOW_BLOCK
        return a.reshape(a.shape[:-2] + (n, FLOW_BLOCK, n, FLOW_BLOCK)).sum(axis=(-3, -1))

    gy, gx = np.gradient(reference, axis=(1, 2))
    change = patches - reference
    sxx, sxy, syy, sxt, syt = block(gx * gx), block(gx * gy), block(gy * gy), block(gx * change), block(gy * change)
    det = sxx * syy - sxy ** 2 + 1e-3 * (sxx + syy) ** 2 + 1e-6  # damped: flat blocks give ~0, not noise
    u = -(syy * sxt - sxy * syt) / det
    v = -(sxx * syt - sxy * sxt) / det
    shift = np.concatenate([u.reshape(len(patches), 2, -1), v.reshape(len(patches), 2, -1)], axis=2)
    return np.clip(shift, -FLOW_LIMIT, FLOW_LIMIT)


def _features(patches: np.ndarray, calm: np.ndarray) -> np.ndarray:
    """[T, 2, F]: each (slightly blurred) patch's local shift from the calm frames' mean (:func:`_flow`)
    and its intensity change, over that mean's brightness."""
    from scipy.ndimage import gaussian_filter

    patches = gaussian_filter(np.asarray(patches, np.float32), (0, 0, FLOW_BLUR, FLOW_BLUR))
    reference = patches[calm].mean(axis=0)
    brightness = np.maximum(reference.mean(axis=(1, 2)), 1.0)[:, None, None]
    change = ((patches - reference) / brightness).reshape(len(patches), 2, -1)
    return np.concatenate([_flow(patches, reference), change], axis=2)


def _predict(features: np.ndarray, model: dict[str, np.ndarray]) -> np.ndarray:
    """[T, 2 sides, len(CUE_STEMS)] raw regression output."""
    return features @ model["weights"]


def clip_features(patches: np.ndarray, valid: np.ndarray, model: dict[str, np.ndarray]) -> np.ndarray:
    """Features against the clip's neutral: the median frame first, then (twice) the mean of the
    ``NEUTRAL_SHARE`` valid frames the regression finds least active (as the landmark fit does)."""
    patches = np.asarray(patches, np.float32)
    valid = np.asarray(valid, bool)
    reference = np.flatnonzero(valid) if valid.any() else np.arange(len(patches))
    median = np.median(patches[reference], axis=0)
    features = _features(np.concatenate([median[None], patches]), np.array([0]))[1:]
    for _ in range(2):
        activity = np.clip(_predict(features[reference], model), 0, None).sum(axis=(1, 2))
        count = max(1, int(np.ceil(NEUTRAL_SHARE * len(reference))))
        features = _features(patches, reference[np.argsort(activity, kind="stable")[:count]])
    return features


def cue_retarget(patches: np.ndarray, valid: np.ndarray, model: dict[str, np.ndarray] | None = None,
                 smooth: bool = True) -> np.ndarray:
    """Weights [T, 52] in [0, 1] of the ``CUE_STEMS`` units (others 0) from a clip's patches [T, 2, P, P]."""
    model = model or cue_model()
    raw = _predict(clip_features(patches, valid, model), model)  # [T, 2, S]
    weights = np.zeros((len(raw), len(ARKIT_BLENDSHAPES)))
    for s, stem in enumerate(CUE_STEMS):
        for k, side in enumerate(SIDES):
            weights[:, BLENDSHAPE_INDEX[stem + side]] = raw[:, k, s]
    if smooth and len(weights) >= SMOOTH_WINDOW:
        from scipy.signal import savgol_filter

        weights = savgol_filter(weights, SMOOTH_WINDOW, 2, axis=0, mode="interp")
    return np.clip(weights, 0.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- training

def _bundle(rng: np.random.Generator) -> dict[str, float]:
    """One random expression (unit -> weight at the apex): a unit alone, a FACS bundle, or distractors."""
    from painsynth.procedural import AU_TO_BLENDSHAPES

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
    ``targets`` [T, 2, len(CUE_STEMS)], ``identity`` (index) and ``near`` (the only side to train on, or None)."""
    import tempfile

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.capture.model import verified_model
    from painsynth.capture.tracker import resampled_patches, run_landmarker
    from painsynth.render import Renderer, frame_head, make_background, sample_lighting
    from painsynth.video import write_video

    rig = rig or HeadRig()
    model_path = verified_model(model_path)
    rng = np.random.default_rng(CUE_SEED)
    extra = np.random.default_rng([CUE_SEED, 1])
    renderer = Renderer(CUE_SIZE, CUE_SIZE)
    clips = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for index, spec in enumerate(sample_avatars(avatars, CUE_SEED)):
                avatar = build_avatar(spec, rig)
                identity = avatar.identity
                renderer.load_avatar(avatar)
                shapes, rotation = training_motion(rng, frames)
                vertices = identity.animate(shapes, rotation, np.zeros_like(rotation))
                cameras = [frame_head(identity.mesh.head_box, view) for view in views]
                # the near-only views' backgrounds from a generator of their own: the other views' clips
                # stay those the cue was trained on before they were added
                backgrounds = [make_background("solid", (CUE_SIZE, CUE_SIZE),
                                               extra if view in NEAR_ONLY_VIEWS else rng) for view in views]
                rendered = list(renderer.render_clip(vertices, cameras, sample_lighting(rng), backgrounds))
                targets = np.stack([[shapes[:, BLENDSHAPE_INDEX[stem + side]] for stem in CUE_STEMS]
                                    for side in SIDES]).transpose(2, 0, 1)
                for v in range(len(views)):
                    path = write_video(Path(folder) / "clip.mp4", np.stack([f[v] for f in rendered]), 25.0)
                    raw = run_landmarker(path, model_path)
                    patches, valid = resampled_patches(raw, 25.0)
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
        features = _features(clip["patches"], calm if len(calm) else np.arange(len(clip["patches"])))
        keep = np.asarray(clip["valid"], bool)
        sides = slice(None) if clip.get("near") is None else [clip["near"]]
        scale = 1.0 if clip.get("near") is None else np.sqrt(NEAR_ONLY_WEIGHT)  # a row weight
        xs.append(scale * features[keep][:, sides].reshape(-1, features.shape[-1]))
        ys.append(scale * clip["targets"][keep][:, sides].reshape(-1, len(CUE_STEMS)))
    x, y = np.concatenate(xs).astype(np.float64), np.concatenate(ys).astype(np.float64)
    penalty = ridge * (x ** 2).sum() / len(x)  # per dimension: scale-free
    weights = np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ y)
    # the ridge shrinks the output; a gain per unit restores the weights' scale (the hybrid mixes
    # the cue with the fit's weights, and the PSPI adds them up)
    predicted = x @ weights
    weights *= (predicted * y).sum(axis=0) / np.maximum((predicted ** 2).sum(axis=0), 1e-12)
    return {"weights": weights.astype(np.float32)}


def build_cue_model(model_path: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """Render, capture and fit (see the module doc); ``weights`` [F, len(CUE_STEMS)], F = per-block shifts
    (:func:`_flow`) + per-sample intensity changes."""
    return fit_cue(training_clips(model_path=model_path, rig=rig))


def _cue_path() -> Path:
    from painsynth.capture.model import MODEL_SHA256

    key = hashlib.sha256(f"{CUE_VERSION}-{MODEL_SHA256}-{PATCH}-{EYE_CORNERS}-{U_RANGE}-{V_RANGE}-{CUE_STEMS}-"
                         f"{CUE_SEED}-{CUE_AVATARS}-{CUE_VIEWS}-{CUE_FRAMES}-{CUE_SIZE}-{CUE_RIDGE}-"
                         f"{FLOW_BLOCK}-{FLOW_BLUR}-{FLOW_LIMIT}-{sorted(NEAR_ONLY_VIEWS.items())}-"
                         f"{NEAR_ONLY_WEIGHT}".encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "painsynth" / f"anny_image_cue_{key}.npz"


@functools.lru_cache(maxsize=1)
def cue_model() -> dict[str, np.ndarray]:
    """The learned regression (:func:`build_cue_model`), from the on-disk cache or built (and cached) once."""
    return cached_arrays(_cue_path(), ("weights",), build_cue_model)

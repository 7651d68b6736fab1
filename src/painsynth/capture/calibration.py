"""The capture's built assets: the only capture module that renders anny heads.

Each ships with the package (``capture/assets/``, written by ``scripts/build_capture_assets.py``);
each file's name carries a hash of everything that shapes it, so a shipped file is used only while
those settings stand. Otherwise it is built once on the machine and cached under ``~/.cache/painsynth``.

1. **Correspondence** (:func:`build_correspondence`): anny's neutral face is rendered frontally for a
   few identities, the landmarker is run on each image, and every landmark is back-projected onto
   the mesh: the visible vertices (within a few millimetres of the front-most one) that project
   nearest to the landmark, weighted by inverse pixel distance. Votes of all identities are summed;
   each landmark keeps its ``NEIGHBOURS`` strongest vertices. The fit's template and basis sit there.
2. **Measurement model** (:func:`build_calibration`): what the landmarker reports is not anny's
   geometry. Ten anny identities (one per Monk skin tone, none of them the benchmark's) are rendered
   from the front and 30 degrees to each side, at neutral, with each of browDown and noseSneer (left,
   right) on alone at two strengths, and with the head turned a little in yaw and pitch; the
   landmarker's aligned displacement from each identity's neutral gives MediaPipe's own response to
   each unit (mean over identities and views), which replaces the geometric basis for those units,
   and the response to head turns, which the fit may use freely (nuisance columns) so that alignment
   errors under head motion are not read as expression. cheekSquint hardly moves MediaPipe's
   landmarks at all (its response is a few millimetres, inconsistent across identities), so it is
   left to the image cue.
3. **Image cue** (:func:`build_cue_model`, ~3 min on 2 cores): identities of their own seed (none of
   the benchmark's), front, 30 and (near eye only, down-weighted) 45 degrees to each side, random
   sequences of single units, FACS bundles and distractors (eyeSquint, blinks, smiles, brows, jaw,
   gaze), with small head turns, encoded to H.264 and captured exactly as a video is; a ridge
   regression from the patch features to the units.
5. **Mirror map** (:func:`build_mirror_map`): which MediaPipe landmark each one becomes in a mirrored
   frame, so that a face found only in the mirrored frame can be mirrored back
   (:func:`painsynth.capture.landmarks.unmirror`). A property of MediaPipe's mesh alone: found by
   matching the landmarks of frontal renders of symmetric faces with those of the same renders mirrored.
6. **Pain-unit levels** (:func:`build_level_gains`): identities of their own seed, front and 30 degrees
   to each side, each with a baseline clip (its neutral face), random single units, bundles and
   distractors, and procedural pain clips, captured by ``hybrid`` against the baseline; one gain per
   pain unit (least squares through the origin, both sides pooled) scales its reading to the truth.
4. **Population neutral** (:func:`build_population_neutral`): MediaPipe's scores and aligned landmark
   residual on neutral renders of many identities, the neutral face of nobody in particular, for a
   person with no neutral material of their own.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.avatars.build import build_avatar
from painsynth.capture.landmarks import (
    EYE_CORNERS,
    FaceTracker,
    MIRROR_FILE,
    PATCH,
    SETTLE_READS,
    U_RANGE,
    V_RANGE,
    detect_image,
    detect_images,
    landmark_frames,
    mirror_partners,
    run_landmarker,
)
from painsynth.capture.model import MODEL_SHA256, verified_model
from painsynth.capture.retarget import Assets, Neutral, method
from painsynth.capture.retarget.cue import CUE_STEMS, FLOW_BLOCK, FLOW_BLUR, FLOW_LIMIT, SIDES, blurred, features
from painsynth.capture.retarget.fit import (
    CALIBRATED_UNITS,
    DEPTH_WEIGHT,
    FITTED_UNITS,
    N_LANDMARKS,
    RIDGE,
    SMOOTH_WINDOW,
    LandmarkFitter,
)
from painsynth.capture.retarget.hybrid import CUE_RULES, FIT_UNITS, LEVEL_STEMS, TURNED_CUE_UNITS, retarget_hybrid
from painsynth.capture.retarget.neutral import neutral_from
from painsynth.capture.observe import observe
from painsynth.fileio import cached_arrays
from painsynth.procedural import AU_TO_BLENDSHAPES, make_track
from painsynth.render import Lighting, create_renderer, frame_head, make_background, sample_lighting
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, other_side
from painsynth.video import write_video

CACHE = Path.home() / ".cache" / "painsynth"
PACKAGED = Path(__file__).with_name("assets")


def built(cache_file: Path, keys: tuple[str, ...], build) -> dict[str, np.ndarray]:
    """The asset named like ``cache_file``: the packaged copy if one was built with today's settings,
    else the user's cache, else ``build()``'s result (announced on stderr: it takes seconds to minutes),
    cached there."""
    shipped = PACKAGED / cache_file.name
    if shipped.is_file():
        with np.load(shipped, allow_pickle=False) as data:
            return {k: data[k] for k in keys}

    def announced() -> dict:
        print(f"painsynth: building {cache_file.stem.rsplit('_', 1)[0].replace('_', ' ')} from anny renders "
              f"(once; cached in {cache_file.parent})", file=sys.stderr, flush=True)
        return build()
    return cached_arrays(cache_file, keys, announced)

# Bumped with every change of the avatars' look or of how MediaPipe is read (earlier reasons: `git log -L` on
# these lines).
CORRESPONDENCE_VERSION = 16  # 16: still images read as a video's settled frames (FaceTracker.still), not in IMAGE mode
CORRESPONDENCE_SIZE = 448  # px, square render for the correspondence
CORRESPONDENCE_AVATARS = (0, 1, 2)  # sample_avatars(3, seed=0): both genders, different tones
NEIGHBOURS = 3  # vertices kept per landmark
VISIBLE_DEPTH = 0.004  # m behind the front-most vertex near a landmark still counts as visible
SEARCH_RADIUS = 6.0  # px at CORRESPONDENCE_SIZE

CALIBRATION_VERSION = 17  # 17: as CORRESPONDENCE_VERSION 16 (earlier: `git log -L` on this line)
CALIBRATION_SEED = 1  # sample_avatars(10, seed=1): not the benchmark's (seed 0) nor the correspondence's identities
CALIBRATION_AVATARS = tuple(range(10))  # both genders, 25-78 years, one of each of the 10 Monk tones
CALIBRATION_VIEWS = ("front", "left30", "right30")  # the response is averaged over views (measured more robust)
CALIBRATION_STRENGTHS = (0.5, 1.0)  # each unit's response: least-squares slope through the neutral
CALIBRATION_SIZE = 224  # px, square renders
POSE_STEP = 0.12  # rad: head yaw and pitch rendered at +-POSE_STEP for the pose nuisance directions
# A unit's measured response is kept at the landmarks where anny's own unit moves the face by at least
# this share of its largest motion, and dropped elsewhere (see supported_response).
CALIBRATION_SUPPORT = 0.2

CUE_VERSION = 17  # 17: as CORRESPONDENCE_VERSION 15 (earlier: `git log -L` on this line)
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

LEVEL_VERSION = 14  # 14: as CALIBRATION_VERSION 17 (earlier: `git log -L` on this line)
LEVEL_SEED = 6  # sample_avatars(.., seed=6): none of the other assets' or the round trip's identities
LEVEL_AVATARS = 8
LEVEL_VIEWS = ("front", "left30", "right30")
LEVEL_FRAMES = 100
LEVEL_PAIN = (3, 4)  # the levels of the procedural pain clips each identity plays

MIRROR_AVATARS = 3  # sample_avatars(3, seed=0) made symmetric (the correspondence's identities)

POPULATION_VERSION = 15  # 15: as CORRESPONDENCE_VERSION 16 (earlier: `git log -L` on this line)
POPULATION_SEED = 4  # sample_avatars(.., seed=4): none of the other assets' or the benchmark's identities
POPULATION_AVATARS = 40
POPULATION_VIEWS = ("front", "left30", "right30")
POPULATION_SIZE = 224


# ---------------------------------------------------------------- correspondence

def _cache_path() -> Path:
    key = hashlib.sha256(f"{CORRESPONDENCE_VERSION}-{MODEL_SHA256}-{CORRESPONDENCE_SIZE}-"
                         f"{CORRESPONDENCE_AVATARS}-{NEIGHBOURS}".encode()).hexdigest()[:16]
    return CACHE / f"mediapipe_anny_correspondence_{key}.npz"


def _back_project(landmarks: np.ndarray, vertices: np.ndarray, camera, size: int) -> list[dict[int, float]]:
    """Per landmark, {mesh vertex index: weight}: the nearest visible projected vertices."""
    pixels = camera.project(vertices, size, size)
    view = camera.view_matrix()
    depth = -(vertices @ view[:3, :3].T + view[:3, 3])[:, 2]  # distance in front of the camera
    tree = cKDTree(pixels)
    votes = []
    for x, y, _ in landmarks:
        point = np.array([x * size, y * size])
        radius = SEARCH_RADIUS
        near = tree.query_ball_point(point, radius)
        while len(near) < NEIGHBOURS:
            radius *= 1.5
            near = tree.query_ball_point(point, radius)
        near = np.asarray(sorted(near))
        visible = near[depth[near] < depth[near].min() + VISIBLE_DEPTH]
        distance = np.linalg.norm(pixels[visible] - point, axis=1)
        order = np.argsort(distance, kind="stable")[:NEIGHBOURS]
        weight = 1.0 / (distance[order] + 0.5)
        votes.append({int(v): float(w) for v, w in zip(visible[order], weight / weight.sum())})
    return votes


def build_correspondence(model: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """Render anny's neutral face, run the landmarker, back-project (see the module doc).

    Returns ``vertex_ids`` [478, K] (anny's full vertex indices), ``weights`` [478, K] (rows sum
    to 1) and ``pixel_error`` [478] (mean distance, px at 448, from landmark to its vertices).
    """

    rig = rig or HeadRig()
    size = CORRESPONDENCE_SIZE
    specs = sample_avatars(max(CORRESPONDENCE_AVATARS) + 1, 0)
    renderer = create_renderer(size, batch=1)
    lighting = Lighting(key_direction=(0.3, -1.0, 0.4), key_color=(0.9, 0.9, 0.9),
                        fill_direction=(-0.5, -1.0, 0.1), fill_color=(0.35, 0.35, 0.35),
                        ambient_color=(0.25, 0.25, 0.25), key_kelvin=5500.0)
    background = make_background("solid", (size, size), np.random.default_rng(0))
    totals: list[dict[int, float]] = [{} for _ in range(N_LANDMARKS)]
    errors = np.zeros(N_LANDMARKS)
    found = 0
    try:
        for avatar in _loaded([specs[index] for index in CORRESPONDENCE_AVATARS], rig, renderer):
            identity = avatar.identity
            camera = frame_head(identity.mesh.head_box, "front")
            vertices = identity.mesh.neutral_vertices
            image = next(iter(renderer.render_clip(vertices[None], [camera], lighting, [background])))[0]
            landmarks = detect_image(image, model)
            if landmarks is None:
                continue
            found += 1
            pixels = camera.project(vertices, size, size)
            for k, vote in enumerate(_back_project(landmarks, vertices, camera, size)):
                for v, w in vote.items():
                    full = int(identity.mesh.vertex_ids[v])
                    totals[k][full] = totals[k].get(full, 0.0) + w
                errors[k] += np.mean(np.linalg.norm(pixels[list(vote)] - landmarks[k, :2] * size, axis=1))
    finally:
        renderer.release()
    if not found:
        raise RuntimeError("the landmarker found no face on anny's neutral renders")
    ids = np.zeros((N_LANDMARKS, NEIGHBOURS), np.int64)
    weights = np.zeros((N_LANDMARKS, NEIGHBOURS))
    for k, total in enumerate(totals):
        best = sorted(total.items(), key=lambda item: (-item[1], item[0]))[:NEIGHBOURS]
        while len(best) < NEIGHBOURS:
            best.append((best[0][0], 0.0))
        ids[k] = [v for v, _ in best]
        weights[k] = np.array([w for _, w in best]) / sum(w for _, w in best)
    return {"vertex_ids": ids, "weights": weights, "pixel_error": errors / found}


@functools.lru_cache(maxsize=1)
def correspondence() -> dict[str, np.ndarray]:
    """The MediaPipe-to-anny correspondence, from the on-disk cache or built (and cached) once."""
    return built(_cache_path(), ("vertex_ids", "weights", "pixel_error"), build_correspondence)


# ---------------------------------------------------------------- measurement model

def _calibration_path() -> Path:
    key = hashlib.sha256(f"{CALIBRATION_VERSION}-{MODEL_SHA256}-{_cache_path().stem}-{CALIBRATED_UNITS}-"
                         f"{CALIBRATION_SEED}-{CALIBRATION_AVATARS}-{CALIBRATION_VIEWS}-{CALIBRATION_STRENGTHS}-"
                         f"{CALIBRATION_SIZE}-{POSE_STEP}-{CALIBRATION_SUPPORT}".encode()).hexdigest()[:16]
    return CACHE / f"mediapipe_anny_calibration_{key}.npz"


def build_calibration(model: Path | None = None, rig=None, fitter: LandmarkFitter | None = None,
                      avatars: tuple[int, ...] = CALIBRATION_AVATARS, views: tuple[str, ...] = CALIBRATION_VIEWS,
                      strengths: tuple[float, ...] = CALIBRATION_STRENGTHS, symmetric: bool = True) -> dict[str, np.ndarray]:
    """MediaPipe's response to anny's units: the empirical measurement model of the fit.

    Identities ``sample_avatars(.., CALIBRATION_SEED)[avatars]`` are rendered (random studio
    lighting, solid background) from each view at neutral, with each of ``CALIBRATED_UNITS`` on
    alone at each strength, and with the head turned by +-``POSE_STEP`` in yaw and in pitch; the
    landmarker reads every image as a video's frame where it first finds the face (settled,
    :meth:`painsynth.capture.landmarks.FaceTracker.still`) and its landmarks are aligned to the fitter's
    template exactly as a captured frame is (:meth:`LandmarkFitter.residuals`). Per identity and
    view, a unit's response is the least-squares slope of the aligned displacement from that
    identity's neutral over the strengths; the model is the mean over identities and views, made
    mirror-symmetric (:func:`symmetric_response`; ``symmetric=False`` keeps each side as measured, for
    ``benchmarks/unit_sides.py``) and kept where anny's unit moves the face (:func:`supported_response`).

    Returns ``units`` [len(CALIBRATED_UNITS), 478, 3] (template metres per unit weight),
    ``pose`` [2, 478, 3] (yaw, pitch: aligned displacement per radian, nuisance directions the fit
    may use freely) and ``spread`` [len(CALIBRATED_UNITS)] (mean relative deviation of a single
    identity and view's response from the mean: how consistent MediaPipe is).
    """

    rig = rig or HeadRig()
    fitter = fitter or LandmarkFitter(_average_identity(), correspondence())
    size = CALIBRATION_SIZE
    specs = sample_avatars(max(avatars) + 1, CALIBRATION_SEED)
    n_units, n_strengths = len(CALIBRATED_UNITS), len(strengths)
    shapes = np.zeros((1 + n_units * n_strengths + 4, len(ARKIT_BLENDSHAPES)), np.float32)
    rotations = np.zeros((len(shapes), 3), np.float32)
    for u, unit in enumerate(CALIBRATED_UNITS):
        shapes[1 + u * n_strengths: 1 + (u + 1) * n_strengths, BLENDSHAPE_INDEX[unit]] = strengths
    poses = len(shapes) - 4
    rotations[poses:] = [(0, 0, POSE_STEP), (0, 0, -POSE_STEP), (POSE_STEP, 0, 0), (-POSE_STEP, 0, 0)]  # yaw, pitch
    rng = np.random.default_rng(CALIBRATION_SEED)
    renderer = create_renderer(size)
    responses, pose = [], []
    try:
        with FaceTracker(verified_model(model)) as tracker:
            for avatar in _loaded([specs[index] for index in avatars], rig, renderer):
                identity = avatar.identity
                vertices = identity.animate(shapes, rotations, np.zeros_like(rotations))
                cameras = [frame_head(identity.mesh.head_box, view) for view in views]
                backgrounds = [make_background("solid", (size, size), rng) for _ in views]
                landmarks = np.full((len(views), len(shapes), N_LANDMARKS, 3), np.nan)
                for k, images in enumerate(renderer.render_clip(vertices, cameras, sample_lighting(rng), backgrounds)):
                    for v, image in enumerate(images):
                        found = tracker.still(np.ascontiguousarray(image))
                        if found is not None:
                            landmarks[v, k] = found[2]
                for v in range(len(views)):
                    if np.isnan(landmarks[v, :, 0, 0]).any():
                        continue  # a face missed in one image: this identity and view are left out
                    residual = fitter.residuals(landmarks[v], (size, size))[0]
                    moved = residual - residual[0]
                    per_unit = moved[1:poses].reshape(n_units, n_strengths, N_LANDMARKS, 3)
                    responses.append(np.einsum("s,uslc->ulc", np.asarray(strengths), per_unit) /
                                     np.dot(strengths, strengths))
                    pose.append([(moved[poses] - moved[poses + 1]) / (2 * POSE_STEP),
                                 (moved[poses + 2] - moved[poses + 3]) / (2 * POSE_STEP)])
    finally:
        renderer.release()
    if not responses:
        raise RuntimeError("the landmarker found no face on anny's calibration renders")
    responses = np.stack(responses)  # [identities x views, U, 478, 3]
    units, pose = responses.mean(axis=0), np.mean(pose, axis=0)
    if symmetric:
        partner = mirror_partners()
        if partner is None:
            raise RuntimeError(f"the measurement model needs the mirror map ({MIRROR_FILE}); build it first")
        units, pose = symmetric_response(units, pose, partner)
    spread = (np.linalg.norm((responses - units).reshape(len(responses), n_units, -1), axis=2).mean(axis=0) /
              np.linalg.norm(units.reshape(n_units, -1), axis=1))
    geometric = fitter.geometric_basis[[BLENDSHAPE_INDEX[unit] for unit in CALIBRATED_UNITS]]
    units = supported_response(units, geometric, partner if symmetric else None)
    return {"units": units, "pose": pose, "spread": spread}


def supported_response(units: np.ndarray, geometric: np.ndarray, partner: np.ndarray | None = None) -> np.ndarray:
    """The measured responses ``units`` [U, 478, 3] of ``CALIBRATED_UNITS``, zero at the landmarks
    where anny's own unit (``geometric`` [U, 478, 3], its basis at the landmarks) moves the face by
    less than ``CALIBRATION_SUPPORT`` of its largest motion; with the mirror map ``partner``, a
    landmark is kept where either side's unit keeps it (mirrored), so a symmetric model stays so.

    Why: far from where a unit moves the face, MediaPipe's landmarks still move a little with it, by
    a learned correlation rather than by what the image shows, and that part changes with any change
    of the avatars' look: the nose wrinkle's measured response moved most (0.2 mm per unit weight) at
    the lower lip between two builds whose renders differed only around the eyes (the eyelid contact),
    and the fit's nose-wrinkle reading of one test clip fell from 0.65 to 0.39 of its level. Kept
    where the nose moves (0.2 of its largest motion), the same clip played by the three identities of
    the round trip's tuned set read the wrinkle at r 0.90 / 0.83 / 0.75 (peaks 0.98 / 1.00 / 0.12 of a
    true 0.99), against r 0.87 / 0.61 / -0.49 (peaks 0.39 / 0.21 / 0.14) with the whole response; 0.05
    and 0.1 gave r 0.88 / 0.80 / 0.40 and 0.88 / 0.81 / 0.68."""
    moves = np.linalg.norm(geometric, axis=2)  # [U, 478]
    support = moves >= CALIBRATION_SUPPORT * moves.max(axis=1, keepdims=True)
    if partner is not None:
        counterpart = [CALIBRATED_UNITS.index(other_side(unit)) for unit in CALIBRATED_UNITS]
        support |= support[counterpart][:, partner]
    return units * support[..., None]


def mirrored_field(field: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """A displacement field [..., 478, 3] (template axes, x right) as seen in the mirror: each landmark
    takes its mirror partner's displacement (``partner``: the mirror map), x reversed."""
    return field[..., partner, :] * np.array([-1.0, 1.0, 1.0])


def symmetric_response(units: np.ndarray, pose: np.ndarray, partner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The measured responses made mirror-symmetric: each of ``CALIBRATED_UNITS`` [U, 478, 3] averaged
    with its other side's response mirrored; of ``pose`` [2, 478, 3], yaw keeps its odd part (a mirrored
    turn is the opposite turn) and pitch its even part.

    Why: anny's units and MediaPipe's mesh are symmetric, but ten identities leave each side's measured
    response noisy (a single identity and view deviates from the mean by more than the mean's own size
    for noseSneer), and the two sides came out unequal (noseSneerRight 1.3x the norm of noseSneerLeft
    mirrored, cosine 0.88). One-sided nose wrinkles, front, 6 identities of banks 5 and 8
    (``benchmarks/unit_sides.py --as-measured``): as measured, hybrid r 0.91 left and 0.64 right, the right
    one's peak read at 0.15 of the truth; made symmetric, r 0.91 and 0.86, peak 0.21. The procedural round
    trip, whose units move on both sides at once, moved by at most 0.009 in PSPI r (``benchmarks/roundtrip.py``
    run once with each model)."""
    counterpart = [CALIBRATED_UNITS.index(other_side(unit)) for unit in CALIBRATED_UNITS]
    units = 0.5 * (units + mirrored_field(units[counterpart], partner))
    yaw, pitch = pose
    pose = np.stack([0.5 * (yaw - mirrored_field(yaw, partner)), 0.5 * (pitch + mirrored_field(pitch, partner))])
    return units, pose


@functools.lru_cache(maxsize=1)
def calibration() -> dict[str, np.ndarray]:
    """The measurement model (:func:`build_calibration`), from the on-disk cache or built (and cached) once."""
    return built(_calibration_path(), ("units", "pose", "spread"),
                         build_calibration)



# ---------------------------------------------------------------- image cue

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


def _loaded(specs, rig, renderer):
    """Each spec's avatar, built and loaded into ``renderer``, one at a time."""
    for spec in specs:
        avatar = build_avatar(spec, rig)
        renderer.load_avatar(avatar)
        yield avatar


def _captured(renderer, identity, shapes: np.ndarray, rotation: np.ndarray, cameras, lighting, backgrounds,
              folder: str, model_path: Path) -> list:
    """The identity playing (shapes [T, 52], rotation [T, 3]) seen by each camera: rendered, encoded to
    H.264 and captured exactly as a video is; one Observation per camera."""
    vertices = identity.animate(shapes, rotation, np.zeros_like(rotation))
    rendered = list(renderer.render_clip(vertices, cameras, lighting, backgrounds))
    return [observe(run_landmarker(write_video(Path(folder) / "clip.mp4", np.stack([f[v] for f in rendered]), 25.0),
                                   model_path), 25.0)
            for v in range(len(cameras))]


def training_clips(avatars: int = CUE_AVATARS, views: tuple[str, ...] = CUE_VIEWS, frames: int = CUE_FRAMES,
                   model_path: Path | None = None, rig=None) -> list[dict]:
    """Captured training clips: per identity and view, ``patches`` [T, 2, P, P], ``valid`` [T],
    ``targets`` [T, 2, len(CUE_STEMS)], ``identity`` (index) and ``near`` (the only side to train on, or None)."""

    rig = rig or HeadRig()
    model_path = verified_model(model_path)
    rng = np.random.default_rng(CUE_SEED)
    extra = np.random.default_rng([CUE_SEED, 1])
    renderer = create_renderer(CUE_SIZE)
    clips = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for index, avatar in enumerate(_loaded(sample_avatars(avatars, CUE_SEED), rig, renderer)):
                identity = avatar.identity
                shapes, rotation = training_motion(rng, frames)
                cameras = [frame_head(identity.mesh.head_box, view) for view in views]
                # the near-only views' backgrounds from a generator of their own: the other views' clips
                # stay those the cue was trained on before they were added
                backgrounds = [make_background("solid", (CUE_SIZE, CUE_SIZE),
                                               extra if view in NEAR_ONLY_VIEWS else rng) for view in views]
                lighting = sample_lighting(rng)
                targets = np.stack([[shapes[:, BLENDSHAPE_INDEX[stem + side]] for stem in CUE_STEMS]
                                    for side in SIDES]).transpose(2, 0, 1)
                for v, seen in enumerate(_captured(renderer, identity, shapes, rotation, cameras, lighting,
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
    (:func:`painsynth.capture.retarget.cue.features`) + per-sample intensity changes."""
    return fit_cue(training_clips(model_path=model_path, rig=rig))


def _cue_path() -> Path:
    key = hashlib.sha256(f"{CUE_VERSION}-{MODEL_SHA256}-{PATCH}-{EYE_CORNERS}-{U_RANGE}-{V_RANGE}-{CUE_STEMS}-"
                         f"{CUE_SEED}-{CUE_AVATARS}-{CUE_VIEWS}-{CUE_FRAMES}-{CUE_SIZE}-{CUE_RIDGE}-"
                         f"{FLOW_BLOCK}-{FLOW_BLUR}-{FLOW_LIMIT}-{sorted(NEAR_ONLY_VIEWS.items())}-"
                         f"{NEAR_ONLY_WEIGHT}".encode()).hexdigest()[:16]
    return CACHE / f"anny_image_cue_{key}.npz"


@functools.lru_cache(maxsize=1)
def cue_model() -> dict[str, np.ndarray]:
    """The learned regression (:func:`build_cue_model`), from the on-disk cache or built (and cached) once."""
    return built(_cue_path(), ("weights",), build_cue_model)


# ---------------------------------------------------------------- population neutral

def _population_path() -> Path:
    key = hashlib.sha256(f"{POPULATION_VERSION}-{MODEL_SHA256}-{_cache_path().stem}-{POPULATION_SEED}-"
                         f"{POPULATION_AVATARS}-{POPULATION_VIEWS}-{POPULATION_SIZE}".encode()).hexdigest()[:16]
    return CACHE / f"population_neutral_{key}.npz"


def build_population_neutral(model: Path | None = None, rig=None, fitter: LandmarkFitter | None = None,
                             avatars: int = POPULATION_AVATARS) -> dict[str, np.ndarray]:
    """MediaPipe on neutral renders of ``avatars`` identities (``POPULATION_VIEWS``, random studio light):
    ``scores`` [52] (median per unit) and ``residual`` [478, 3] (mean aligned residual, template metres)."""
    rig = rig or HeadRig()
    fitter = fitter or LandmarkFitter(_average_identity(), correspondence())
    model = verified_model(model)
    size = POPULATION_SIZE
    rng = np.random.default_rng(POPULATION_SEED)
    renderer = create_renderer(size)
    scores, residuals = [], []
    try:
        for avatar in _loaded(sample_avatars(avatars, POPULATION_SEED), rig, renderer):
            mesh = avatar.identity.mesh
            cameras = [frame_head(mesh.head_box, view) for view in POPULATION_VIEWS]
            backgrounds = [make_background("solid", (size, size), rng) for _ in cameras]
            images = next(iter(renderer.render_clip(mesh.neutral_vertices[None], cameras, sample_lighting(rng),
                                                    backgrounds)))
            for image in images:
                raw = landmark_frames([(0.0, image)], model)
                if raw.valid[0]:
                    scores.append(raw.scores[0])
                    residuals.append(fitter.residuals(raw.landmarks, (size, size))[0][0])
    finally:
        renderer.release()
    if not scores:
        raise RuntimeError("the landmarker found no face on the population's neutral renders")
    return {"scores": np.median(scores, axis=0), "residual": np.mean(residuals, axis=0)}


@functools.lru_cache(maxsize=1)
def population_neutral() -> Neutral:
    """The neutral face of nobody in particular (:func:`build_population_neutral`), cached. The image cue
    has no population patch (skin and light differ from person to person): it reads the clip's own."""
    arrays = built(_population_path(), ("scores", "residual"), build_population_neutral)
    return Neutral("population", scores=arrays["scores"].astype(np.float32), residual=arrays["residual"])


# ---------------------------------------------------------------- pain-unit levels

def _level_path() -> Path:
    key = hashlib.sha256(f"{LEVEL_VERSION}-{MODEL_SHA256}-{_calibration_path().stem}-{_cue_path().stem}-"
                         f"{LEVEL_SEED}-{LEVEL_AVATARS}-{LEVEL_VIEWS}-{LEVEL_FRAMES}-{LEVEL_PAIN}-{LEVEL_STEMS}-"
                         f"{sorted(CUE_RULES.items())}-{FIT_UNITS}-{TURNED_CUE_UNITS}".encode()).hexdigest()[:16]
    return CACHE / f"hybrid_levels_{key}.npz"


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
            for index, avatar in enumerate(_loaded(sample_avatars(LEVEL_AVATARS, LEVEL_SEED), rig, renderer)):
                identity = avatar.identity
                cameras = [frame_head(identity.mesh.head_box, view) for view in LEVEL_VIEWS]
                backgrounds = [make_background("solid", (CUE_SIZE, CUE_SIZE), rng) for _ in cameras]
                lighting = sample_lighting(rng)
                clips = _level_clips(rng)
                seen = [[] for _ in cameras]
                for shapes, rotation in clips:
                    for v, observation in enumerate(_captured(renderer, identity, shapes, rotation, cameras,
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
    arrays = built(_level_path(), ("gains", "per_identity"), build_level_gains)
    levels = np.ones(len(ARKIT_BLENDSHAPES), np.float32)
    for stem, gain in zip(LEVEL_STEMS, arrays["gains"]):
        levels[[BLENDSHAPE_INDEX[stem + side] for side in SIDES]] = gain
    return levels


# ---------------------------------------------------------------- mirror map

def _mirror_path() -> Path:
    return CACHE / MIRROR_FILE


def build_mirror_map(model: Path | None = None, rig=None) -> dict[str, np.ndarray]:
    """``partner`` [478] (landmark i of a mirrored frame is landmark partner[i] of the frame) and
    ``error`` [478] (px at CORRESPONDENCE_SIZE: mean distance between the mirrored-back landmark and
    its partner found directly), matched over frontal renders of symmetric faces (no face shape, no
    glasses, no hair) by the assignment of least total distance."""
    from scipy.optimize import linear_sum_assignment

    rig = rig or HeadRig()
    size = CORRESPONDENCE_SIZE
    renderer = create_renderer(size, batch=1)
    lighting = Lighting(key_direction=(0.0, -1.0, 0.4), key_color=(0.9, 0.9, 0.9),
                        fill_direction=(0.0, -1.0, 0.1), fill_color=(0.35, 0.35, 0.35),
                        ambient_color=(0.25, 0.25, 0.25), key_kelvin=5500.0)  # light from straight ahead
    background = make_background("solid", (size, size), np.random.default_rng(0))
    images = []
    try:
        symmetric = [dataclasses.replace(spec, face_shape={}, glasses="none", hair_family="bald", facial_hair="none")
                     for spec in sample_avatars(MIRROR_AVATARS, 0)]
        for avatar in _loaded(symmetric, rig, renderer):
            camera = frame_head(avatar.identity.mesh.head_box, "front")
            images.append(next(iter(renderer.render_clip(avatar.identity.mesh.neutral_vertices[None], [camera],
                                                         lighting, [background])))[0])
    finally:
        renderer.release()
    direct = detect_images(images, model, retry=False)
    flipped = detect_images([image[:, ::-1] for image in images], model, retry=False)
    cost, pairs = np.zeros((N_LANDMARKS, N_LANDMARKS)), 0
    for seen, mirrored in zip(direct, flipped):
        if seen is None or mirrored is None:
            continue
        back = mirrored[:, :2] * (-1.0, 1.0) + (1.0, 0.0)
        cost += np.linalg.norm(back[:, None] - seen[None, :, :2], axis=2) * size
        pairs += 1
    if not pairs:
        raise RuntimeError("the landmarker found no face on the mirror map's renders")
    rows, partner = linear_sum_assignment(cost)
    return {"partner": partner.astype(np.int64), "error": cost[rows, partner] / pairs}


# ---------------------------------------------------------------- what the methods use

@functools.lru_cache(maxsize=1)
def _average_identity():
    return HeadRig().identity({})


@functools.lru_cache(maxsize=1)
def default_fitter() -> LandmarkFitter:
    """The fit's default: the average anny, with MediaPipe's measured response (:func:`calibration`)."""
    return LandmarkFitter(_average_identity(), correspondence(), calibration=calibration())


def retarget_assets(name: str) -> Assets:
    """What method ``name`` uses, built (or read from the cache) once per process."""
    chosen = method(name)
    return Assets(fitter=default_fitter() if chosen.uses_fit else None,
                  cue_model=cue_model() if chosen.uses_cue else None,
                  levels=level_gains() if chosen.uses_levels else None)


def retarget_key(name: str) -> str:
    """Names everything that shapes method ``name``'s output (the assets' versions and the rules), so
    caches of captured features can tell when a change here has made them stale."""
    chosen = method(name)
    parts = [name, f"settle{SETTLE_READS}"]
    if chosen.uses_fit:
        parts += [f"c{CORRESPONDENCE_VERSION}-k{CALIBRATION_VERSION}-r{RIDGE}-d{DEPTH_WEIGHT}-s{SMOOTH_WINDOW}",
                  ".".join(FITTED_UNITS), ".".join(FIT_UNITS)]
    if chosen.uses_cue:
        parts += [f"i{CUE_VERSION}", "-".join(f"{unit}.{rule}" for unit, rule in CUE_RULES.items()),
                  "t" + ".".join(TURNED_CUE_UNITS)]
    if chosen.uses_levels:
        parts.append(_level_path().stem.rsplit("_", 1)[-1])
    return "-".join(parts)

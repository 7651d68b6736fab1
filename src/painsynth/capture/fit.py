"""``fit`` retargeting: anny's 52 face-unit weights solved from MediaPipe's 478 landmarks.

MediaPipe's blendshape net barely scores some anny units (noseSneer, cheekSquint, mouthUpperUp
near 0, browDown about 0.006 when fully on) although its landmarks do move. ``fit`` uses the
landmarks instead:

1. **Correspondence** (built once, cached under ``~/.cache/painsynth``): anny's neutral face is
   rendered frontally for a few identities, the landmarker is run on each image, and every
   landmark is back-projected onto the mesh: the visible vertices (within a few millimetres of
   the front-most one) that project nearest to the landmark, weighted by inverse pixel distance.
   Votes of all identities are summed; each landmark keeps its ``K`` strongest vertices.
2. **Measurement model** (built once, cached beside it; :func:`build_calibration`, ~10 s on 2 cores):
   what the landmarker reports is not anny's geometry. Its landmark net regularises towards its
   own face prior, so anny's nose wrinkle and brow lowering move the landmarks less, and in other
   directions, than the vertices they sit on. Ten anny identities (one per Monk skin tone, none of
   them the benchmark's) are rendered from the front and 30 degrees to each side, at neutral, with
   each of browDown and noseSneer (left, right) on alone at two strengths, and with the head turned
   a little in yaw and pitch; the landmarker's aligned displacement from each identity's neutral
   gives MediaPipe's own response to each unit (mean over identities and views), which replaces
   the geometric basis for those units, and the response to head turns, which the fit may use
   freely (nuisance columns) so that alignment errors under head motion are not read as
   expression. The other fitted units keep anny's geometric basis: calibrating them too was
   measured worse on combined-unit clips (MediaPipe's responses do not add up), and cheekSquint
   hardly moves MediaPipe's landmarks at all (its response is a few millimetres, inconsistent
   across identities), so it is not recoverable from them (benchmarks/roundtrip.py).
3. **Per frame**: the landmarks, made metric-proportional with the image aspect ratio, are
   aligned to the template (the corresponded vertices of the average anny, phenotype 0.5) by a
   similarity transform on all fitted landmarks (better than a few rigid ones, as measured); then the
   PSPI units' weights are solved by bounded least squares (``scipy.optimize.lsq_linear``, bounds
   [0, 1], small ridge; the pose columns unbounded) against that basis; the other units stay 0.
   Depth (along the camera axis) is weighted lower than image x, y.
4. **Per clip**: the subject's own face shape is not an expression: the residual of the
   clip's most neutral frames is subtracted (two passes), and the weights are smoothed over time.

On real faces this reads as: the fit explains what MediaPipe sees with the motion MediaPipe is
known to report for each anny unit, so it maps MediaPipe's observation space onto anny's units.

:func:`hybrid_retarget` mixes the two: MediaPipe's calibrated scores where its net tracks anny
well (blinks, jaw, mouth, smiles, brows up, gaze) and the fit for the PSPI units it misses; and,
where the clip's image cue is given (:mod:`painsynth.capture.cue`: the skin around the eyes, for
cheekSquint, which the landmarks cannot see, and noseSneer), that cue as ``CUE_RULES`` says.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from painsynth.fileio import cached_arrays
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

N_LANDMARKS = 478
CORRESPONDENCE_VERSION = 2  # 2: avatars with face shape, hair, garment and glasses
CORRESPONDENCE_SIZE = 448  # px, square render for the correspondence
CORRESPONDENCE_AVATARS = (0, 1, 2)  # sample_avatars(3, seed=0): both genders, different tones
NEIGHBOURS = 3  # vertices kept per landmark
VISIBLE_DEPTH = 0.004  # m behind the front-most vertex near a landmark still counts as visible
SEARCH_RADIUS = 6.0  # px at CORRESPONDENCE_SIZE

# Landmarks on rigid parts of the face (nose bridge, eye corners, forehead, temples). Measured worse
# for the similarity alignment than all fitted landmarks (PSPI r 0.86 against 0.97 frontally, 0.18
# against 0.97 at 45 degrees, benchmarks/roundtrip.py), so only kept for reference.
STABLE_LANDMARKS = (6, 168, 197, 195, 5, 4, 1, 33, 133, 362, 263, 10, 151, 9, 8, 108, 337, 109, 338)
# The face outline (MediaPipe's FACE_OVAL): on the silhouette, unreliable on anny; left out of the fit.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
IRIS = tuple(range(468, 478))  # move with gaze, which the fit leaves to MediaPipe
# Units the fit solves (the others stay 0): the PSPI units. Solving all 52 lets gaze (eyeball
# rotation) and mouth units explain the landmarks' noise and steal the pain units' motion
# (noseSneer r 0.86 with this set against 0.5 with all 44 non-gaze units, frontal, single units).
FITTED_UNITS = tuple(stem + side for stem in ("browDown", "cheekSquint", "eyeSquint", "noseSneer", "mouthUpperUp",
                                              "eyeBlink") for side in ("Left", "Right"))
DEPTH_WEIGHT = 0.3  # least-squares weight of the camera-depth component relative to x, y
RIDGE = 1e-3  # relative to the basis' mean squared column norm
NEUTRAL_SHARE = 0.2  # share of a clip's frames (the least active) taken as its neutral face
SMOOTH_WINDOW = 5  # frames, Savitzky-Golay (order 2)

# Measurement model: for these units the basis is not anny's geometry but what MediaPipe reports
# when anny makes them (see build_calibration). MediaPipe's landmark net regularises towards its own
# face prior: anny's nose wrinkle and brow lowering move its landmarks less, and differently, than
# the mesh vertices they sit on (cosine 0.4-0.7 between the two), so the geometric basis predicted
# motion the landmarker never reports. Calibrating the other fitted units too was measured worse on
# the procedural (combined-unit) clips: MediaPipe's responses do not add up across units, and the
# geometric basis of the eye units keeps PSPI stable (benchmarks/roundtrip.py).
CALIBRATED_UNITS = tuple(stem + side for stem in ("browDown", "noseSneer") for side in ("Left", "Right"))
CALIBRATION_VERSION = 2  # 2: avatars with face shape, hair, garment and glasses
CALIBRATION_SEED = 1  # sample_avatars(10, seed=1): not the benchmark's (seed 0) nor the correspondence's identities
CALIBRATION_AVATARS = tuple(range(10))  # both genders, 25-78 years, one of each of the 10 Monk tones
CALIBRATION_VIEWS = ("front", "left30", "right30")  # the response is averaged over views (measured more robust)
CALIBRATION_STRENGTHS = (0.5, 1.0)  # each unit's response: least-squares slope through the neutral
CALIBRATION_SIZE = 224  # px, square renders
POSE_STEP = 0.12  # rad: head yaw and pitch rendered at +-POSE_STEP for the pose nuisance directions

# Units the hybrid takes from the fit: the PSPI units MediaPipe's net misses or under-scores on
# anny (benchmarks/roundtrip.py); everything else (blinks, jaw, mouth, smiles, brows up, gaze)
# stays MediaPipe's, which the fit does not solve.
FIT_UNITS = tuple(stem + side for stem in ("browDown", "cheekSquint", "eyeSquint", "noseSneer", "mouthUpperUp")
                  for side in ("Left", "Right"))

# Units the hybrid takes (partly) from the image cue (cue.py), and how. cheekSquint hardly moves
# MediaPipe's landmarks: the cue alone. noseSneer: the fit and the cue each misread other units (the
# fit brow lowering and blinks on some identities, the cue brow lowering on others), so their
# geometric mean, which needs both to agree (single-unit clips of 12 identities of neither training
# set, frontal / 30 degrees: r 0.85 / 0.89, against 0.76 / 0.68 for the fit, 0.75 / 0.73 for the
# cue, 0.82 / 0.76 for their mean).
CUE_RULES = {stem + side: rule for stem, rule in (("cheekSquint", "cue"), ("noseSneer", "geometric"))
             for side in ("Left", "Right")}
# The units the cue joins in on strongly turned frames, where only the near eye's patch is read (cue.py's
# within_training_views): it reads cheekSquint there about as well as frontally (r 0.48-0.56 against
# 0.77 on 12 held-out identities, sample_avatars(12, seed=3), with distractors and one-sided units) but
# noseSneer hardly (r 0.13-0.26), and the landmark fit alone did better than their geometric mean at
# 45 degrees (benchmarks/roundtrip.py: AU9 r 0.39 against 0.30), so noseSneer stays the fit's there.
TURNED_CUE_UNITS = tuple(unit for unit in CUE_RULES if unit.startswith("cheekSquint"))

# image (x right, y down, z away from the camera) -> anny (x right, z up, -y towards the camera)
IMAGE_TO_ANNY = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


# ---------------------------------------------------------------- correspondence

def retarget_key() -> str:
    """Names everything that shapes ``fit``/``hybrid`` output (the image cue's version and shares
    included), so caches of captured features can tell when a change here has made them stale."""
    from painsynth.capture.cue import CUE_VERSION

    cue = "-".join(f"{unit}.{rule}" for unit, rule in CUE_RULES.items()) + "-t" + ".".join(TURNED_CUE_UNITS)
    return (f"c{CORRESPONDENCE_VERSION}-k{CALIBRATION_VERSION}-r{RIDGE}-d{DEPTH_WEIGHT}-s{SMOOTH_WINDOW}-"
            f"{'.'.join(FITTED_UNITS)}-{'.'.join(FIT_UNITS)}-i{CUE_VERSION}-{cue}")


def _cache_path() -> Path:
    from painsynth.capture.model import MODEL_SHA256

    key = hashlib.sha256(f"{CORRESPONDENCE_VERSION}-{MODEL_SHA256}-{CORRESPONDENCE_SIZE}-"
                         f"{CORRESPONDENCE_AVATARS}-{NEIGHBOURS}".encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "painsynth" / f"mediapipe_anny_correspondence_{key}.npz"


def detect_image(image: np.ndarray, model: Path | None = None) -> np.ndarray | None:
    """The 478 landmarks [478, 3] (normalised image coordinates) of one image, IMAGE mode, or None."""
    return detect_images([image], model)[0]


def detect_images(images, model: Path | None = None) -> list[np.ndarray | None]:
    """:func:`detect_image` for many images, with one landmarker (building one costs more than a detection)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from painsynth.capture.model import verified_model

    options = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(verified_model(model))),
                                           running_mode=vision.RunningMode.IMAGE, num_faces=1)
    found = []
    with vision.FaceLandmarker.create_from_options(options) as landmarker:
        for image in images:
            result = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
            found.append(np.array([(p.x, p.y, p.z) for p in result.face_landmarks[0]], np.float64)
                         if result.face_landmarks else None)
    return found


def _back_project(landmarks: np.ndarray, vertices: np.ndarray, camera, size: int) -> list[dict[int, float]]:
    """Per landmark, {mesh vertex index: weight}: the nearest visible projected vertices."""
    from scipy.spatial import cKDTree

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
    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.render import Lighting, Renderer, frame_head, make_background

    rig = rig or HeadRig()
    size = CORRESPONDENCE_SIZE
    specs = sample_avatars(max(CORRESPONDENCE_AVATARS) + 1, 0)
    renderer = Renderer(size, size, batch=1)
    lighting = Lighting(key_direction=(0.3, -1.0, 0.4), key_color=(0.9, 0.9, 0.9),
                        fill_direction=(-0.5, -1.0, 0.1), fill_color=(0.35, 0.35, 0.35),
                        ambient_color=(0.25, 0.25, 0.25), key_kelvin=5500.0)
    background = make_background("solid", (size, size), np.random.default_rng(0))
    totals: list[dict[int, float]] = [{} for _ in range(N_LANDMARKS)]
    errors = np.zeros(N_LANDMARKS)
    found = 0
    try:
        for index in CORRESPONDENCE_AVATARS:
            spec = specs[index]
            avatar = build_avatar(spec, rig)
            identity = avatar.identity
            renderer.load_avatar(avatar)
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
    return cached_arrays(_cache_path(), ("vertex_ids", "weights", "pixel_error"), build_correspondence)


# ---------------------------------------------------------------- measurement model

def _calibration_path() -> Path:
    from painsynth.capture.model import MODEL_SHA256

    key = hashlib.sha256(f"{CALIBRATION_VERSION}-{MODEL_SHA256}-{_cache_path().stem}-{CALIBRATED_UNITS}-"
                         f"{CALIBRATION_SEED}-{CALIBRATION_AVATARS}-{CALIBRATION_VIEWS}-{CALIBRATION_STRENGTHS}-"
                         f"{CALIBRATION_SIZE}-{POSE_STEP}".encode()).hexdigest()[:16]
    return Path.home() / ".cache" / "painsynth" / f"mediapipe_anny_calibration_{key}.npz"


def build_calibration(model: Path | None = None, rig=None, fitter: LandmarkFitter | None = None,
                      avatars: tuple[int, ...] = CALIBRATION_AVATARS, views: tuple[str, ...] = CALIBRATION_VIEWS,
                      strengths: tuple[float, ...] = CALIBRATION_STRENGTHS) -> dict[str, np.ndarray]:
    """MediaPipe's response to anny's units: the empirical measurement model of the fit.

    Identities ``sample_avatars(.., CALIBRATION_SEED)[avatars]`` are rendered (random studio
    lighting, solid background) from each view at neutral, with each of ``CALIBRATED_UNITS`` on
    alone at each strength, and with the head turned by +-``POSE_STEP`` in yaw and in pitch; the
    landmarker runs on every image (IMAGE mode) and its landmarks are aligned to the fitter's
    template exactly as a captured frame is (:meth:`LandmarkFitter.residuals`). Per identity and
    view, a unit's response is the least-squares slope of the aligned displacement from that
    identity's neutral over the strengths; the model is the mean over identities and views.

    Returns ``units`` [len(CALIBRATED_UNITS), 478, 3] (template metres per unit weight),
    ``pose`` [2, 478, 3] (yaw, pitch: aligned displacement per radian, nuisance directions the fit
    may use freely) and ``spread`` [len(CALIBRATED_UNITS)] (mean relative deviation of a single
    identity and view's response from the mean: how consistent MediaPipe is).
    """
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.capture.model import verified_model
    from painsynth.render import Renderer, frame_head, make_background, sample_lighting

    rig = rig or HeadRig()
    fitter = fitter or LandmarkFitter()
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
    options = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(verified_model(model))),
                                           running_mode=vision.RunningMode.IMAGE, num_faces=1)
    renderer = Renderer(size, size)
    responses, pose = [], []
    try:
        with vision.FaceLandmarker.create_from_options(options) as landmarker:
            for index in avatars:
                spec = specs[index]
                avatar = build_avatar(spec, rig)
                identity = avatar.identity
                renderer.load_avatar(avatar)
                vertices = identity.animate(shapes, rotations, np.zeros_like(rotations))
                cameras = [frame_head(identity.mesh.head_box, view) for view in views]
                backgrounds = [make_background("solid", (size, size), rng) for _ in views]
                landmarks = np.full((len(views), len(shapes), N_LANDMARKS, 3), np.nan)
                for k, images in enumerate(renderer.render_clip(vertices, cameras, sample_lighting(rng), backgrounds)):
                    for v, image in enumerate(images):
                        found = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB,
                                                           data=np.ascontiguousarray(image)))
                        if found.face_landmarks:
                            landmarks[v, k] = [(p.x, p.y, p.z) for p in found.face_landmarks[0]]
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
    units = responses.mean(axis=0)
    spread = (np.linalg.norm((responses - units).reshape(len(responses), n_units, -1), axis=2).mean(axis=0) /
              np.linalg.norm(units.reshape(n_units, -1), axis=1))
    return {"units": units, "pose": np.mean(pose, axis=0), "spread": spread}


@functools.lru_cache(maxsize=1)
def calibration() -> dict[str, np.ndarray]:
    """The measurement model (:func:`build_calibration`), from the on-disk cache or built (and cached) once."""
    return cached_arrays(_calibration_path(), ("units", "pose", "spread"),
                         lambda: build_calibration(fitter=LandmarkFitter(calibration=None)))


# ---------------------------------------------------------------- the fit

class LandmarkFitter:
    """The template and face-unit basis of the average anny at the 478 landmarks.

    With ``calibration`` (:func:`build_calibration`'s result), the ``CALIBRATED_UNITS``' columns
    of the basis are MediaPipe's measured response instead of anny's geometry, and the pose
    directions join the least squares as free (unbounded) nuisance columns.
    """

    def __init__(self, identity=None, corr: dict[str, np.ndarray] | None = None,
                 calibration: dict[str, np.ndarray] | None = None):
        if identity is None:
            identity = _average_identity()
        corr = corr or correspondence()
        position = np.searchsorted(identity.mesh.vertex_ids, corr["vertex_ids"])
        if not np.array_equal(identity.mesh.vertex_ids[np.clip(position, 0, len(identity.mesh.vertex_ids) - 1)],
                              corr["vertex_ids"]):
            raise ValueError("a corresponded vertex lies outside this identity's head mesh")
        weights = corr["weights"]
        neutral = identity.mesh.neutral_vertices.astype(np.float64)
        basis = identity._face_basis.numpy().astype(np.float64).reshape(len(ARKIT_BLENDSHAPES), -1, 3)
        self.template = np.einsum("lk,lkc->lc", weights, neutral[position])  # [478, 3]
        self.basis = np.einsum("lk,ulkc->ulc", weights, basis[:, position])  # [52, 478, 3]
        self.geometric_basis = self.basis
        self.nuisance = np.zeros((0, N_LANDMARKS, 3))
        if calibration is not None:
            self.basis = self.basis.copy()
            self.basis[[BLENDSHAPE_INDEX[u] for u in CALIBRATED_UNITS]] = calibration["units"]
            self.nuisance = np.asarray(calibration["pose"], np.float64)
        used = np.ones(N_LANDMARKS, bool)
        used[list(FACE_OVAL) + list(IRIS)] = False
        self.used = used
        # Aligned on all fitted landmarks: the pain units move small regions, and many points
        # average out MediaPipe's per-landmark jitter better than a few rigid ones.
        self.stable = np.flatnonzero(used)

    def align(self, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observed landmarks [478, 3] (metric-proportional, anny axes) mapped onto the template by a
        similarity fitted on the stable landmarks, and the camera's depth direction after it."""
        source, target = observed[self.stable], self.template[self.stable]
        mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
        a, b = source - mu_s, target - mu_t
        u, s, vt = np.linalg.svd(b.T @ a)
        sign = np.eye(3)
        sign[2, 2] = np.sign(np.linalg.det(u @ vt)) or 1.0
        rotation = u @ sign @ vt
        scale = np.trace(np.diag(s) @ sign) / (a ** 2).sum()
        aligned = scale * (observed - mu_s) @ rotation.T + mu_t
        return aligned, rotation @ np.array([0.0, 1.0, 0.0])  # camera depth runs along anny's y

    def residuals(self, landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Aligned-minus-template residuals [T, 478, 3] and depth directions [T, 3]."""
        width, height = image_size
        scaled = np.asarray(landmarks, np.float64) * np.array([width, height, width])
        observed = scaled @ IMAGE_TO_ANNY.T
        residual, depth = np.zeros_like(observed), np.zeros((len(observed), 3))
        for t, frame in enumerate(observed):
            aligned, depth[t] = self.align(frame)
            residual[t] = aligned - self.template
        return residual, depth

    def solve(self, residual: np.ndarray, depth: np.ndarray, units: tuple[str, ...] = FITTED_UNITS) -> np.ndarray:
        """Bounded least-squares weights [T, 52] for residuals [T, 478, 3] (other units stay 0); the
        nuisance (pose) columns are solved alongside, unbounded and unpenalised, and dropped.

        Each frame's problem min |A x - b|^2 (A: [3L + n, n + pose]) is solved through its small
        normal equations: with A^T A = C C^T (Cholesky), |A x - b|^2 = |C^T x - C^-1 A^T b|^2 + const,
        the same minimiser over the same bounds. The tall solves this replaces took ~10 ms a frame
        with OpenBLAS threads on a busy 2-core machine; these take microseconds.
        """
        from scipy.linalg import solve_triangular
        from scipy.optimize import lsq_linear

        units = [BLENDSHAPE_INDEX[u] for u in units]
        basis = self.basis[units][:, self.used]  # [U, L, 3]
        n, extra = len(basis), len(self.nuisance)
        columns = np.concatenate([basis, self.nuisance[:, self.used]])  # [M, L, 3]
        penalty = np.diag(np.r_[np.full(n, RIDGE * (basis ** 2).sum() / n), np.zeros(extra)])
        gram = np.einsum("ulc,vld->cduv", columns, columns)  # per pair of axes: [3, 3, M, M]
        d = depth / np.linalg.norm(depth, axis=1, keepdims=True)
        k = 1 - np.sqrt(DEPTH_WEIGHT)
        metric = np.eye(3) - (2 * k - k * k) * np.einsum("tc,td->tcd", d, d)  # shrink^T shrink, [T, 3, 3]
        normal = np.einsum("tcd,cduv->tuv", metric, gram) + penalty
        rhs = np.einsum("ulc,tcd,tld->tu", columns, metric, residual[:, self.used], optimize=True)
        chol = np.linalg.cholesky(normal)
        bounds = (np.r_[np.zeros(n), np.full(extra, -np.inf)], np.r_[np.ones(n), np.full(extra, np.inf)])
        weights = np.zeros((len(residual), len(ARKIT_BLENDSHAPES)))
        for t in range(len(residual)):
            b = solve_triangular(chol[t], rhs[t], lower=True)
            weights[t, units] = lsq_linear(chol[t].T, b, bounds=bounds, method="bvls").x[:n]
        return weights


@functools.lru_cache(maxsize=1)
def _average_identity():
    from painsynth.animate import HeadRig

    return HeadRig().identity({})


@functools.lru_cache(maxsize=1)
def default_fitter() -> LandmarkFitter:
    """The fit's default: the average anny, with MediaPipe's measured response (:func:`calibration`)."""
    return LandmarkFitter(calibration=calibration())


def _smooth(weights: np.ndarray) -> np.ndarray:
    if len(weights) < SMOOTH_WINDOW:
        return weights
    from scipy.signal import savgol_filter

    return savgol_filter(weights, SMOOTH_WINDOW, 2, axis=0, mode="interp")


def fit_retarget(landmarks: np.ndarray, valid: np.ndarray, image_size: tuple[int, int] = (1, 1),
                 fitter: LandmarkFitter | None = None, smooth: bool = True) -> np.ndarray:
    """anny face-unit weights [T, 52] in [0, 1] fitted to landmarks [T, 478, 3] (normalised image
    coordinates; ``image_size`` = (width, height) of the source frames).

    The clip's neutral face: after a first pass, the ``NEUTRAL_SHARE`` least active valid frames'
    mean residual is taken as the subject's own shape and subtracted before the final solve.
    """
    fitter = fitter or default_fitter()
    valid = np.asarray(valid, bool)
    residual, depth = fitter.residuals(landmarks, image_size)
    reference = np.flatnonzero(valid) if valid.any() else np.arange(len(residual))
    offset = np.median(residual[reference], axis=0)
    for _ in range(2):  # two refinements of the neutral
        weights = fitter.solve(residual - offset, depth)
        activity = weights[reference].sum(axis=1)
        count = max(1, int(np.ceil(NEUTRAL_SHARE * len(reference))))
        calm = reference[np.argsort(activity, kind="stable")[:count]]
        offset = offset + (residual[calm] - offset - np.einsum("tu,ulc->tlc", weights[calm], fitter.basis)).mean(axis=0)
    weights = fitter.solve(residual - offset, depth)
    if smooth:
        weights = _smooth(weights)
    return np.clip(weights, 0.0, 1.0).astype(np.float32)


def hybrid_retarget(direct: np.ndarray, fitted: np.ndarray, units: tuple[str, ...] = FIT_UNITS,
                    cue: np.ndarray | None = None, cue_frames: np.ndarray | None = None) -> np.ndarray:
    """MediaPipe's calibrated scores, with the units it misses on anny taken from the fit, and with
    ``cue`` (:func:`painsynth.capture.cue.cue_retarget`'s weights) joining in as ``CUE_RULES`` says,
    on the frames ``cue_frames`` marks as within the cue's trained views: [T] bool (default all), or
    [T, 2] int per side (Left, Right) naming the side whose cue reading stands for it, -1 for none
    (:func:`painsynth.capture.cue.within_training_views`: the near eye's on strongly turned frames, where
    only ``TURNED_CUE_UNITS`` take the cue)."""
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
        for unit, rule in CUE_RULES.items():
            column = BLENDSHAPE_INDEX[unit]
            side = 0 if unit.endswith("Left") else 1
            stem = unit[:-len(sides[side])]
            for source in range(2):
                rows = np.flatnonzero((sources[:, side] == source) & (~turned | (unit in TURNED_CUE_UNITS)))
                seen = np.clip(cue[rows, BLENDSHAPE_INDEX[stem + sides[source]]], 0, None)
                mixed[rows, column] = seen if rule == "cue" else np.sqrt(np.clip(mixed[rows, column], 0, None) * seen)
    return mixed

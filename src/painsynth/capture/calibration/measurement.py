"""The measurement model: MediaPipe's response to anny's units (2. in :mod:`painsynth.capture.calibration`)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from painsynth.animate import HeadRig
from painsynth.avatars import sample_avatars
from painsynth.capture.calibration import store
from painsynth.capture.calibration.correspondence import correspondence, correspondence_path
from painsynth.capture.calibration.store import built
from painsynth.capture.calibration.studio import average_identity, loaded
from painsynth.capture.landmarks import FaceTracker
from painsynth.capture.mirror import MIRROR_FILE, mirror_partners
from painsynth.capture.model import MODEL_SHA256, verified_model
from painsynth.capture.retarget.fit import CALIBRATED_UNITS, N_LANDMARKS, LandmarkFitter
from painsynth.render import create_renderer, frame_head, make_background, sample_lighting
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, other_side

CALIBRATION_VERSION = 30  # 30: as CORRESPONDENCE_VERSION 29 (earlier reasons: see the package docstring)
CALIBRATION_SEED = 1  # sample_avatars(10, seed=1): not the benchmark's (seed 0) nor the correspondence's identities
CALIBRATION_AVATARS = tuple(range(10))  # both genders, 25-78 years, one of each of the 10 Monk tones
CALIBRATION_VIEWS = ("front", "left30", "right30")  # the response is averaged over views (measured more robust)
CALIBRATION_STRENGTHS = (0.5, 1.0)  # each unit's response: least-squares slope through the neutral
CALIBRATION_SIZE = 224  # px, square renders
POSE_STEP = 0.12  # rad: head yaw and pitch rendered at +-POSE_STEP for the pose nuisance directions
# A unit's measured response is kept at the landmarks where anny's own unit moves the face by at least
# this share of its largest motion, and dropped elsewhere (see supported_response).
CALIBRATION_SUPPORT = 0.2


def calibration_path() -> Path:
    return store.keyed_path("mediapipe_anny_calibration", CALIBRATION_VERSION, MODEL_SHA256, correspondence_path().stem,
                            CALIBRATED_UNITS, CALIBRATION_SEED, CALIBRATION_AVATARS, CALIBRATION_VIEWS,
                            CALIBRATION_STRENGTHS, CALIBRATION_SIZE, POSE_STEP, CALIBRATION_SUPPORT)


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
    fitter = fitter or LandmarkFitter(average_identity(), correspondence())
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
            for avatar in loaded([specs[index] for index in avatars], rig, renderer):
                identity = avatar.identity
                vertices = identity.animate(shapes, rotations, np.zeros_like(rotations))
                cameras = [frame_head(identity.mesh.head_box, view) for view in views]
                backgrounds = [make_background("solid", (size, size), rng) for _ in views]
                landmarks = np.full((len(views), len(shapes), N_LANDMARKS, 3), np.nan)
                for k, images in enumerate(renderer.render_clip(vertices, cameras, sample_lighting(rng), backgrounds)):
                    for v, image in enumerate(images):
                        found = tracker.still_face(np.ascontiguousarray(image))
                        if found is not None:
                            landmarks[v, k] = found[1]
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
    return built(calibration_path(), ("units", "pose", "spread"),
                         build_calibration)

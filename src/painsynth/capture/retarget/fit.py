"""``fit`` retargeting: anny's 52 face-unit weights solved from MediaPipe's 478 landmarks.

MediaPipe's blendshape net barely scores some anny units (noseSneer, cheekSquint, mouthUpperUp
near 0, browDown about 0.006 when fully on) although its landmarks do move. ``fit`` uses the
landmarks instead, through a :class:`LandmarkFitter`: the template (anny's average head at the 478
landmarks, via the correspondence) and the units' basis (anny's geometry, with MediaPipe's measured
response for ``CALIBRATED_UNITS``); both are built once by :mod:`painsynth.capture.calibration`.

1. **Per frame**: the landmarks, made metric-proportional with the image aspect ratio, are
   aligned to the template by a similarity transform on all fitted landmarks (better than a few
   rigid ones, as measured); then the PSPI units' weights are solved by bounded least squares
   (bounds [0, 1], small ridge; the pose columns unbounded) against that basis; the other units
   stay 0. Depth (along the camera axis) is weighted lower than image x, y.
2. **The neutral face**: the person's own face shape is not an expression. Their neutral residual
   (:func:`neutral_residual`: from their neutral material, or from the population, or, by default,
   from the clip's own most neutral frames, two passes) is subtracted before the solve, and the
   weights are smoothed over time.

On real faces this reads as: the fit explains what MediaPipe sees with the motion MediaPipe is
known to report for each anny unit, so it maps MediaPipe's observation space onto anny's units.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular
from scipy.optimize import lsq_linear

from painsynth.capture.timeline import smooth_rows
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

N_LANDMARKS = 478
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
# when anny makes them (capture.calibration). MediaPipe's landmark net regularises towards its own
# face prior: anny's nose wrinkle and brow lowering move its landmarks less, and differently, than
# the mesh vertices they sit on (cosine 0.4-0.7 between the two), so the geometric basis predicted
# motion the landmarker never reports. Calibrating the other fitted units too was measured worse on
# the procedural (combined-unit) clips: MediaPipe's responses do not add up across units, and the
# geometric basis of the eye units keeps PSPI stable (benchmarks/roundtrip.py).
CALIBRATED_UNITS = tuple(stem + side for stem in ("browDown", "noseSneer") for side in ("Left", "Right"))

# image (x right, y down, z away from the camera) -> anny (x right, z up, -y towards the camera)
IMAGE_TO_ANNY = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


# ---------------------------------------------------------------- the fit

class LandmarkFitter:
    """The template and face-unit basis of the average anny at the 478 landmarks.

    ``identity``: an anny identity (the average head); ``corr``: the landmark-to-vertex correspondence
    (``vertex_ids``, ``weights`` [478, K]). With ``calibration`` (MediaPipe's measured response,
    :func:`painsynth.capture.calibration.build_calibration`), the ``CALIBRATED_UNITS``' columns
    of the basis are MediaPipe's measured response instead of anny's geometry, and the pose
    directions join the least squares as free (unbounded) nuisance columns.
    """

    def __init__(self, identity, corr: dict[str, np.ndarray], calibration: dict[str, np.ndarray] | None = None):
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


def neutral_residual(fitter: LandmarkFitter, residual: np.ndarray, depth: np.ndarray,
                     share: float = NEUTRAL_SHARE) -> np.ndarray:
    """The neutral face's aligned residual [478, 3] from frames' residuals [T, 478, 3] and depths [T, 3]:
    starting from their median, twice the mean over the ``share`` least active frames of what the
    solved units do not explain there."""
    offset = np.median(residual, axis=0)
    count = max(1, int(np.ceil(share * len(residual))))
    for _ in range(2):
        weights = fitter.solve(residual - offset, depth)
        calm = np.argsort(weights.sum(axis=1), kind="stable")[:count]
        offset = offset + (residual[calm] - offset - np.einsum("tu,ulc->tlc", weights[calm], fitter.basis)).mean(axis=0)
    return offset


def fit_retarget(landmarks: np.ndarray, valid: np.ndarray, image_size: tuple[int, int], fitter: LandmarkFitter,
                 smooth: bool = True, neutral: np.ndarray | None = None) -> np.ndarray:
    """anny face-unit weights [T, 52] in [0, 1] fitted to landmarks [T, 478, 3] (normalised image
    coordinates; ``image_size`` = (width, height) of the source frames).

    ``neutral``: the person's neutral residual [478, 3] (:func:`neutral_residual`); default: read from
    the clip's own ``NEUTRAL_SHARE`` least active valid frames, which erases an expression held all clip.
    """
    valid = np.asarray(valid, bool)
    residual, depth = fitter.residuals(landmarks, image_size)
    if neutral is None:
        reference = np.flatnonzero(valid) if valid.any() else np.arange(len(residual))
        neutral = neutral_residual(fitter, residual[reference], depth[reference])
    weights = fitter.solve(residual - neutral, depth)
    if smooth:
        weights = smooth_rows(weights, SMOOTH_WINDOW)
    return np.clip(weights, 0.0, 1.0).astype(np.float32)

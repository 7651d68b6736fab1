"""The `fit` retargeting's per-frame bounded least squares: its small normal equations against the tall system.

`LandmarkFitter.solve` fits 12 face units (bounded to [0, 1], with a small ridge) and the calibration's 2
head-turn columns (free) to the 432 fitted landmarks of each frame. It solves the 14x14 normal equations
through their Cholesky factor; the same problem written out is a 1,308-row system (3 x 432 landmark
coordinates + 12 ridge rows). This prints both solvers' time per frame and how far their weights differ,
on residuals made from the fitter's own basis with known weights and landmark noise.

    .venv/bin/python benchmarks/fit_solve_speed.py [--frames 138] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from render_throughput import OtherCpu
from scipy.optimize import lsq_linear

NOISE_M = 3e-4  # landmark jitter, metres (MediaPipe's is about this on a 224 px face)


def tall_solve(fitter, residual: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """What `solve` replaced: each frame's [3L + n, n + pose] system handed to the bounded solver as it is."""
    from painsynth.capture.retarget.fit import DEPTH_WEIGHT, FITTED_UNITS, RIDGE
    from painsynth.tracks import BLENDSHAPE_INDEX

    units = [BLENDSHAPE_INDEX[u] for u in FITTED_UNITS]
    basis = fitter.basis[units][:, fitter.used]
    n, extra = len(basis), len(fitter.nuisance)
    columns = np.concatenate([basis, fitter.nuisance[:, fitter.used]])  # [M, L, 3]
    ridge = np.zeros((n, n + extra))
    ridge[:, :n] = np.sqrt(RIDGE * (basis ** 2).sum() / n) * np.eye(n)
    bounds = (np.r_[np.zeros(n), np.full(extra, -np.inf)], np.r_[np.ones(n), np.full(extra, np.inf)])
    k = 1 - np.sqrt(DEPTH_WEIGHT)
    weights = np.zeros((len(residual), 52))
    for t in range(len(residual)):
        d = depth[t] / np.linalg.norm(depth[t])
        shrink = np.eye(3) - k * np.outer(d, d)  # the depth component weighs DEPTH_WEIGHT in the squares
        a = np.einsum("cd,mld->lcm", shrink, columns).reshape(-1, n + extra)
        b = (residual[t, fitter.used] @ shrink.T).reshape(-1)
        system = np.concatenate([a, ridge]), np.r_[b, np.zeros(n)]
        weights[t, units] = lsq_linear(*system, bounds=bounds, method="bvls").x[:n]
    return weights


def make_residuals(fitter, frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Residuals [T, 478, 3] of known unit weights, head-turn amounts and noise; depth directions [T, 3]."""
    from painsynth.capture.retarget.fit import FITTED_UNITS
    from painsynth.tracks import BLENDSHAPE_INDEX

    rng = np.random.default_rng(seed)
    units = [BLENDSHAPE_INDEX[u] for u in FITTED_UNITS]
    weights = rng.uniform(0, 1, (frames, len(units))) * (rng.random((frames, len(units))) < 0.5)
    turns = rng.normal(0, 0.3, (frames, len(fitter.nuisance)))
    residual = (np.einsum("tu,ulc->tlc", weights, fitter.basis[units])
                + np.einsum("tp,plc->tlc", turns, fitter.nuisance)
                + rng.normal(0, NOISE_M, (frames, *fitter.template.shape)))
    depth = np.array([0.0, 1.0, 0.0]) + rng.normal(0, 0.1, (frames, 3))
    return residual, depth, len(units) + len(fitter.nuisance)


def best_seconds_per_frame(solve, repeats: int, frames: int) -> tuple[float, np.ndarray]:
    best, result = np.inf, None
    for _ in range(repeats):
        started = time.perf_counter()
        result = solve()
        best = min(best, (time.perf_counter() - started) / frames)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=138, help="frames per solve (138: one 5.5 s clip)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many solves of each kind")
    args = parser.parse_args()
    from painsynth.capture.calibration import default_fitter

    fitter = default_fitter()
    residual, depth, columns = make_residuals(fitter, args.frames)
    with OtherCpu() as other:
        normal, ours = best_seconds_per_frame(lambda: fitter.solve(residual, depth), args.repeats, args.frames)
        tall, theirs = best_seconds_per_frame(lambda: tall_solve(fitter, residual, depth), args.repeats, args.frames)
    rows = 3 * int(fitter.used.sum()) + columns - len(fitter.nuisance)
    print(f"\n## fit's bounded least squares, {args.frames} frames, {columns} columns; best of {args.repeats}\n")
    print("| solver | ms per frame |")
    print("|---|---:|")
    print(f"| {columns}x{columns} normal equations (Cholesky), `LandmarkFitter.solve` | {normal * 1e3:.3f} |")
    print(f"| the {rows:,}-row system as it is | {tall * 1e3:.3f} |")
    print(f"\nSpeed-up {tall / normal:.1f}x; largest difference between their unit weights "
          f"{np.abs(ours - theirs).max():.1e}.")
    print(f"Other processes used {other.seconds:.1f} CPU s while this ran.")


if __name__ == "__main__":
    main()

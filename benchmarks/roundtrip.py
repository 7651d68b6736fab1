"""Capture fidelity: render motion with known face units, capture it back, compare.

Procedural clips (``make_track`` at levels 3-4) and a clip in which each PSPI action unit
(AU4, AU6, AU7, AU9, AU10, AU43) ramps up and down alone in turn are played on a few identities
(both genders, several skin tones and ages), rendered at 224x224 from the front, left30 and
left45 views, encoded to H.264, captured with MediaPipe and retargeted three ways:

- ``direct``: MediaPipe's blendshape scores, calibrated per clip;
- ``fit``: anny's face units solved from the 478 landmarks (``painsynth.capture.fit``);
- ``hybrid`` (the capture default): direct, with browDown, cheekSquint, eyeSquint, noseSneer and
  mouthUpperUp from the fit, and cheekSquint (alone) and noseSneer (geometric mean with the fit)
  from the image cue (``painsynth.capture.cue``): each eye's own patch up to ~35 degrees of turn, the
  near eye's for both sides' cheekSquint beyond (noseSneer then stays with the fit), none past ~60.

Printed (Markdown): per view and method, Pearson r and MAE (AU intensity 0-5) of the PSPI units
recovered by inverting the AU->blendshape main weights (AU4 = 5 * mean(browDown L, R), ...), on
the single-unit clips; and Pearson r / MAE of per-frame PSPI on the procedural clips.

    .venv/bin/python benchmarks/roundtrip.py                 # about 3-4 min on 2 cores
    .venv/bin/python benchmarks/roundtrip.py --identities 2 --frames 40   # quicker
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from painsynth.procedural import AU_NAMES, AU_TO_BLENDSHAPES, AU43_CLOSED_FROM, MAX_AU_INTENSITY, make_track
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

PSPI_UNITS = {"AU4": "browDown", "AU6": "cheekSquint", "AU7": "eyeSquint", "AU9": "noseSneer",
              "AU10": "mouthUpperUp", "AU43": "eyeBlink"}
METHODS = ("direct", "fit", "hybrid")
VIEWS = ("front", "left30", "left45")
SIZE = 224
FPS = 25.0


def single_unit_track(frames_per_unit: int = 14, apex: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """(blendshapes [T, 52], AU [T, 6] in PSPI_UNITS order): each PSPI AU rises and falls alone in turn."""
    units = list(PSPI_UNITS)
    bump = apex * np.sin(np.linspace(0, np.pi, frames_per_unit)) ** 2
    au = np.zeros((frames_per_unit * len(units) + 4, len(units)))
    for k in range(len(units)):
        au[2 + k * frames_per_unit: 2 + (k + 1) * frames_per_unit, k] = bump
    return blendshapes_from_au(au, units), au


def blendshapes_from_au(au: np.ndarray, names: list[str]) -> np.ndarray:
    shapes = np.zeros((len(au), len(ARKIT_BLENDSHAPES)))
    for k, name in enumerate(names):
        for shape, weight in AU_TO_BLENDSHAPES[name].items():
            shapes[:, BLENDSHAPE_INDEX[shape]] += weight * au[:, k] / MAX_AU_INTENSITY
    return np.clip(shapes, 0, 1).astype(np.float32)


def au_from_blendshapes(blendshapes: np.ndarray) -> np.ndarray:
    """[T, 6] PSPI AU intensities (PSPI_UNITS order) from the main blendshape of each AU."""
    columns = []
    for stem in PSPI_UNITS.values():
        pair = [BLENDSHAPE_INDEX[stem + "Left"], BLENDSHAPE_INDEX[stem + "Right"]]
        columns.append(MAX_AU_INTENSITY * blendshapes[:, pair].mean(axis=1))
    return np.stack(columns, axis=1)


def pspi(au: np.ndarray) -> np.ndarray:
    a4, a6, a7, a9, a10, a43 = au.T
    return a4 + np.maximum(a6, a7) + np.maximum(a9, a10) + (a43 >= AU43_CLOSED_FROM)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def render(rig, renderer, spec, blendshapes, rotation, views, rng) -> dict[str, np.ndarray]:
    from painsynth.avatars.build import build_avatar
    from painsynth.render import frame_head, make_background, sample_lighting

    avatar = build_avatar(spec, rig)
    identity = avatar.identity
    renderer.load_avatar(avatar)
    vertices = identity.animate(blendshapes, rotation, np.zeros((len(blendshapes), 3), np.float32))
    cameras = [frame_head(identity.mesh.head_box, v) for v in views]
    backgrounds = [make_background("solid", (SIZE, SIZE), rng) for _ in views]
    frames = list(renderer.render_clip(vertices, cameras, sample_lighting(rng), backgrounds))
    return {v: np.stack([f[i] for f in frames]) for i, v in enumerate(views)}


def capture_methods(frames: np.ndarray, folder: Path, model) -> dict[str, np.ndarray]:
    from painsynth.capture.cue import cue_retarget, within_training_views
    from painsynth.capture.fit import fit_retarget, hybrid_retarget
    from painsynth.capture.tracker import build_track, resampled_patches, run_landmarker
    from painsynth.video import write_video

    path = write_video(folder / "clip.mp4", frames, FPS)
    raw = run_landmarker(path, model)
    track = build_track(raw, fps=FPS, min_valid=0.5, method="direct")
    fitted = fit_retarget(track.landmarks, track.valid, (frames.shape[2], frames.shape[1]))
    # the image cue, as build_track's hybrid uses it
    cue = cue_retarget(resampled_patches(raw, FPS)[0], track.valid)
    readable = within_training_views(track.landmarks, (frames.shape[2], frames.shape[1]))
    hybrid = hybrid_retarget(track.blendshapes, fitted, cue=cue, cue_frames=readable)
    return {"direct": track.blendshapes, "fit": fitted, "hybrid": hybrid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=3)
    parser.add_argument("--frames", type=int, default=50, help="frames per procedural clip")
    parser.add_argument("--views", default=",".join(VIEWS))
    args = parser.parse_args()
    start = time.perf_counter()

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.capture.fit import correspondence, default_fitter
    from painsynth.capture.model import verified_model
    from painsynth.capture.tracker import CaptureError
    from painsynth.render import Renderer

    views = args.views.split(",")
    model = verified_model()
    rig = HeadRig()
    correspondence(), default_fitter()
    # avatars 0, 3, 6 of seed 0: both genders, young and old, light to dark skin (printed below)
    specs = [sample_avatars(3 * args.identities, 0)[3 * i] for i in range(args.identities)]
    renderer = Renderer(SIZE, SIZE)
    rng = np.random.default_rng(0)
    single_shapes, single_au = single_unit_track()
    procedural = [make_track(level, seed, n_frames=args.frames) for level, seed in ((3, 1), (4, 2), (4, 3))]
    au_columns = [AU_NAMES.index(name) for name in PSPI_UNITS]

    # results[view][method] -> lists of (truth, estimate) arrays
    single = {v: {m: ([], []) for m in METHODS} for v in views}
    pain = {v: {m: ([], []) for m in METHODS} for v in views}
    by_identity = {}  # (avatar, view) -> (truth AU, fitted AU) of the single-unit clip
    lost = []  # clips in which MediaPipe found the face in under half the frames
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            print(f"identity {spec.avatar_id}: {spec.gender}, {spec.age_years:.0f} y, Monk tone {spec.monk_tone}",
                  flush=True)
            clips = [(single_shapes, np.zeros((len(single_shapes), 3), np.float32), single_au, None)]
            clips += [(t.blendshapes, t.head_rotation, t.au[:, au_columns], t.pspi) for t in procedural]
            for shapes, rotation, truth_au, truth_pspi in clips:
                rendered = render(rig, renderer, spec, shapes, rotation, views, rng)
                for view in views:
                    try:
                        got = capture_methods(rendered[view], Path(tmp), model)
                    except CaptureError as exc:  # counted and printed: a lost face is a result too
                        lost.append(f"{spec.avatar_id} {view}: {str(exc).split(': ', 1)[-1]}")
                        continue
                    for method, blendshapes in got.items():
                        n = min(len(blendshapes), len(truth_au))
                        estimate = au_from_blendshapes(blendshapes[:n])
                        if truth_pspi is None:
                            if method == "hybrid":
                                by_identity[spec.avatar_id, view] = (truth_au[:n], estimate)
                            single[view][method][0].append(truth_au[:n])
                            single[view][method][1].append(estimate)
                        else:
                            pain[view][method][0].append(truth_pspi[:n])
                            pain[view][method][1].append(pspi(estimate))
    renderer.release()

    print(f"\n## Single-unit clips: Pearson r / MAE (AU intensity 0-5) per PSPI unit, "
          f"{len(specs)} identities\n")
    print("| view | method | " + " | ".join(PSPI_UNITS) + " |")
    print("|---|---|" + "---|" * len(PSPI_UNITS))
    for view in views:
        for method in METHODS:
            truth, estimate = (np.concatenate(x) for x in single[view][method])
            cells = [f"{pearson(truth[:, k], estimate[:, k]):.2f} / {np.abs(truth[:, k] - estimate[:, k]).mean():.2f}"
                     for k in range(len(PSPI_UNITS))]
            print(f"| {view} | {method} | " + " | ".join(cells) + " |")
    print(f"\n## Procedural clips (levels 3-4, {args.frames} frames, {len(procedural)} motions x "
          f"{len(specs)} identities): per-frame PSPI\n")
    print("| view | method | PSPI r | PSPI MAE | PSPI r (single-unit clip) |")
    print("|---|---|---|---|---|")
    for view in views:
        for method in METHODS:
            truth, estimate = (np.concatenate(x) for x in pain[view][method])
            s_truth, s_est = (np.concatenate(x) for x in single[view][method])
            print(f"| {view} | {method} | {pearson(truth, estimate):.3f} | {np.abs(truth - estimate).mean():.2f} | "
                  f"{pearson(pspi(s_truth), pspi(s_est)):.3f} |")
    print("\n## Single-unit clips, hybrid, Pearson r per identity\n")
    print("| identity | view | " + " | ".join(PSPI_UNITS) + " |")
    print("|---|---|" + "---|" * len(PSPI_UNITS))
    for (avatar, view), (truth, estimate) in by_identity.items():
        cells = [f"{pearson(truth[:, k], estimate[:, k]):.2f}" for k in range(len(PSPI_UNITS))]
        print(f"| {avatar} | {view} | " + " | ".join(cells) + " |")
    print(f"\nClips left out (face found in under half the frames): {len(lost)}")
    for line in lost:
        print(f"- {line}")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

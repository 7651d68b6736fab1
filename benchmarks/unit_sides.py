"""Left against right: each pain unit on one side of the face alone, captured, read on both sides.

    python benchmarks/unit_sides.py [--seeds 5,8] [--avatars 3] [--views front] [--as-measured]

Three identities of each bank ``--seeds`` (none of the capture assets' banks) play a neutral baseline
clip and, for each pain unit and side, a clip of that unit alone rising to 0.8 and falling back;
rendered (solid background, no jitter), captured, retargeted by ``hybrid`` against the baseline.
Printed per unit and side, the mean over identities of: Pearson r of the reading with the truth, the
reading's peak as a share of the truth's, and the peak read on the other side (crosstalk). A unit
read well on one side and badly on the other is a fault of the capture, not of the face: anny's units
and MediaPipe's mesh are both mirror-symmetric.

``--as-measured`` also reads every clip with the measurement model as measured, each side on its own
(``build_calibration(symmetric=False)``, built in this process, about 3 min), next to the shipped
mirror-symmetric one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import roundtrip  # noqa: E402

STEMS = ("browDown", "eyeSquint", "cheekSquint", "noseSneer", "mouthUpperUp")
SIDES = ("Left", "Right")
FRAMES = 40
APEX = 0.8


def ramp() -> np.ndarray:
    half = FRAMES // 2
    return np.r_[np.linspace(0, APEX, half), np.linspace(APEX, 0, FRAMES - half)].astype(np.float32)


def clips() -> dict[str, np.ndarray]:
    from painsynth.tracks import BLENDSHAPE_INDEX

    out = {"baseline": np.zeros((FRAMES, 52), np.float32)}
    for stem in STEMS:
        for side in SIDES:
            shapes = np.zeros((FRAMES, 52), np.float32)
            shapes[:, BLENDSHAPE_INDEX[stem + side]] = ramp()
            out[stem + side] = shapes
    return out


def readers(as_measured: bool) -> dict:
    """{name: Assets} of the models compared."""
    from painsynth.capture.calibration import build_calibration, correspondence, cue_model, retarget_assets
    from painsynth.capture.calibration.studio import average_identity
    from painsynth.capture.retarget import Assets
    from painsynth.capture.retarget.fit import LandmarkFitter

    out = {"symmetric (shipped)": retarget_assets("hybrid")}
    if as_measured:
        fitter = LandmarkFitter(average_identity(), correspondence(), calibration=build_calibration(symmetric=False))
        out["as measured"] = Assets(fitter=fitter, cue_model=cue_model())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="5,8")
    parser.add_argument("--avatars", type=int, default=3)
    parser.add_argument("--views", default="front")
    parser.add_argument("--as-measured", action="store_true")
    args = parser.parse_args()

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.capture.model import verified_model
    from painsynth.capture.retarget import retarget
    from painsynth.capture.retarget.neutral import neutral_from
    from painsynth.render import create_renderer
    from painsynth.tracks import BLENDSHAPE_INDEX, other_side

    views = args.views.split(",")
    models = readers(args.as_measured)
    model, rig = verified_model(), HeadRig()
    renderer = create_renderer(roundtrip.SIZE)
    named = clips()
    truth = ramp()
    still = np.zeros((FRAMES, 3), np.float32)
    read: dict[tuple, list] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for seed in map(int, args.seeds.split(",")):
                rng = np.random.default_rng(seed)
                for spec in sample_avatars(args.avatars, seed):
                    rendered = roundtrip.render(rig, renderer, spec, [(c, still) for c in named.values()], views,
                                                {"jitter": 0.0, "backgrounds": ("solid",)}, rng)
                    for view in views:
                        seen = dict(zip(named, (roundtrip.observed(r[view], Path(tmp), model) for r in rendered)))
                        for name, assets in models.items():
                            neutral = neutral_from([seen["baseline"]], assets, "baseline", dedicated=True)
                            for unit in named:
                                if unit == "baseline":
                                    continue
                                weights = retarget("hybrid", seen[unit], assets, neutral)
                                got = weights[:, BLENDSHAPE_INDEX[unit]]
                                read.setdefault((name, view, unit), []).append(
                                    [roundtrip.pearson(got, truth), got.max() / APEX,
                                     weights[:, BLENDSHAPE_INDEX[other_side(unit)]].max() / APEX])
    finally:
        renderer.release()
    print(f"\n## One-sided pain units, hybrid, seeds {args.seeds} x {args.avatars} identities\n")
    print("| model | view | unit | r | peak / truth | other side's peak / truth |\n|---|---|---|---:|---:|---:|")
    for (name, view, unit), values in read.items():
        r, peak, other = np.mean(values, axis=0)
        print(f"| {name} | {view} | {unit} | {r:.2f} | {peak:.2f} | {other:.2f} |")
    for name in models:
        for side in SIDES:
            r = [np.mean(v, axis=0)[0] for (n, _, unit), v in read.items() if n == name and unit.endswith(side)]
            print(f"{name}: mean r of the {side.lower()} units {np.mean(r):.2f}")


if __name__ == "__main__":
    main()

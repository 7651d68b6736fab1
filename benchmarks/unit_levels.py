"""At what level capture reads each pain unit: held alone and held together, against a baseline clip.

    python benchmarks/unit_levels.py [--seed 5] [--views front,left30] [--method hybrid]

Three identities of bank ``--seed`` (avatars 0, 3, 6; seed 5 is none of the round trip's or the capture
assets' banks) each play a neutral baseline clip, the held apex of `benchmarks/roundtrip.py` (brows down
0.8, squint and cheek raise 0.7, nose wrinkle and upper lip 0.6, all held) and each of those units held
alone at its level; rendered (solid background, no jitter), captured, retargeted against the baseline.
Printed per view, unit and clip: the mean reading as a share of the truth, for ``--method`` and for its
two sources, MediaPipe's scores (``direct``) and the landmark fit (``fit``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import roundtrip  # noqa: E402

FRAMES = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--views", default="front,left30")
    parser.add_argument("--method", default="hybrid")
    args = parser.parse_args()

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.capture.calibration import retarget_assets
    from painsynth.capture.model import verified_model
    from painsynth.capture.retarget import retarget
    from painsynth.capture.retarget.neutral import neutral_from
    from painsynth.render import create_renderer
    from painsynth.tracks import BLENDSHAPE_INDEX

    views = args.views.split(",")
    model, rig, assets = verified_model(), HeadRig(), retarget_assets(args.method)
    renderer = create_renderer(roundtrip.SIZE)
    rng = np.random.default_rng(args.seed)
    still = np.zeros((FRAMES, 3), np.float32)
    alone = []
    for stem, level in roundtrip.HELD.items():
        shapes = np.zeros((FRAMES, 52), np.float32)
        shapes[:, [BLENDSHAPE_INDEX[stem + "Left"], BLENDSHAPE_INDEX[stem + "Right"]]] = level
        alone.append(shapes)
    clips = [np.zeros((FRAMES, 52), np.float32), roundtrip.held_apex_track(FRAMES), *alone]
    read: dict[tuple, list] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for spec in [sample_avatars(9, args.seed)[3 * i] for i in range(3)]:
                rendered = roundtrip.render(rig, renderer, spec, [(c, still) for c in clips], views,
                                            {"jitter": 0.0, "backgrounds": ("solid",)}, rng)
                for view in views:
                    seen = [roundtrip.observed(r[view], Path(tmp), model) for r in rendered]
                    neutral = neutral_from([seen[0]], assets, "baseline", dedicated=True)
                    for k, observation in enumerate(seen[1:]):
                        got = {name: retarget(name, observation, retarget_assets(name), neutral)
                               for name in (args.method, "direct", "fit")}
                        for j, (stem, level) in enumerate(roundtrip.HELD.items()):
                            if k == 0 or k - 1 == j:
                                columns = [BLENDSHAPE_INDEX[stem + side] for side in ("Left", "Right")]
                                read.setdefault((view, stem, "together" if k == 0 else "alone"), []).append(
                                    [w[:, columns].mean() / level for w in got.values()])
    finally:
        renderer.release()
    print(f"| view | unit | held | {args.method} | direct | fit |\n|---|---|---|---:|---:|---:|")
    for (view, stem, clip), values in sorted(read.items()):
        print(f"| {view} | {stem} | {clip} | " + " | ".join(f"{v:.2f}" for v in np.mean(values, axis=0)) + " |")


if __name__ == "__main__":
    main()

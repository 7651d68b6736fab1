"""Are the avatars of one bank different people? dlib identity distances over a bank's avatars.

    python benchmarks/identity_diversity.py --avatars 100 --seed 1 [--out sheet.png]

Prints: the share of avatar pairs dlib calls "the same person" (distance < 0.6; goal <= 5 %,
resolved at <= 20 %) and the median pair distance (goal >= 0.70, resolved at >= 0.62), the same
by gender, age band and Monk tone; whether each avatar stays one person (its left-30° and
peak-pain images within 0.45 of its neutral front image); and the share of ±45° images in which
MediaPipe finds the face (neutral and peak pain; goal >= 99 %). Reference figures: real photos of
different people are 0.70-0.92 apart, two photos of one person 0.33-0.43.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avatars", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--children", action="store_true")
    parser.add_argument("--out", help="also write a contact sheet of the neutral front images (PNG)")
    args = parser.parse_args()

    from painsynth.avatars import sample_avatars
    from painsynth.diversity import SAME_PERSON, SELF_LIMIT, measure, render_states

    specs = sample_avatars(args.avatars, args.seed, children=args.children)
    started = time.perf_counter()
    images = render_states(specs, args.size, on_progress=lambda d, n: print(f"\rrendered {d}/{n}", end="", flush=True))
    print(f"\rrendered {len(specs)} avatars x {len(images[0])} images in {time.perf_counter() - started:.0f} s")
    result = measure(specs, images)
    print(f"bank seed {args.seed}: {result.avatars} avatars, {result.embedded} with a face found by dlib")
    print(f"same-person pairs (< {SAME_PERSON}): {100 * result.same_person_share:.1f} %   "
          f"median pair distance: {result.median_distance:.3f}   "
          f"10th-90th percentile: {np.percentile(result.pair_distances, 10):.3f}-{np.percentile(result.pair_distances, 90):.3f}")
    for state, distances in result.self_distances.items():
        if distances:
            print(f"one person, {state} vs neutral front: median {np.median(distances):.3f}, "
                  f"max {np.max(distances):.3f}, within {SELF_LIMIT}: {100 * np.mean(np.array(distances) < SELF_LIMIT):.0f} % "
                  f"({len(distances)} found)")
    for variable, groups in result.groups.items():
        cells = "  ".join(f"{name}: {100 * g['same_person_share']:.0f} % ({g['avatars']})" for name, g in groups.items())
        print(f"same-person pairs within {variable}: {cells}")
    for view, share in result.detection.items():
        print(f"MediaPipe finds the face at {view} (neutral and pain): {100 * share:.1f} %")
    if args.out:
        from PIL import Image

        columns = 10
        tiles = [shots["front"] for shots in images]
        tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % columns)
        rows = [np.concatenate(tiles[i:i + columns], axis=1) for i in range(0, len(tiles), columns)]
        Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
        print(f"sheet: {args.out}")


if __name__ == "__main__":
    main()

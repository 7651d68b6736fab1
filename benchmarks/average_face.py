"""Does moving the bank's average face make its avatars more different people to dlib?

    python benchmarks/average_face.py --avatars 40 --seed 1 [--try 'lips:mouth-scale-depth-incr=-0.3' ...]

The same avatars (same draws) around anny's own average face (``face_shape.AVERAGE_FACE`` taken
off), around the bank's (as shipped), and around the bank's moved by each ``--try``
(``name:label=value,label=value``: values added to every avatar's modifier, within MakeHuman's -1..1);
each measured as `benchmarks/identity_diversity.py` measures a bank (front, neutral, even light,
dlib): the share of pairs under 0.6 and the median pair distance. ``--out`` writes the first 8
avatars' faces, one row per setting.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np


def parse_try(text: str) -> tuple[str, dict[str, float]]:
    name, _, offsets = text.partition(":")
    pairs = [item.split("=") for item in offsets.split(",") if item]
    return name, {label: float(value) for label, value in pairs}


def moved(specs, offsets: dict[str, float]):
    def shape(values):
        return {label: round(float(np.clip(v + offsets.get(label, 0.0), -1.0, 1.0)), 3) for label, v in values.items()}

    return [dataclasses.replace(spec, face_shape=shape(spec.face_shape)) for spec in specs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avatars", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--try", dest="tries", action="append", default=[], metavar="NAME:LABEL=VALUE,...")
    parser.add_argument("--out", help="a PNG of the first 8 faces per setting")
    args = parser.parse_args()

    from painsynth.avatars import face_shape, sample_avatars
    from painsynth.diversity import measure, render_states

    shipped = dict(face_shape.AVERAGE_FACE)
    face_shape.AVERAGE_FACE.clear()  # the same draws around anny's own average face
    try:
        annys = sample_avatars(args.avatars, args.seed)
    finally:
        face_shape.AVERAGE_FACE.update(shipped)
    bank = sample_avatars(args.avatars, args.seed)
    settings = {"anny's average face": annys, "the bank's (as shipped)": bank}
    settings.update({name: moved(bank, offsets) for name, offsets in map(parse_try, args.tries)})
    print(f"bank seed {args.seed}, {args.avatars} avatars; the bank's average face moves {shipped}")
    rows = []
    for name, specs in settings.items():
        images = render_states(specs, detection=False)
        result = measure(specs, images)
        print(f"{name}: same-person pairs {100 * result.same_person_share:.1f} %, "
              f"median pair distance {result.median_distance:.3f}", flush=True)
        rows.append(np.concatenate([shots["front"] for shots in images[:8]], axis=1))
    if args.out:
        from PIL import Image

        Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
        print(f"faces: {args.out}")


if __name__ == "__main__":
    main()

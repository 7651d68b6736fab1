"""A picture of faces in profile before and after the nose tip was kept in front of the lips.

    python benchmarks/profile_sheet.py --seed 1 --out docs/profiles.png

Takes the first ``--count`` avatars of one bank whose face, as it was drawn before (the average face's
shallower nose on every ancestry, no profile rule), had a lip within 3 mm of the nose tip or in front of
it, and renders each neutral, turned 60 degrees: the top row as drawn before, the bottom row as
``sample_avatars`` draws it now (``avatars.profile``, ``face_shape.AVERAGE_FACE_SPARED``). Prints each
avatar's margins (mm the nose tip stands in front of the upper / lower lip) before and after.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
from PIL import Image


def drawn_before(spec):
    """``spec`` with the face shape its seed gave before the profile rule and the spared average."""
    from painsynth.avatars import face_shape
    from painsynth.avatars.bank import _part_rng

    spared = dict(face_shape.AVERAGE_FACE_SPARED)
    face_shape.AVERAGE_FACE_SPARED.clear()
    try:
        shape = face_shape.sample_face_shape(_part_rng(spec.seed, "face"), spec.gender, spec.age_years, spec.ethnicity)
    finally:
        face_shape.AVERAGE_FACE_SPARED.update(spared)
    return dataclasses.replace(spec, face_shape=shape)


def turned(specs, size: int) -> list[np.ndarray]:
    from painsynth.diversity import render_states

    return [shots["left60_neutral"] for shots in render_states(specs, size, detection=False, extra_views=("left60",))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--out", default="profiles.png")
    args = parser.parse_args()

    from painsynth.avatars import profile, sample_avatars
    from painsynth.preview import caption_of

    pairs = []
    for spec in sample_avatars(200, args.seed):
        before = drawn_before(spec)
        if profile.profile_margins(before.face_shape, before.phenotype).min() < 3.0:
            pairs.append((before, spec))
        if len(pairs) == args.count:
            break
    for before, after in pairs:
        was, now = (profile.profile_margins(s.face_shape, s.phenotype) for s in (before, after))
        print(f"{caption_of(after)}: {was[0]:.1f} / {was[1]:.1f} mm -> {now[0]:.1f} / {now[1]:.1f} mm")
    rows = [np.concatenate(turned(specs, args.size), axis=1) for specs in zip(*pairs)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"picture: {args.out}")


if __name__ == "__main__":
    main()

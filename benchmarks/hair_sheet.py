"""A picture of the avatars of one bank who wear curly or coily hair (or one hair family), front and 30°.

    python benchmarks/hair_sheet.py --seed 1 --out docs/curls.png
    python benchmarks/hair_sheet.py --family long_wavy --seed 2 --out waves.png

Top row: the first ``--count`` avatars of bank ``--seed`` whose hair is curly or coily (the afro family, or
curl above the curly threshold in any family with hair), or of ``--family``; neutral, frontal. Bottom
row: the same turned 30° to the left. Prints which avatars it used.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image


def main() -> None:
    from painsynth.avatars.tables import HAIR_FAMILIES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=HAIR_FAMILIES, help="one hair family instead of curly hair")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--out", default="curls.png")
    args = parser.parse_args()

    from painsynth.avatars import sample_avatars
    from painsynth.avatars.hair_style import is_curly
    from painsynth.diversity import render_states
    from painsynth.preview import caption_of

    def wanted(spec) -> bool:
        return spec.hair_family == args.family if args.family else is_curly(spec)

    chosen = [spec for spec in sample_avatars(400, args.seed) if wanted(spec)][:args.count]
    if not chosen:
        raise SystemExit(f"no avatar of the first 400 of bank {args.seed} wears {args.family or 'curly hair'}")
    print("; ".join(caption_of(spec) for spec in chosen))
    shots = render_states(chosen, args.size, detection=False)
    blank = [np.full((args.size, args.size, 3), 255, np.uint8)] * (args.count - len(chosen))
    rows = [np.concatenate([s[state] for s in shots] + blank, axis=1) for state in ("front", "left30")]
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"picture: {args.out}")


if __name__ == "__main__":
    main()

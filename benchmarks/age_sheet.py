"""A picture of 8 avatars at each of three ages, one ancestry and gender, to show that age shows.

    python benchmarks/age_sheet.py --gender female --ancestry caucasian --out docs/ages.png

Rows: ages 18-30, 46-60 and 61-84 (the bank's bands), drawn from one bank (seed 1); neutral,
frontal. Prints which avatars it used.
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gender", default="female", choices=("female", "male"))
    parser.add_argument("--ancestry", default="caucasian", choices=("african", "asian", "caucasian"))
    parser.add_argument("--per-row", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--out", default="ages.png")
    args = parser.parse_args()

    from painsynth.avatars import sample_avatars
    from painsynth.diversity import render_states
    from painsynth.preview import caption_of

    bank = sample_avatars(600, args.seed)
    rows = []
    for low, high in ((18, 31), (46, 61), (61, 85)):
        chosen = [s for s in bank if s.gender == args.gender and low <= s.age_years < high
                  and max(s.ethnicity, key=s.ethnicity.get) == args.ancestry][:args.per_row]
        print(f"ages {low}-{high - 1}: " + "; ".join(caption_of(s) for s in chosen))
        images = [shots["front"] for shots in render_states(chosen, args.size, detection=False)]
        images += [np.full((args.size, args.size, 3), 255, np.uint8)] * (args.per_row - len(images))
        rows.append(np.concatenate(images, axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"picture: {args.out}")


if __name__ == "__main__":
    main()

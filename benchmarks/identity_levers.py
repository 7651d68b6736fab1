"""Which parts of an avatar carry its identity for dlib, and what a wider face-shape spread would give.

    python benchmarks/identity_levers.py --pairs 20 --seed 1
    python benchmarks/identity_levers.py --wider-face-shape --avatars 40 --seed 1
    python benchmarks/identity_levers.py --darkest 10 --against 1 --banks 1,2,3,4

Swap: for each of ``--pairs`` pairs (A, B) of one bank, A is rendered with one part of its spec taken
from B (face shape, skin, ancestry, hair, ...), frontal, neutral, in the fixed light of
`benchmarks/identity_diversity.py`; printed per part: the median dlib distance of that image from A's
own (how far the part alone moves the identity) and from B's.
``--wider-face-shape``: the same-person share and median distance over ``--avatars`` avatars with the face
types at 1.5 times their loadings, the group RMS bound at 2.3 and each modifier's own draw at 1.3 spreads
(against today's settings, in the same run), and a sheet of the 8 most extreme faces (``--out``).
``--darkest TONE``: the same-person share among all avatars of Monk tone TONE in the ``--banks``, as drawn,
with Monk 5 skin, with their African share of anny's ancestry given to European (skin kept), and both; and
among the avatars of tone ``--against`` as drawn: how much of a tone's likeness is its skin, how much its build.
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np

# spec fields per part; "phenotype:a,b" takes only those phenotype keys
PARTS = {
    "face shape": ["face_shape"],
    "body (muscle, weight, height, proportions)": ["phenotype:muscle,weight,height,proportions"],
    "age": ["phenotype:age", "age_years"],
    "gender": ["phenotype:gender,cupsize,firmness", "gender"],
    "ancestry": ["phenotype:african,asian,caucasian"],
    "skin": ["skin_hex", "redness", "freckles", "skin_detail", "monk_tone"],
    "hair": ["hair_family", "hairline", "hair", "hair_color"],
    "brows": ["brow_thickness", "brow_arch", "brow_color"],
    "eyes": ["eye_color", "lash_length"],
    "make-up and lip colour": ["makeup"],
    "facial hair": ["facial_hair"],
    "glasses": ["glasses", "glasses_color"],
    "garment": ["garment", "garment_color", "garment_pattern"],
}


def swapped(a, b, fields: list[str]):
    changes = {}
    for field in fields:
        if ":" in field:
            name, keys = field.split(":")
            values = dict(changes.get(name, getattr(a, name)))
            values.update({k: getattr(b, name)[k] for k in keys.split(",")})
            changes[name] = values
        else:
            changes[field] = getattr(b, field)
    return dataclasses.replace(a, **changes)


def fronts(specs) -> list[np.ndarray | None]:
    from painsynth.audit import Embedder
    from painsynth.diversity import render_states

    embedder = Embedder()
    return [embedder.embed_frame(shots["front"]) for shots in render_states(specs, detection=False)]


def swap(pairs: int, seed: int) -> None:
    from painsynth.avatars import sample_avatars

    specs = sample_avatars(2 * pairs, seed)
    rows = [[specs[i], specs[pairs + i]] + [swapped(specs[i], specs[pairs + i], f) for f in PARTS.values()]
            for i in range(pairs)]
    embeddings = fronts([spec for row in rows for spec in row])
    width = 2 + len(PARTS)
    moved = {part: ([], []) for part in PARTS}
    for i in range(pairs):
        own, other, *parts = embeddings[i * width:(i + 1) * width]
        if own is None or other is None:
            continue
        for part, e in zip(PARTS, parts):
            if e is not None:
                moved[part][0].append(np.linalg.norm(e - own)), moved[part][1].append(np.linalg.norm(e - other))
    print(f"{pairs} pairs of bank seed {seed}; A with one part of B's spec:\n")
    print("| part | distance from A | distance from B |\n|---|---:|---:|")
    for part, (from_a, from_b) in sorted(moved.items(), key=lambda item: -np.median(item[1][0])):
        print(f"| {part} | {np.median(from_a):.3f} | {np.median(from_b):.3f} |")


def pair_figures(specs) -> tuple[float, float, list]:
    """(share of pairs under dlib's same-person threshold, median pair distance, embeddings) of the specs'
    front images."""
    from painsynth.diversity import SAME_PERSON

    found = [e for e in fronts(specs) if e is not None]
    x = np.array(found).reshape(len(found), -1)
    pairs = np.linalg.norm(x[:, None] - x[None], axis=2)[np.triu_indices(len(found), 1)]
    return float(np.mean(pairs < SAME_PERSON)), float(np.median(pairs)), found


def diversity(avatars: int, seed: int) -> tuple[float, float, list, list]:
    from painsynth.avatars import sample_avatars

    specs = sample_avatars(avatars, seed)
    share, median, found = pair_figures(specs)
    return share, median, specs, found


def darkest(tone: int, against: int, banks: list[int]) -> None:
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.tables import MONK_TONES

    bank = [s for seed in banks for s in sample_avatars(100, seed)]

    def of_tone(monk):
        return [s for s in bank if s.monk_tone == monk]

    def european_build(spec):
        phenotype = {**spec.phenotype, "caucasian": spec.phenotype["african"], "african": spec.phenotype["caucasian"]}
        return dataclasses.replace(spec, phenotype=phenotype)

    def monk5_skin(spec):
        return dataclasses.replace(spec, monk_tone=5, skin_hex=MONK_TONES[4])

    specs = of_tone(tone)
    groups = {f"Monk {tone}, as drawn": specs,
              f"Monk {tone}, Monk 5 skin": [monk5_skin(s) for s in specs],
              f"Monk {tone}, anny's European build for its African share": [european_build(s) for s in specs],
              f"Monk {tone}, both": [monk5_skin(european_build(s)) for s in specs],
              f"Monk {against}, as drawn": of_tone(against)}
    print(f"banks {', '.join(map(str, banks))}; mean African share of the Monk {tone} avatars "
          f"{np.mean([s.phenotype['african'] for s in specs]):.2f}\n")
    print("| faces | n | same-person pairs | median distance |\n|---|---:|---:|---:|")
    for name, group in groups.items():
        share, median, found = pair_figures(group)
        print(f"| {name} | {len(found)} | {100 * share:.1f} % | {median:.3f} |", flush=True)


def wider_face_shape(avatars: int, seed: int, out: str | None) -> None:
    import painsynth.avatars.face_shape as shape

    base = diversity(avatars, seed)
    shape.FACE_TYPES = {name: {k: 1.5 * v for k, v in loads.items()} for name, loads in shape.FACE_TYPES.items()}
    shape.GROUP_RMS_MAX, shape.INDEPENDENT = 2.3, 1.3
    wide = diversity(avatars, seed)
    for name, (share, median, _, _) in (("today's spread", base), ("wider spread", wide)):
        print(f"{name}: same-person pairs {100 * share:.1f} %, median distance {median:.3f} ({avatars} avatars, seed {seed})")
    if out:
        from PIL import Image

        from painsynth.diversity import render_states

        bounds = shape.bounds()
        specs = wide[2]
        extreme = [np.sqrt(np.mean([(v / (bounds[k][1] if v > 0 else -bounds[k][0])) ** 2
                                    for k, v in s.face_shape.items() if v])) for s in specs]
        chosen = [specs[i] for i in np.argsort(extreme)[-8:]]
        images = [shots["front"] for shots in render_states(chosen, detection=False)]
        Image.fromarray(np.concatenate(images, axis=1)).save(out)
        print(f"the 8 most extreme faces: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wider-face-shape", action="store_true")
    parser.add_argument("--avatars", type=int, default=40)
    parser.add_argument("--out", help="with --wider-face-shape: PNG of its 8 most extreme faces")
    parser.add_argument("--darkest", type=int, metavar="TONE", help="split the likeness of one Monk tone's faces")
    parser.add_argument("--against", type=int, default=1, help="with --darkest: the tone to compare with")
    parser.add_argument("--banks", default="1,2,3,4", help="with --darkest: comma-separated bank seeds")
    args = parser.parse_args()
    if args.darkest:
        darkest(args.darkest, args.against, [int(b) for b in args.banks.split(",")])
    elif args.wider_face_shape:
        wider_face_shape(args.avatars, args.seed, args.out)
    else:
        swap(args.pairs, args.seed)


if __name__ == "__main__":
    main()

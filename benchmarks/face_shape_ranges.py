"""Face shape ranges: what each anny face modifier does to the head, and how much identity it adds.

Part 1 measures every local face modifier on the average head: the largest vertex displacement
(mm) at +1 and at -1, and how much of it lands on the crown (top 30 % of the skull) and on the
ears. `painsynth.avatars.face_shape` scales each modifier's spread from these figures (a modifier
at one spread moves no vertex more than PEAK_MM; a group's modifiers together move no vertex more
than GROUP_MM at one spread) and leaves out whole-head moves, skull-top bumps and elf ears; the
table prints the spreads derived here next to the ones the sampler holds.

Part 2 renders N avatars of `sample_avatars(N, seed)` from the front, neutral face, once without a
face shape and once with the sampled one (same appearance maps, camera and light), embeds each
with dlib and reports, over all pairs of different avatars, the share dlib calls the same person
(distance < 0.6) and the median pair distance. Less of the first and more of the second is more
identity.

Part 3 (--levers) measures, per feature group (eyes, nose, mouth, chin, cheek, brows, forehead,
head, ears) and per phenotype value (weight, muscle, proportions), how far dlib moves an avatar
per millimetre of vertex displacement: each avatar is rendered without a face shape, then with
only that group's sampled modifiers at twice their values (or its phenotype value moved by 0.25),
and the dlib distance between the two is divided by the largest vertex displacement. The groups
with the most distance per mm get the larger draws (face_shape.GAIN).

    .venv/bin/python benchmarks/face_shape_ranges.py [--count 30] [--seed 0] [--size 320]
    .venv/bin/python benchmarks/face_shape_ranges.py --levers --count 10 --seed 1 --size 256
    .venv/bin/python benchmarks/face_shape_ranges.py --no-render   # part 1 only
    .venv/bin/python benchmarks/face_shape_ranges.py --no-render --eye-opening

Part 4 (--eye-opening) measures how each modifier at -1 and +1 opens or narrows the eyes (the gap
between the lid margins of painsynth.lid_units, mm) on the average head, next to the table
`face_shape.EYE_OPENING_MM` holds, which keeps every drawn eye's opening within EYE_OPENING_RANGE.

Part 5 (--profile) measures how far the nose tip stands in front of each lip (mm, along the face's
forward axis; `painsynth.avatars.profile`): per phenotype value, a least-squares fit over the
phenotypes of `sample_avatars(80, 1)` without face modifiers (the ancestry weights carry the
intercept), and per modifier at -1 and +1 on the average head; then how well the two predict the
drawn faces of that bank, next to the tables `profile.PROFILE_BASE_MM` and `profile.PROFILE_MM` hold.

    .venv/bin/python benchmarks/face_shape_ranges.py --no-render --profile
"""

from __future__ import annotations

import argparse
import time

import numpy as np

SAME_PERSON = 0.6  # dlib's usual threshold


def measure(rig) -> dict[str, dict[str, float]]:
    """label -> {pos, neg, crown, ear}: max displacement (mm) at +1 / -1, and the max on crown and ears."""
    from painsynth.animate import face_modifier_labels

    model = rig.model
    identity = rig.identity({})
    vertex_ids, neutral = identity.mesh.vertex_ids, identity.mesh.neutral_vertices
    low, high = identity.mesh.head_box
    crown = neutral[:, 2] > high[2] - 0.3 * (high[2] - low[2])
    rows = {label: i for i, label in enumerate(model.blendshape_labels)}

    def delta(label: str, negative: bool) -> np.ndarray:
        row = rows[f"local_change:{label}"] + int(negative)  # anny stores (positive, negative) pairs
        return np.linalg.norm(model.blendshapes[row][vertex_ids].numpy(), axis=1) * 1000.0

    ear = np.zeros(len(vertex_ids), bool)
    for label in ("l-ear-scale-incr", "r-ear-scale-incr"):
        ear |= delta(label, False) > 0.5
    out = {}
    for group, labels in face_modifier_labels().items():
        for label in labels:
            pos, neg = delta(label, False), delta(label, True)
            both = np.maximum(pos, neg)
            out[label] = {"group": group, "pos": pos.max(), "neg": neg.max(), "crown": both[crown].max(),
                          "ear": both[ear].max(), "pos_field": pos, "neg_field": neg}
    return out


def derive_spreads(measured: dict) -> dict[str, tuple[float, float]]:
    """label -> (spread at -, spread at +) by the rules face_shape states (PEAK_MM, GROUP_MM, CAP)."""
    from painsynth.avatars import face_shape as fs

    spreads = {}
    for label, m in measured.items():
        if fs.excluded(label):
            continue
        peak = fs.EAR_PEAK_MM if m["group"] == "ears" else fs.PEAK_MM
        spreads[label] = (min(fs.CAP, peak / max(m["neg"], 1e-6)), min(fs.CAP, peak / max(m["pos"], 1e-6)))
    for group in {m["group"] for m in measured.values()}:
        labels = [l for l in spreads if measured[l]["group"] == group]
        variance = sum(0.5 * (spreads[l][0] * measured[l]["neg_field"]) ** 2
                       + 0.5 * (spreads[l][1] * measured[l]["pos_field"]) ** 2 for l in labels)
        shrink = min(1.0, fs.GROUP_MM / np.sqrt(variance).max()) if labels else 1.0
        for l in labels:
            spreads[l] = (spreads[l][0] * shrink, spreads[l][1] * shrink)
    return spreads


def print_ranges(rig) -> None:
    from painsynth.avatars import face_shape as fs

    measured = measure(rig)
    derived = derive_spreads(measured)
    print(f"rules: a modifier at one spread moves no vertex more than {fs.PEAK_MM} mm "
          f"(ears {fs.EAR_PEAK_MM} mm); a group at one spread moves no vertex more than "
          f"{fs.GROUP_MM} mm (RMS over draws); spread <= {fs.CAP}; draws clipped at {fs.Z_MAX} spreads")
    group = None
    for label, m in measured.items():
        if m["group"] != group:
            group = m["group"]
            print(f"\n[{group}]  {'modifier':30s} {'+1 mm':>6s} {'-1 mm':>6s} {'crown':>6s} {'ears':>6s}"
                  f"   {'derived -/+':>13s}   {'held -/+':>13s}   {'extreme mm':>10s}")
        held = fs.SPREADS.get(label)
        if held is None:
            text = f"excluded: {fs.excluded(label)}"
        else:
            d = derived[label]
            extreme = fs.Z_MAX * max(held[0] * m["neg"], held[1] * m["pos"])
            text = f"{d[0]:6.3f}/{d[1]:6.3f}   {held[0]:6.3f}/{held[1]:6.3f}   {extreme:10.1f}"
        print(f"  {'':8s} {label:30s} {m['pos']:6.1f} {m['neg']:6.1f} {m['crown']:6.1f} {m['ear']:6.1f}   {text}")
    print("\nper group at the held spreads (one spread each, RMS over draws): largest vertex displacement mm")
    total = 0.0
    for group in dict.fromkeys(m["group"] for m in measured.values()):
        variance = sum(0.5 * (fs.SPREADS[l][0] * m["neg_field"]) ** 2 + 0.5 * (fs.SPREADS[l][1] * m["pos_field"]) ** 2
                       for l, m in measured.items() if m["group"] == group and l in fs.SPREADS)
        total = total + variance
        drawn = sum(1 for l, m in measured.items() if m["group"] == group and l in fs.SPREADS)
        count = sum(1 for m in measured.values() if m["group"] == group)
        print(f"  {group:9s} {drawn:2d}/{count:2d} modifiers drawn  {np.sqrt(variance).max():5.2f} mm")
    print(f"  all groups together: {np.sqrt(total).max():5.2f} mm")


def eye_opening_measure(rig) -> None:
    import torch

    from painsynth.avatars import face_shape as fs
    from painsynth.lid_units import SIDES, lid_margins, margin_gap
    from painsynth.tracks import BLENDSHAPE_INDEX

    rest = rig._rest_model({}, None)["rest_vertices"][0].to(torch.float32)
    ids = np.arange(len(rest))
    units = rig.face_units(ids)
    margins = [lid_margins(rest, units[BLENDSHAPE_INDEX[f"eyeBlink{side}"]], eye)
               for eye, side in zip(rig.eyeballs(ids), SIDES)]
    gap = margin_gap(rest, *margins[0])
    print(f"\neye opening: anny's gap between the lid margins {1000 * gap:.2f} mm "
          f"(held REST_EYE_GAP_MM {fs.REST_EYE_GAP_MM}); left eye's gap change, mm at -1 / +1 (|change| > 0.1 mm)")
    for label in sorted(fs.SPREADS):
        if label.startswith("r-"):
            continue
        change = [1000 * (margin_gap(rig._rest_model({}, {label: value})["rest_vertices"][0].to(torch.float32),
                                     *margins[0]) - gap) for value in (-1.0, 1.0)]
        if max(map(abs, change)) > 0.1:
            held = fs.EYE_OPENING_MM.get(label[2:] if label.startswith("l-") else label)
            print(f"  {label:30s} {change[0]:6.2f} / {change[1]:6.2f}   held {held}")


def profile_measure(rig) -> None:
    from painsynth.avatars import profile, sample_avatars
    from painsynth.avatars import face_shape as fs

    def margins(phenotype: dict, shape: dict | None) -> np.ndarray:
        return profile.margins_on(rig._rest_model(phenotype, shape)["rest_vertices"][0].numpy())

    specs = sample_avatars(80, 1)
    keys = sorted(specs[0].phenotype)
    rows = np.array([[s.phenotype[k] for k in keys] for s in specs])
    fitted, *_ = np.linalg.lstsq(rows, np.array([margins(s.phenotype, None) for s in specs]), rcond=None)
    print("\nprofile: mm the nose tip stands in front of the upper / lower lip, per unit of each phenotype value")
    for key, coefficients in zip(keys, fitted):
        print(f"  {key:12s} {coefficients[0]:6.2f} / {coefficients[1]:6.2f}   held {profile.PROFILE_BASE_MM.get(key)}")
    reference = margins({}, None)
    print("per modifier, change at -1 and +1 on the average head (|change| > 0.3 mm)")
    for label in sorted(fs.SPREADS):
        change = [margins({}, {label: value}) - reference for value in (-1.0, 1.0)]
        if max(np.abs(change).max(axis=1)) > 0.3:
            print(f"  {label:30s} {np.round(change[0], 1)} / {np.round(change[1], 1)}   held {profile.PROFILE_MM.get(label)}")
    errors = np.array([margins(s.phenotype, s.face_shape) - profile.profile_margins(s.face_shape, s.phenotype)
                       for s in specs])
    print(f"held tables against anny on the bank's {len(specs)} drawn faces: RMS error "
          f"{np.sqrt((errors ** 2).mean(axis=0)).round(2)} mm, largest {np.abs(errors).max(axis=0).round(2)} mm")


def identity_measure(rig, count: int, seed: int, size: int) -> None:
    from painsynth.audit import Embedder
    from painsynth.avatars import appearance_maps, sample_avatars
    from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

    embedder = Embedder()
    renderer = create_renderer(size, samples=4)
    neutral = np.zeros((1, 52), np.float32)
    still = np.zeros((1, 3), np.float32)
    embeddings = {"without face shape": [], "with face shape": []}
    started = time.perf_counter()
    for spec in sample_avatars(count, seed):
        maps = appearance_maps(spec)
        rng = np.random.default_rng(spec.seed)
        lighting, backdrop = sample_lighting(rng), make_background("solid", (size, size), rng)
        camera = None
        for key, shape in (("without face shape", {}), ("with face shape", spec.face_shape)):
            identity = rig.identity(spec.phenotype, shape)
            camera = camera or frame_head(identity.mesh.head_box, "front")  # same framing for both
            renderer.load_identity(identity.mesh, maps["albedo"], maps["gloss"])
            frame = next(iter(renderer.render_clip(identity.animate(neutral, still, still), [camera],
                                                   lighting, [backdrop])))[0]
            embeddings[key].append(embedder.embed_frame(frame))
    renderer.release()
    print(f"\nidentity ({count} avatars, seed {seed}, {size} px frontal neutral renders, "
          f"{time.perf_counter() - started:.0f} s)")
    found = [i for i in range(count) if all(embeddings[k][i] is not None for k in embeddings)]
    for key, vectors in embeddings.items():
        e = np.stack([vectors[i] for i in found])
        d = np.linalg.norm(e[:, None] - e[None], axis=-1)[np.triu_indices(len(e), 1)]
        print(f"  {key:20s} faces found {len(found)}/{count}  pairs {len(d)}  "
              f"same-person (d < {SAME_PERSON}) {np.mean(d < SAME_PERSON):.1%}  median distance {np.median(d):.3f}")
    shift = [np.linalg.norm(embeddings["with face shape"][i] - embeddings["without face shape"][i]) for i in found]
    print(f"  same avatar with vs without face shape: median distance {np.median(shift):.3f}")


def lever_measure(rig, count: int, seed: int, size: int, factor: float = 2.0) -> None:
    """dlib distance per mm of each feature group's modifiers and of weight, muscle, proportions."""
    import dataclasses

    from painsynth.audit import Embedder
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.face_shape import _group
    from painsynth.diversity import render_states

    embedder = Embedder()
    specs = sample_avatars(count, seed)
    plain = [dataclasses.replace(s, face_shape={}) for s in specs]
    levers = {}
    for group in sorted({_group(label) for label in specs[0].face_shape}):
        levers[group] = [dataclasses.replace(s, face_shape={l: float(np.clip(factor * v, -1, 1))
                                                            for l, v in s.face_shape.items() if _group(l) == group})
                         for s in specs]
    for name in ("weight", "muscle", "proportions"):
        levers[f"{name} +-0.25"] = [dataclasses.replace(p, phenotype={**p.phenotype, name: float(np.clip(
            p.phenotype[name] + (0.25 if p.phenotype[name] < 0.5 else -0.25), 0, 1))}) for p in plain]

    def front(batch):
        return [embedder.embed_frame(shots["front"]) for shots in render_states(batch, size, detection=False)]

    started = time.perf_counter()
    base = front(plain)
    print(f"\nlevers ({count} avatars, seed {seed}, {size} px; face groups at {factor}x their sampled values)")
    print(f"  {'lever':20s} {'max mm':>7s} {'dlib distance':>13s} {'per mm':>7s}")
    for name, batch in levers.items():
        moved = []
        for p, s in zip(plain, batch):
            a, b = rig.identity(p.phenotype, {}).mesh, rig.identity(s.phenotype, s.face_shape).mesh
            _, ia, ib = np.intersect1d(a.vertex_ids, b.vertex_ids, return_indices=True)
            moved.append(1000 * np.linalg.norm(a.neutral_vertices[ia] - b.neutral_vertices[ib], axis=1).max())
        shift = [np.linalg.norm(x - y) for x, y in zip(front(batch), base) if x is not None and y is not None]
        print(f"  {name:20s} {np.mean(moved):7.1f} {np.mean(shift):13.3f} {np.mean(shift) / np.mean(moved):7.4f}")
    print(f"  ({time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--no-render", action="store_true", help="only the displacement table")
    parser.add_argument("--levers", action="store_true", help="also dlib distance per mm of each feature group")
    parser.add_argument("--eye-opening", action="store_true", help="also each modifier's effect on the eye's opening")
    parser.add_argument("--profile", action="store_true", help="also how far the nose tip stands in front of the lips")
    args = parser.parse_args()
    from painsynth.animate import HeadRig

    rig = HeadRig()
    print_ranges(rig)
    if not args.no_render:
        identity_measure(rig, args.count, args.seed, args.size)
    if args.levers:
        lever_measure(rig, args.count, args.seed, args.size)
    if args.eye_opening:
        eye_opening_measure(rig)
    if args.profile:
        profile_measure(rig)


if __name__ == "__main__":
    main()

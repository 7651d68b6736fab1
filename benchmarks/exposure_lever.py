"""Would a camera that exposes for the face make dark-skinned avatars different people to dlib?

Renders a bank's avatars neutral from the front in the identity-diversity benchmark's even light, with
every light scaled by an exposure gain from the avatar's Monk swatch luminance L: ``none`` (gain 1, as
painsynth renders), ``half`` (sqrt(0.25 / L), 1-4) or ``full`` (0.25 / L, 1-6), as a face-metering
camera would; prints the share of avatar pairs under dlib's same-person threshold, overall and within
groups of Monk tones.

    python benchmarks/exposure_lever.py --seed 1 --avatars 100 --rules none,half,full
"""

import argparse
from dataclasses import replace

import numpy as np

from painsynth.animate import HeadRig
from painsynth.audit import Embedder
from painsynth.avatars import sample_avatars
from painsynth.avatars.build import build_avatar
from painsynth.avatars.tables import MONK_TONES
from painsynth.diversity import EVEN_LIGHT, SAME_PERSON
from painsynth.render import create_renderer, frame_head, make_background

RULES = {"none": None, "half": (0.25, 0.5, 4.0), "full": (0.25, 1.0, 6.0)}  # target, power, largest gain
TONE_GROUPS = ((1, 3), (4, 6), (7, 8), (9, 10))


def swatch_luminance(hex_colour: str) -> float:
    srgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def exposure_gain(monk_tone: int, rule: str) -> float:
    if RULES[rule] is None:
        return 1.0
    target, power, largest = RULES[rule]
    return float(np.clip((target / swatch_luminance(MONK_TONES[monk_tone - 1])) ** power, 1.0, largest))


def exposed(gain: float):
    return replace(EVEN_LIGHT, **{name: tuple(np.multiply(getattr(EVEN_LIGHT, name), gain))
                                   for name in ("key_color", "fill_color", "ambient_color")})


def embeddings(specs, rules: list[str], rig, renderer, embedder) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per rule, the dlib vectors of the avatars whose face it found and their Monk tones (each
    avatar built once and rendered under every rule)."""
    background = make_background("solid", (256, 256), np.random.default_rng(0))
    still = np.zeros((1, 3), np.float32)
    found = {rule: ([], []) for rule in rules}
    for spec in specs:
        avatar = build_avatar(spec, rig)
        renderer.load_avatar(avatar)
        camera = [frame_head(avatar.identity.mesh.head_box, "front")]
        faces = avatar.animate(np.zeros((1, 52), np.float32), still, still)
        for rule in rules:
            (image,), = renderer.render_clip(faces, camera, exposed(exposure_gain(spec.monk_tone, rule)), [background])
            vector = embedder.embed_frame(image)
            if vector is not None:
                found[rule][0].append(vector)
                found[rule][1].append(spec.monk_tone)
    return {rule: (np.array(vectors), np.array(tones)) for rule, (vectors, tones) in found.items()}


def report(rule: str, vectors: np.ndarray, tones: np.ndarray) -> None:
    distances = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    pairs = distances[np.triu_indices(len(vectors), 1)]
    print(f"{rule}: {len(vectors)} faces found, same-person pairs {np.mean(pairs < SAME_PERSON):.3f}, "
          f"median distance {np.median(pairs):.3f}")
    for low, high in TONE_GROUPS:
        members = np.flatnonzero((tones >= low) & (tones <= high))
        inside = distances[np.ix_(members, members)][np.triu_indices(len(members), 1)]
        print(f"  Monk {low}-{high}: {len(members)} avatars, same-person pairs within {np.mean(inside < SAME_PERSON):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--avatars", type=int, default=100)
    parser.add_argument("--rules", default="none,half,full")
    args = parser.parse_args()
    specs = sample_avatars(args.avatars, args.seed)
    rig, renderer, embedder = HeadRig(), create_renderer(256, samples=4), Embedder()
    try:
        for rule, (vectors, tones) in embeddings(specs, args.rules.split(","), rig, renderer, embedder).items():
            report(rule, vectors, tones)
    finally:
        renderer.release()


if __name__ == "__main__":
    main()

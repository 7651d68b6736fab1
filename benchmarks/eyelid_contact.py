"""Lids over the eyeballs: what anny's lid units do with and without painsynth's eyelid contact.

    python benchmarks/eyelid_contact.py [--avatars 6] [--seeds 5,9] [--out eyes.png]

Each identity of banks ``--seeds`` squints (eyeSquint and cheekSquint together) from 0 to 1 over 21
frames; the clip is animated twice in one process, once as the lid units move the lids (straight
through the eyeball; the units fitted to each eye, :mod:`painsynth.lid_units`, both times) and once
with :mod:`painsynth.eyelid_contact`, rendered from the front at
224x224 in even light and tracked by MediaPipe as a video. Printed per setting, as the mean over
identities:

- how many skin vertices per eye sink into the eyeball by more than 0.1 mm (past MARGIN outside it, or
  where they rest on the head without its face shape if closer), and the deepest (mm), at neutral and
  at full squint;
- MediaPipe's eye-closing scores (eyeSquint + eyeBlink, mean of both sides) at squint 0.5 and 1.0,
  less the neutral frame's: how far the squint shows to a landmarker trained on real faces;
- Pearson r of those scores with the squint over the clip.

``--out`` also writes a picture: the eyes of the first four identities at peak pain (the preview's), close
up, as the lid units leave them (left) and with the contact (right).
"""

from __future__ import annotations

import argparse

import numpy as np

FRAMES = 21
SIZE = 224
CLOSE_UP = 480  # px, the picture's square renders
SQUINT = ("eyeSquintLeft", "eyeSquintRight", "cheekSquintLeft", "cheekSquintRight")
CLOSING = ("eyeSquintLeft", "eyeSquintRight", "eyeBlinkLeft", "eyeBlinkRight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avatars", type=int, default=6)
    parser.add_argument("--seeds", default="5,9")
    parser.add_argument("--out", help="also write a close-up of peak-pain eyes, without and with the contact (PNG)")
    args = parser.parse_args()

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.capture.landmarks import landmark_frames, verified_model
    from painsynth.diversity import EVEN_LIGHT
    from painsynth.render import create_renderer, frame_head, make_background
    from painsynth.tracks import BLENDSHAPE_INDEX

    level = np.linspace(0, 1, FRAMES, dtype=np.float32)
    units = np.zeros((FRAMES, 52), np.float32)
    units[:, [BLENDSHAPE_INDEX[name] for name in SQUINT]] = level[:, None]
    still = np.zeros((FRAMES, 3), np.float32)
    closing = [BLENDSHAPE_INDEX[name] for name in CLOSING]
    rig, renderer, model = HeadRig(), create_renderer(SIZE, samples=4), verified_model(None)
    background = make_background("solid", (SIZE, SIZE), np.random.default_rng(0))
    rows: dict[str, list] = {"without the contact": [], "with the contact": []}
    specs = [spec for seed in map(int, args.seeds.split(",")) for spec in sample_avatars(args.avatars, seed)]
    close_ups, close_renderer = [], create_renderer(CLOSE_UP, samples=4) if args.out else None
    for number, spec in enumerate(specs, start=1):
        avatar = build_avatar(spec, rig)
        renderer.load_avatar(avatar)
        camera = frame_head(avatar.identity.mesh.head_box, "front")
        contact = avatar.identity.contact
        for setting in rows:
            avatar.identity.contact = contact if setting == "with the contact" else None
            vertices = avatar.animate(units, still, still)
            images = [views[0] for views in renderer.render_clip(vertices, [camera], EVEN_LIGHT, [background])]
            scores = landmark_frames(((k / 25.0, image) for k, image in enumerate(images)), model).scores
            shown = scores[:, closing].sum(axis=1) / 2 - scores[0, closing].sum() / 2
            count, depth = _sunk(vertices, contact)
            rows[setting].append((count[0], count[-1], depth[0], depth[-1], shown[FRAMES // 2], shown[-1],
                                  np.corrcoef(shown, level)[0, 1]))
        avatar.identity.contact = contact
        if args.out and number <= 4:
            close_ups.append(_close_up(close_renderer, avatar))
        print(f"\r{number}/{len(specs)} identities", end="", flush=True)
    renderer.release()
    if args.out:
        from PIL import Image

        close_renderer.release()
        Image.fromarray(np.concatenate(close_ups)).save(args.out)
    print(f"\r{len(specs)} identities of banks {args.seeds}, squint 0 -> 1 over {FRAMES} frames, front, {SIZE}x{SIZE}\n")
    print("| lids | vertices sunk per eye, neutral / full squint | deepest (mm), neutral / full squint "
          "| MediaPipe's eye closing at squint 0.5 / 1.0 | r with the squint |")
    print("|---|---:|---:|---:|---:|")
    for setting, values in rows.items():
        count0, count1, depth0, depth1, half_shown, full_shown, r = np.mean(values, axis=0)
        print(f"| {setting} | {count0:.1f} / {count1:.1f} | {depth0:.2f} / {depth1:.2f} | {half_shown:.3f} / "
              f"{full_shown:.3f} | {r:.2f} |")


def _close_up(renderer, avatar, size: int = CLOSE_UP) -> np.ndarray:
    """uint8 RGB [size / 4, 2 * size, 3]: the eyes at peak pain, without | with the contact, drawn
    by ``renderer`` (``size`` square)."""
    from dataclasses import replace

    from painsynth.diversity import EVEN_LIGHT
    from painsynth.preview import PEAK_PAIN_AUS, blendshapes_for
    from painsynth.render import frame_head, make_background

    renderer.load_avatar(avatar)
    camera = frame_head(avatar.identity.mesh.head_box, "front")
    camera = replace(camera, fov=camera.fov / 3)  # the eyes across the frame
    background = make_background("solid", (size, size), np.random.default_rng(0))
    pain, still = blendshapes_for(PEAK_PAIN_AUS)[None], np.zeros((1, 3), np.float32)
    contact, halves = avatar.identity.contact, []
    for kept in (None, contact):
        avatar.identity.contact = kept
        image = next(iter(renderer.render_clip(avatar.animate(pain, still, still), [camera], EVEN_LIGHT, [background])))[0]
        halves.append(image[size // 8: size * 3 // 8])
    avatar.identity.contact = contact
    return np.concatenate(halves, axis=1)


def _sunk(vertices: np.ndarray, contact) -> tuple[np.ndarray, np.ndarray]:
    """Per frame [T], how many skin vertices per eye lie more than 0.1 mm inside the contact's floor
    (MARGIN outside the eyeball, or where the skin rests if closer), and the deepest of them (mm)."""
    count, deepest = np.zeros(len(vertices)), np.zeros(len(vertices))
    for eye, skin, floor in zip(contact.eyes, contact.skin, contact.floor):
        centre = vertices[:, eye.numpy()].mean(axis=1, keepdims=True)
        sunk = 1000 * (floor.numpy() - np.linalg.norm(vertices[:, skin.numpy()] - centre, axis=2))
        count += (sunk > 0.1).sum(axis=1) / len(contact.eyes)
        deepest = np.maximum(deepest, sunk.max(axis=1).clip(min=0))
    return count, deepest


if __name__ == "__main__":
    main()

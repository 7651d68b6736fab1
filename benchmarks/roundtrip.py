"""Capture fidelity: render motion with known face units, capture it back, compare.

Clips played on a few identities (both genders, several skin tones and ages), rendered at 224x224
from the front, left30 and left45 views, encoded to H.264, captured with MediaPipe and retargeted by
every method of ``painsynth.capture.retarget.METHODS``:

- a single-unit clip: each PSPI action unit (AU4, AU6, AU7, AU9, AU10, AU43) ramps up and down alone;
- procedural clips (``make_track`` at levels 3-4), which start neutral;
- the same procedural clips cut so that their episode starts before frame 0 ("onset cut");
- a held-apex clip: brows down 0.8, squint and cheek raise 0.7, nose wrinkle and upper lip 0.6 from
  the first frame to the last, with a blink; and a rising-apex clip, the same units rising from neutral
  over the first third and then held (the share recovered on its held part says how much of the held
  clip's shortfall is the neutral's and how much the retargeting's gain).

Each identity also gets a short neutral clip in the same studio (its baseline), and every clip is
read against two neutral faces: ``clip`` (its own least active frames) and ``subject`` (the baseline's,
as ``capture --neutral subject`` does with BioVid's BL1 clips).

Two sets of identities and conditions:
- ``tuned``: ``sample_avatars(.., seed=0)``, solid backgrounds, no camera jitter: the set the
  retargeting's choices were made on;
- ``held-out``: ``sample_avatars(.., seed=7)``, camera jitter 1, gradient and noise backgrounds,
  other lighting: no choice was made on it.

Printed (Markdown), per set, view, method and neutral: Pearson r of the PSPI units on the single-unit
clip (recovered by inverting the AU->blendshape main weights, AU4 = 5 * mean(browDown L, R), ...),
per-frame PSPI r on the procedural clips, the share of the held apex's summed pain units recovered
and of its PSPI (the pain level: cheek raise and lid tightening count once, as their larger, and so do
nose wrinkle and upper lip), and the onset-cut clips' recovered PSPI level relative to the same frames
of the uncut clips.

    .venv/bin/python benchmarks/roundtrip.py                          # both sets, ~15 min on 2 cores
    .venv/bin/python benchmarks/roundtrip.py --sets tuned --identities 2 --frames 40   # quicker
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from painsynth.procedural import AU_TO_BLENDSHAPES, AU43_CLOSED_FROM, MAX_AU_INTENSITY, make_track
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX

PSPI_UNITS = {"AU4": "browDown", "AU6": "cheekSquint", "AU7": "eyeSquint", "AU9": "noseSneer",
              "AU10": "mouthUpperUp", "AU43": "eyeBlink"}
METHODS = ("direct", "fit", "hybrid")
VIEWS = ("front", "left30", "left45")
SIZE = 224
FPS = 25.0


def single_unit_track(frames_per_unit: int = 14, apex: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """(blendshapes [T, 52], AU [T, 6] in PSPI_UNITS order): each PSPI AU rises and falls alone in turn."""
    units = list(PSPI_UNITS)
    bump = apex * np.sin(np.linspace(0, np.pi, frames_per_unit)) ** 2
    au = np.zeros((frames_per_unit * len(units) + 4, len(units)))
    for k in range(len(units)):
        au[2 + k * frames_per_unit: 2 + (k + 1) * frames_per_unit, k] = bump
    return blendshapes_from_au(au, units), au


def blendshapes_from_au(au: np.ndarray, names: list[str]) -> np.ndarray:
    shapes = np.zeros((len(au), len(ARKIT_BLENDSHAPES)))
    for k, name in enumerate(names):
        for shape, weight in AU_TO_BLENDSHAPES[name].items():
            shapes[:, BLENDSHAPE_INDEX[shape]] += weight * au[:, k] / MAX_AU_INTENSITY
    return np.clip(shapes, 0, 1).astype(np.float32)


def au_from_blendshapes(blendshapes: np.ndarray) -> np.ndarray:
    """[T, 6] PSPI AU intensities (PSPI_UNITS order) from the main blendshape of each AU."""
    columns = []
    for stem in PSPI_UNITS.values():
        pair = [BLENDSHAPE_INDEX[stem + "Left"], BLENDSHAPE_INDEX[stem + "Right"]]
        columns.append(MAX_AU_INTENSITY * blendshapes[:, pair].mean(axis=1))
    return np.stack(columns, axis=1)


def pspi(au: np.ndarray) -> np.ndarray:
    a4, a6, a7, a9, a10, a43 = au.T
    return a4 + np.maximum(a6, a7) + np.maximum(a9, a10) + (a43 >= AU43_CLOSED_FROM)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


HELD = {"browDown": 0.8, "eyeSquint": 0.7, "cheekSquint": 0.7, "noseSneer": 0.6, "mouthUpperUp": 0.6}
HELD_UNITS = [BLENDSHAPE_INDEX[stem + side] for stem in HELD for side in ("Left", "Right")]
NEUTRALS = ("clip", "subject")
SETS = {"tuned": {"seed": 0, "jitter": 0.0, "backgrounds": ("solid",), "light": 0},
        "held-out": {"seed": 7, "jitter": 1.0, "backgrounds": ("gradient", "noise"), "light": 7}}


def held_apex_track(frames: int, rising: bool = False) -> np.ndarray:
    """The pain units at ``HELD`` from the first frame to the last (``rising``: from neutral over the first
    third, then held), with a blink."""
    shapes = np.zeros((frames, len(ARKIT_BLENDSHAPES)), np.float32)
    envelope = np.clip(np.arange(frames) / (frames // 3), 0, 1)[:, None] if rising else 1.0
    for stem, level in HELD.items():
        shapes[:, [BLENDSHAPE_INDEX[stem + "Left"], BLENDSHAPE_INDEX[stem + "Right"]]] = level * envelope
    blink = [BLENDSHAPE_INDEX["eyeBlinkLeft"], BLENDSHAPE_INDEX["eyeBlinkRight"]]
    shapes[frames // 3: frames // 3 + 3, blink] = [[0.5], [1.0], [0.5]]
    return shapes


def render(rig, renderer, spec, clips, views, conditions, rng) -> list[dict[str, np.ndarray]]:
    """Per clip of (blendshapes, rotation): {view: frames}, all in one studio (light, cameras, background)."""
    from painsynth.avatars.build import build_avatar
    from painsynth.render import frame_head, make_background, sample_lighting

    avatar = build_avatar(spec, rig)
    identity = avatar.identity
    renderer.load_avatar(avatar)
    cameras = [frame_head(identity.mesh.head_box, v, conditions["jitter"], rng) for v in views]
    backgrounds = [make_background(str(rng.choice(conditions["backgrounds"])), (SIZE, SIZE), rng) for _ in views]
    lighting = sample_lighting(rng)
    out = []
    for blendshapes, rotation in clips:
        vertices = identity.animate(blendshapes, rotation, np.zeros((len(blendshapes), 3), np.float32))
        frames = list(renderer.render_clip(vertices, cameras, lighting, backgrounds))
        out.append({v: np.stack([f[i] for f in frames]) for i, v in enumerate(views)})
    return out


def observed(frames: np.ndarray, folder: Path, model):
    from painsynth.capture.landmarks import run_landmarker
    from painsynth.capture.observe import observe
    from painsynth.capture.track import check_valid
    from painsynth.video import write_video

    raw = run_landmarker(write_video(folder / "clip.mp4", frames, FPS), model)
    check_valid(raw, 0.5)
    return observe(raw, FPS)


def capture_methods(seen, neutrals) -> dict[tuple[str, str], np.ndarray]:
    """{(method, neutral): weights [T, 52]} of one observed clip."""
    from painsynth.capture.calibration import retarget_assets
    from painsynth.capture.retarget import METHODS, retarget

    return {(method, name): retarget(method, seen, retarget_assets(method), neutral)
            for method in METHODS for name, neutral in neutrals[method].items()}


def run_set(name: str, args, rig, renderer, model) -> dict:
    from painsynth.avatars import sample_avatars
    from painsynth.capture.calibration import retarget_assets
    from painsynth.capture.retarget import CLIP_NEUTRAL, METHODS
    from painsynth.capture.retarget.neutral import neutral_from
    from painsynth.capture.track import CaptureError

    conditions = SETS[name]
    views = args.views.split(",")
    # avatars 0, 3, 6 of the set's seed: both genders, young and old, light to dark skin (printed below)
    specs = [sample_avatars(3 * args.identities, conditions["seed"])[3 * i] for i in range(args.identities)]
    rng = np.random.default_rng(conditions["light"])
    single_shapes, single_au = single_unit_track()
    procedural = [make_track(level, seed, n_frames=args.frames) for level, seed in ((3, 1), (4, 2), (4, 3))]
    cut = args.frames // 3  # the onset-cut clips start this many frames into their episode
    keys = [(m, n) for m in METHODS for n in NEUTRALS]
    held_pspi = pspi(au_from_blendshapes(held_apex_track(args.frames))).mean()
    result = {"single": {}, "pain": {}, "held": {}, "held_pspi": {}, "rising": {}, "onset": {}, "lost": [],
              "specs": specs}
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            print(f"[{name}] identity {spec.avatar_id}: {spec.gender}, {spec.age_years:.0f} y, "
                  f"Monk tone {spec.monk_tone}", flush=True)
            clips = [(np.zeros((args.frames, 52), np.float32), np.zeros((args.frames, 3), np.float32)),
                     (single_shapes, np.zeros((len(single_shapes), 3), np.float32)),
                     (held_apex_track(args.frames), np.zeros((args.frames, 3), np.float32)),
                     (held_apex_track(args.frames, rising=True), np.zeros((args.frames, 3), np.float32))]
            clips += [(t.blendshapes, t.head_rotation) for t in procedural]
            clips += [(t.blendshapes[cut:], t.head_rotation[cut:]) for t in procedural]
            rendered = render(rig, renderer, spec, clips, views, conditions, rng)
            for view in views:
                try:
                    seen = [observed(r[view], Path(tmp), model) for r in rendered]
                except CaptureError as exc:  # counted and printed: a lost face is a result too
                    result["lost"].append(f"{spec.avatar_id} {view}: {str(exc).split(': ', 1)[-1]}")
                    continue
                baseline = seen[0]
                neutrals = {m: {"clip": CLIP_NEUTRAL,
                                "subject": neutral_from([baseline], retarget_assets(m), "baseline", dedicated=True)}
                            for m in METHODS}
                got = [capture_methods(s, neutrals) for s in seen[1:]]
                single_got, held_got, rising_got = got[0], got[1], got[2]
                whole, onset = got[3:3 + len(procedural)], got[3 + len(procedural):]
                for key in keys:
                    n = min(len(single_got[key]), len(single_au))
                    cell = result["single"].setdefault((view, key), ([], []))
                    cell[0].append(single_au[:n]), cell[1].append(au_from_blendshapes(single_got[key][:n]))
                    result["held"].setdefault((view, key), []).append(
                        held_got[key][:, HELD_UNITS].sum(axis=1).mean() / (2 * sum(HELD.values())))
                    result["held_pspi"].setdefault((view, key), []).append(
                        pspi(au_from_blendshapes(held_got[key])).mean() / held_pspi)
                    apex = slice(args.frames // 3 + 2, None)  # the held part of the rising clip
                    result["rising"].setdefault((view, key), []).append(
                        rising_got[key][apex, HELD_UNITS].sum(axis=1).mean() / (2 * sum(HELD.values())))
                    for track, full, part in zip(procedural, whole, onset):
                        n = min(len(full[key]), len(track.pspi))
                        cell = result["pain"].setdefault((view, key), ([], []))
                        cell[0].append(track.pspi[:n]), cell[1].append(pspi(au_from_blendshapes(full[key][:n])))
                        m = min(len(part[key]), n - cut)
                        level_cut = pspi(au_from_blendshapes(part[key][:m])).mean()
                        level_full = pspi(au_from_blendshapes(full[key][cut:cut + m])).mean()
                        result["onset"].setdefault((view, key), []).append((level_cut, level_full))
    return result


def report(name: str, result: dict, args) -> None:
    from painsynth.capture.retarget import METHODS

    views = args.views.split(",")
    print(f"\n## {name} set ({len(result['specs'])} identities: "
          + ", ".join(f"{s.gender} {s.age_years:.0f} y Monk {s.monk_tone}" for s in result["specs"]) + ")\n")
    print("| view | method | neutral | PSPI r | PSPI MAE | " + " | ".join(f"{u} r" for u in PSPI_UNITS)
          + " | held apex recovered | its PSPI | rising apex recovered | onset cut / uncut |")
    print("|---|---|---|---|---|" + "---|" * len(PSPI_UNITS) + "---|---|---|---|")
    for view in views:
        for method in METHODS:
            for neutral in NEUTRALS:
                key = (view, (method, neutral))
                if key not in result["pain"]:
                    continue
                truth, estimate = (np.concatenate(x) for x in result["pain"][key])
                s_truth, s_est = (np.concatenate(x) for x in result["single"][key])
                units = [f"{pearson(s_truth[:, k], s_est[:, k]):.2f}" for k in range(len(PSPI_UNITS))]
                pairs = np.array(result["onset"][key])
                ratio = pairs[:, 0].sum() / max(pairs[:, 1].sum(), 1e-9)
                print(f"| {view} | {method} | {neutral} | {pearson(truth, estimate):.3f} | "
                      f"{np.abs(truth - estimate).mean():.2f} | " + " | ".join(units)
                      + f" | {np.mean(result['held'][key]):.0%} | {np.mean(result['held_pspi'][key]):.0%}"
                      + f" | {np.mean(result['rising'][key]):.0%} | {ratio:.2f} |")
    print(f"\nClips left out (face found in under half the frames): {len(result['lost'])}")
    for line in result["lost"]:
        print(f"- {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--identities", type=int, default=3)
    parser.add_argument("--frames", type=int, default=50, help="frames per procedural clip")
    parser.add_argument("--views", default=",".join(VIEWS))
    parser.add_argument("--sets", default="tuned,held-out")
    args = parser.parse_args()
    start = time.perf_counter()

    from painsynth.animate import HeadRig
    from painsynth.capture.calibration import retarget_assets
    from painsynth.capture.model import verified_model
    from painsynth.render import create_renderer

    model = verified_model()
    rig = HeadRig()
    retarget_assets("hybrid")
    renderer = create_renderer(SIZE)
    try:
        for name in args.sets.split(","):
            report(name, run_set(name, args, rig, renderer, model), args)
    finally:
        renderer.release()
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

"""Do the same lid units close every face's eyes alike? anny's units against units fitted to each face.

    python benchmarks/lid_units.py --avatars 40 --seed 1

Per avatar of one bank and per eye: the gap from the lower to the upper lid margin at rest (mm), and
what is left of it under a full blink and under the preview's peak pain (lid tightener and cheek raiser
at 4 of 5, brows down), as a share of the rest gap; with anny's own units and with the units fitted to
the face (``painsynth.lid_units``). Pure geometry, no rendering. A blink should leave 0 (shut) on every
face; pain should leave the same share on every face, whatever the eye's height.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--avatars", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    from painsynth.animate import HeadRig
    from painsynth.avatars import sample_avatars
    from painsynth.lid_units import SIDES, lid_margins, margin_gap
    from painsynth.preview import PEAK_PAIN_AUS, blendshapes_for
    from painsynth.tracks import BLENDSHAPE_INDEX

    blink = np.zeros(52, np.float32)
    for side in SIDES:
        blink[BLENDSHAPE_INDEX[f"eyeBlink{side}"]] = 1.0
    faces = np.stack([np.zeros(52, np.float32), blink, blendshapes_for(PEAK_PAIN_AUS)])
    still = np.zeros((len(faces), 3), np.float32)
    rig = HeadRig()
    rows = {"rest gap mm": [], "anny blink": [], "fitted blink": [], "anny pain": [], "fitted pain": []}
    for spec in sample_avatars(args.avatars, args.seed):
        identity = rig.identity(spec.phenotype, spec.face_shape)
        ids = identity.mesh.vertex_ids
        annys = rig.face_units(ids)
        unshaped = rig._rest_model(spec.phenotype, None)["rest_vertices"][0, ids].to(torch.float32)
        fitted = torch.as_tensor(identity.animate(faces, still, still))
        identity._face_basis = annys.reshape(52, -1)
        plain = torch.as_tensor(identity.animate(faces, still, still))
        for eye, side in zip(rig.eyeballs(ids), SIDES):
            upper, lower = lid_margins(unshaped, annys[BLENDSHAPE_INDEX[f"eyeBlink{side}"]], eye)
            rest = margin_gap(fitted[0], upper, lower)
            rows["rest gap mm"].append(1000 * rest)
            for name, frames in (("anny", plain), ("fitted", fitted)):
                rows[f"{name} blink"].append(margin_gap(frames[1], upper, lower) / rest)
                rows[f"{name} pain"].append(margin_gap(frames[2], upper, lower) / rest)
    print(f"bank seed {args.seed}, {args.avatars} avatars, {len(rows['rest gap mm'])} eyes; "
          "left of the rest gap (share; 0 = shut, below 0 = the upper lid through the lower)")
    print("| measure | median | 10th-90th percentile | lowest-highest |")
    print("|---|---:|---:|---:|")
    for name, values in rows.items():
        v = np.array(values)
        print(f"| {name} | {np.median(v):.2f} | {np.percentile(v, 10):.2f} to {np.percentile(v, 90):.2f} "
              f"| {v.min():.2f} to {v.max():.2f} |")


if __name__ == "__main__":
    main()

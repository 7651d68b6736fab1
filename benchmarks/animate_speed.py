"""Animate throughput: painsynth's head-only fast path against anny's full forward pass, same run.

    .venv/bin/python benchmarks/animate_speed.py
"""

import time

import torch

from painsynth.animate import HeadRig
from painsynth.procedural import make_track


def best_of(repeats, work):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    rig = HeadRig()
    phenotype = {"gender": 0.2, "age": 0.7, "african": 0.6, "asian": 0.2, "caucasian": 0.2}
    identity = rig.identity(phenotype)
    track = make_track(4, seed=0)
    frames = track.n_frames

    def ours():
        identity.animate(track.blendshapes, track.head_rotation, track.head_translation)

    def annys():
        with torch.no_grad():
            rig.model(
                pose_parameters=rig.delta_transforms(identity._rest_bone_poses[0, 0], track.head_rotation,
                                                     track.head_translation),
                phenotype_kwargs=rig._phenotype_tensor(phenotype),
                facial_actions=torch.as_tensor(track.blendshapes, dtype=rig.model.dtype),
            )

    ours_s, annys_s = best_of(5, ours), best_of(3, annys)
    print(f"| path | s per {frames}-frame clip | frames/s |\n|---|---|---|")
    print(f"| anny forward (13,718 vertices, float64) | {annys_s:.3f} | {frames / annys_s:.0f} |")
    print(f"| painsynth HeadRig ({len(identity.mesh.vertex_ids)} vertices, float32) | {ours_s:.3f} | {frames / ours_s:.0f} |")
    print(f"speed-up: {annys_s / ours_s:.1f}x on {torch.get_num_threads()} torch threads")


if __name__ == "__main__":
    main()

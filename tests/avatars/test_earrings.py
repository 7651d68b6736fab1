"""Earrings on real anny heads: studs and hoops sit at the ear lobes of children and large adults, render,
move with the head, are drawn mostly for women, and are the same for the same spec."""

import dataclasses
from collections import Counter

import numpy as np
import pytest
import torch

from conftest import child_and_tall_heads, render_worn
from painsynth.avatars import sample_avatars
from painsynth.avatars.build import build_avatar
from painsynth.avatars.earrings import earring_layers, fit_earrings, lobes
from painsynth.avatars.tables import EARRINGS
from painsynth.avatars.texture import appearance_maps

STYLES = [style for style in EARRINGS if style != "none"]


@pytest.fixture(scope="module")
def heads(rig):
    """(spec, identity, anatomy): a child under 12 and the tallest of a few adults."""
    return child_and_tall_heads(rig, 11)


def test_earrings_hang_at_the_lobes(heads):
    for spec, _, anatomy in heads:
        points, normals = lobes(anatomy)
        ears = anatomy.vertices[anatomy.ears]
        assert points[0, 0] > 0.05 and points[1, 0] < -0.05  # the person's left first, beside the head
        assert np.all(points[:, 2] < np.percentile(ears[:, 2], 15))  # at the bottom of the ears
        assert np.all(normals[:, 0] * [1, -1] > 0.4)  # facing outwards
        for style in STYLES:
            for size in (0.0, 1.0):
                mesh, _, _ = fit_earrings(style, size, anatomy)
                for sign in (1, -1):
                    side = mesh[sign * mesh[:, 0] > 0]
                    lobe = points[0 if sign > 0 else 1]
                    assert np.linalg.norm(side - lobe, axis=1).min() < 0.004, (style, size, spec.age_years)
                    assert side[:, 2].max() < lobe[2] + 0.006  # not above the lobe
    with pytest.raises(ValueError, match="unknown earrings 'clip'; allowed: none, stud, hoop"):
        fit_earrings("clip", 0.5, heads[0][2])


def test_every_style_renders_beside_the_face(heads):
    from painsynth.render import Renderer, frame_head

    size = 128
    renderer = Renderer(size, size)
    for spec, identity, anatomy in heads:
        spec = dataclasses.replace(spec, earrings_color="d8c48a", earrings_size=1.0)
        maps = appearance_maps(spec, 64)
        camera = frame_head(identity.mesh.head_box, "left45")

        def render(layers):
            return render_worn(renderer, spec, identity, maps, layers, camera)

        bare = render([])
        lobe = np.round(camera.project(lobes(anatomy)[0][:1], size, size)[0]).astype(int)
        for style in STYLES:
            layers = earring_layers(dataclasses.replace(spec, earrings=style), anatomy)
            assert [layer.material for layer in layers] == ["frame"]
            changed = np.abs(render(layers) - bare).max(-1) > 25
            assert 0 < changed.mean() < 0.01, (style, changed.mean())  # small, and drawn
            ys, xs = np.nonzero(changed)
            assert np.hypot(xs - lobe[0], ys - lobe[1]).min() < 3, style  # at the near lobe
    renderer.release()


def test_earrings_move_rigidly_with_the_head(heads):
    spec, identity, anatomy = heads[1]
    layer = earring_layers(dataclasses.replace(spec, earrings="hoop"), anatomy)[0]
    rotation = np.array([[0.0, 0.0, 0.0], [0.3, 0.4, -0.2]], np.float32)
    vertices = torch.as_tensor(identity.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32)))
    points, _ = layer.binding.pose(vertices, torch.zeros_like(vertices))
    rest, moved = points[0].numpy(), points[1].numpy()
    assert np.abs(moved - rest).max() > 0.01
    ears = np.flatnonzero(anatomy.ears)
    before = np.linalg.norm(rest[:, None] - anatomy.vertices[ears][None], axis=2).min(1)
    after = np.linalg.norm(moved[:, None] - vertices[1].numpy()[ears][None], axis=2).min(1)
    # still hanging from the ears (within 2 mm: the neck bone bends the ears' skin a little under a large turn)
    assert np.abs(before - after).max() < 2e-3


def test_mostly_women_wear_earrings_and_the_spec_decides(rig, heads):
    worn = Counter((s.gender, s.earrings != "none") for s in sample_avatars(400, 3))
    women = worn["female", True] / (worn["female", True] + worn["female", False])
    men = worn["male", True] / (worn["male", True] + worn["male", False])
    assert 0.55 < women < 0.85 and men < 0.15
    spec, _, anatomy = heads[1]
    for style in STYLES:
        a, b = (earring_layers(dataclasses.replace(spec, earrings=style), anatomy) for _ in range(2))
        assert np.array_equal(a[0].triangles, b[0].triangles) and torch.equal(a[0].binding.points, b[0].binding.points)
    avatar = build_avatar(dataclasses.replace(spec, earrings="none"), rig, texture_size=64)
    assert not [layer for layer in avatar.layers if layer.name == "earrings"]

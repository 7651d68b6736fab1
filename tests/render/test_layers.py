"""Worn layers: bindings carry points with the head, and the renderer draws each pass."""

import numpy as np
import pytest
import torch

from painsynth.avatars import sample_avatars
from painsynth.avatars.anatomy import anatomy_of
from painsynth.render import Renderer, frame_head, make_background, sample_lighting
from painsynth.render.layers import Layer, RigidBinding, SurfaceBinding, rigid_motion


def test_rigid_motion_recovers_a_known_rotation_and_translation():
    import roma

    rest = torch.randn(40, 3)
    rotation = roma.rotvec_to_rotmat(torch.tensor([[0.3, -0.2, 0.5], [0.0, 0.0, 0.0]]))
    moved = rest @ rotation.transpose(1, 2) + torch.tensor([[0.1, 0.0, -0.2], [0.0, 0.0, 0.0]])[:, None]
    found, shift = rigid_motion(rest, moved)
    assert torch.allclose(found, rotation, atol=1e-5)
    assert torch.allclose(shift, torch.tensor([[0.1, 0.0, -0.2], [0.0, 0.0, 0.0]]), atol=1e-5)


@pytest.fixture(scope="module")
def identity(rig):
    return rig.identity(sample_avatars(1, seed=4)[0].phenotype)


def _turned(identity, yaw: float) -> np.ndarray:
    rotation = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, yaw]], np.float32)
    return identity.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32))


def test_bindings_reproduce_the_rest_pose_and_follow_a_head_turn(identity):
    anatomy = anatomy_of(identity)
    scalp = np.flatnonzero(anatomy.head_skin & (anatomy.elevation > 45))
    lifted = anatomy.vertices[scalp] + 0.01 * anatomy.normals[scalp]
    down = np.tile([0.0, 0.0, -1.0], (len(scalp), 1))
    surface = SurfaceBinding.fit(anatomy.vertices, anatomy.normals, anatomy.neighbour, scalp, lifted, down)
    front = anatomy.eye_centres.mean(0) + np.array([0.0, -0.05, 0.0])
    rigid = RigidBinding.fit(anatomy.vertices, anatomy.skull, front[None], np.array([[1.0, 0.0, 0.0]]))
    vertices = torch.as_tensor(_turned(identity, 0.6))
    from painsynth.render.renderer import VertexNormals

    normals = VertexNormals(identity.mesh.triangles)(vertices)
    shell, directions = surface.pose(vertices, normals)
    point, _ = rigid.pose(vertices, normals)
    assert np.allclose(shell[0].numpy(), lifted, atol=1e-4)  # frame 0 is the rest pose
    assert np.allclose(point[0].numpy(), front[None], atol=1e-4)
    # after the turn the shell stays 1 cm off its scalp vertices and the strands keep their length
    gap = np.linalg.norm(shell[1].numpy() - vertices[1, scalp].numpy(), axis=1)
    assert np.allclose(gap, 0.01, atol=1e-4)
    assert np.allclose(np.linalg.norm(directions[1].numpy(), axis=1), 1.0, atol=1e-4)
    # a point in front of the face moves with the skull: its distance to the skull vertices holds
    skull = vertices[:, anatomy.skull].numpy()
    before = np.linalg.norm(skull[0] - point[0].numpy(), axis=1)
    after = np.linalg.norm(skull[1] - point[1].numpy(), axis=1)
    assert np.abs(before - after).max() < 1e-3
    assert point[1, 0, 0] - point[0, 0, 0] > 0.01  # and it did move sideways with the turn


def _card(anatomy, material: str, colour) -> Layer:
    centre = anatomy.eye_centres.mean(0) + np.array([0.0, -0.04, 0.0])
    corners = centre + np.array([[-0.04, 0, -0.03], [0.04, 0, -0.03], [0.04, 0, 0.03], [-0.04, 0, 0.03]])
    texture = np.zeros((4, 4, 4), np.uint8)
    texture[..., :3], texture[..., 3] = colour, 255
    binding = RigidBinding.fit(anatomy.vertices, anatomy.skull, corners, np.tile([0.0, 0.0, 1.0], (4, 1)))
    return Layer("card", material, np.array([[0, 1, 2], [0, 2, 3]], np.int32),
                 np.array([[0, 0], [1, 0], [1, 1], [0, 1]], np.float32), texture, binding, gloss=0.2)


@pytest.mark.parametrize("material, covers", [("fabric", True), ("hair", True), ("glass", False)])
def test_layers_draw_over_the_face_as_their_pass_says(identity, material, covers):
    anatomy = anatomy_of(identity)
    albedo = np.full((64, 64, 3), 200, np.uint8)
    gloss = np.full((64, 64), 90, np.uint8)
    renderer = Renderer(64, 64)
    rng = np.random.default_rng(0)
    camera = [frame_head(identity.mesh.head_box, "front")]
    light, background = sample_lighting(rng), [make_background("solid", (64, 64), rng)]
    vertices = identity.mesh.neutral_vertices[None]
    renderer.load_identity(identity.mesh, albedo, gloss)
    bare = next(iter(renderer.render_clip(vertices, camera, light, background)))[0]
    renderer.load_identity(identity.mesh, albedo, gloss, layers=[_card(anatomy, material, (0, 0, 255))])
    worn = next(iter(renderer.render_clip(vertices, camera, light, background)))[0]
    renderer.release()
    middle = (slice(24, 40), slice(24, 40))
    blue = worn[middle][..., 2].astype(int) - worn[middle][..., 0].astype(int)
    if covers:
        assert blue.mean() > 20  # the card hides the face behind it
    else:
        assert np.abs(worn[middle].astype(int) - bare[middle].astype(int)).mean() < 40  # clear glass
        assert blue.mean() < 20


def test_same_seed_gives_identical_specs_and_pixels(rig):
    from painsynth.avatars.build import build_avatar

    first, second = sample_avatars(3, seed=21), sample_avatars(3, seed=21)
    assert [s.to_dict() for s in first] == [s.to_dict() for s in second]
    spec = next(s for s in first if s.glasses != "none") if any(s.glasses != "none" for s in first) else first[0]
    images = []
    for _ in range(2):
        avatar = build_avatar(spec, rig, texture_size=256)
        renderer = Renderer(96, 96)
        renderer.load_avatar(avatar)
        rng = np.random.default_rng(3)
        rotation = np.array([[0.0, 0.0, 0.0], [0.1, 0.0, 0.4]], np.float32)
        vertices = avatar.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32))
        frames = list(renderer.render_clip(vertices, [frame_head(avatar.identity.mesh.head_box, "left30")],
                                           sample_lighting(rng), [make_background("noise", (96, 96), rng)]))
        renderer.release()
        images.append(np.stack([f[0] for f in frames]))
        assert {layer.name for layer in avatar.layers} >= {"garment"}
    assert np.array_equal(images[0], images[1])


def test_carried_normals_match_normals_computed_on_the_posed_layer(identity):
    from painsynth.render.renderer import VertexNormals

    anatomy = anatomy_of(identity)
    centre = anatomy.eye_centres.mean(0) + np.array([0.0, -0.05, 0.0])
    corners = centre + np.array([[-0.04, 0, -0.03], [0.04, 0, -0.03], [0.04, 0.02, 0.03], [-0.04, 0.02, 0.03]])
    triangles = np.array([[0, 1, 2], [0, 2, 3]], np.int32)
    binding = RigidBinding.fit(anatomy.vertices, anatomy.skull, corners, np.tile([0.0, 0.0, 1.0], (4, 1)))
    rest = torch.as_tensor(identity.mesh.neutral_vertices[None], dtype=torch.float32)
    head_normals = VertexNormals(identity.mesh.triangles)
    layer_normals = VertexNormals(triangles)
    rest_points, _ = binding.pose(rest, head_normals(rest))
    local = binding.localise(rest, head_normals(rest), layer_normals(rest_points)[0])
    vertices = torch.as_tensor(_turned(identity, 0.5))
    points, (carried,) = binding.carry(vertices, head_normals(vertices), local)
    assert torch.allclose(carried, layer_normals(points), atol=1e-3)


def test_worn_layers_take_their_own_light_gain_and_the_skin_its_own(identity):
    anatomy = anatomy_of(identity)
    albedo, gloss = np.full((64, 64, 3), 60, np.uint8), np.full((64, 64), 90, np.uint8)
    renderer = Renderer(64, 64)
    rng = np.random.default_rng(0)
    camera = [frame_head(identity.mesh.head_box, "front")]
    light, background = sample_lighting(rng), [make_background("solid", (64, 64), rng)]
    vertices = identity.mesh.neutral_vertices[None]
    images = []
    for worn_gain in (3.0, 1.0):
        renderer.load_identity(identity.mesh, albedo, gloss, layers=[_card(anatomy, "fabric", (0, 0, 120))],
                               light_gain=3.0, worn_light_gain=worn_gain)
        images.append(next(iter(renderer.render_clip(vertices, camera, light, background)))[0].astype(int))
    renderer.release()
    blue = (images[1][..., 2] - images[1][..., 0]) > 20  # the card
    assert blue.sum() > 60  # the card covers this many pixels
    lit, plain = ((image[blue][:, 2] / 255) ** 2.2 for image in images)
    assert 2.5 < lit.mean() / plain.mean() < 3.5  # the card lit three times as brightly
    assert np.array_equal(images[0][~blue], images[1][~blue])  # the skin and background lit the same

import numpy as np
import torch

from conftest import ADULT_TALL
from painsynth.eyelid_contact import MARGIN
from painsynth.tracks import BLENDSHAPE_INDEX

SQUEEZE = ("eyeSquintLeft", "eyeSquintRight", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight")


def squeezed(frames=2):
    """Face units [frames, 52]: neutral, then the lids squeezed shut (the strongest lid motion)."""
    units = np.zeros((frames, 52), np.float32)
    for name in SQUEEZE:
        units[1:, BLENDSHAPE_INDEX[name]] = 1.0
    return units


def annys_own(identity, *motion):
    """``identity.animate(*motion)`` as anny's units move the lids, without the contact."""
    contact, identity.contact = identity.contact, None
    try:
        return identity.animate(*motion)
    finally:
        identity.contact = contact


def depth_inside(vertices, contact):
    """Per eye, how far [T, S] each of the contact's skin vertices lies inside that eyeball (metres;
    negative: outside), with the eyeball's centre and radius taken from its own vertices per frame."""
    depths = []
    for eye, skin in zip(contact.eyes, contact.skin):
        ball = vertices[:, eye.numpy()]
        centre = ball.mean(axis=1, keepdims=True)
        radius = np.linalg.norm(ball - centre, axis=2).max(axis=1, keepdims=True)
        depths.append(radius - np.linalg.norm(vertices[:, skin.numpy()] - centre, axis=2))
    return depths


def test_squeezed_lids_stay_over_the_eyeballs_where_annys_units_push_them_through(rig):
    identity = rig.identity(ADULT_TALL)
    still = np.zeros((2, 3), np.float32)
    ours = identity.animate(squeezed(), still, still)
    annys = annys_own(identity, squeezed(), still, still)
    contact = identity.contact
    for rest_depth, our_depth, their_depth in zip(*(depth_inside(v, contact) for v in (ours[:1], ours, annys))):
        assert their_depth[1].max() > 0.001  # anny's lid sinks a millimetre or more into the eye...
        allowed = np.maximum(rest_depth[0], -MARGIN)
        assert (our_depth[1] <= allowed + 1e-5).all()  # ...ours no deeper than at rest, else MARGIN outside
    moved = np.linalg.norm(ours[1] - annys[1], axis=1)
    assert moved.max() > 0.001
    assert np.isin(np.flatnonzero(moved > 1e-7), contact.vertices.numpy()).all()  # only skin near the eyes moves


def test_the_neutral_face_is_left_as_it_is(rig):
    identity = rig.identity(ADULT_TALL)
    rest = identity.mesh.neutral_vertices
    still = np.zeros((1, 3), np.float32)
    annys = annys_own(identity, np.zeros((1, 52), np.float32), still, still)[0]
    np.testing.assert_array_equal(rest, annys)
    shaped = identity._rest_vertices.reshape(1, -1, 3)  # no face unit, before skinning
    assert torch.equal(identity.contact.apply(shaped), shaped)


def test_the_lids_stay_over_the_eyeballs_when_the_head_turns(rig):
    identity = rig.identity({})
    rotation = np.array([[0, 0, 0], [0.1, 0.0, 0.6], [-0.3, 0.2, -0.5]], np.float32)
    turned = identity.animate(squeezed(3), rotation, np.zeros((3, 3), np.float32))
    rest_depths = depth_inside(turned[:1], identity.contact)
    for rest_depth, depth in zip(rest_depths, depth_inside(turned, identity.contact)):
        assert (depth[1:] <= np.maximum(rest_depth[0], -MARGIN) + 1e-4).all()


def test_a_face_shape_that_sinks_the_lids_into_the_eyes_is_kept_out_of_them(rig):
    from painsynth.avatars import sample_avatars

    spec = sample_avatars(1, 5)[0]  # its face shape sinks lid skin up to 3.5 mm into each eyeball
    shaped = rig.identity(spec.phenotype, spec.face_shape)
    plain = rig.identity(spec.phenotype)
    common, in_shaped, in_plain = np.intersect1d(shaped.mesh.vertex_ids, plain.mesh.vertex_ids, return_indices=True)
    still = np.zeros((1, 3), np.float32)
    sunk = annys_own(shaped, np.zeros((1, 52), np.float32), still, still)
    contact = shaped.contact
    lookup = np.full(len(shaped.mesh.vertex_ids), -1)
    lookup[in_shaped] = in_plain
    for eye, (kept, annys) in enumerate(zip(depth_inside(shaped.mesh.neutral_vertices[None], contact),
                                            depth_inside(sunk, contact))):
        skin = contact.skin[eye].numpy()
        plain_depth = depth_inside(plain.mesh.neutral_vertices[None], plain.contact)[eye][0]
        plain_at = dict(zip(plain.contact.skin[eye].numpy(), plain_depth))
        allowed = np.array([max(plain_at.get(lookup[v], -MARGIN), -MARGIN) for v in skin])
        assert (annys[0] > allowed + 0.002).any()  # anny's shaped head: skin 2 mm deeper than the plain one's...
        assert (kept[0] <= allowed + 1e-4).all()  # ...ours no deeper than the plain head's, or MARGIN outside

"""Gaze on a real anny head: the eyeLook units turn each eyeball rigidly, the right eye the right way, as
far as GAZE_DEGREES say, and the upper lid rises with an upward look."""

import numpy as np
import pytest
from conftest import face_units

from painsynth.gaze import GAZE_DEGREES
from painsynth.tracks import BLENDSHAPE_INDEX

STILL = np.zeros((1, 3), np.float32)


@pytest.fixture(scope="module")
def identity(rig):
    return rig.identity({})


def _posed(identity, **units) -> np.ndarray:
    return identity.animate(face_units(**units), STILL, STILL)[0]


def _gaze_of(identity, vertices: np.ndarray) -> list[np.ndarray]:
    """Per eye (left, right), the unit vector from the eyeball's centre to its front-most rest vertex."""
    rest = identity.mesh.neutral_vertices
    out = []
    for eye in identity.gaze.eyes:
        eye = eye.numpy()
        front = eye[np.argmin(rest[eye, 1])]
        direction = vertices[front] - vertices[eye].mean(0)
        out.append(direction / np.linalg.norm(direction))
    return out


def _degrees(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b, -1, 1))))


@pytest.mark.parametrize("unit, side, direction, axis, sign", [
    ("eyeLookOutLeft", 0, "Out", 0, 1), ("eyeLookInLeft", 0, "In", 0, -1),
    ("eyeLookOutRight", 1, "Out", 0, -1), ("eyeLookInRight", 1, "In", 0, 1),
    ("eyeLookUpLeft", 0, "Up", 2, 1), ("eyeLookDownRight", 1, "Down", 2, -1),
])
def test_a_full_look_turns_that_eye_rigidly_as_far_as_gaze_degrees(identity, unit, side, direction, axis, sign):
    rest = identity.mesh.neutral_vertices
    looking = _posed(identity, **{unit: 1.0})
    before, after = _gaze_of(identity, rest), _gaze_of(identity, looking)
    assert _degrees(before[side], after[side]) == pytest.approx(GAZE_DEGREES[direction], abs=1.5)
    assert sign * (after[side][axis] - before[side][axis]) > 0.3  # +x: the subject's left; +z: up
    assert _degrees(before[1 - side], after[1 - side]) < 0.1  # the other eye stays
    eye = identity.gaze.eyes[side].numpy()
    radii = [np.linalg.norm(v[eye] - v[eye].mean(0), axis=1) for v in (rest, looking)]
    assert np.abs(radii[0] - radii[1]).max() < 1e-5  # turned, not bent (metres)


def test_half_a_look_turns_half_as_far(identity):
    rest = identity.mesh.neutral_vertices
    before, half = _gaze_of(identity, rest), _gaze_of(identity, _posed(identity, eyeLookOutLeft=0.5))
    assert _degrees(before[0], half[0]) == pytest.approx(GAZE_DEGREES["Out"] / 2, abs=1.0)


def test_the_upper_lid_rises_with_an_upward_look(rig, identity):
    """anny's own up-gaze lifts the lid for a 10-degree turn; the lid now follows the eye's 25."""
    annys = rig.face_units(identity.mesh.vertex_ids)[BLENDSHAPE_INDEX["eyeLookUpLeft"]].numpy()
    lid = np.setdiff1d(np.flatnonzero(annys[:, 2] > 0.5 * annys[:, 2].max()), identity.gaze.eyes[0].numpy())
    assert len(lid) > 0
    rise = _posed(identity, eyeLookUpLeft=1.0)[lid, 2] - identity.mesh.neutral_vertices[lid, 2]
    assert rise.mean() > 2 * annys[lid, 2].mean()

"""Face shape: anny's local face modifiers drawn per identity, and fed through the head rig."""

import numpy as np
import pytest

from conftest import ADULT_TALL
from painsynth.avatars import face_shape as fs
from painsynth.avatars.face_shape import sample_face_shape
from painsynth.tracks import BLENDSHAPE_INDEX

MIXED = {"african": 0.2, "asian": 0.5, "caucasian": 0.3}


def draws(count=200, gender="female", age=35.0, seed=0):
    rng = np.random.default_rng(seed)
    return [sample_face_shape(rng, gender, age, MIXED) for _ in range(count)]


def test_same_seed_gives_the_same_shape():
    assert draws(3, seed=7) == draws(3, seed=7)
    assert draws(1, seed=7) != draws(1, seed=8)


def test_values_are_rounded_plain_floats_within_the_declared_bounds():
    bounds = fs.bounds(MIXED)
    for gender, age in (("male", 30.0), ("female", 80.0), ("male", 6.0)):
        for shape in draws(100, gender, age):
            assert set(shape) == set(fs.SPREADS)
            for label, value in shape.items():
                assert type(value) is float and value == round(value, 3)
                low, high = bounds[label]
                assert low <= value <= high, label
                assert -1.0 <= value <= 1.0


def test_left_and_right_share_a_draw_with_a_small_asymmetry():
    pairs = [(l, "r-" + l[2:]) for l in fs.SPREADS if l.startswith("l-")]
    assert len(pairs) > 20
    gaps, spreads = [], []
    for shape in draws(100):
        for left, right in pairs:
            gaps.append(shape[left] - shape[right])
            spreads.append(shape[left])
    assert np.corrcoef([s for s in spreads], np.array(spreads) - np.array(gaps))[0, 1] > 0.9
    assert np.std(gaps) < 0.3 * np.std(spreads)
    assert np.any(np.array(gaps) != 0)  # not perfectly symmetric


def test_every_eye_opens_within_a_human_range(rig):
    """No face is drawn with eyes half shut or staring at rest: predicted from the modifiers, every
    eye of many draws opens within EYE_OPENING_RANGE of anny's; measured on anny, so do the faces
    whose eye modifiers had to be pulled in."""
    import torch

    from painsynth.lid_units import SIDES, lid_margins, margin_gap

    low, high = fs.EYE_OPENING_RANGE
    shapes = [shape for gender in ("female", "male") for shape in draws(150, gender, 40.0, seed=3)]
    openings = np.array([[fs.eye_opening(shape, side)[0] for side in "lr"] for shape in shapes])
    assert (openings >= low - 1e-3).all() and (openings <= high + 1e-3).all()
    assert (openings < low + 0.02).any() and (openings > high - 0.02).any()  # the bounds bite
    pulled = [shapes[i] for i in np.argsort(np.abs(openings - 1).max(axis=1))[-3:]]
    rest = rig._rest_model({}, None)["rest_vertices"][0].to(torch.float32)
    ids = np.arange(len(rest))
    annys = rig.face_units(ids)
    for shape in pulled:
        shaped = rig._rest_model({}, shape)["rest_vertices"][0].to(torch.float32)
        for eye, side in zip(rig.eyeballs(ids), SIDES):
            upper, lower = lid_margins(rest, annys[BLENDSHAPE_INDEX[f"eyeBlink{side}"]], eye)
            share = margin_gap(shaped, upper, lower) / margin_gap(rest, upper, lower)
            assert low - 0.05 < share < high + 0.05


def test_grotesque_modifiers_are_left_out():
    for label in ("forehead-nubian-incr", "l-ear-shape-triangle", "head-trans-up", "head-angle-out"):
        assert label not in fs.SPREADS and fs.excluded(label)


def test_demographics_shift_the_average_face():
    men = np.mean([s["chin-bones-incr"] for s in draws(300, "male", 35.0)])
    women = np.mean([s["chin-bones-incr"] for s in draws(300, "female", 35.0)])
    children = np.mean([s["nose-scale-vert-incr"] for s in draws(300, "female", 7.0)])
    adults = np.mean([s["nose-scale-vert-incr"] for s in draws(300, "female", 35.0)])
    assert men > women
    assert children < adults


def test_the_average_face_has_a_smaller_nose_than_annys():
    shapes = draws(200, "female") + draws(200, "male")
    assert fs.AVERAGE_FACE
    for label, offset in fs.AVERAGE_FACE.items():
        assert offset < 0
        assert np.mean([s[label] for s in shapes]) < 0.6 * offset, label


def test_the_average_faces_shallower_nose_is_spared_on_african_ancestry():
    rng = np.random.default_rng(2)
    depth = "nose-scale-depth-incr"
    african = np.mean([sample_face_shape(rng, "female", 35.0, {"african": 1.0})[depth] for _ in range(300)])
    european = np.mean([sample_face_shape(rng, "female", 35.0, {"caucasian": 1.0})[depth] for _ in range(300)])
    assert fs.average_face({"african": 1.0})[depth] == 0.0 and fs.average_face({"african": 0.5})[depth] < 0
    assert abs(african) < 0.1 and european < fs.AVERAGE_FACE[depth] / 2
    low, high = fs.bounds({"african": 1.0})[depth]
    assert low < 0 < high and high > fs.bounds()[depth][1]


def test_face_shape_moves_nose_and_chin_but_keeps_the_topology(rig):
    plain = rig.identity(ADULT_TALL)
    shape = {"nose-scale-vert-incr": 0.6, "nose-scale-depth-incr": 0.5, "chin-prominent-incr": 0.6,
             "chin-width-incr": 0.5}
    shaped = rig.identity(ADULT_TALL, shape)
    assert np.array_equal(shaped.mesh.vertex_ids, plain.mesh.vertex_ids)
    assert np.array_equal(shaped.mesh.triangles, plain.mesh.triangles)
    assert shaped.mesh.neutral_vertices.shape == plain.mesh.neutral_vertices.shape
    moved = np.linalg.norm(shaped.mesh.neutral_vertices - plain.mesh.neutral_vertices, axis=1)
    assert moved.max() > 0.003  # millimetres of nose and chin
    below_nose = plain.mesh.neutral_vertices[:, 2] < plain.mesh.nose_tip[2] - 0.02
    near_nose = np.linalg.norm(plain.mesh.neutral_vertices - plain.mesh.nose_tip, axis=1) < 0.02
    assert moved[near_nose].max() > 0.002 and moved[below_nose].max() > 0.002
    crown = plain.mesh.neutral_vertices[:, 2] > plain.mesh.head_box[1][2] - 0.03
    assert moved[crown].max() < 1e-3  # the skull top stays put (to a fraction of a millimetre)


def test_a_sampled_face_shape_is_accepted_and_face_units_still_move_it(rig):
    shape = draws(1, "male", 40.0, seed=3)[0]
    identity = rig.identity(ADULT_TALL, shape)
    still = np.zeros((3, 3), np.float32)
    units = np.zeros((3, 52), np.float32)
    units[1, BLENDSHAPE_INDEX["jawOpen"]] = 1.0
    units[2, BLENDSHAPE_INDEX["browDownLeft"]] = 1.0
    vertices = identity.animate(units, still, still)
    np.testing.assert_allclose(vertices[0], identity.mesh.neutral_vertices, atol=1e-6)
    jaw = np.linalg.norm(vertices[1] - vertices[0], axis=1)
    brow = np.linalg.norm(vertices[2] - vertices[0], axis=1)
    assert jaw.max() > 0.01
    assert brow.max() > 0.002
    assert vertices[0, np.argmax(brow), 2] > identity.mesh.nose_tip[2]  # the brow is above the nose


def test_unknown_face_modifier_is_refused_with_the_allowed_ones(rig):
    with pytest.raises(ValueError, match="nose-wobble.*allowed.*nose-scale-vert-incr"):
        rig.identity({}, {"nose-wobble": 0.3})


def test_face_types_move_their_modifiers_together():
    shapes = draws(300)
    for a, b in (("nose-scale-horiz-incr", "nose-width1-incr"),
                 ("mouth-upperlip-volume-incr", "mouth-lowerlip-volume-incr"),
                 ("chin-prominent-incr", "chin-bones-incr")):
        assert np.corrcoef([s[a] for s in shapes], [s[b] for s in shapes])[0, 1] > 0.2, (a, b)
    for loadings in fs.FACE_TYPES.values():  # every loading names a drawn modifier (or l-/r- pair)
        for label in loadings:
            assert label in fs.SPREADS or f"l-{label}" in fs.SPREADS, label


def test_features_dlib_tells_apart_by_vary_more_than_ears():
    shapes = draws(300)
    bounds = fs.bounds()

    def used(prefix):  # mean |value| as a share of the bound
        return np.mean([abs(v) / max(-bounds[l][0], bounds[l][1]) for s in shapes for l, v in s.items()
                        if fs._group(l) == prefix])

    assert fs.GAIN["eye"] > 1 and fs.GAIN["nose"] > 1 and fs.GAIN["mouth"] > 1
    assert used("eye") > used("ear") and used("mouth") > used("ear")

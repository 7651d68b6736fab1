"""The face in profile: the nose tip kept in front of both lips, predicted from the spec and checked on anny."""

import numpy as np
import pytest

from painsynth.avatars import profile, sample_avatars


def measured_margins(rig, spec) -> np.ndarray:
    """mm the nose tip stands in front of the upper and lower lip on anny's own mesh of ``spec``."""
    return profile.margins_on(rig._rest_model(spec.phenotype, spec.face_shape)["rest_vertices"][0].numpy())


def test_the_prediction_matches_annys_meshes(rig):
    for spec in sample_avatars(8, 3):
        np.testing.assert_allclose(profile.profile_margins(spec.face_shape, spec.phenotype),
                                   measured_margins(rig, spec), atol=1.0)


def test_no_drawn_face_has_its_lips_near_or_in_front_of_the_nose_tip(rig):
    specs = sample_avatars(300, 9)
    margins = np.array([profile.profile_margins(s.face_shape, s.phenotype) for s in specs])
    for spec, margin in zip(specs, margins):  # under the floor only where anny's own face is
        forward = [c for c in profile.contributions(spec.face_shape).values() if (c < 0).any()]
        for lip in range(2):
            assert margin[lip] >= profile.FLOOR_MM - 1e-2 or not any(c[lip] < 0 for c in forward)
    assert margins.min() > profile.FLOOR_MM - 1.0
    assert (margins.min(axis=1) < profile.FLOOR_MM + 1.0).sum() >= 3  # the floor bites
    for index in np.argsort(margins.min(axis=1))[:3]:  # the closest calls, on anny itself
        assert measured_margins(rig, specs[index]).min() > profile.FLOOR_MM - 1.0


def test_margins_are_eased_smoothly_without_a_pile_up_at_the_floor():
    knee = profile.FLOOR_MM + profile.SOFT_MM
    below = np.linspace(-20, knee, 200)
    eased = np.array([profile.eased(m) for m in below])
    assert (eased > profile.FLOOR_MM).all() and (np.diff(eased) > 0).all()
    assert profile.eased(knee + 3.0) == knee + 3.0
    assert profile.eased(knee - 1e-6) == pytest.approx(knee, abs=1e-5)


def test_a_face_already_in_profile_is_left_as_drawn():
    spec = next(s for s in sample_avatars(20, 4)
                if profile.profile_margins(s.face_shape, s.phenotype).min() > profile.FLOOR_MM + profile.SOFT_MM)
    assert profile.lips_behind_nose(spec.face_shape, spec.phenotype) == spec.face_shape


def test_a_face_with_its_lips_forward_is_pulled_back_by_the_modifiers_that_brought_them():
    spec = sample_avatars(1, 4)[0]
    forward = {**spec.face_shape, "mouth-trans-forward": 0.9, "nose-scale-depth-incr": -0.8}
    assert profile.profile_margins(forward, spec.phenotype).min() < 0
    pulled = profile.lips_behind_nose(forward, spec.phenotype)
    assert profile.profile_margins(pulled, spec.phenotype).min() > profile.FLOOR_MM - 1e-2
    assert 0 < pulled["mouth-trans-forward"] < 0.9 and -0.8 < pulled["nose-scale-depth-incr"] < 0
    unrelated = [label for label in forward if label not in profile.PROFILE_MM]
    assert all(pulled[label] == forward[label] for label in unrelated)


def test_no_modifier_brings_one_lip_forward_and_the_other_back():
    """Why the lower lip can be put right after the upper without undoing it."""
    for at_minus, at_plus in profile.PROFILE_MM.values():
        for upper, lower in (at_minus, at_plus):
            assert upper * lower >= 0

"""The identity-diversity measure, on a tiny bank, with dlib and MediaPipe for real."""

import numpy as np

from painsynth.avatars import sample_avatars
from painsynth.diversity import SAME_PERSON, measure, render_states


def test_identity_diversity_on_a_tiny_bank():
    specs = sample_avatars(3, seed=1)
    images = render_states(specs, size=192)
    assert all(set(shots) >= {"front", "left30", "pain", "left45_neutral", "right45_pain"} for shots in images)
    result = measure(specs, images)
    assert result.avatars == 3 and result.embedded == 3
    assert len(result.pair_distances) == 3  # every pair once
    assert result.same_person_share == np.mean(result.pair_distances < SAME_PERSON)
    assert result.median_distance == np.median(result.pair_distances)
    # an avatar is closer to itself turned or in pain than to the others, on the whole
    own = np.median(result.self_distances["left30"] + result.self_distances["pain"])
    assert own < result.median_distance
    assert set(result.groups) <= {"gender", "age band", "Monk tone"}
    assert set(result.detection) == {"left45", "right45"}


def test_the_same_image_twice_is_one_person():
    specs = sample_avatars(2, seed=1)
    images = render_states(specs[:1], size=192, detection=False) * 2
    result = measure([specs[0], specs[0]], images)
    assert result.pair_distances.tolist() == [0.0] and result.same_person_share == 1.0
    assert result.detection == {}

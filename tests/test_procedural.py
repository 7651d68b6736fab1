import math
from collections import Counter

import numpy as np
import pytest

from painsynth.procedural import (
    AU43_CLOSED_FROM,
    AU_INDEX,
    AU_NAMES,
    AU_TO_BLENDSHAPES,
    balanced_levels,
    make_track,
    performer_style,
    pspi_from_au,
)
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, MotionTrack

SEEDS = range(40)
LEVELS = range(5)


@pytest.fixture(scope="module")
def tracks_by_level() -> dict[int, list[MotionTrack]]:
    return {level: [make_track(level, seed) for seed in SEEDS] for level in LEVELS}


def column(track: MotionTrack, blendshape: str) -> np.ndarray:
    return track.blendshapes[:, BLENDSHAPE_INDEX[blendshape]]


def au(track: MotionTrack, name: str) -> np.ndarray:
    return track.au[:, AU_INDEX[name]]


def mirror(blendshape: str) -> str:
    if blendshape.endswith("Left"):
        return blendshape[: -len("Left")] + "Right"
    if blendshape.endswith("Right"):
        return blendshape[: -len("Right")] + "Left"
    return blendshape


def reference_pspi(au_array: np.ndarray) -> np.ndarray:
    a = {name: au_array[:, i] for i, name in enumerate(AU_NAMES)}
    return (a["AU4"] + np.maximum(a["AU6"], a["AU7"]) + np.maximum(a["AU9"], a["AU10"])
            + (a["AU43"] >= AU43_CLOSED_FROM))


@pytest.mark.parametrize("level", LEVELS)
def test_track_has_the_documented_shapes_dtypes_and_ranges(level):
    track = make_track(level, seed=3, performer="proc-007")
    assert track.n_frames == 138 and track.fps == 25.0
    assert track.blendshapes.shape == (138, len(ARKIT_BLENDSHAPES))
    assert track.blendshapes.dtype == np.float32
    assert 0.0 <= track.blendshapes.min() and track.blendshapes.max() <= 1.0
    assert track.au.shape == (138, len(AU_NAMES)) and track.au_names == AU_NAMES
    assert 0.0 <= track.au.min() and track.au.max() <= 5.0
    assert track.pspi.shape == (138,) and track.pspi.dtype == np.float32
    assert 0.0 <= track.pspi.min() and track.pspi.max() <= 16.0
    assert track.valid.all() and track.landmarks is None
    assert (track.label, track.source, track.subject) == (level, "procedural", "proc-007")
    for array in (track.blendshapes, track.head_rotation, track.head_translation, track.au, track.pspi):
        assert np.isfinite(array).all()


def test_length_and_frame_rate_are_configurable():
    track = make_track(2, seed=1, n_frames=8, fps=30.0)
    assert track.n_frames == 8 and track.fps == 30.0
    assert track.au.shape == (8, len(AU_NAMES)) and track.pspi.shape == (8,)


def test_head_pose_is_a_few_degrees_relative_to_the_median(tracks_by_level):
    tracks = [track for level in LEVELS for track in tracks_by_level[level]]
    for track in tracks:
        assert np.abs(track.head_rotation).max() < 0.2
        assert np.abs(track.head_translation).max() < 0.02  # metres
        np.testing.assert_allclose(np.median(track.head_rotation, axis=0), 0.0, atol=1e-6)
        np.testing.assert_allclose(np.median(track.head_translation, axis=0), 0.0, atol=1e-6)
    moving = [np.abs(track.head_rotation).max() > math.radians(0.5) for track in tracks]
    assert np.mean(moving) > 0.8


def test_same_arguments_give_identical_tracks():
    first = make_track(3, seed=11, n_frames=60, fps=30.0, performer="proc-001")
    second = make_track(3, seed=11, n_frames=60, fps=30.0, performer="proc-001")
    for name in ("blendshapes", "head_rotation", "head_translation", "au", "pspi"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


@pytest.mark.parametrize("other", [{"seed": 12}, {"performer": "proc-002"}])
def test_another_seed_or_performer_gives_another_track(other):
    arguments = {"level": 3, "seed": 11, "performer": "proc-001"}
    first = make_track(**arguments)
    second = make_track(**{**arguments, **other})
    assert not np.array_equal(first.blendshapes, second.blendshapes)
    assert not np.array_equal(first.head_rotation, second.head_rotation)


def test_mean_pspi_rises_with_level(tracks_by_level):
    mean_pspi = [np.mean([track.pspi.mean() for track in tracks_by_level[level]]) for level in LEVELS]
    assert all(low < high for low, high in zip(mean_pspi, mean_pspi[1:])), mean_pspi
    assert mean_pspi[4] > mean_pspi[0] + 3.0


def test_pain_episodes_grow_longer_with_level(tracks_by_level):
    frames_in_pain = [np.mean([(au(track, "AU4") > 0.5).sum() for track in tracks_by_level[level]])
                      for level in LEVELS]
    assert frames_in_pain[0] == 0
    assert all(low < high for low, high in zip(frames_in_pain, frames_in_pain[1:])), frames_in_pain


def test_pain_episodes_grow_likelier_with_level(tracks_by_level):
    without_pain = [np.mean([au(track, "AU4").max() == 0.0 for track in tracks_by_level[level]])
                    for level in LEVELS]
    assert without_pain[0] == 1.0
    assert 0.2 < without_pain[1] < 0.8  # PA1 sits at the pain threshold: many faces stay calm
    assert without_pain[4] == 0.0


def test_level_zero_shows_no_pain_action_units(tracks_by_level):
    for track in tracks_by_level[0]:
        for name in ("AU4", "AU9", "AU10"):
            assert au(track, name).max() == 0.0
        assert column(track, "browDownLeft").max() == 0.0
    strong_brow_lowering = [au(track, "AU4").max() > 1.5 for track in tracks_by_level[4]]
    assert np.mean(strong_brow_lowering) > 0.9


def test_pain_has_a_smooth_onset_at_a_random_time(tracks_by_level):
    onsets = []
    for track in tracks_by_level[4]:
        brow = au(track, "AU4")
        assert brow[0] == 0.0
        # An eased rise of at least 0.3 s, never a jump.
        assert np.abs(np.diff(brow)).max() < 0.35 * brow.max()
        onsets.append(np.argmax(brow > 0.1) / track.fps)
    assert np.ptp(onsets) > 1.0


def test_pain_is_asymmetric_between_left_and_right(tracks_by_level):
    gaps = [np.abs(column(t, "browDownLeft") - column(t, "browDownRight")).max()
            for t in tracks_by_level[4]]
    assert np.mean(np.array(gaps) > 0.05) > 0.5


def test_non_pain_expressions_occur_at_level_zero(tracks_by_level):
    tracks = tracks_by_level[0]
    mouth_moves = [max(column(t, "jawOpen").max(), column(t, "mouthSmileLeft").max()) > 0.2
                   for t in tracks]
    smiles = [column(t, "mouthSmileLeft").max() > 0.2 for t in tracks]
    brows_raise = [column(t, "browInnerUp").max() > 0.2 for t in tracks]
    assert 0.2 < np.mean(mouth_moves) < 1.0
    assert np.mean(smiles) > 0.1
    assert np.mean(brows_raise) > 0.1


def test_non_pain_behaviour_is_the_same_at_every_level():
    unlabelled = [BLENDSHAPE_INDEX[name] for name in ARKIT_BLENDSHAPES
                  if name.startswith(("eyeLook", "browInnerUp", "browOuterUp", "mouthFunnel", "mouthPucker"))]
    for seed in range(5):
        calm, pained = make_track(0, seed), make_track(4, seed)
        np.testing.assert_array_equal(calm.head_rotation, pained.head_rotation)
        np.testing.assert_array_equal(calm.head_translation, pained.head_translation)
        np.testing.assert_array_equal(calm.blendshapes[:, unlabelled], pained.blendshapes[:, unlabelled])
        np.testing.assert_array_equal(au(calm, "AU45"), au(pained, "AU45"))


def test_every_clip_blinks_briefly_and_shifts_gaze(tracks_by_level):
    tracks = tracks_by_level[0]
    blinked = [column(t, "eyeBlinkLeft").max() > 0.5 for t in tracks]
    assert np.mean(blinked) > 0.8
    for track in tracks:
        closed = np.concatenate([[0], au(track, "AU45") > 0.5, [0]]).astype(int)
        starts, ends = np.flatnonzero(np.diff(closed) == 1), np.flatnonzero(np.diff(closed) == -1)
        assert ((ends - starts) / track.fps).max(initial=0.0) <= 0.3
        gaze = track.blendshapes[:, [BLENDSHAPE_INDEX["eyeLookInLeft"], BLENDSHAPE_INDEX["eyeLookOutLeft"]]]
        assert np.ptp(gaze) > 0.0


def test_blinks_are_coded_as_au45_and_leave_pspi_alone(tracks_by_level):
    for track in tracks_by_level[0]:
        assert au(track, "AU43").max() == 0.0
    blinking = np.concatenate([au(t, "AU45") for t in tracks_by_level[0]])
    assert blinking.max() > 4.0


def test_track_pspi_is_the_formula_applied_to_its_au(tracks_by_level):
    for level in LEVELS:
        for track in tracks_by_level[level][:10]:
            np.testing.assert_allclose(track.pspi, reference_pspi(track.au), atol=1e-5)


def test_pspi_scores_eye_closure_as_present_or_absent():
    frames = np.zeros((3, len(AU_NAMES)), dtype=np.float32)
    frames[:, AU_INDEX["AU4"]] = 2.0
    frames[:, AU_INDEX["AU6"]] = 1.0
    frames[:, AU_INDEX["AU7"]] = 3.0
    frames[:, AU_INDEX["AU9"]] = 0.5
    frames[:, AU_INDEX["AU10"]] = 2.0
    frames[:, AU_INDEX["AU12"]] = 5.0  # not part of PSPI
    frames[:, AU_INDEX["AU43"]] = [0.0, 1.0, 5.0]
    np.testing.assert_allclose(pspi_from_au(frames), [7.0, 7.0, 8.0])
    assert pspi_from_au(np.full((1, len(AU_NAMES)), 5.0)).item() == 16.0


def test_pspi_rejects_arrays_it_cannot_read():
    with pytest.raises(ValueError, match="au must be"):
        pspi_from_au(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="AU43"):
        pspi_from_au(np.zeros((4, 4)), au_names=("AU4", "AU6", "AU7", "AU9"))


def test_mapping_table_covers_every_au_with_arkit_blendshapes():
    assert set(AU_TO_BLENDSHAPES) == set(AU_NAMES)
    for weights in AU_TO_BLENDSHAPES.values():
        assert weights and set(weights) <= set(ARKIT_BLENDSHAPES)
        assert all(0.0 < weight <= 1.0 for weight in weights.values())


def test_blendshapes_follow_the_coded_aus_through_the_mapping(tracks_by_level):
    # The coded AU is its stronger side, so the stronger of each blendshape pair shows at least
    # that AU's share.
    for level in (0, 2, 4):
        for track in tracks_by_level[level][:10]:
            for name, weights in AU_TO_BLENDSHAPES.items():
                for blendshape, weight in weights.items():
                    shown = np.maximum(column(track, blendshape), column(track, mirror(blendshape)))
                    expected = np.minimum(1.0, weight * au(track, name) / 5.0)
                    assert (shown >= expected - 1e-5).all(), (name, blendshape)


def test_save_load_round_trip_keeps_labels(tmp_path):
    track = make_track(4, seed=5, performer="proc-003")
    loaded = MotionTrack.load(track.save(tmp_path / "clip.npz"))
    np.testing.assert_array_equal(loaded.au, track.au)
    np.testing.assert_array_equal(loaded.pspi, track.pspi)
    np.testing.assert_array_equal(loaded.blendshapes, track.blendshapes)
    assert (loaded.label, loaded.au_names, loaded.subject, loaded.source) == (
        4, AU_NAMES, "proc-003", "procedural")


@pytest.mark.parametrize("arguments, message", [
    ({"level": -1}, "level"),
    ({"level": 5}, "level"),
    ({"level": 2.5}, "level"),
    ({"seed": -1}, "seed"),
    ({"n_frames": 7}, "n_frames"),
    ({"fps": 0.0}, "fps"),
    ({"fps": -25.0}, "fps"),
    ({"fps": float("nan")}, "fps"),
])
def test_bad_arguments_raise_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        make_track(**{"level": 1, "seed": 0, **arguments})


def test_balanced_levels_gives_equal_counts():
    levels = balanced_levels(25)
    assert Counter(levels) == {level: 5 for level in LEVELS}
    assert levels[:6] == [0, 1, 2, 3, 4, 0]
    assert sorted(Counter(balanced_levels(7, n_levels=3)).values()) == [2, 2, 3]
    with pytest.raises(ValueError):
        balanced_levels(-1)


def test_clips_of_one_performer_share_a_style():
    assert performer_style("proc-007") == performer_style("proc-007")
    styles = {name: performer_style(name) for name in (f"proc-{i:03d}" for i in range(20))}
    calm = min(styles, key=lambda name: styles[name].head_sway)
    restless = max(styles, key=lambda name: styles[name].head_sway)
    assert styles[restless].head_sway > styles[calm].head_sway + 0.2

    def sway(performer):
        return np.mean([np.abs(make_track(0, seed, performer=performer).head_rotation).mean()
                        for seed in range(20)])

    # Clip-to-clip variation averages out over 20 clips; the performers' gains differ by > 1.7x.
    assert sway(restless) > 1.4 * sway(calm)

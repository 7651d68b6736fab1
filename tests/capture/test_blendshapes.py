import dataclasses

import numpy as np
import pytest
from conftest import face_units, render_front_clip

from painsynth.avatars import sample_avatars
from painsynth.capture.blendshapes import NET_LANDMARKS, blendshape_net, frontal_points
from painsynth.capture.landmarks import FaceTracker
from painsynth.capture.mirror import mirror_partners, unmirror
from painsynth.capture.model import packaged_model
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, other_side

SIZE = 224


def _rotation(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    return np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @ np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])


def test_turning_back_undoes_the_head_turn():
    rng = np.random.default_rng(0)
    face = rng.normal(size=(478, 3)) * [40.0, 50.0, 30.0]  # camera axes: x right, y up, z towards the viewer
    rotation = _rotation(0.6, -0.2)
    size = (320, 240)

    def as_landmarks(points):  # -> normalised image coordinates (y down, z away, z on x's scale)
        return (points * [1, -1, -1] + [160, 120, 0]) / [size[0], size[1], size[0]]

    matrix = np.eye(4)
    matrix[:3, :3] = 1.7 * rotation  # MediaPipe's matrix may carry a scale: only its rotation counts
    seen = frontal_points(as_landmarks(face @ rotation.T), matrix, size)
    front = frontal_points(as_landmarks(face), np.eye(4), size)
    np.testing.assert_allclose(seen, front, atol=1e-3)
    expected = face[NET_LANDMARKS, :2] * [1, -1]
    np.testing.assert_allclose(front, expected - expected.mean(axis=0), atol=1e-3)


@pytest.fixture(scope="module")
def faces(rig):
    """Two avatars, neutral, seen from the front and with the head turned about 30 degrees."""
    units = np.repeat(face_units(), 2, axis=0)
    turns = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.55]], np.float32)
    return [render_front_clip(rig, dataclasses.replace(spec, glasses="none"), units, turns, SIZE, seed=seed)
            for seed, spec in enumerate(sample_avatars(2, 1))]


def test_the_net_reads_mediapipe_own_scores_from_its_landmarks(faces):
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from painsynth.capture.landmarks import create_landmarker

    options = vision.FaceLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(packaged_model())),
                                           running_mode=vision.RunningMode.IMAGE, num_faces=1,
                                           output_face_blendshapes=True)
    net = blendshape_net(packaged_model())
    with create_landmarker(options) as landmarker:
        for image in (faces[0][1], faces[1][0]):
            found = landmarker.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
            own = {c.category_name: c.score for c in found.face_blendshapes[0]}
            landmarks = np.array([(p.x, p.y, p.z) for p in found.face_landmarks[0]])
            read = net.scores(frontal_points(landmarks, np.eye(4), (SIZE, SIZE)))  # one way, no turn: as seen
            np.testing.assert_allclose(read, [own.get(name, 0.0) for name in ARKIT_BLENDSHAPES], atol=1e-4)


def test_the_tracker_reads_the_face_turned_back(faces):
    """Capture's scores are the net's reading of the face turned to the front, not of the face as seen."""
    net = blendshape_net(packaged_model())
    for frames in faces:
        with FaceTracker(packaged_model(), retries=()) as tracker:
            scores, matrix, landmarks = tracker.still(np.ascontiguousarray(frames[1]))
        np.testing.assert_allclose(scores, net.frontal_scores(landmarks, matrix, (SIZE, SIZE)), atol=1e-6)
        as_seen = net.frontal_scores(landmarks, np.eye(4), (SIZE, SIZE))
        assert np.abs(scores - as_seen).max() > 0.05


def test_each_face_is_read_both_ways_and_its_mirror_image_reads_as_its_sides_swapped(faces):
    """The scores are the mean of the net's reading of the face and of its mirror image's (sides swapped back),
    so a mirrored frame reads as the frame with left and right exchanged, exactly."""
    net = blendshape_net(packaged_model())
    swap = [BLENDSHAPE_INDEX[other_side(name)] for name in ARKIT_BLENDSHAPES]
    with FaceTracker(packaged_model(), retries=()) as tracker:
        _, matrix, landmarks = tracker.still(np.ascontiguousarray(faces[1][1]))  # turned ~30 degrees
    mirrored_matrix, mirrored = unmirror(matrix, landmarks, mirror_partners())  # the mirror image's face
    one_way = net.scores(frontal_points(landmarks, matrix, (SIZE, SIZE)))
    other_way = net.scores(frontal_points(mirrored, mirrored_matrix, (SIZE, SIZE)))[swap]
    both = net.frontal_scores(landmarks, matrix, (SIZE, SIZE))
    np.testing.assert_allclose(both, (one_way + other_way) / 2, atol=1e-5)
    np.testing.assert_allclose(net.frontal_scores(mirrored, mirrored_matrix, (SIZE, SIZE))[swap], both, atol=1e-5)
    assert np.abs(one_way - other_way).max() > 0.01  # the net alone reads a face and its mirror image apart

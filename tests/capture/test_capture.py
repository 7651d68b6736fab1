"""Capture (direct method): MediaPipe Face Landmarker on rendered anny clips with known motion."""

import json
import shutil
import threading

import av
import numpy as np
import pytest
from conftest import render_front_clip
from typer.testing import CliRunner

from painsynth.capture import (
    MODEL_SHA256,
    CaptureError,
    CaptureSettings,
    InputError,
    ModelError,
    capture,
    collect_inputs,
    head_pose,
    packaged_model,
    verified_model,
)
from painsynth.capture.blendshapes import blendshape_net
from painsynth.capture.decode import _frame_rotation, iter_frames, prefetch
from painsynth.capture.landmarks import RETRIES, SETTLE_READS, FaceTracker, create_landmarker
from painsynth.capture.mirror import mirror_partners, unmirror
from painsynth.capture.observe import fill_invalid, output_times
from painsynth.capture.retarget.direct import direct_retarget
from painsynth.capture.retarget.gaze import conjugate_gaze, left_eye_share
from painsynth.sources import parse_label, parse_name
from painsynth.cli import app
from painsynth.fileio import sha256_of
from painsynth.tracks import BLENDSHAPE_INDEX, MotionTrack
from painsynth.video import write_video

T, SIZE = 24, 224
BLANKED = [10, 11, 12]


def _truth():
    bump = np.sin(np.linspace(0, np.pi, T)) ** 2
    blendshapes = np.zeros((T, 52), np.float32)
    blendshapes[:, BLENDSHAPE_INDEX["jawOpen"]] = 0.8 * bump
    blendshapes[:, BLENDSHAPE_INDEX["eyeBlinkLeft"]] = blendshapes[:, BLENDSHAPE_INDEX["eyeBlinkRight"]] = np.roll(bump, 8)
    blendshapes[:, BLENDSHAPE_INDEX["browDownLeft"]] = blendshapes[:, BLENDSHAPE_INDEX["browDownRight"]] = np.roll(bump, 16)
    rotation = np.zeros((T, 3), np.float32)
    rotation[:, 2] = np.linspace(-0.4, 0.4, T)  # yaw: the nose sweeps from the subject's right to their left
    return blendshapes, rotation


@pytest.fixture(scope="module")
def clip(rig, tmp_path_factory):
    """A rendered 24-frame 224x224 clip with known jaw, blink, brow and yaw; plus its truth."""
    from painsynth.avatars import sample_avatars

    blendshapes, rotation = _truth()
    frames = render_front_clip(rig, sample_avatars(1, 0)[0], blendshapes, rotation, SIZE, seed=0)
    folder = tmp_path_factory.mktemp("videos")
    return {"frames": frames, "blendshapes": blendshapes, "rotation": rotation, "folder": folder,
            "path": write_video(folder / "S001-PA3-007.mp4", frames, 25)}


@pytest.fixture(scope="module")
def captured(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("motions")
    summary = capture(clip["path"], out)
    assert (summary.tracked, summary.failed) == (1, 0), summary.errors
    return MotionTrack.load(out / "S001-PA3-007.npz"), summary


def _corr(a, b):
    return float(np.corrcoef(a, b)[0, 1])


def test_captured_track_follows_the_rendered_motion(clip, captured):
    track, summary = captured
    truth = clip["blendshapes"]
    assert track.source == "captured" and track.fps == 25 and track.n_frames == T
    assert (track.label, track.subject) == (3, "S001")  # from the BioVid name
    assert track.valid.all() and track.landmarks.shape == (T, 478, 3)
    assert track.blendshapes.min() >= 0 and track.blendshapes.max() <= 1
    for unit in ("jawOpen", "eyeBlinkLeft", "eyeBlinkRight"):
        i = BLENDSHAPE_INDEX[unit]
        assert _corr(track.blendshapes[:, i], truth[:, i]) > 0.85, unit
        # the direct copy keeps a usable range; MediaPipe's own scale depends on the face's
        # proportions (jawOpen 0.8 read as 0.35-0.60 on one identity as its face shape varied)
        assert track.blendshapes[:, i].max() > 0.3, unit
    # MediaPipe sees anny's brow lowering only faintly (raw scores < 0.01) but in step with the truth.
    brow = BLENDSHAPE_INDEX["browDownLeft"]
    assert _corr(track.extra["mediapipe_blendshapes"][:, brow], truth[:, brow]) > 0.5
    # Yaw: sign and rough size recovered about anny's z; little spurious pitch or roll.
    yaw = track.head_rotation[:, 2]
    assert _corr(yaw, clip["rotation"][:, 2]) > 0.98
    assert 0.6 < np.ptp(yaw) / np.ptp(clip["rotation"][:, 2]) < 1.4
    assert np.abs(track.head_rotation[:, :2]).max() < 0.1
    assert abs(np.median(yaw)) < 0.02  # relative to the median pose
    raw = track.extra["mediapipe_blendshapes"]
    assert raw.shape == (T, 52) and summary.frames == T


def test_blank_frames_are_invalid_and_interpolated(clip, captured, tmp_path):
    frames = clip["frames"].copy()
    frames[BLANKED] = 128  # plain grey: no face
    path = write_video(tmp_path / "blanked.mp4", frames, 25)
    summary = capture(path, tmp_path / "out")
    assert summary.tracked == 1, summary.errors
    track = MotionTrack.load(tmp_path / "out" / "blanked.npz")
    assert list(np.flatnonzero(~track.valid)) == BLANKED
    before, after = BLANKED[0] - 1, BLANKED[-1] + 1
    for series in (track.head_rotation[:, 2], track.extra["mediapipe_blendshapes"][:, BLENDSHAPE_INDEX["jawOpen"]]):
        expected = np.interp(BLANKED, [before, after], [series[before], series[after]])
        np.testing.assert_allclose(series[BLANKED], expected, atol=1e-4)
    # too many blank frames for the default --min-valid 0.8: rejected with the reason
    assert capture(path, tmp_path / "strict", settings=CaptureSettings(min_valid=0.9)).failed == 1
    assert not list((tmp_path / "strict").glob("*.npz"))
    assert "face found in 88% of 24 frames" in (tmp_path / "strict" / "errors.jsonl").read_text()


def test_other_frame_rates_are_resampled_to_the_track_fps(clip, tmp_path):
    path = write_video(tmp_path / "slow.mp4", clip["frames"], 12.5)
    assert capture(path, tmp_path / "out").tracked == 1
    track = MotionTrack.load(tmp_path / "out" / "slow.npz")
    assert track.fps == 25 and track.n_frames == 2 * T - 1
    jaw = BLENDSHAPE_INDEX["jawOpen"]
    truth = np.interp(np.arange(2 * T - 1) / 2, np.arange(T), clip["blendshapes"][:, jaw])
    assert _corr(track.blendshapes[:, jaw], truth) > 0.85


def test_rerun_skips_finished_tracks_and_redoes_broken_ones(clip, tmp_path):
    out = tmp_path / "out"
    assert capture(clip["path"], out).tracked == 1
    done = out / "S001-PA3-007.npz"
    stamp = done.stat().st_mtime_ns
    again = capture(clip["path"], out)
    assert (again.tracked, again.skipped, again.failed) == (0, 1, 0)
    assert done.stat().st_mtime_ns == stamp
    done.write_bytes(b"broken")
    assert capture(clip["path"], out).tracked == 1
    assert MotionTrack.load(done).n_frames == T


def _errors(out):
    return [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]


def _mp4(path, frames, **options):
    """An mp4 written with PyAV directly: no frames at all, or the index first (``movflags=faststart``)."""
    with av.open(str(path), "w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = frames.shape[1:3] if len(frames) else (64, 64)
        stream.pix_fmt = "yuv420p"
        container.start_encoding()
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))


def test_bad_inputs_are_logged_and_the_run_goes_on(clip, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(clip["path"], videos / "good.mp4")
    (videos / "text.mp4").write_text("not a video")
    _mp4(tmp_path / "whole.mp4", clip["frames"], movflags="faststart")  # readable when cut short
    data = (tmp_path / "whole.mp4").read_bytes()
    (videos / "truncated.mp4").write_bytes(data[: len(data) // 2])
    _mp4(videos / "empty.mp4", np.zeros((0, 64, 64, 3), np.uint8))
    write_video(videos / "noface.mp4", np.full((8, 64, 64, 3), 90, np.uint8), 25)
    out = tmp_path / "out"
    summary = capture(videos, out)
    assert (summary.tracked, summary.failed) == (1, 4)
    assert sorted(p.name for p in out.iterdir()) == ["errors.jsonl", "good.npz", "neutrals"]  # nothing partial
    reasons = {e["file"].rsplit("/", 1)[1]: e["error"] for e in _errors(out) if e["kind"] == "error"}
    assert set(reasons) == {"text.mp4", "truncated.mp4", "empty.mp4", "noface.mp4"}
    # the two clips landmarked sit straight in the folder given, so they are taken as one person, with a warning
    assert [e["file"] for e in _errors(out) if e["kind"] == "warning"] == ["videos"]
    assert "not a readable video" in reasons["text.mp4"]
    assert "truncated" in reasons["truncated.mp4"] and "frames" in reasons["truncated.mp4"]
    assert "no video stream" in reasons["empty.mp4"] or "no frames" in reasons["empty.mp4"]
    assert "face found in 0% of 8 frames" in reasons["noface.mp4"]
    for name, reason in reasons.items():
        assert name in reason and "\n" not in reason


def test_csv_inputs_labels_and_errors(clip, tmp_path):
    shutil.copy(clip["path"], tmp_path / "a.mp4")
    (tmp_path / "list.csv").write_text("path,label,subject\na.mp4,PA2,p7\nmissing.mp4,0,p8\na.mp4,9,p9\n")
    entries = collect_inputs(tmp_path / "list.csv")
    assert (entries[0].path, entries[0].label, entries[0].subject) == (tmp_path / "a.mp4", 2, "p7")
    assert "unknown label '9'" in entries[2].error and "line 4" in entries[2].error
    summary = capture(tmp_path / "list.csv", tmp_path / "out")
    assert (summary.tracked, summary.failed) == (1, 2)
    track = MotionTrack.load(tmp_path / "out" / "a.npz")
    assert (track.label, track.subject) == (2, "p7")
    errors = " | ".join(e["error"] for e in _errors(tmp_path / "out"))
    assert "missing.mp4: no such file" in errors and "unknown label '9'" in errors
    (tmp_path / "bad.csv").write_text("file,label\na.mp4,1\n")
    with pytest.raises(InputError, match="bad.csv: CSV lacks column.*path.*subject"):
        collect_inputs(tmp_path / "bad.csv")
    assert capture(tmp_path / "bad.csv", tmp_path / "out2").failed == 1
    assert "CSV lacks column" in _errors(tmp_path / "out2")[0]["error"]


def test_biovid_names_and_labels():
    assert parse_name("video/071309_w_21/071309_w_21-PA4-031.mp4") == (4, "071309_w_21")
    assert parse_name("video/071309_w_21/071309_w_21-BL1-001.mp4") == (0, "071309_w_21")
    assert parse_name("clips/alice/take1.mp4") == (-1, "alice")
    assert parse_name("x/S1-PA5-001.mp4") == (-1, "x")  # PA5 is no BioVid class
    assert [parse_label(t) for t in ("BL1", "pa3", "4", "-1")] == [0, 3, 4, -1]
    with pytest.raises(ValueError, match="unknown label 'PA9'"):
        parse_label("PA9")


def test_model_is_found_verified_and_a_bad_copy_refused(clip, tmp_path):
    model = packaged_model()
    assert verified_model() == model and sha256_of(model) == MODEL_SHA256
    bad = tmp_path / "face_landmarker.task"
    data = bytearray(model.read_bytes())
    data[1000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="face_landmarker.task: face landmarker model has SHA-256"):
        verified_model(bad)
    summary = capture(clip["path"], tmp_path / "out", model=bad)
    assert summary.failed == 1 and not list((tmp_path / "out").glob("*.npz"))
    assert str(bad) in _errors(tmp_path / "out")[0]["error"]
    with pytest.raises(ModelError, match="not found"):
        verified_model(tmp_path / "nothing.task")


def test_cli_capture_exit_status_and_summary(clip, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["capture", str(clip["path"]), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "tracks written" in result.output and (tmp_path / "out" / "S001-PA3-007.npz").exists()
    result = runner.invoke(app, ["capture", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "nowhere: no such file or folder" in result.output
    result = runner.invoke(app, ["capture", str(clip["path"]), "--min-valid", "1.5"])
    assert result.exit_code == 2 and "min-valid must be in [0, 1]" in result.output
    result = runner.invoke(app, ["capture", str(clip["path"]), "--workers", "0"])
    assert result.exit_code == 2 and "workers must be an integer >= 1" in result.output


def _arrays(path):
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def test_two_workers_write_the_same_tracks_and_errors_as_one(clip, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(clip["path"], videos / "a.mp4")
    write_video(videos / "b.mp4", clip["frames"][::-1], 25)  # the motion backwards
    write_video(videos / "noface.mp4", np.full((8, 64, 64, 3), 90, np.uint8), 25)
    (videos / "text.mp4").write_text("not a video")
    serial = capture(videos, tmp_path / "one", workers=1)
    result = CliRunner().invoke(app, ["capture", str(videos), "--out", str(tmp_path / "two"), "--workers", "2"])
    assert result.exit_code == 1 and "capturing clips" in result.output  # progress bar; 2 inputs failed
    assert (serial.tracked, serial.failed) == (2, 2)
    for name in ("a.npz", "b.npz"):
        one, two = _arrays(tmp_path / "one" / name), _arrays(tmp_path / "two" / name)
        assert one.keys() == two.keys() and "landmarks" in one
        for key in one:
            np.testing.assert_array_equal(one[key], two[key], err_msg=f"{name}: {key}")
    assert not np.array_equal(_arrays(tmp_path / "one" / "a.npz")["blendshapes"],
                              _arrays(tmp_path / "one" / "b.npz")["blendshapes"])
    logged = [[(e["kind"], e["file"], e["error"]) for e in _errors(tmp_path / out)] for out in ("one", "two")]
    # two failures, and the warning that the folder's clips are taken as one person
    assert logged[0] == logged[1] and sorted(kind for kind, _, _ in logged[0]) == ["error", "error", "warning"]
    again = capture(videos, tmp_path / "two", workers=2)  # finished tracks are skipped
    assert (again.tracked, again.skipped, again.failed) == (0, 2, 2)


def test_a_crash_while_saving_leaves_no_partial_track(clip, tmp_path, monkeypatch):
    def crash(file, **arrays):
        file.write(b"half a track")
        raise RuntimeError("disk vanished")

    monkeypatch.setattr("painsynth.tracks.np.savez_compressed", crash)
    with pytest.raises(RuntimeError, match="disk vanished"):  # not an input failure: the run stops
        capture(clip["path"], tmp_path / "out")
    out = tmp_path / "out"
    assert list(out.glob("*.npz")) == [] and not any(".partial" in p.name for p in out.rglob("*"))
    # the finished steps are kept: the landmarking set aside and the subject's neutral face
    assert len(list((out / ".landmarks").glob("*.npz"))) == 1 and len(list((out / "neutrals").glob("*.neutral.npz"))) == 1
    monkeypatch.undo()
    again = capture(clip["path"], out)
    assert again.tracked == 1 and again.frames == 0  # resumed from the landmarking set aside
    assert not (out / ".landmarks").exists()


def _rotated_mp4(path, frames, degrees):
    """An mp4 storing ``frames`` turned clockwise by ``degrees``, with a display matrix that turns them back."""
    stored = np.rot90(frames, -degrees // 90, axes=(1, 2))
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = stored.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.set_display_rotation(degrees)  # counter-clockwise, as FFmpeg's display matrix
        for frame in stored:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotation_metadata_turns_frames_upright(clip, tmp_path, degrees):
    frames = clip["frames"][:4, :, :160]  # not square: a missed turn also changes the shape
    path = _rotated_mp4(tmp_path / "turned.mp4", frames, degrees)
    with av.open(str(path)) as container:
        assert next(container.decode(video=0)).rotation % 360 == degrees  # FFmpeg reads the matrix back
    decoded = np.stack([image for _, image in iter_frames(path)])
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames).mean() < 4  # codec noise only


def test_a_rotated_phone_video_is_captured_upright(clip, tmp_path):
    path = _rotated_mp4(tmp_path / "phone.mp4", clip["frames"], 90)
    assert capture(path, tmp_path / "out").tracked == 1
    track = MotionTrack.load(tmp_path / "out" / "phone.npz")
    assert track.valid.all()
    jaw = BLENDSHAPE_INDEX["jawOpen"]
    assert _corr(track.blendshapes[:, jaw], clip["blendshapes"][:, jaw]) > 0.85
    assert _corr(track.head_rotation[:, 2], clip["rotation"][:, 2]) > 0.98  # yaw, not roll: upright


def test_legacy_rotate_tag_is_clockwise(clip, tmp_path):
    with av.open(str(clip["path"])) as container:
        frame = next(container.decode(video=0))  # no display matrix
    assert _frame_rotation(frame, 90) == -90 and _frame_rotation(frame, 0) == 0


def test_raw_results_equal_mediapipes_result_objects(clip):
    frames = list(clip["frames"][:6]) + [np.full_like(clip["frames"][0], 128)]  # the last has no face
    outputs = []
    for raw in (True, False):
        with FaceTracker(packaged_model(), raw_results=raw) as tracker:
            assert tracker._raw is raw  # the pinned mediapipe has the C result struct
            outputs.append([tracker.track(i / 25, frame) for i, frame in enumerate(frames)])
    fast, slow = outputs
    assert fast[-1] is None and slow[-1] is None
    for a, b in zip(fast[:-1], slow[:-1]):
        for x, y in zip(a, b):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("settle_reads", [SETTLE_READS, 0])
def test_a_newly_found_face_is_read_where_its_landmarks_settle(clip, monkeypatch, settle_reads):
    """A still face, found at the start and again after a frame without one: its first landmarks lie
    where the later frames' settle, not where MediaPipe's detector box first put them."""
    monkeypatch.setattr("painsynth.capture.landmarks.SETTLE_READS", settle_reads)
    still = clip["frames"][0]
    frames = [still] * 8 + [np.full_like(still, 128)] + [still] * 8
    with FaceTracker(packaged_model()) as tracker:
        found = [tracker.track(i / 25, frame) for i, frame in enumerate(frames)]
    assert found[8] is None
    moved = [np.abs(found[first][2] - found[first + 7][2]).max() * SIZE for first in (0, 9)]
    if settle_reads:
        assert max(moved) < 0.7, moved  # measured 0.2 px
    else:  # the unsettled first read, which the settling reads remove
        assert min(moved) > 1.0, moved  # measured 1.4 px


def test_still_images_read_in_turn_read_as_each_alone(clip):
    """One tracker reading different still images in turn (the capture assets' renders) reads each as a
    fresh tracker reads it alone: nothing of the image before carries over."""
    first, other = clip["frames"][0], clip["frames"][12]  # another head turn, brows and blink
    with FaceTracker(packaged_model()) as tracker:
        in_turn = [tracker.still(first)[2], tracker.still(other)[2]]
    with FaceTracker(packaged_model()) as tracker:
        alone = tracker.still(other)[2]
    assert np.abs(in_turn[1] - in_turn[0]).max() * SIZE > 5  # the two images differ
    assert np.abs(in_turn[1] - alone).max() * SIZE < 0.05  # measured 0 (1.4 px without the blank frame)


def test_prefetch_passes_errors_on_and_stops_its_thread(clip):
    closed = threading.Event()

    def items():
        try:
            yield from range(3)
            raise CaptureError("broken after 3")
        finally:
            closed.set()

    seen = []
    with pytest.raises(CaptureError, match="broken after 3"):
        seen.extend(prefetch(items(), depth=1))
    assert seen == [0, 1, 2] and closed.is_set()
    frames = prefetch(iter_frames(clip["path"]), depth=2)
    next(frames)
    frames.close()  # the consumer stops early: the decoding thread ends and closes the container
    assert not [t for t in threading.enumerate() if t.name.startswith("prefetch")]


def test_direct_weights_are_smoothed_over_time_but_the_blinks():
    rng = np.random.default_rng(0)
    t = np.arange(60)
    smile = 0.5 + 0.3 * np.sin(t / 8)
    blink = np.zeros(60)
    blink[30:33] = 0.9
    scores = np.zeros((60, 52))
    scores[:, BLENDSHAPE_INDEX["mouthSmileLeft"]] = smile + rng.normal(0, 0.05, 60)
    scores[:, BLENDSHAPE_INDEX["eyeBlinkLeft"]] = blink
    weights = direct_retarget(scores, np.ones(60, bool), neutral=np.zeros(52))
    read = weights[:, BLENDSHAPE_INDEX["mouthSmileLeft"]]
    jitter = np.abs(scores[:, BLENDSHAPE_INDEX["mouthSmileLeft"]] - smile).mean()
    assert np.abs(read - smile).mean() < 0.85 * jitter  # 0.76 here; 1.0 unsmoothed
    np.testing.assert_allclose(weights[:, BLENDSHAPE_INDEX["eyeBlinkLeft"]], blink, atol=1e-6)  # kept as read


def test_gaze_is_read_as_one_direction_for_both_eyes_the_near_eye_weighted_more():
    weights = np.zeros((3, 52), np.float32)
    weights[:, BLENDSHAPE_INDEX["eyeLookDownLeft"]] = 0.6
    weights[:, BLENDSHAPE_INDEX["eyeLookDownRight"]] = 0.2
    weights[:, BLENDSHAPE_INDEX["eyeLookOutLeft"]] = 0.5  # both eyes towards the subject's left ...
    weights[:, BLENDSHAPE_INDEX["eyeLookInRight"]] = 0.3
    weights[:, BLENDSHAPE_INDEX["eyeLookOutRight"]] = 0.7  # ... but the right eye also read as looking right
    weights[:, BLENDSHAPE_INDEX["mouthSmileLeft"]] = 0.9
    share = left_eye_share(np.array([0.0, 0.5, -0.25]))  # frontal; left eye near; right eye a little nearer
    np.testing.assert_allclose(share, [0.5, 1.0, 0.25])
    gaze = conjugate_gaze(weights, share)
    for left, right in (("eyeLookDownLeft", "eyeLookDownRight"), ("eyeLookUpLeft", "eyeLookUpRight"),
                        ("eyeLookOutLeft", "eyeLookInRight"), ("eyeLookInLeft", "eyeLookOutRight")):
        np.testing.assert_array_equal(gaze[:, BLENDSHAPE_INDEX[left]], gaze[:, BLENDSHAPE_INDEX[right]])
    np.testing.assert_allclose(gaze[:, BLENDSHAPE_INDEX["eyeLookDownLeft"]], [0.4, 0.6, 0.3], atol=1e-6)
    towards_left = gaze[:, BLENDSHAPE_INDEX["eyeLookOutLeft"]] - gaze[:, BLENDSHAPE_INDEX["eyeLookInLeft"]]
    np.testing.assert_allclose(towards_left, [0.05, 0.5, -0.175], atol=1e-6)  # s (0.5 - 0) + (1 - s) (0.3 - 0.7)
    assert (gaze >= 0).all()
    np.testing.assert_array_equal(gaze[:, BLENDSHAPE_INDEX["mouthSmileLeft"]], np.float32(0.9))  # others untouched


def test_pose_conversion_and_calibration_helpers():
    # MediaPipe: nose turned to the image's right = rotation about its +y; anny: about +z.
    angle = 0.3
    turned = np.eye(4)
    turned[:3, :3] = [[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]]
    turned[:3, 3] = [2.0, 0.0, -40.0]  # cm: 2 cm to the image's right
    matrices = np.stack([np.eye(4), np.eye(4), turned])
    matrices[:2, :3, 3] = [0.0, 0.0, -40.0]
    rotation, translation = head_pose(matrices)
    np.testing.assert_allclose(rotation[2], [0, 0, angle], atol=1e-6)
    np.testing.assert_allclose(rotation[0], 0, atol=1e-6)
    np.testing.assert_allclose(translation[2], [0.02, 0, 0], atol=1e-6)  # metres, anny's +x
    scores = np.array([[0.2, 0.0], [0.2, 0.0], [0.6, 1.0], [1.0, 0.5]])
    retargeted = direct_retarget(scores, np.ones(4, bool))
    np.testing.assert_allclose(retargeted[:, 0], [0, 0, 0.5, 1], atol=1e-6)
    np.testing.assert_allclose(retargeted[:, 1], [0, 0, 1, 0.5], atol=1e-6)
    times = np.arange(5) / 25
    filled = fill_invalid(times, np.array([1.0, 0, 0, 4.0, 0]), np.array([True, False, False, True, False]))
    np.testing.assert_allclose(filled, [1, 2, 3, 4, 4])
    assert len(output_times(np.array([0, 0.5, 1.0]), 25)) == 26


# ---------------------------------------------------------------- mirrored frames

@pytest.fixture(scope="module")
def wink(rig):
    """One 224x224 frame: the subject's left brow down, head turned 0.3 rad."""
    import dataclasses

    from painsynth.avatars import sample_avatars

    blendshapes = np.zeros((1, 52), np.float32)
    blendshapes[0, BLENDSHAPE_INDEX["browDownLeft"]] = 1.0
    rotation = np.array([[0.0, 0.0, 0.3]], np.float32)
    spec = dataclasses.replace(sample_avatars(1, 1)[0], glasses="none")
    return render_front_clip(rig, spec, blendshapes, rotation, SIZE, seed=1)[0]


def test_mirror_map_pairs_each_landmark_with_its_counterpart():
    partner = mirror_partners()
    assert partner is not None and sorted(partner) == list(range(478))
    np.testing.assert_array_equal(partner[partner], np.arange(478))  # mirroring twice is no change
    assert partner[468] == 473 and partner[33] == 263 and partner[133] == 362  # iris centres, eye corners
    assert partner[1] == 1 and partner[152] == 152  # nose tip and chin lie on the midline


def test_a_mirrored_frame_mirrored_back_reads_as_the_frame(wink):
    with FaceTracker(packaged_model()) as tracker:
        direct = tracker.track(0.0, wink)
    with FaceTracker(packaged_model()) as tracker:
        flipped = tracker.track(0.0, np.ascontiguousarray(wink[:, ::-1]))
    assert direct is not None and flipped is not None
    matrix, landmarks = unmirror(*flipped[1:], mirror_partners())
    pixels = np.linalg.norm((landmarks - direct[2])[:, :2], axis=1) * SIZE
    assert np.median(pixels) < 1.5, np.median(pixels)
    scores = blendshape_net(packaged_model()).frontal_scores(landmarks, matrix, (SIZE, SIZE))
    left, right = BLENDSHAPE_INDEX["browDownLeft"], BLENDSHAPE_INDEX["browDownRight"]
    # The lowered brow is the subject's left either way, and the mirrored frame read on its own reads it
    # on the other side. MediaPipe reads the two brows together in part (here left / right, each read
    # where its landmarks settle, landmarks.SETTLE_READS: see the assertion's message).
    for read in (direct[0], scores):
        assert read[left] > read[right] + 0.05, (read[left], read[right])
    assert flipped[0][right] > flipped[0][left] + 0.05, (flipped[0][left], flipped[0][right])
    np.testing.assert_allclose(matrix[:3, :3], direct[1][:3, :3], atol=0.08)  # the same head turn


def test_a_face_missed_in_the_frame_is_found_mirrored(wink):
    with FaceTracker(packaged_model()) as tracker:
        expected = tracker.track(0.0, wink)
    with FaceTracker(packaged_model()) as tracker:
        detect = tracker._detect
        tracker._detect = lambda landmarker, image, stamp: (  # the frame's own landmarker misses
            None if landmarker is tracker._landmarker else detect(landmarker, image, stamp))
        found = tracker.track(0.0, wink)
        assert list(tracker._retries) == [0]  # found at the first retry, mirrored
        assert tracker.track(0.04, np.full_like(wink, 128)) is None  # no face in any retry
        assert len(tracker._retries) == len(RETRIES)
    pixels = np.linalg.norm((found[2] - expected[2])[:, :2], axis=1) * SIZE
    assert np.median(pixels) < 1.5


def test_a_face_missed_in_the_frame_and_mirrored_is_found_brightened(wink):
    with FaceTracker(packaged_model()) as tracker:
        expected = tracker.track(0.0, wink)
    with FaceTracker(packaged_model()) as tracker:
        detect = tracker._detect
        tracker._retries[0] = create_landmarker(tracker._options)
        missing = (tracker._landmarker, tracker._retries[0])
        tracker._detect = lambda landmarker, image, stamp: (  # the frame's and the mirrored retry's miss
            None if landmarker in missing else detect(landmarker, image, stamp))
        found = tracker.track(0.0, wink)
        assert sorted(tracker._retries) == [0, 1]  # found at the second retry: brightened, not mirrored
    pixels = np.linalg.norm((found[2] - expected[2])[:, :2], axis=1) * SIZE
    assert np.median(pixels) < 1.5

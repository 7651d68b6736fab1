import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from fractions import Fraction

import av
import numpy as np
import pytest

from painsynth.fileio import sha256_of
from painsynth.video import H264Writer, VideoError, probe_video, read_frames, read_video, write_video


def numbered_frames(n, height=24, width=32):
    """Noise frames whose index can be read back exactly from a lossless video."""
    frames = np.random.default_rng(0).integers(0, 256, (n, height, width, 3), dtype=np.uint8)
    frames[:, 0, 0, 0] = np.arange(n)
    return frames


def smooth_frames(n, height=48, width=64):
    y, x = np.mgrid[0:height, 0:width]
    frames = [np.stack([x * 3 + t, y * 4, np.full_like(x, 128 + 2 * t)], axis=-1) for t in range(n)]
    return np.stack(frames).astype(np.uint8)


def textured_moving_frames(n, height, width):
    """Moving texture: enough motion and detail to exercise x264's rate control and motion search."""
    y, x = np.mgrid[0:height, 0:width]
    texture = np.random.default_rng(0).integers(0, 40, (height + n, width + n, 3))
    waves = 80 * np.sin((x[None] + 3 * np.arange(n)[:, None, None]) / 9)[..., None]
    moving = np.stack([texture[t:t + height, t:t + width] for t in range(n)])
    return (moving + 100 + waves).clip(0, 255).astype(np.uint8)


def write_lossless_mkv(path, frames, fps=10):
    """FFV1 in Matroska: pixel-exact, and the container declares no frame count."""
    with av.open(str(path), "w", format="matroska") as container:
        stream = container.add_stream("ffv1", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("fps", [25.0, 30000 / 1001])
def test_round_trip_keeps_frame_count_size_and_fps(tmp_path, fps):
    path = write_video(tmp_path / "clip.mp4", smooth_frames(12), fps)
    frames, read_fps = read_video(path)
    assert frames.shape == (12, 48, 64, 3) and frames.dtype == np.uint8
    assert read_fps == pytest.approx(fps, rel=1e-6)
    assert probe_video(path) == {"n_frames": 12, "fps": pytest.approx(fps, rel=1e-6), "width": 64,
                                 "height": 48, "codec": "h264"}


def test_h264_stays_close_to_a_smooth_source(tmp_path):
    source = smooth_frames(8)
    frames, _ = read_video(write_video(tmp_path / "clip.mp4", source, 25))
    error = np.abs(frames.astype(int) - source)
    assert error.mean() < 2 and error.max() < 12  # the RGB -> yuv420p conversion alone costs 1.5 on average


def test_writer_streams_frames_from_an_iterable(tmp_path):
    path = tmp_path / "clip.mp4"
    with H264Writer(path, fps=10, width=64, height=48) as video:
        for frame in smooth_frames(5):
            video.write(frame)
    assert video.frames_written == 5
    assert read_video(path)[0].shape == (5, 48, 64, 3)
    assert write_video(tmp_path / "gen.mp4", (f for f in smooth_frames(3)), 10) == tmp_path / "gen.mp4"
    assert probe_video(tmp_path / "gen.mp4")["n_frames"] == 3


def test_identical_frames_give_byte_identical_files(tmp_path):
    # 112x112 with motion made x264's macroblock-tree output differ between runs on AVX-512 CPUs.
    frames = textured_moving_frames(40, 112, 112)
    digests = {sha256_of(write_video(tmp_path / f"run{i}.mp4", frames, 25)) for i in range(3)}
    assert len(digests) == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux CPU affinity and at least two CPUs")
def test_output_does_not_depend_on_the_number_of_cpus(tmp_path):
    # 128x128: big enough that x264's default thread count changed its output (at 96x96 it did not)
    frames_path = tmp_path / "frames.npy"
    np.save(frames_path, textured_moving_frames(20, 128, 128))
    one_cpu = tmp_path / "one_cpu.mp4"
    script = ("import os, sys, numpy; from painsynth.video import write_video; "
              "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
              "write_video(sys.argv[2], numpy.load(sys.argv[1]), 25)")
    subprocess.run([sys.executable, "-c", script, str(frames_path), str(one_cpu)], check=True)
    all_cpus = write_video(tmp_path / "all_cpus.mp4", np.load(frames_path), 25)
    assert sha256_of(one_cpu) == sha256_of(all_cpus)


def test_background_encoding_gives_the_same_bytes_from_a_reused_array(tmp_path):
    frames = textured_moving_frames(40, 112, 112)
    in_turn = write_video(tmp_path / "in_turn.mp4", frames, 25)
    reused = np.empty_like(frames[0])
    with ThreadPoolExecutor(1) as encoder, ExitStack() as stack:
        # two writers sharing the encoder, as generate's views do
        videos = [stack.enter_context(H264Writer(tmp_path / f"background{k}.mp4", fps=25, width=112, height=112,
                                                 encoder=encoder)) for k in range(2)]
        for frame in frames:
            for video in videos:
                reused[:] = frame  # the caller refills its array while earlier frames may still be encoding
                video.write(reused)
    assert [video.frames_written for video in videos] == [40, 40]
    assert {sha256_of(tmp_path / f"background{k}.mp4") for k in range(2)} == {sha256_of(in_turn)}


def test_an_encoding_error_in_the_background_reaches_the_caller_and_leaves_nothing(tmp_path, monkeypatch):
    encode = H264Writer._encode

    def fail_at_third(self, frame, pts):
        if pts == 2:
            raise RuntimeError("encoder failed")
        encode(self, frame, pts)

    monkeypatch.setattr(H264Writer, "_encode", fail_at_third)
    with pytest.raises(RuntimeError, match="encoder failed"), ThreadPoolExecutor(1) as encoder:
        with H264Writer(tmp_path / "clip.mp4", fps=10, width=64, height=48, encoder=encoder) as video:
            for frame in smooth_frames(4):
                video.write(frame)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threads", [0, 1], ids=["in turn", "encoder thread"])
def test_exception_inside_writer_leaves_no_file_and_keeps_the_old_one(tmp_path, threads):
    path = write_video(tmp_path / "clip.mp4", smooth_frames(3), 10)
    old_digest = sha256_of(path)
    with pytest.raises(RuntimeError, match="render failed"), ThreadPoolExecutor(max(threads, 1)) as pool:
        with H264Writer(path, fps=10, width=64, height=48, encoder=pool if threads else None) as video:
            video.write(smooth_frames(1)[0])
            raise RuntimeError("render failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    assert sha256_of(path) == old_digest


def test_writer_without_frames_leaves_nothing(tmp_path):
    with pytest.raises(VideoError, match="no frames"):
        with H264Writer(tmp_path / "clip.mp4", fps=10, width=64, height=48):
            pass
    assert list(tmp_path.iterdir()) == []


def test_frame_of_the_wrong_shape_is_rejected_and_leaves_nothing(tmp_path):
    with pytest.raises(VideoError, match=r"uint8 \(48, 64, 3\)"):
        write_video(tmp_path / "clip.mp4", [smooth_frames(1)[0], np.zeros((48, 62, 3), np.uint8)], 10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("width, height", [(63, 48), (64, 47), (0, 48)])
def test_odd_or_empty_size_is_rejected(tmp_path, width, height):
    with pytest.raises(VideoError, match="even"):
        H264Writer(tmp_path / "clip.mp4", fps=10, width=width, height=height)


def test_lossless_video_reads_back_exactly(tmp_path):
    source = numbered_frames(6)
    path = write_lossless_mkv(tmp_path / "lossless.mkv", source)
    frames, fps = read_video(path)
    assert np.array_equal(frames, source) and fps == 10
    assert np.array_equal(read_video(path, max_frames=2)[0], source[:2])


def test_probe_counts_frames_when_the_container_does_not(tmp_path):
    path = write_lossless_mkv(tmp_path / "lossless.mkv", numbered_frames(7))
    with av.open(str(path)) as container:
        assert container.streams.video[0].frames == 0  # what makes probe_video decode
    assert probe_video(path)["n_frames"] == 7


def test_read_frames_returns_the_asked_frames_in_order(tmp_path):
    source = numbered_frames(6)
    path = write_lossless_mkv(tmp_path / "lossless.mkv", source)
    assert np.array_equal(read_frames(path, [4, 0, 0, 5]), source[[4, 0, 0, 5]])
    with pytest.raises(VideoError, match="frame 6 asked for, the video has 6 frames"):
        read_frames(path, [0, 6])


def truncated_copy(source, tmp_path, name):
    data = source.read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 2])
    return tmp_path / name


def bad_video(kind, tmp_path):
    if kind == "missing":
        return tmp_path / "missing.mp4"
    if kind == "text":
        path = tmp_path / "notes.mp4"
        path.write_text("these are notes, not a video\n" * 20)
        return path
    if kind == "truncated":  # the index (moov) is written last, so it is cut off
        return truncated_copy(write_video(tmp_path / "full.mp4", textured_moving_frames(30, 64, 64), 25),
                              tmp_path, "truncated.mp4")
    if kind == "truncated_faststart":  # the index survives but points past the end of the data
        full = tmp_path / "faststart.mp4"
        with av.open(str(full), "w", format="mp4", options={"movflags": "faststart"}) as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
            for frame in textured_moving_frames(30, 64, 64):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode(None))
        return truncated_copy(full, tmp_path, "truncated_faststart.mp4")
    if kind == "zero_frames":
        path = tmp_path / "empty.mp4"
        with av.open(str(path), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
            container.start_encoding()
        assert path.stat().st_size > 0
        return path
    raise AssertionError(kind)


@pytest.mark.parametrize("kind, reason", [
    ("missing", "no such file"),
    ("text", "not a readable video"),
    ("truncated", "not a readable video"),
    ("truncated_faststart", "truncated"),
    ("zero_frames", "no video stream"),
])
def test_bad_video_gives_a_clear_error(tmp_path, kind, reason):
    path = bad_video(kind, tmp_path)
    with pytest.raises(VideoError, match=reason) as error:
        read_video(path)
    assert str(path) in str(error.value)
    with pytest.raises(VideoError, match=reason):
        read_frames(path, [29])

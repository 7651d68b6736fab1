import json

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from painsynth.avatars import load_bank
from painsynth.config import default_render_workers, make_config
from painsynth.dataset import PainVideoDataset, read_manifest
from painsynth.fileio import sha256_of
from painsynth.generate import generate, prepare_motions
from painsynth.procedural import make_track
from painsynth.tracks import MotionTrack
from painsynth.video import probe_video, read_video

SMALL = dict(clips=2, frames=12, views=["front", "left45"], size=64, workers=1, seed=7)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    summary = generate(make_config(out=out, **SMALL))
    return out, summary


def test_every_clip_is_an_h264_file_of_the_promised_size(dataset):
    out, summary = dataset
    assert (summary.written, summary.failed, summary.skipped) == (4, 0, 0)
    videos = sorted(out.glob("videos/**/*.mp4"))
    assert len(videos) == 4  # 2 motions x 1 avatar x 2 views
    for video in videos:
        info = probe_video(video)
        assert (info["codec"], info["width"], info["height"], info["n_frames"]) == ("h264", 64, 64, 12)
        assert info["fps"] == pytest.approx(25.0)


def test_manifest_rows_match_files_tracks_and_checksums(dataset):
    out, _ = dataset
    rows = read_manifest(out).to_pylist()
    assert len(rows) == 4
    assert {r["view"] for r in rows} == {"front", "left45"}
    for row in rows:
        assert sha256_of(out / row["path"]) == row["sha256"]
        track = MotionTrack.load(out / row["track"])
        assert (track.label, track.subject, track.n_frames) == (row["label"], row["split_group"], row["n_frames"])
        assert row["pspi_max"] == pytest.approx(track.pspi_max)
        assert row["source"] == "procedural" and 1 <= row["skin_tone"] <= 10 and row["gender"] in ("female", "male")
    assert sorted(r["label"] for r in rows) == [0, 0, 1, 1]  # pain levels balanced: one clip each, two views
    record = json.loads((out / "dataset.json").read_text())
    assert record["seed"] == 7 and record["config"]["views"] == ["front", "left45"]
    assert {"painsynth", "anny", "moderngl", "av"} <= set(record["versions"])


def test_same_seed_gives_the_same_dataset_whatever_the_worker_count(dataset, tmp_path):
    out, _ = dataset
    again = tmp_path / "again"
    generate(make_config(out=again, **{**SMALL, "workers": 2}))
    assert [a.to_dict() for a in load_bank(again / "avatars.jsonl")] == [a.to_dict() for a in load_bank(out / "avatars.jsonl")]
    first, second = read_manifest(out).to_pylist(), read_manifest(again).to_pylist()
    assert [r["label"] for r in first] == [r["label"] for r in second]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(MotionTrack.load(out / a["track"]).blendshapes,
                                      MotionTrack.load(again / b["track"]).blendshapes)
        np.testing.assert_array_equal(read_video(out / a["path"])[0], read_video(again / b["path"])[0])


def test_different_seeds_differ(tmp_path):
    one = make_config(out=tmp_path / "a", **{**SMALL, "clips": 3})
    two = make_config(out=tmp_path / "b", **{**SMALL, "clips": 3, "seed": 8})
    for config in (one, two):
        config.out.mkdir()
    tracks_one = [MotionTrack.load(one.out / t) for _, t in prepare_motions(one)]
    tracks_two = [MotionTrack.load(two.out / t) for _, t in prepare_motions(two)]
    assert all(not np.array_equal(a.blendshapes, b.blendshapes) for a, b in zip(tracks_one, tracks_two))
    from painsynth.avatars import sample_avatars
    assert sample_avatars(3, 7) != sample_avatars(3, 8)


def test_level_four_clips_carry_more_pain_than_level_zero(tmp_path):
    config = make_config(out=tmp_path, **{**SMALL, "clips": 40})
    tracks = [MotionTrack.load(tmp_path / t) for _, t in prepare_motions(config)]
    mean_pspi = {level: np.mean([t.pspi.mean() for t in tracks if t.label == level]) for level in (0, 4)}
    assert mean_pspi[4] > mean_pspi[0] + 1.0
    assert sorted({t.label for t in tracks}) == [0, 1, 2, 3, 4]
    assert len({t.subject for t in tracks}) == 8  # performers of 5 clips each, one per level


def test_rerun_skips_finished_clips_and_redoes_broken_ones(tmp_path):
    config = make_config(out=tmp_path, **SMALL)
    generate(config)
    leftover = tmp_path / "videos" / "m00000-BL1" / "x.partial-99.mp4"
    leftover.write_bytes(b"half")
    again = generate(config)
    assert (again.written, again.skipped) == (0, 4)
    assert not leftover.exists()
    broken = sorted(tmp_path.glob("videos/m00001-PA1/*.mp4"))[0]
    good = broken.read_bytes()
    broken.write_bytes(good[: len(good) // 2])
    repaired = generate(config)
    assert (repaired.written, repaired.skipped) == (2, 2)  # both views of the broken performance
    assert broken.read_bytes() == good  # deterministic: the same bytes come back
    assert len(read_manifest(tmp_path)) == 4


def test_a_failing_performance_is_logged_and_the_run_goes_on(tmp_path):
    motions = tmp_path / "motions"
    make_track(3, seed=1, n_frames=12, performer="subject-a").save(motions / "good.npz")
    empty = np.zeros((0, 3), np.float32)
    MotionTrack(np.zeros((0, 52)), empty, empty, np.zeros(0, bool), fps=25.0, subject="subject-b",
                label=2, source="captured").save(motions / "empty.npz")
    summary = generate(make_config(out=tmp_path / "out", motions=motions, **{**SMALL, "views": ["front"]}))
    assert (summary.written, summary.failed) == (1, 1)
    log = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert len(log) == 1 and log[0]["unit"].startswith("empty__") and log[0]["error"]
    rows = read_manifest(tmp_path / "out").to_pylist()
    assert [(r["motion_id"], r["split_group"], r["label"]) for r in rows] == [("good", "subject-a", 3)]
    assert not list((tmp_path / "out").glob("videos/empty/*"))  # nothing half-written


def test_dataset_class_reads_the_generated_clips(dataset):
    out, _ = dataset
    clips = PainVideoDataset(out, frames=6)
    batch = next(iter(DataLoader(clips, batch_size=2, num_workers=2)))
    assert batch["video"].shape == (2, 6, 3, 64, 64) and batch["video"].dtype == torch.uint8
    assert batch["pspi"].shape == (2, 6) and torch.isfinite(batch["pspi"]).all()
    assert set(batch["label"].tolist()) <= {0, 1}


def test_an_avatar_reused_across_motions_renders_as_if_fresh(tmp_path):
    shared = {**SMALL, "views": ["front"], "avatars": 1, "clips": 3}
    generate(make_config(out=tmp_path / "reused", **shared))  # one process: the avatar stays loaded
    generate(make_config(out=tmp_path / "fresh", **{**shared, "workers": 2}))
    reused, fresh = read_manifest(tmp_path / "reused").to_pylist(), read_manifest(tmp_path / "fresh").to_pylist()
    assert len({r["avatar_id"] for r in reused}) == 1 and len(reused) == 3
    for a, b in zip(reused, fresh):
        np.testing.assert_array_equal(read_video(tmp_path / "reused" / a["path"])[0],
                                      read_video(tmp_path / "fresh" / b["path"])[0])


def test_unusable_motion_tracks_are_logged_and_unlabelled_motion_replayed(tmp_path):
    motions = tmp_path / "motions"
    make_track(4, seed=2, n_frames=12, performer="subject-c").save(motions / "good.npz")
    unlabelled = make_track(1, seed=3, n_frames=12)
    unlabelled.label = -1  # motion filmed without a pain level: replayed all the same
    unlabelled.save(motions / "unlabelled.npz")
    mislabelled = make_track(1, seed=4, n_frames=12)
    mislabelled.label = 9
    mislabelled.save(motions / "mislabelled.npz")
    (motions / "corrupt.npz").write_bytes(b"not a track")
    out = tmp_path / "out"
    summary = generate(make_config(out=out, motions=motions, **{**SMALL, "views": ["front"]}))
    assert (summary.written, summary.failed) == (2, 2)
    logged = (out / "errors.jsonl").read_text()
    assert "corrupt.npz: not a readable motion track" in logged
    assert "mislabelled.npz: motion track label 9 is neither a pain level 0-4 nor -1 (unlabelled)" in logged
    rows = {r["motion_id"]: r for r in read_manifest(out).to_pylist()}
    assert sorted(rows) == ["good", "unlabelled"] and rows["unlabelled"]["label"] == -1


def test_a_motions_folder_without_usable_tracks_stops_before_writing(tmp_path):
    from painsynth.generate import GenerateError

    (tmp_path / "motions").mkdir()
    with pytest.raises(GenerateError, match="no usable motion tracks"):
        generate(make_config(out=tmp_path / "out", motions=tmp_path / "motions", **SMALL))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("per_subject", [False, True])
def test_avatar_per_subject_gives_each_performer_one_face(tmp_path, per_subject):
    from painsynth.avatars import sample_avatars
    from painsynth.generate import plan_performances
    from painsynth.generate.plan import avatars_needed

    config = make_config(out=tmp_path, **{**SMALL, "clips": 8, "clips_per_performer": 4, "per_motion": 1,
                                          "avatar_per_subject": per_subject})
    motions = prepare_motions(config)
    needed = avatars_needed(config, motions)
    units = plan_performances(config, motions, sample_avatars(needed, config.seed))
    faces = {}
    for unit in units:
        subject = MotionTrack.load(tmp_path / unit.track).subject
        faces.setdefault(subject, set()).add(unit.avatar["avatar_id"])
    assert sorted(faces) == ["perf-0000", "perf-0001"]
    if per_subject:
        assert needed == 2 and all(len(ids) == 1 for ids in faces.values())
        assert faces["perf-0000"] != faces["perf-0001"]
    else:
        assert needed == 8 and all(len(ids) == 4 for ids in faces.values())


def test_the_manifest_is_written_from_the_row_files_in_row_groups(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    import painsynth.generate.run as generate_run

    whole = generate(make_config(out=tmp_path / "whole", **SMALL))
    monkeypatch.setattr(generate_run, "MANIFEST_BATCH", 1)  # one unit's rows per row group
    grouped = generate(make_config(out=tmp_path / "grouped", **SMALL))
    assert whole.written == grouped.written == 4 and sum(whole.labels.values()) == 4
    assert pq.ParquetFile(tmp_path / "grouped" / "manifest.parquet").num_row_groups == 2  # 2 units
    a, b = read_manifest(tmp_path / "whole").to_pylist(), read_manifest(tmp_path / "grouped").to_pylist()
    assert [r["clip_id"] for r in a] == [r["clip_id"] for r in b] and [r["sha256"] for r in a] == [r["sha256"] for r in b]


def test_a_first_performer_number_makes_a_set_of_other_performers(tmp_path):
    config = make_config(out=tmp_path, **{**SMALL, "clips": 6, "clips_per_performer": 2, "first_performer": 8,
                                          "levels": [0, 4]})
    subjects = [MotionTrack.load(tmp_path / track).subject for _, track in prepare_motions(config)]
    assert subjects == ["perf-0008", "perf-0008", "perf-0009", "perf-0009", "perf-0010", "perf-0010"]
    levels = [MotionTrack.load(tmp_path / track).label for _, track in prepare_motions(config)]
    assert levels == [0, 4, 0, 4, 0, 4]


@pytest.mark.parametrize("cores, workers", [(1, 1), (2, 2), (3, 2), (4, 2), (16, 8)])
def test_generate_runs_two_processes_on_two_cores_and_half_the_cores_on_more(monkeypatch, cores, workers):
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert default_render_workers() == workers
    assert make_config().workers == workers

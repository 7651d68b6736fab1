import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from torch.utils.data import DataLoader

from painsynth.dataset import (MANIFEST_COLUMNS, ManifestError, PainVideoDataset, read_manifest,
                               write_manifest)
from painsynth.fileio import sha256_of
from painsynth.tracks import MotionTrack
from painsynth.video import write_video

HEIGHT, WIDTH = 24, 32
GRAY_STEP = 12  # frame i of a test video is a flat gray of level GRAY_STEP * i, so it survives H.264


def manifest_row(clip_id, **columns):
    row = {
        "track": f"tracks/{clip_id}.npz", "clip_id": clip_id, "path": f"videos/{clip_id}.mp4",
        "split_group": "performer-1", "source": "procedural", "label": 3, "pspi_max": 6.5,
        "avatar_id": "avatar-0007", "gender": "female", "age": 42.5, "african": 0.25, "asian": 0.5,
        "caucasian": 0.25, "skin_tone": 6, "hair_family": "medium", "garment": "t_shirt", "glasses": "none",
        "view": "frontal", "yaw": 0.0, "pitch": -10.0, "fps": 25.0,
        "n_frames": 10, "width": WIDTH, "height": HEIGHT, "seed": 1234, "sha256": "0" * 64,
        "motion_id": "m-1", "background": "solid",
    }
    row.update(columns)
    return row


def save_gray_video(folder, row):
    frames = np.stack([np.full((HEIGHT, WIDTH, 3), GRAY_STEP * i, np.uint8) for i in range(row["n_frames"])])
    path = write_video(folder / row["path"], frames, row["fps"])
    return dict(row, sha256=sha256_of(path))


def save_track(folder, row, n_frames, fps, pspi):
    MotionTrack(blendshapes=np.zeros((n_frames, 52)), head_rotation=np.zeros((n_frames, 3)),
                head_translation=np.zeros((n_frames, 3)), valid=np.ones(n_frames, bool), fps=fps,
                subject=row["split_group"], label=row["label"], pspi=pspi).save(folder / row["track"])


@pytest.fixture
def dataset_folder(tmp_path):
    """Three clips: two procedural ones whose tracks run at twice the video fps (track PSPI at frame j
    is j, so video frame i carries PSPI 2i), and a real one without a track."""
    rows = [
        manifest_row("clip-b", label=4, n_frames=10, split_group="performer-2"),
        manifest_row("clip-a", label=1, n_frames=12),
        manifest_row("clip-real", label=0, n_frames=8, track=None, source="real", avatar_id=None,
                     skin_tone=None, seed=None, pspi_max=None, split_group="subject-9"),
    ]
    rows = [save_gray_video(tmp_path, row) for row in rows]
    for row in rows[:2]:
        n = 2 * row["n_frames"]
        save_track(tmp_path, row, n_frames=n, fps=2 * row["fps"], pspi=np.arange(n, dtype=np.float32))
    write_manifest(rows, tmp_path / "manifest.parquet")
    return tmp_path


def gray_levels(video):
    """Frame index of each frame of a [T, C, H, W] gray test video."""
    return (video.float().mean(dim=(1, 2, 3)) / GRAY_STEP).round().long().tolist()


def test_manifest_round_trip_sorts_by_clip_id_and_keeps_values(tmp_path):
    rows = [manifest_row("clip-b"), manifest_row("clip-a", track=None, skin_tone=None, label=0)]
    write_manifest(rows, tmp_path / "manifest.parquet")
    table = read_manifest(tmp_path)
    assert table.schema.equals(MANIFEST_COLUMNS)
    assert table.to_pylist() == [rows[1], rows[0]]


def test_manifest_bytes_do_not_depend_on_row_order(tmp_path):
    rows = [manifest_row("clip-a"), manifest_row("clip-b", label=0), manifest_row("clip-c")]
    first = write_manifest(rows, tmp_path / "first.parquet")
    second = write_manifest(rows[::-1], tmp_path / "second.parquet")
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("change, reason", [
    (lambda row: row.pop("sha256"), r"missing columns \['sha256'\]"),
    (lambda row: row.update(colour="red"), r"unknown columns \['colour'\]"),
    (lambda row: row.update(split_group=None), r"\['split_group'\] must not be empty"),
    (lambda row: row.update(label="high"), "column 'label' does not fit int8"),
    (lambda row: row.update(n_frames=2.5), "column 'n_frames' does not fit int32"),
    (lambda row: row.update(label=5), "label must be a pain level 0-4"),
    (lambda row: row.update(source="rendered"), "source must be one of"),
    (lambda row: row.update(skin_tone=11), "skin_tone must be on the Monk scale"),
    (lambda row: row.update(clip_id="clip-a"), r"duplicate clip_id \['clip-a'\]"),
])
def test_write_manifest_rejects_bad_rows_and_writes_nothing(tmp_path, change, reason):
    bad = manifest_row("clip-b")
    change(bad)
    with pytest.raises(ManifestError, match=reason):
        write_manifest([manifest_row("clip-a"), bad], tmp_path / "manifest.parquet")
    assert list(tmp_path.iterdir()) == []


def test_read_manifest_errors(tmp_path):
    with pytest.raises(ManifestError, match="no such manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.parquet").write_text("clip_id,path\n")
    with pytest.raises(ManifestError, match="not a readable Parquet manifest"):
        read_manifest(tmp_path)
    pq.write_table(pa.table({"clip_id": ["a"], "path": ["a.mp4"]}), tmp_path / "manifest.parquet")
    with pytest.raises(ManifestError, match=r"lacks columns \['split_group', 'source'"):
        read_manifest(tmp_path / "manifest.parquet")


def test_read_manifest_keeps_extra_columns_and_restores_types(tmp_path):
    table = pa.Table.from_pylist([manifest_row("clip-a")]).append_column("rater", pa.array(["m1"]))
    assert table.schema.field("label").type == pa.int64()
    pq.write_table(table, tmp_path / "manifest.parquet")
    read = read_manifest(tmp_path)
    assert read.schema.field("label").type == pa.int8()
    assert read.column("rater").to_pylist() == ["m1"]


def test_dataloader_with_workers_gives_sampled_frames_labels_and_pspi(dataset_folder):
    dataset = PainVideoDataset(dataset_folder, frames=4, filter=lambda row: row["source"] == "procedural")
    batches = list(DataLoader(dataset, batch_size=2, num_workers=2))
    assert len(batches) == 1
    batch = batches[0]
    assert batch["video"].shape == (2, 4, 3, HEIGHT, WIDTH) and batch["video"].dtype == torch.uint8
    assert batch["clip_id"] == ["clip-a", "clip-b"]
    assert batch["split_group"] == ["performer-1", "performer-2"]
    assert batch["label"].tolist() == [1, 4] and batch["label"].dtype == torch.int64
    expected_frames = [[0, 4, 7, 11], [0, 3, 6, 9]]  # 4 evenly spaced of 12 and of 10 frames
    assert [gray_levels(video) for video in batch["video"]] == expected_frames
    assert batch["pspi"].dtype == torch.float32
    assert batch["pspi"].tolist() == [[2.0 * i for i in frames] for frames in expected_frames]


def test_all_frames_and_a_clip_without_track(dataset_folder):
    dataset = PainVideoDataset(dataset_folder, sampling="all")
    assert [row["clip_id"] for row in dataset.rows] == ["clip-a", "clip-b", "clip-real"]
    real = dataset[2]
    assert gray_levels(real["video"]) == list(range(8))
    assert real["pspi"].shape == (8,) and torch.isnan(real["pspi"]).all()
    assert dataset[0]["pspi"].tolist() == [2.0 * i for i in range(12)]


def test_more_frames_than_the_clip_has_repeats_frames(dataset_folder):
    dataset = PainVideoDataset(dataset_folder, frames=16, filter=lambda row: row["clip_id"] == "clip-real")
    assert gray_levels(dataset[0]["video"]) == np.linspace(0, 7, 16).round().astype(int).tolist()


def test_transform_applies_to_the_video(dataset_folder):
    dataset = PainVideoDataset(dataset_folder, frames=2, transform=lambda video: video[:, :1].float() / 255)
    video = dataset[0]["video"]
    assert video.shape == (2, 1, HEIGHT, WIDTH) and video.dtype == torch.float32


def test_dataset_survives_pickling(dataset_folder):
    dataset = pickle.loads(pickle.dumps(PainVideoDataset(dataset_folder, frames=3)))
    assert len(dataset) == 3 and dataset[1]["clip_id"] == "clip-b"


@pytest.mark.parametrize("arguments, reason", [
    ({"sampling": "random"}, "sampling must be one of"),
    ({"sampling": "all", "frames": 4}, "leave frames unset"),
    ({"frames": 0}, "at least 1"),
])
def test_dataset_rejects_bad_arguments(dataset_folder, arguments, reason):
    with pytest.raises(ValueError, match=reason):
        PainVideoDataset(dataset_folder, **arguments)


def test_a_manifest_in_batches_refuses_a_clip_id_seen_in_an_earlier_batch(tmp_path):
    from painsynth.dataset import ManifestError, write_manifest_batches

    rows = [manifest_row(name) for name in ("clip-b", "clip-a", "clip-c")]
    assert write_manifest_batches([rows[:1], rows[1:]], tmp_path / "m.parquet") == len(rows)
    # sorted within a batch, batches in the order given
    assert [r["clip_id"] for r in read_manifest(tmp_path / "m.parquet").to_pylist()] == ["clip-b", "clip-a", "clip-c"]
    with pytest.raises(ManifestError, match="duplicate clip_id"):
        write_manifest_batches([rows[:1], rows[:1]], tmp_path / "dup.parquet")
    assert not (tmp_path / "dup.parquet").exists()

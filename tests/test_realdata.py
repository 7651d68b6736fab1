import json

import numpy as np
import pytest
from typer.testing import CliRunner

from painsynth.cli import app
from painsynth.dataset import manifest_rows, write_manifest
from painsynth.fileio import sha256_of
from painsynth.realdata import IngestError, ingest
from painsynth.train import dataset_rows
from painsynth.video import write_video

runner = CliRunner()


def tiny_video(path, frames=5, size=(24, 32), fps=25.0, seed=0):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video(path, rng.integers(0, 255, (frames, size[0], size[1], 3), dtype=np.uint8), fps=fps)
    return path


def biovid(root):
    """A BioVid Part A tree: two subjects, a few classes, one stray file and one broken mp4."""
    for i, (subject, level) in enumerate([("071309_w_21", "BL1"), ("071309_w_21", "PA4"),
                                          ("082315_w_60", "PA1"), ("082315_w_60", "BL1")]):
        tiny_video(root / "video" / subject / f"{subject}-{level}-{i:03d}.mp4", frames=4 + i, seed=i)
    tiny_video(root / "video" / "082315_w_60" / "notes.mp4")  # no pain level in the name
    (root / "video" / "082315_w_60" / "082315_w_60-PA2-009.mp4").write_bytes(b"not a video at all")
    return root


def test_biovid_layout_outside_the_output_gets_absolute_paths(tmp_path):
    source = biovid(tmp_path / "biovid")
    out = tmp_path / "data" / "real"
    summary = ingest(source, out)
    assert summary.clips == 4 and summary.subjects == 2 and len(summary.errors) == 2
    rows = {row["clip_id"]: row for row in manifest_rows(out)}
    assert sorted(rows) == ["071309_w_21/071309_w_21-BL1-000", "071309_w_21/071309_w_21-PA4-001",
                            "082315_w_60/082315_w_60-BL1-003", "082315_w_60/082315_w_60-PA1-002"]
    row = rows["071309_w_21/071309_w_21-PA4-001"]
    video = source / "video" / "071309_w_21" / "071309_w_21-PA4-001.mp4"
    assert row["path"] == str(video.resolve())
    assert (row["label"], row["split_group"], row["source"]) == (4, "071309_w_21", "real")
    assert (row["n_frames"], row["width"], row["height"], row["fps"]) == (5, 32, 24, 25.0)
    assert row["sha256"] == sha256_of(video)
    assert row["avatar_id"] is None and row["track"] is None and row["seed"] is None
    assert rows["082315_w_60/082315_w_60-PA1-002"]["label"] == 1
    # the trainer finds the videos through the absolute paths
    assert len(dataset_rows(out)) == 4
    logged = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {entry["file"].rsplit("/", 1)[-1] for entry in logged} == {"notes.mp4", "082315_w_60-PA2-009.mp4"}
    assert any("no pain level" in entry["error"] for entry in logged)
    assert any("not a readable video" in entry["error"] for entry in logged)


def test_biovid_folder_ingested_into_itself_gets_relative_paths(tmp_path):
    source = biovid(tmp_path / "biovid")
    ingest(source / "video", source)
    rows = manifest_rows(source)
    assert min(row["path"] for row in rows) == "video/071309_w_21/071309_w_21-BL1-000.mp4"
    assert len(dataset_rows(source)) == 4
    # a re-run (here: with the stray files fixed) rewrites the manifest and the error log
    (source / "video" / "082315_w_60" / "notes.mp4").unlink()
    tiny_video(source / "video" / "082315_w_60" / "082315_w_60-PA2-009.mp4")
    summary = ingest(source / "video", source)
    assert summary.clips == 5 and not summary.errors and not (source / "errors.jsonl").exists()


def test_csv_of_path_label_subject(tmp_path):
    clips = tmp_path / "clips"
    for name in ("a", "b", "c", "d"):
        tiny_video(clips / f"{name}.mp4", seed=ord(name))
    outside = tiny_video(tmp_path / "elsewhere" / "e.mp4")
    (clips / "list.csv").write_text(
        "path,label,subject\n"
        "a.mp4,0,p1\n"
        "b.mp4,PA3,p1\n"
        f"{outside},4,p2\n"
        "c.mp4,9,p2\n"  # bad label
        "d.mp4,-1,p2\n"  # unknown label
        "missing.mp4,2,p3\n")
    out = clips  # the dataset folder holds the videos: relative paths
    summary = ingest(clips / "list.csv", out)
    assert summary.clips == 3 and len(summary.errors) == 3
    rows = {row["clip_id"]: row for row in manifest_rows(out)}
    assert rows["p1/a"]["path"] == "a.mp4" and rows["p1/b"]["label"] == 3 and rows["p2/e"]["path"] == str(outside)
    assert {row["split_group"] for row in rows.values()} == {"p1", "p2"}
    errors = (out / "errors.jsonl").read_text()
    assert "unknown label '9'" in errors and "label -1" in errors and "missing.mp4: no such file" in errors


def test_bad_sources_raise_one_line_and_write_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest(tmp_path / "nope", out)
    (tmp_path / "empty").mkdir()
    with pytest.raises(IngestError, match="folder has no videos"):
        ingest(tmp_path / "empty", out)
    (tmp_path / "cols.csv").write_text("file,level\nx.mp4,1\n")
    with pytest.raises(IngestError, match="CSV lacks column"):
        ingest(tmp_path / "cols.csv", out)
    (tmp_path / "broken.csv").write_text("path,label,subject\nnope.mp4,1,s\n")
    with pytest.raises(IngestError, match="none of its 1 videos could be ingested"):
        ingest(tmp_path / "broken.csv", out)
    with pytest.raises(IngestError, match="give a folder of videos"):
        ingest(tiny_video(tmp_path / "one.mp4"), out)
    assert not out.exists()
    # a folder that holds a synthetic dataset is not overwritten
    synthetic = tmp_path / "syn"
    write_manifest([{"clip_id": "c", "path": "c.mp4", "split_group": "perf-0", "source": "procedural", "label": 0, "fps": 25.0,
                         "n_frames": 4, "width": 8, "height": 8, "sha256": "0" * 64}], synthetic / "manifest.parquet")
    before = (synthetic / "manifest.parquet").read_bytes()
    with pytest.raises(IngestError, match="not a real one"):
        ingest(biovid(tmp_path / "biovid"), synthetic)
    assert (synthetic / "manifest.parquet").read_bytes() == before


def test_ingest_command(tmp_path):
    source = biovid(tmp_path / "biovid")
    out = tmp_path / "real"
    result = runner.invoke(app, ["ingest", str(source), "--out", str(out)])
    assert result.exit_code == 1, result.output  # two files left out
    assert "skipped:" in result.output and (out / "manifest.parquet").is_file()
    result = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "--out", str(tmp_path / "other")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "no such file or folder" in result.output and not (tmp_path / "other").exists()

"""painsynth dataset verify / merge on tiny generated datasets."""

import os

import pytest

from painsynth.config import make_config
from painsynth.dataset import PainVideoDataset, read_manifest
from painsynth.dataset_tools import DatasetToolError, merge, verify
from painsynth.generate import generate

SMALL = dict(clips=2, frames=12, views=["front"], size=64, workers=1)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("sets")
    for name, seed in (("a", 1), ("b", 2)):
        generate(make_config(out=root / name, seed=seed, **SMALL))
    generate(make_config(out=root / "big", seed=3, **{**SMALL, "size": 96}))
    return root


def test_a_sound_dataset_verifies(folders):
    result = verify(folders / "a")
    assert result.clips == 2 and result.bad == []


def test_verify_lists_every_damaged_file(folders, tmp_path):
    import shutil

    damaged = tmp_path / "a"
    shutil.copytree(folders / "a", damaged)
    rows = read_manifest(damaged).to_pylist()
    video = damaged / rows[0]["path"]
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])  # cut short
    (damaged / rows[1]["path"]).unlink()
    (damaged / rows[1]["track"]).write_bytes(b"not a track")
    bad = dict(verify(damaged).bad)
    assert bad[str(video)] == "content differs from the manifest's sha256"
    assert bad[str(damaged / rows[1]["path"])] == "missing"
    assert "not a readable motion track" in bad[str(damaged / rows[1]["track"])]
    assert len(bad) == 3
    with pytest.raises(DatasetToolError, match="no such manifest"):
        verify(tmp_path / "nowhere")


def test_merge_keeps_every_clip_and_its_group(folders, tmp_path):
    out = tmp_path / "ab"
    assert merge([folders / "a", folders / "b"], out) == 4
    rows = read_manifest(out).to_pylist()
    sources = {name: read_manifest(folders / name).to_pylist() for name in ("a", "b")}
    assert sorted(r["clip_id"] for r in rows) == sorted(f"{n}/{r['clip_id']}" for n, rs in sources.items() for r in rs)
    for row in rows:
        name, clip = row["clip_id"].split("/", 1)
        original = next(r for r in sources[name] if r["clip_id"] == clip)
        assert row["split_group"] == original["split_group"] and row["sha256"] == original["sha256"]
        assert os.path.samefile(out / row["path"], folders / name / original["path"])  # hard-linked, not copied
        assert (out / row["track"]).is_file()
    assert verify(out).bad == []
    assert len(PainVideoDataset(out, frames=4)) == 4


def test_merge_refuses_incompatible_folders_and_a_used_output(folders, tmp_path):
    with pytest.raises(DatasetToolError, match=r"clips of 96x96 at 25 fps cannot join .*64x64 at 25 fps"):
        merge([folders / "a", folders / "big"], tmp_path / "mixed")
    assert not (tmp_path / "mixed").exists() and list(tmp_path.iterdir()) == []
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "note.txt").write_text("mine")
    with pytest.raises(DatasetToolError, match="already exists and is not empty"):
        merge([folders / "a", folders / "b"], tmp_path / "used")
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["note.txt"]


def test_the_dataset_commands(folders, tmp_path):
    from typer.testing import CliRunner

    from painsynth.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["dataset", "verify", str(folders / "a")])
    assert result.exit_code == 0 and "2 clips checked, 0 bad file(s)" in result.output
    result = runner.invoke(app, ["dataset", "merge", str(folders / "a"), str(folders / "b"), "--out", str(tmp_path / "ab")])
    assert result.exit_code == 0 and "4 clips merged" in result.output
    result = runner.invoke(app, ["dataset", "merge", str(folders / "a"), str(folders / "big"), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "cannot join" in result.output
    assert not (tmp_path / "x").exists()

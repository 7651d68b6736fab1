"""The identity audit on a stand-in where the answer is known.

Source subject "A" is a real photograph (scikit-image's astronaut) moved by small affine motions
into two clips (the second one mirrored); source subject "B" is two clips of one synthetic avatar.
The synthetic clips, played by two other avatars, say they carry A's motion. Then the two astronaut
clips must match each other (distance < 0.6) and no synthetic clip may match A (distance >= 0.6).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from painsynth.audit import MODEL_FILES, THRESHOLD, AuditError, Embedder, model_paths, models_folder, run_audit
from painsynth.dataset import manifest_rows, write_manifest
from painsynth.fileio import sha256_of
from painsynth.video import write_video

FPS = 25.0


def _astronaut_clip(mirror: bool, seed: int, n: int = 8, size: int = 256) -> np.ndarray:
    """The astronaut's head and shoulders under a small random affine motion per frame."""
    import cv2
    from skimage import data

    image = data.astronaut()[0:320, 60:380]  # head and shoulders; leaves out the flag patch on the suit
    image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    if mirror:
        image = np.ascontiguousarray(image[:, ::-1])
    rng = np.random.default_rng(seed)
    frames = []
    for t in range(n):
        angle = 4.0 * np.sin(2 * np.pi * t / n) + rng.normal(0, 0.5)
        scale = 1.0 + 0.03 * np.cos(2 * np.pi * t / n)
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, scale)
        matrix[:, 2] += rng.uniform(-6, 6, 2) + (10 if mirror else 0)  # the mirrored clip is shifted too
        frames.append(cv2.warpAffine(image, matrix, (size, size), borderMode=cv2.BORDER_REFLECT))
    return np.stack(frames)


def _row(folder: Path, rel: str, clip_id: str, subject: str, frames: np.ndarray | None = None, **extra) -> dict:
    path = folder / rel
    if frames is not None:
        write_video(path, frames, FPS)
    n, h, w = (len(frames), *frames.shape[1:3]) if frames is not None else (extra.pop("n_frames"), extra.pop("height"), extra.pop("width"))
    return {"clip_id": clip_id, "path": rel, "split_group": subject, "source": "real", "label": 0, "fps": FPS,
            "n_frames": n, "width": w, "height": h, "sha256": sha256_of(path), **extra}


@pytest.fixture(scope="module")
def standin(tmp_path_factory) -> dict:
    from painsynth.config import make_config
    from painsynth.generate import generate

    root = tmp_path_factory.mktemp("audit")
    rendered = root / "rendered"
    generate(make_config(out=rendered, clips=6, avatars=3, frames=12, size=160, views=["front"], workers=1, seed=3))
    rows = manifest_rows(rendered)
    avatars = sorted({r["avatar_id"] for r in rows})
    b_avatar = avatars[-1]

    source = root / "source"
    (source / "videos").mkdir(parents=True)
    source_rows = [
        _row(source, "videos/A-1.mp4", "A-1", "A", _astronaut_clip(mirror=False, seed=1)),
        _row(source, "videos/A-2.mp4", "A-2", "A", _astronaut_clip(mirror=True, seed=2)),
        # a clip without a face (a grey wall): recorded and counted, the audit goes on
        _row(source, "videos/A-blank.mp4", "A-blank", "A", np.full((8, 128, 128, 3), 128, np.uint8)),
    ]
    for r in rows:
        if r["avatar_id"] == b_avatar:  # subject B: a synthetic avatar filmed as if it were a person
            rel = f"videos/B-{len(source_rows)}.mp4"
            shutil.copy(rendered / r["path"], source / rel)
            source_rows.append(_row(source, rel, f"B-{len(source_rows)}", "B", n_frames=r["n_frames"],
                                    width=r["width"], height=r["height"]))
    write_manifest(source_rows, source / "manifest.parquet")

    synthetic = root / "synthetic"
    shutil.copytree(rendered / "videos", synthetic / "videos")
    syn_rows = [dict(r, split_group="A") for r in rows if r["avatar_id"] != b_avatar]
    syn_rows[-1]["split_group"] = "Z"  # names no source subject: recorded, left out of the privacy row
    write_manifest(syn_rows, synthetic / "manifest.parquet")

    # a user models folder (links to the packaged files) exercises --models
    models = root / "models"
    models.mkdir()
    for name in MODEL_FILES:
        (models / name).symlink_to(models_folder() / name)
    out = root / "out"
    result = run_audit(synthetic, source, out, frames=4, models=models)
    return {"root": root, "source": source, "synthetic": synthetic, "out": out, "result": result,
            "models": models, "n_syn": len(syn_rows)}


def test_astronaut_clips_match_each_other_and_synthetic_do_not_match_astronaut(standin):
    result = standin["result"]
    embedder = Embedder(standin["models"])
    a1 = embedder.embed_clip(standin["source"] / "videos/A-1.mp4", 8, 4)
    a2 = embedder.embed_clip(standin["source"] / "videos/A-2.mp4", 8, 4)
    assert a1[1] == a2[1] == 4  # a face in every sampled frame
    assert np.linalg.norm(a1[0] - a2[0]) < THRESHOLD  # same person

    real = result["real_vs_real"]
    assert real["n_clips"] == 4 and real["n_groups"] == 2
    assert real["verification"]["match_own"] == 1.0
    assert real["reidentification"]["top1"] == 1.0

    privacy = result["synthetic_vs_source"]
    assert privacy["n_clips"] == standin["n_syn"] - 1 == 3
    assert privacy["verification"]["match_own"] == 0.0
    for clip in result["synthetic_clips"]:
        assert clip["split_group"] == "A"
        assert clip["distance_own"] >= THRESHOLD, clip
    assert privacy["reidentification"]["chance_top1"] == 0.5
    assert privacy["reidentification"]["top5"] == 1.0  # only two subjects: top-5 is trivially right

    same_avatar = result["synthetic_vs_synthetic"]
    assert same_avatar["n_groups"] == 2 and same_avatar["n_clips"] == 4


def test_bad_clips_and_unmatched_groups_are_recorded(standin):
    result = standin["result"]
    counts = result["counts"]
    assert counts["source_clips"] == 5 and counts["source_clips_used"] == 4
    assert counts["clips_unusable"] == 1
    (bad,) = result["clips_unusable"]
    assert bad["clip_id"] == "A-blank" and "no face" in bad["reason"]
    assert counts["synthetic_clips_unmatched"] == 1
    assert result["synthetic_unmatched"][0]["split_group"] == "Z"


def test_outputs_written(standin):
    out = standin["out"]
    on_disk = json.loads((out / "audit.json").read_text())
    assert on_disk["counts"] == standin["result"]["counts"]
    markdown = (out / "audit.md").read_text()
    assert "| synthetic vs source subject (privacy) |" in markdown and "1 clips could not be used" in markdown
    from PIL import Image

    with Image.open(out / "distances.png") as image:
        image.load()
        assert image.width > 600


def test_no_subjects_and_unmatched_groups_fail_clearly(standin, tmp_path):
    with pytest.raises(AuditError, match="no subjects"):
        empty = tmp_path / "empty"
        write_manifest([], empty / "manifest.parquet")
        run_audit(standin["synthetic"], empty, tmp_path / "o1", models=standin["models"])
    other = tmp_path / "other"
    shutil.copytree(standin["synthetic"] / "videos", other / "videos")
    write_manifest([dict(r, split_group="perf-9") for r in manifest_rows(standin["synthetic"])],
                   other / "manifest.parquet")
    with pytest.raises(AuditError, match="no synthetic split_group matches a source subject.*'perf-9'.*'A', 'B'"):
        run_audit(other, standin["source"], tmp_path / "o2", models=standin["models"])
    assert not (tmp_path / "o2").exists()


def test_model_files_missing_or_wrong(tmp_path):
    assert set(model_paths()) == set(MODEL_FILES)  # the packaged files verify
    shape = "shape_predictor_5_face_landmarks.dat"
    (tmp_path / shape).symlink_to(models_folder() / shape)
    with pytest.raises(AuditError, match="dlib_face_recognition_resnet_model_v1.dat: model file missing"):
        model_paths(tmp_path)
    (tmp_path / "dlib_face_recognition_resnet_model_v1.dat").write_bytes(b"not a model")
    with pytest.raises(AuditError, match="dlib_face_recognition_resnet_model_v1.dat: model file 11 bytes, expected"):
        model_paths(tmp_path)
    with pytest.raises(AuditError, match="models folder does not exist"):
        model_paths(tmp_path / "nowhere")


def test_cli_audit(standin, tmp_path):
    from typer.testing import CliRunner

    from painsynth.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["audit", "--synthetic", str(standin["synthetic"]), "--source", str(standin["source"]),
                              "--out", str(tmp_path / "cli"), "--frames", "2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cli" / "audit.md").is_file()
    res = runner.invoke(app, ["audit", "--synthetic", str(standin["synthetic"]), "--source", str(standin["source"]),
                              "--out", str(tmp_path / "cli2"), "--models", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "models folder does not exist" in res.output


def test_cli_audit_refuses_a_model_file_with_a_wrong_checksum(standin, tmp_path):
    from typer.testing import CliRunner

    from painsynth.cli import app

    recognition, shape = "dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat"
    models = tmp_path / "models"
    models.mkdir()
    (models / shape).symlink_to(models_folder() / shape)
    corrupt = bytearray((models_folder() / recognition).read_bytes())
    corrupt[len(corrupt) // 2] ^= 0xFF  # the right size, one bit off
    (models / recognition).write_bytes(bytes(corrupt))
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["audit", "--synthetic", str(standin["synthetic"]), "--source", str(standin["source"]),
                                   "--out", str(out), "--models", str(models)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1, res.output
    expected = MODEL_FILES[recognition][1]
    assert f"{models / recognition}: model file SHA-256 {sha256_of(models / recognition)} does not match the " \
           f"expected {expected}" in res.output
    assert not out.exists()

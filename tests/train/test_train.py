import csv
import json
import math
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import write_video_dataset
from typer.testing import CliRunner

from painsynth import train as T
from painsynth.cli import app
from painsynth.dataset import manifest_rows, write_manifest

runner = CliRunner()
FAST = dict(epochs=2, batch_size=16, frames=8, device="cpu", model_kwargs={"hidden": 16, "layers": 2})


def fake_clips(labels, groups, frames=20, seed=0, shift=1.5):
    """Featurised clips whose pain (level > 0) raises jawOpen and browDown: learnable."""
    rng = np.random.default_rng(seed)
    features = []
    for level in labels:
        f = rng.normal(size=(frames, T.N_FEATURES)).astype(np.float32)
        f[:, [0, 1, 24]] += shift * (level > 0)
        features.append(f)
    return T.ClipFeatures(features, np.array(labels), list(groups), [f"c{i}" for i in range(len(labels))])


def fake_dataset(root, labels, groups, frames=20, seed=0):
    """A dataset folder whose features are already cached (no video needed to train on it)."""
    clips = fake_clips(labels, groups, frames, seed)
    rows = []
    for i, (level, group) in enumerate(zip(labels, groups)):
        rows.append(dict(clip_id=f"c{i:03d}", path=f"videos/c{i:03d}.mp4", split_group=group, source="procedural",
                         label=level, fps=25.0, n_frames=frames, width=128, height=128, sha256=f"{i:064x}"))
        cached = T.cache_path(root, f"c{i:03d}")
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, features=clips.features[i], valid=np.ones(frames, bool),
                 sha256=np.array(f"{i:064x}"), version=np.array(T.feature_cache_key()))
    write_manifest(rows, root / "manifest.parquet")
    return root


def balanced(n_groups=10, per_group=5):
    labels = [level for _ in range(n_groups) for level in range(per_group)]
    groups = [f"s{g}" for g in range(n_groups) for _ in range(per_group)]
    return labels, groups


# ---------------------------------------------------------------- tasks, sampling, splits

def test_tasks_map_pain_levels():
    levels = np.array([0, 1, 2, 3, 4, 0, 4])
    keep, y = T.task_targets(levels, "binary")
    assert keep.all() and y.tolist() == [0, 1, 1, 1, 1, 0, 1]
    keep, y = T.task_targets(levels, "binary-extreme")
    assert keep.tolist() == [True, False, False, False, True, True, True] and y.tolist() == [0, 1, 0, 1]
    keep, y = T.task_targets(levels, "multiclass")
    assert keep.all() and y.tolist() == levels.tolist()
    for task in T.TASKS:  # unlabelled motion (-1) or a label out of range is never a class
        keep, y = T.task_targets(np.array([-1, 0, 4, 7]), task)
        assert keep.tolist() == [False, True, True, False] and y.tolist() == ([0, 4] if task == "multiclass" else [0, 1])
    with pytest.raises(T.TrainError, match="unknown task 'ternary'"):
        T.task_targets(levels, "ternary")


def test_frame_sampling():
    clip = np.arange(100, dtype=np.float32)[:, None]
    assert T.sample_frames(clip, 5)[:, 0].tolist() == [0, 25, 50, 74, 99]
    window = T.sample_frames(clip, 10, "window", np.random.default_rng(3))[:, 0]
    assert np.all(np.diff(window) == 1) and 0 <= window[0] <= 90
    assert T.sample_frames(clip, 10, "window")[:, 0].tolist() == list(range(45, 55))  # centre without rng
    assert T.sample_frames(clip[:3], 6)[:, 0].tolist() == [0, 0, 1, 1, 2, 2]  # short clips repeat frames


@pytest.mark.parametrize("seed", range(20))
def test_validation_split_is_subject_disjoint_across_sources(seed):
    rng = np.random.default_rng(seed)
    # synthetic clips carry the motion of real subjects r0..r5 (same split_group as the real clips) plus
    # procedural performers; sizes vary so the split cannot be right by accident
    groups, targets = [], []
    for g in [f"r{i}" for i in range(6)] + [f"perf-{i}" for i in range(6)]:
        n = int(rng.integers(2, 12))
        groups += [g] * n
        targets += rng.integers(0, 2, n).tolist()
    groups, targets = np.array(groups), np.array(targets)
    train, val = T.group_split(groups, targets, 0.25, seed)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(len(groups)))
    assert not set(groups[train]) & set(groups[val]), "a split_group leaked across train and validation"
    assert set(targets[train]) == set(targets[val]) == {0, 1}
    again = T.group_split(groups, targets, 0.25, seed)
    assert train.tolist() == again[0].tolist()  # seeded


def test_validation_split_needs_two_groups():
    with pytest.raises(T.TrainError, match="at least 2 split groups"):
        T.group_split(["a"] * 6, np.array([0, 1] * 3))


# ---------------------------------------------------------------- metrics

def test_binary_metrics_match_hand_computed_values():
    y = np.array([1, 1, 1, 1, 0, 0])
    p = np.array([0.9, 0.8, 0.3, 0.6, 0.7, 0.1])
    m = T.classification_metrics(p, y, 2)
    # AUROC: 6 of the 8 (positive, negative) pairs ranked right. Predictions 1 1 0 1 1 0: TP 3, FN 1, FP 1, TN 1
    assert m["auroc"] == pytest.approx(6 / 8)
    assert m["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["balanced_accuracy"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert m["precision_macro"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert m["recall_macro"] == pytest.approx((3 / 4 + 1 / 2) / 2)
    assert m["confusion_matrix"] == [[1, 1], [1, 3]]
    assert T.classification_metrics(np.stack([1 - p, p], 1), y, 2) == m  # [N, 2] probabilities too


def test_multiclass_metrics_match_hand_computed_values():
    y = np.array([0, 1, 2, 2])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.1, 0.2, 0.7], [0.2, 0.5, 0.3]])  # argmax 0 2 2 1
    m = T.classification_metrics(p, y, 3)
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    assert m["accuracy"] == pytest.approx(0.5)  # plain accuracy, not macro
    assert m["balanced_accuracy"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert m["precision_macro"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert m["f1"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert m["auroc"] == pytest.approx((1 + 2 / 3 + 3 / 4) / 3)  # one-vs-rest, macro


def test_balanced_accuracy_and_auroc_ignore_classes_absent_from_the_targets():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torchmetrics warned of the absent classes
        m = T.classification_metrics(0.04 + 0.8 * np.eye(5)[[0, 0, 4, 1]], np.array([0, 0, 4, 4]), 5)
    assert m["balanced_accuracy"] == pytest.approx((1 + 0.5) / 2)
    assert m["auroc"] == pytest.approx((1 + 0.75) / 2)  # one-vs-rest, classes 0 and 4


def test_bootstrap_intervals():
    y = np.array([0, 1] * 20)
    perfect = T.bootstrap_ci(y.astype(float), y, 2, resamples=50)
    assert perfect["auroc"] == [1.0, 1.0] and perfect["accuracy"] == [1.0, 1.0]
    p = np.random.default_rng(0).random(40) * 0.6 + 0.4 * y
    point = T.classification_metrics(p, y, 2)
    ci = T.bootstrap_ci(p, y, 2, resamples=200, seed=1)
    for key in T.BOOTSTRAP_METRICS:
        low, high = ci[key]
        assert low < point[key] < high or low == point[key] == high
    assert ci == T.bootstrap_ci(p, y, 2, resamples=200, seed=1)


# ---------------------------------------------------------------- training

def _rows(out):
    with open(out / T.EPOCHS_CSV) as f:
        return list(csv.DictReader(f))


def test_fit_learns_writes_checkpoints_and_is_deterministic(tmp_path):
    data = fake_clips(*balanced())
    result = T.fit(data, tmp_path / "a", T.TrainConfig(**{**FAST, "epochs": 3, "lr": 1e-2}))
    assert result.epochs_run == 3 and result.n_train + result.n_val == 50 and result.n_val > 0
    assert result.best_val_auroc > 0.9
    rows = _rows(tmp_path / "a")
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert {"lr", "train_loss", "val_loss", "val_auroc", "val_f1", "val_accuracy"} <= set(rows[0])
    assert float(rows[-1]["lr"]) < float(rows[0]["lr"])  # cosine schedule
    best = torch.load(tmp_path / "a" / T.BEST, weights_only=True)
    assert best["epoch"] == result.best_epoch and best["model_name"] == "au-tcn" and best["task"] == "binary"
    T.fit(data, tmp_path / "b", T.TrainConfig(**{**FAST, "epochs": 3, "lr": 1e-2}))
    drop = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert drop(_rows(tmp_path / "a")) == drop(_rows(tmp_path / "b"))
    a, b = (torch.load(tmp_path / run / T.LAST, weights_only=True)["model"] for run in ("a", "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_sgd_trains_and_a_run_cannot_resume_with_another_optimizer(tmp_path):
    data = fake_clips(*balanced())
    result = T.fit(data, tmp_path / "s", T.TrainConfig(**{**FAST, "epochs": 3, "lr": 0.1, "optimizer": "sgd"}))
    last = torch.load(tmp_path / "s" / T.LAST, weights_only=True)
    assert result.best_val_auroc > 0.9 and last["optimiser"]["param_groups"][0]["nesterov"]
    with pytest.raises(T.TrainError, match="cannot resume with optimizer='adamw', the run used 'sgd'"):
        T.fit(data, tmp_path / "s", T.TrainConfig(**{**FAST, "epochs": 4}))


def test_resume_continues_from_the_saved_epoch_and_matches_an_uninterrupted_run(tmp_path):
    data = fake_clips(*balanced())
    config = T.TrainConfig(**{**FAST, "epochs": 4, "sampling": "window", "model_kwargs": {"hidden": 16, "dropout": 0.3}})

    class Crash(Exception):
        pass

    def crash_at_epoch_3(done, total):
        if done == 2:
            raise Crash

    with pytest.raises(Crash):
        T.fit(data, tmp_path / "run", config, on_progress=crash_at_epoch_3)
    assert torch.load(tmp_path / "run" / T.LAST, weights_only=True)["epoch"] == 2
    calls = []
    result = T.fit(data, tmp_path / "run", config, on_progress=lambda d, t: calls.append(d))
    assert calls[0] == 2 and result.epochs_run == 4  # started at epoch 3, not 1
    assert [int(r["epoch"]) for r in _rows(tmp_path / "run")] == [1, 2, 3, 4]
    T.fit(data, tmp_path / "straight", config)
    resumed = torch.load(tmp_path / "run" / T.LAST, weights_only=True)
    straight = torch.load(tmp_path / "straight" / T.LAST, weights_only=True)
    assert all(torch.equal(resumed["model"][k], straight["model"][k]) for k in straight["model"])
    again = T.fit(data, tmp_path / "run", config)  # finished: nothing more to do
    assert again.epochs_run == 4


def test_early_stopping_on_validation_auroc(tmp_path):
    data = fake_clips(*balanced())
    result = T.fit(data, tmp_path / "r", T.TrainConfig(**{**FAST, "epochs": 10, "lr": 1e-12, "patience": 2}))
    assert result.stopped_early and result.epochs_run == 3 and result.best_epoch == 1


def test_checkpoint_ties_on_validation_auroc_go_to_the_lower_validation_loss(tmp_path):
    data = fake_clips(*balanced(), shift=6.0)  # separable: validation AUROC reaches 1.0 at once
    result = T.fit(data, tmp_path / "r", T.TrainConfig(**{**FAST, "epochs": 5, "lr": 1e-2}))
    rows = _rows(tmp_path / "r")
    top = max(float(r["val_auroc"]) for r in rows)
    tied = [r for r in rows if float(r["val_auroc"]) == top]
    assert len(tied) > 1 and top == 1.0
    assert result.best_epoch == int(min(tied, key=lambda r: float(r["val_loss"]))["epoch"]) > int(tied[0]["epoch"])


def test_fewer_than_five_subjects_train_every_epoch_without_validation_and_keep_the_last(tmp_path):
    data = fake_clips(*balanced(T.MIN_VALIDATION_GROUPS - 1, 5))
    result = T.fit(data, tmp_path / "r", T.TrainConfig(**{**FAST, "epochs": 4, "lr": 1e-12, "patience": 1}))
    assert (result.n_train, result.n_val, result.epochs_run, result.best_epoch) == (20, 0, 4, 4)
    assert math.isnan(result.best_val_auroc) and not result.stopped_early
    assert torch.load(tmp_path / "r" / T.BEST, weights_only=True)["epoch"] == 4
    assert all(math.isnan(float(row["val_auroc"])) for row in _rows(tmp_path / "r"))


def test_evaluate_on_features_writes_metrics(tmp_path):
    labels, groups = balanced(20)
    T.fit(fake_clips(labels, groups), tmp_path / "r", T.TrainConfig(**{**FAST, "epochs": 8, "lr": 1e-2,
                                                                         "task": "binary-extreme"}))
    test = fake_clips(labels, groups, seed=9)
    metrics = T.evaluate(tmp_path / "r", data=test, bootstrap=50)
    assert metrics["task"] == "binary-extreme" and metrics["n_clips"] == 40  # levels 1-3 dropped
    assert metrics["auroc"] > 0.9 and metrics["class_counts"] == [20, 20]
    assert json.loads((tmp_path / "r" / T.METRICS_JSON).read_text())["auroc"] == metrics["auroc"]


def test_multiclass_training_runs(tmp_path):
    result = T.fit(fake_clips(*balanced()), tmp_path / "m", T.TrainConfig(**{**FAST, "task": "multiclass"}))
    assert result.epochs_run == 2
    assert T.evaluate(tmp_path / "m", data=fake_clips(*balanced()), bootstrap=0)["confusion_matrix"].__len__() == 5


def test_fit_trains_only_on_clips_with_a_pain_level(tmp_path):
    labels, groups = balanced()
    data = fake_clips(labels + [-1] * 5, groups + [f"u{i}" for i in range(5)])
    result = T.fit(data, tmp_path / "r", T.TrainConfig(**{**FAST, "epochs": 1}))
    assert result.n_train + result.n_val == 50
    with pytest.raises(T.TrainError, match="the training set has no clips for task binary"):
        T.fit(fake_clips([-1] * 10, groups[:10]), tmp_path / "none", T.TrainConfig(**FAST))


# ---------------------------------------------------------------- feature cache

def test_cached_features_are_read_without_their_videos(tmp_path):
    labels, groups = balanced(2, 3)
    root = fake_dataset(tmp_path / "d", labels, groups)  # no video at all: only the cache can give features
    progress, errors = [], []
    clips = T.clip_features(root, on_progress=lambda d, t: progress.append((d, t)), errors=errors)
    assert not errors and clips.clip_ids == [f"c{i:03d}" for i in range(6)] and clips.labels.tolist() == labels
    assert clips.split_groups == groups and progress[-1] == (6, 6)
    assert np.array_equal(clips.features[0], fake_clips(labels, groups).features[0])
    assert clips.input == T.InputSpec("features", capture_method="hybrid") == T.InputSpec()


def test_importing_the_trainer_loads_no_capture():
    """Capture (MediaPipe) is loaded only when a clip is featurised, by painsynth.train.features."""
    import subprocess
    import sys

    code = ("import sys, painsynth.train, painsynth.experiment; "
            "print(sorted(m for m in sys.modules if m.startswith(('painsynth.capture', 'mediapipe'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr


def test_frame_embeddings_are_cached_per_clip_content_and_encoder(tmp_path):
    from painsynth.train.frames import cached_embeddings

    calls = []

    def encode():
        calls.append(1)
        return np.full((3, 4), len(calls), np.float32)

    path = tmp_path / "features" / "enc" / "clip.npz"
    first = cached_embeddings(path, "sha-a|enc", encode)
    assert np.array_equal(cached_embeddings(path, "sha-a|enc", encode), first) and len(calls) == 1
    assert cached_embeddings(path, "sha-b|enc", encode)[0, 0] == 2  # another video or encoder: encoded again
    path.write_bytes(b"not an npz")
    assert cached_embeddings(path, "sha-b|enc", encode)[0, 0] == 3 and len(calls) == 3  # unreadable: redone


# ---------------------------------------------------------------- command line, end to end

@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    from painsynth.config import make_config
    from painsynth.generate import generate

    out = tmp_path_factory.mktemp("tiny") / "syn"
    summary = generate(make_config(out=out, clips=6, frames=12, size=128, views=["front"], workers=1,
                                   levels=[0, 4], clips_per_performer=2, seed=3))
    assert summary.failed == 0
    return out


def test_train_then_evaluate_end_to_end(tiny_dataset, tmp_path):
    run = tmp_path / "runs" / "a"
    result = runner.invoke(app, ["train", "--data", str(tiny_dataset), "--out", str(run), "--epochs", "2",
                                 "--batch-size", "4", "--frames", "8", "--device", "cpu", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert len(list((tiny_dataset / "features" / "capture-hybrid").glob("*.npz"))) == 6  # captured from the pixels
    assert [int(r["epoch"]) for r in _rows(run)] == [1, 2]
    assert (run / T.BEST).is_file() and (run / T.LAST).is_file()
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(tiny_dataset), "--bootstrap", "50"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / T.METRICS_JSON).read_text())
    assert {"auroc", "f1", "accuracy", "balanced_accuracy", "n_clips", "task", "ci95", "confusion_matrix"} <= set(metrics)
    assert metrics["task"] == "binary" and metrics["n_clips"] == 6 and metrics["class_counts"] == [3, 3]
    assert 0.0 <= metrics["auroc"] <= 1.0


def _videos_only(dataset, dest):
    """A copy of a dataset folder without its cached features."""
    return Path(shutil.copytree(dataset, dest, ignore=shutil.ignore_patterns("features")))


def _cache_stamps(root, method):
    folder = T.cache_path(root, "any", T.input_spec("au-tcn", capture_method=method)).parent
    return {path.name: path.stat().st_mtime_ns for path in folder.glob("*.npz")}


def test_a_video_replaced_under_the_same_manifest_is_captured_again(tiny_dataset, tmp_path):
    from painsynth.fileio import sha256_of

    root = _videos_only(tiny_dataset, tmp_path / "d")
    manifest = (root / "manifest.parquet").read_bytes()
    first = T.clip_features(root, capture_method="direct")
    stamps = _cache_stamps(root, "direct")
    again = T.clip_features(root, capture_method="direct")
    assert _cache_stamps(root, "direct") == stamps and len(stamps) == 6  # unchanged videos: read from the cache
    assert all(np.array_equal(a, b) for a, b in zip(first.features, again.features))

    rows = {row["clip_id"]: row for row in manifest_rows(root)}
    replaced, other = first.clip_ids[:2]
    video = root / rows[replaced]["path"]
    shutil.copyfile(root / rows[other]["path"], video)  # other bytes under the same name; the manifest is not touched
    after = T.clip_features(root, capture_method="direct")
    assert (root / "manifest.parquet").read_bytes() == manifest
    cached = T.cache_path(root, replaced, after.input)
    changed = {name for name, stamp in _cache_stamps(root, "direct").items() if stamps[name] != stamp}
    assert changed == {cached.name}  # only the replaced clip was captured again
    assert not np.allclose(after.features[0], first.features[0])
    assert np.allclose(after.features[0], first.features[1])  # it now shows the other clip
    with np.load(cached) as saved:
        assert str(saved["sha256"]) == sha256_of(video) != rows[replaced]["sha256"]


def test_each_capture_method_featurises_and_caches_on_its_own(tiny_dataset, tmp_path):
    root = _videos_only(tiny_dataset, tmp_path / "d")
    direct = T.clip_features(root, capture_method="direct")
    fit = T.clip_features(root, capture_method="fit")
    assert (direct.input.capture_method, fit.input.capture_method) == ("direct", "fit")
    assert not np.allclose(direct.features[1][:, :52], fit.features[1][:, :52])  # the face units: methods differ
    assert sorted(p.name for p in (root / "features").iterdir()) == ["capture-direct", "capture-fit"]
    stamps = {method: _cache_stamps(root, method) for method in ("direct", "fit")}
    assert len(stamps["direct"]) == len(stamps["fit"]) == 6
    again = T.clip_features(root, capture_method="direct")  # the fit run beside it left direct's cache valid
    assert {method: _cache_stamps(root, method) for method in ("direct", "fit")} == stamps
    assert all(np.array_equal(a, b) for a, b in zip(direct.features, again.features))


def test_train_records_its_capture_method_and_evaluate_featurises_with_it(tiny_dataset, tmp_path):
    root = _videos_only(tiny_dataset, tmp_path / "d")
    run = tmp_path / "run"
    args = ["--data", str(root), "--out", str(run), "--batch-size", "4", "--frames", "8", "--device", "cpu"]
    result = runner.invoke(app, ["train", *args, "--epochs", "1", "--capture-method", "direct"])
    assert result.exit_code == 0, result.output
    assert json.loads((run / T.CONFIG_JSON).read_text())["capture_method"] == "direct"
    assert torch.load(run / T.BEST, weights_only=True)["input"]["capture_method"] == "direct"
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(root), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (root / "features").iterdir()) == ["capture-direct"]  # the run's, not the default
    with pytest.raises(T.TrainError, match=r"takes captured face features \(direct\), the data holds captured "
                                           r"face features \(hybrid\)"):
        T.evaluate(run, data=fake_clips(*balanced(2, 3)), bootstrap=0)
    result = runner.invoke(app, ["train", *args, "--epochs", "2"])
    _one_line_failure(result, "cannot resume with capture_method='hybrid', the run used 'direct'")


def test_capture_method_is_checked_with_the_other_settings():
    with pytest.raises(T.TrainError, match="unknown capture method 'magic'; available: hybrid, fit, cue, direct, hybrid-levels"):
        T.TrainConfig(capture_method="magic").check()
    with pytest.raises(T.TrainError, match="capture-method applies to models of captured features; model "
                                           r"'r2plus1d-18' takes video frames \(112x112\)"):
        T.TrainConfig(model="r2plus1d-18", capture_method="fit").check()
    T.TrainConfig(capture_method="cue").check()


def test_an_unwritable_output_folder_is_refused_before_featurising(tiny_dataset, tmp_path):
    root = _videos_only(tiny_dataset, tmp_path / "d")
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder")
    out = blocker / "run"
    result = runner.invoke(app, ["train", "--data", str(root), "--out", str(out), "--device", "cpu"])
    _one_line_failure(result, f"{out}: output folder is not writable ({blocker} is a file)")
    assert blocker.read_text() == "a file, not a folder" and not (root / "features").exists()


def _one_line_failure(result, message):
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output


def test_bad_inputs_get_one_clear_line_and_write_nothing(tmp_path):
    labels, groups = balanced(4, 5)
    good = fake_dataset(tmp_path / "good", labels, groups)
    out = tmp_path / "out"
    cases = [
        (["--data", str(tmp_path / "nowhere")], "no such manifest"),
        (["--data", str(good), "--model", "resnet-9000"], "unknown model 'resnet-9000'"),
        (["--data", str(good), "--task", "ternary"], "unknown task 'ternary'"),
        (["--data", str(good), "--epochs", "0"], "epochs must be an integer >= 1"),
        (["--data", str(good), "--optimizer", "adam9"], "unknown optimizer 'adam9'; available: adamw, sgd"),
    ]
    empty = tmp_path / "empty"
    write_manifest([], empty / "manifest.parquet")
    cases.append((["--data", str(empty)], "dataset has no clips"))
    missing = fake_dataset(tmp_path / "missing", labels, groups)
    for cached in (missing / "features").rglob("*.npz"):
        cached.unlink()
    cases.append((["--data", str(missing)], "20 of 20 clips in the manifest have no video file"))
    single = fake_dataset(tmp_path / "single", [0] * 20, groups)
    cases.append((["--data", str(single)], "the training set has a single class"))
    cases.append((["--data", str(good), "--task", "binary-extreme", "--data", str(single)], None))
    for args, message in cases:
        result = runner.invoke(app, ["train", "--out", str(out), "--epochs", "1", "--device", "cpu", *args])
        if message is None:  # levels 0 and 4 of good plus single's 0s: two classes, trains
            assert result.exit_code == 0, result.output
            continue
        _one_line_failure(result, message)
        assert not out.exists()


def test_a_checkpoint_from_another_model_is_refused_and_kept(tmp_path):
    labels, groups = balanced(4, 5)
    good = fake_dataset(tmp_path / "good", labels, groups)
    out = tmp_path / "out"
    out.mkdir()
    torch.save({"model_name": "frame-temporal", "model": {}, "epoch": 1}, out / T.LAST)
    before = (out / T.LAST).read_bytes()
    result = runner.invoke(app, ["train", "--data", str(good), "--out", str(out), "--device", "cpu"])
    _one_line_failure(result, "checkpoint is from model 'frame-temporal', not 'au-tcn'")
    assert (out / T.LAST).read_bytes() == before and sorted(p.name for p in out.iterdir()) == [T.LAST]

    run = tmp_path / "run"
    assert runner.invoke(app, ["train", "--data", str(good), "--out", str(run), "--epochs", "1",
                               "--device", "cpu"]).exit_code == 0
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(good), "--model", "r2plus1d-18"])
    _one_line_failure(result, "checkpoint is from model 'au-tcn', not 'r2plus1d-18'")
    assert not (run / T.METRICS_JSON).exists()
    result = runner.invoke(app, ["evaluate", str(tmp_path / "good"), "--data", str(good)])
    _one_line_failure(result, "not a training run")
    result = runner.invoke(app, ["train", "--data", str(good), "--out", str(run), "--task", "multiclass", "--device", "cpu"])
    _one_line_failure(result, "cannot resume with task='multiclass'")


class _RunsCode:
    """Unpickles into a call that creates ``marker``: what a checkpoint planted in a shared run folder could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def test_a_checkpoint_carrying_pickled_code_is_refused_and_never_run(tmp_path):
    labels, groups = balanced(4, 5)
    good = fake_dataset(tmp_path / "good", labels, groups)
    run = tmp_path / "run"
    train_args = ["train", "--data", str(good), "--out", str(run), "--device", "cpu"]
    assert runner.invoke(app, [*train_args, "--epochs", "1"]).exit_code == 0
    saved = json.loads((run / T.CONFIG_JSON).read_text())  # the configuration, readable beside the checkpoints
    assert saved["model"] == "au-tcn" and saved["input"]["kind"] == "features" and saved["n_train"] == 20
    marker = tmp_path / "code-ran"
    for name in (T.BEST, T.LAST):
        plain = torch.load(run / name, weights_only=True)
        torch.save({**plain, "note": _RunsCode(marker)}, run / name)

    result = runner.invoke(app, ["evaluate", str(run), "--data", str(good), "--bootstrap", "0"])
    _one_line_failure(result, f"{run / T.BEST}: not a plain-tensor checkpoint")
    result = runner.invoke(app, [*train_args, "--epochs", "2"])  # resuming reads last.pt
    _one_line_failure(result, f"{run / T.LAST}: not a plain-tensor checkpoint")
    with pytest.raises(T.TrainError, match="not a plain-tensor checkpoint"):
        T.load_run(run)
    assert not marker.exists() and not (run / T.METRICS_JSON).exists()
    torch.load(run / T.BEST, weights_only=False)  # the control: an unguarded load runs the planted code
    assert marker.exists()


def test_unlabelled_clips_are_left_out_with_one_line(tmp_path):
    labels, groups = balanced(4, 5)
    mixed = fake_dataset(tmp_path / "mixed", labels + [-1] * 3, groups + ["u0", "u1", "u2"])
    left_out = f"{mixed}: left out 3 of 23 clips without a pain level 0-4 (label -1; -1 marks unlabelled motion)"
    assert T.check_datasets([mixed], "binary") == [left_out]
    clips = T.clip_features(mixed)
    assert clips.labels.tolist() == labels and "u0" not in clips.split_groups
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", "--data", str(mixed), "--out", str(run), "--epochs", "1", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert result.output.count(left_out) == 1
    assert json.loads((run / T.CONFIG_JSON).read_text())["n_train"] == 20
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(mixed), "--bootstrap", "0"])
    assert result.exit_code == 0 and result.output.count(left_out) == 1, result.output
    assert json.loads((run / T.METRICS_JSON).read_text())["n_clips"] == 20


def test_the_train_summary_says_what_the_kept_epoch_was_chosen_on(tmp_path):
    wide = {"COLUMNS": "250"}  # one table row per line
    labels, groups = balanced(T.MIN_VALIDATION_GROUPS - 1, 5)
    few = fake_dataset(tmp_path / "few", labels, groups)
    result = runner.invoke(app, ["train", "--data", str(few), "--out", str(tmp_path / "a"), "--epochs", "2",
                                 "--device", "cpu"], env=wide)
    assert result.exit_code == 0, result.output
    assert "no validation split (20 clips of 4 split groups, fewer than 5): every epoch ran, the last (2) is kept" \
        in result.output and "validation AUROC" not in result.output
    many = fake_dataset(tmp_path / "many", *balanced())
    result = runner.invoke(app, ["train", "--data", str(many), "--out", str(tmp_path / "b"), "--epochs", "2",
                                 "--device", "cpu"], env=wide)
    n_val = json.loads((tmp_path / "b" / T.CONFIG_JSON).read_text())["n_val"]
    assert result.exit_code == 0 and n_val > 0 and f"(on {n_val} validation clips)" in result.output, result.output


def test_evaluate_says_whether_the_test_clips_are_held_out_and_can_score_only_those(tmp_path):
    labels, groups = balanced(4, 5)
    trained = fake_dataset(tmp_path / "trained", labels, groups)
    unseen = fake_dataset(tmp_path / "unseen", labels, [f"new-{g}" for g in groups], seed=1)
    mixed = fake_dataset(tmp_path / "mixed", labels + labels, groups + [f"new-{g}" for g in groups], seed=2)
    run = tmp_path / "run"
    assert runner.invoke(app, ["train", "--data", str(trained), "--out", str(run), "--epochs", "1",
                               "--device", "cpu"]).exit_code == 0

    def evaluate(dataset, *extra):
        result = runner.invoke(app, ["evaluate", str(run), "--data", str(dataset), "--bootstrap", "0", *extra])
        assert result.exit_code == 0, result.output
        return result.output, json.loads((run / T.METRICS_JSON).read_text())

    output, metrics = evaluate(unseen)
    assert "held out: none of the 20 clips' split groups was trained on" in output and metrics["n_clips"] == 20
    output, metrics = evaluate(mixed)
    assert "not held out: 20 of 40 clips are of 4 split groups the run trained on (s0, s1, s2, ...); " \
        "--held-out-only leaves them out" in output and metrics["n_clips"] == 40
    output, metrics = evaluate(mixed, "--held-out-only")
    assert "left out: 20 of 40 clips are of 4 split groups the run trained on" in output
    assert (metrics["n_clips"], metrics["n_subjects"]) == (20, 4)


def test_nothing_labelled_is_refused_in_one_line(tmp_path):
    labels, groups = balanced(4, 5)
    good = fake_dataset(tmp_path / "good", labels, groups)
    unlabelled = fake_dataset(tmp_path / "unlabelled", [-1] * 6, groups[:6])
    message = "no clip has a pain level 0-4 (all are unlabelled motion, label -1)"
    out = tmp_path / "out"
    result = runner.invoke(app, ["train", "--data", str(unlabelled), "--out", str(out), "--device", "cpu"])
    _one_line_failure(result, f"{unlabelled}: {message}")
    assert not out.exists()
    run = tmp_path / "run"
    assert runner.invoke(app, ["train", "--data", str(good), "--out", str(run), "--epochs", "1",
                               "--device", "cpu"]).exit_code == 0
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(unlabelled)])
    _one_line_failure(result, message)
    assert not (run / T.METRICS_JSON).exists()
    # beside a labelled folder, an unlabelled one is only left out
    assert T.check_datasets([good, unlabelled]) == [
        f"{unlabelled}: left out 6 of 6 clips without a pain level 0-4 (label -1; -1 marks unlabelled motion)"]
    assert len(T.load_datasets([good, unlabelled]).features) == 20


# ---------------------------------------------------------------- frame models: embeddings and decoded frames

def test_the_data_kind_follows_the_model_class_and_its_arguments(tmp_path):
    assert T.input_spec("au-tcn") == T.InputSpec("features")
    frozen = T.input_spec("frame-temporal")
    assert frozen.kind == "embeddings" and frozen.image_size == 112 and frozen.encoder.endswith("-112px")
    assert T.input_spec("frame-temporal", {"image_size": 64}).encoder.endswith("-64px")
    assert T.input_spec("frame-temporal", {"freeze_encoder": False}) == T.InputSpec("frames", 112)
    assert T.input_spec("frame-temporal", {"pretrained": False}).kind == "frames"  # random weights: nothing to cache
    assert T.input_spec("r2plus1d-18") == T.InputSpec("frames", 112)
    assert T.input_spec("r2plus1d-18", {"image_size": 48}) == T.InputSpec("frames", 48)
    with pytest.raises(T.TrainError, match="model 'au-tcn' takes no option image-size"):
        T.TrainConfig(model_kwargs={"image_size": 64}).check()
    with pytest.raises(T.TrainError, match="set by the trainer"):
        T.TrainConfig(model="frame-temporal", model_kwargs={"num_classes": 3}).check()
    with pytest.raises(T.TrainError, match="nowhere.pth: weights file not readable"):
        T.TrainConfig(model="frame-temporal", model_kwargs={"weights": str(tmp_path / "nowhere.pth")}).check()
    from painsynth.models.mobilenet_v2 import MobileNetV2

    torch.save(MobileNetV2().state_dict(), tmp_path / "mine.pth")
    config = T.TrainConfig(model="frame-temporal", model_kwargs={"weights": tmp_path / "mine.pth"})
    config.check()
    assert config.model_kwargs == {"weights": str(tmp_path / "mine.pth")}  # kept as plain text in checkpoints
    with pytest.raises(T.TrainError, match="model option hidden must be a number, text or a path, not list"):
        T.TrainConfig(model_kwargs={"hidden": [16]}).check()


@pytest.fixture(scope="module")
def video_dataset(tmp_path_factory):
    return write_video_dataset(tmp_path_factory.mktemp("videos") / "syn")


def test_frame_clips_decode_on_access_and_match_with_or_without_the_memory_cache(video_dataset):
    import pickle

    from painsynth.video import read_video

    path = video_dataset / "videos" / "c001.mp4"
    decoded = read_video(path)[0]
    cache = T.FrameCache()
    cached = T.FrameClip(path, 12, 32, "sha", cache)
    uncached = T.FrameClip(path, 12, 32, "sha", T.FrameCache(budget=0))
    index = np.array([0, 5, 5, 11])
    a, b = cached[index], uncached[index]
    assert a.shape == (4, 3, 32, 32) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert np.array_equal(a, b) and np.array_equal(a[1], a[2])
    assert cache.used == 12 * 32 * 32 * 3 and not uncached.cache.clips  # the whole clip is kept only where it fits
    expected = T.resize_frames(decoded, 32)[index].transpose(0, 3, 1, 2) / 255
    assert np.allclose(a, expected) and abs(a.mean() - decoded.mean() / 255) < 0.02
    assert len(T.sample_frames(cached, 8)) == 8 and len(cached) == 12
    assert pickle.loads(pickle.dumps(cache)).used == 0  # worker processes decode for themselves
    assert np.array_equal(T.FrameClip(path, 12, 64, "sha")[index], decoded[index].transpose(0, 3, 1, 2) / np.float32(255))


def _mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.npz")}


def test_frame_temporal_trains_on_cached_embeddings_then_evaluates(video_dataset, tmp_path):
    args = ["--data", str(video_dataset), "--model", "frame-temporal", "--image-size", "64", "--epochs", "1",
            "--batch-size", "4", "--frames", "8", "--device", "cpu"]
    result = runner.invoke(app, ["train", *args, "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    spec = T.input_spec("frame-temporal", {"image_size": 64})
    cache = video_dataset / "features" / spec.encoder
    first = _mtimes(cache)
    assert len(first) == 6 and not list((video_dataset / "features").glob("*.npz"))  # no capture ran
    with np.load(cache / "c000.npz") as saved:
        assert saved["embeddings"].shape == (12, 1280) and video_dataset.name not in str(saved["key"])
    best = torch.load(tmp_path / "a" / T.BEST, weights_only=True)
    assert best["input"] == {"kind": "embeddings", "image_size": 64, "encoder": spec.encoder, "capture_method": None}
    assert best["model_kwargs"]["in_features"] == 1280 and best["model_kwargs"]["image_size"] == 64
    assert not torch.equal(best["model"]["embedding_std"], torch.ones(1280))  # normalised on the training set

    # a second run reuses every cached embedding (no file rewritten) and trains to the same weights
    result = runner.invoke(app, ["train", *args, "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert _mtimes(cache) == first
    a, b = (torch.load(tmp_path / run / T.LAST, weights_only=True)["model"] for run in ("a", "b"))
    assert all(torch.equal(a[k], b[k]) for k in a)

    result = runner.invoke(app, ["evaluate", str(tmp_path / "a"), "--data", str(video_dataset), "--bootstrap", "20"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "a" / T.METRICS_JSON).read_text())
    assert metrics["model"] == "frame-temporal" and metrics["n_clips"] == 6 and metrics["class_counts"] == [3, 3]
    assert 0.0 <= metrics["auroc"] <= 1.0 and _mtimes(cache) == first

    # data of another kind is refused in one line, both ways
    with pytest.raises(T.TrainError, match=r"the model takes frame embeddings \(mobilenet_v2-.*-64px\), "
                                           r"the data holds captured face features \(hybrid\)$"):
        T.evaluate(tmp_path / "a", data=fake_clips(*balanced(2, 3)), bootstrap=0)
    embeddings = T.load_datasets([video_dataset], model="frame-temporal", model_kwargs={"image_size": 64})
    assert embeddings.input == spec and _mtimes(cache) == first
    T.fit(fake_clips(*balanced()), tmp_path / "au", T.TrainConfig(**{**FAST, "epochs": 1}))
    with pytest.raises(T.TrainError,
                       match=r"the model takes captured face features \(hybrid\), the data holds frame embeddings"):
        T.evaluate(tmp_path / "au", data=embeddings, bootstrap=0)
    with pytest.raises(T.TrainError, match="model 'au-tcn': the model takes captured face features"):
        T.fit(embeddings, tmp_path / "au2", T.TrainConfig(**{**FAST, "epochs": 1}))
    with pytest.raises(T.TrainError, match=r"frame embeddings \(mobilenet_v2-.*-112px\), the data holds .*-64px"):
        T.fit(embeddings, tmp_path / "ft", T.TrainConfig(model="frame-temporal", epochs=1, device="cpu"))


def test_r2plus1d_trains_on_decoded_frames_then_evaluates(video_dataset, tmp_path):
    before = sorted(p.relative_to(video_dataset) for p in (video_dataset / "features").rglob("*")) \
        if (video_dataset / "features").exists() else []
    run = tmp_path / "r2"
    result = runner.invoke(app, ["train", "--data", str(video_dataset), "--model", "r2plus1d-18", "--image-size", "32",
                                 "--epochs", "1", "--batch-size", "4", "--frames", "4", "--device", "cpu",
                                 "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert "decoding clips" in result.output
    after = sorted(p.relative_to(video_dataset) for p in (video_dataset / "features").rglob("*")) \
        if (video_dataset / "features").exists() else []
    assert after == before  # frames are decoded in memory, nothing is cached on disk
    best = torch.load(run / T.BEST, weights_only=True)
    assert best["input"] == {"kind": "frames", "image_size": 32, "encoder": None, "capture_method": None}
    assert "in_features" not in best["model_kwargs"] and [int(r["epoch"]) for r in _rows(run)] == [1]
    result = runner.invoke(app, ["evaluate", str(run), "--data", str(video_dataset), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / T.METRICS_JSON).read_text())
    assert metrics["model"] == "r2plus1d-18" and metrics["n_clips"] == 6 and len(metrics["confusion_matrix"]) == 2
    with pytest.raises(T.TrainError,
                       match=r"the model takes video frames \(32x32\), the data holds captured face features \(hybrid\)"):
        T.evaluate(run, data=fake_clips(*balanced(2, 3)), bootstrap=0)


def test_frame_temporal_fine_tunes_its_encoder_on_decoded_frames(video_dataset, tmp_path):
    from painsynth.models.mobilenet_v2 import mobilenet_v2

    run = tmp_path / "ft"
    result = runner.invoke(app, ["train", "--data", str(video_dataset), "--model", "frame-temporal", "--train-encoder",
                                 "--image-size", "32", "--epochs", "1", "--batch-size", "4", "--frames", "4",
                                 "--device", "cpu", "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert "decoding clips" in result.output
    best = torch.load(run / T.BEST, weights_only=True)
    assert best["input"] == {"kind": "frames", "image_size": 32, "encoder": None, "capture_method": None}
    assert best["model_kwargs"]["freeze_encoder"] is False
    imagenet = mobilenet_v2(pretrained=True).features.state_dict()
    trained = {name.removeprefix("encoder."): value for name, value in best["model"].items()
               if name.startswith("encoder.")}
    assert trained.keys() == imagenet.keys()
    moved = [name for name, value in imagenet.items() if value.ndim == 4 and not torch.equal(value, trained[name])]
    assert moved  # convolution kernels left ImageNet's values: the encoder itself was trained


def test_frame_model_options_on_a_feature_model_get_one_line(tmp_path):
    labels, groups = balanced(4, 5)
    good = fake_dataset(tmp_path / "good", labels, groups)
    result = runner.invoke(app, ["train", "--data", str(good), "--image-size", "64", "--out", str(tmp_path / "o")])
    _one_line_failure(result, "model 'au-tcn' takes no option image-size")
    result = runner.invoke(app, ["train", "--data", str(good), "--model", "frame-temporal", "--weights",
                                 str(tmp_path / "none.pth"), "--out", str(tmp_path / "o")])
    _one_line_failure(result, "none.pth: weights file not readable")
    assert not (tmp_path / "o").exists()


def test_clips_captured_in_parallel_processes_equal_those_captured_one_by_one(tiny_dataset, tmp_path):
    from painsynth.train.features import CapturedFeatures

    serial_root = _videos_only(tiny_dataset, tmp_path / "serial")
    parallel_root = _videos_only(tiny_dataset, tmp_path / "parallel")
    rows = {row["clip_id"]: row for row in manifest_rows(parallel_root)}
    broken = sorted(rows)[2]
    for root in (serial_root, parallel_root):
        (root / rows[broken]["path"]).write_bytes(b"not a video")  # left out with its reason, not fatal
    serial = [CapturedFeatures(serial_root, "direct", workers=1)(row) if cid != broken else None
              for cid, row in sorted(rows.items())]
    errors = []
    parallel = T.clip_features(parallel_root, capture_method="direct", errors=errors)  # one process per core
    assert parallel.clip_ids == [cid for cid in sorted(rows) if cid != broken]
    assert len(errors) == 1 and rows[broken]["path"].split("/")[-1] in errors[0]
    assert all(np.array_equal(a, b) for a, b in zip(parallel.features, [s for s in serial if s is not None]))

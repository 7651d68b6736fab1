import csv
import json
import time

import numpy as np
import pytest
from conftest import write_video_dataset
from typer.testing import CliRunner

from painsynth import train as T
from painsynth.cli import app
from painsynth.dataset import manifest_rows, write_manifest
from painsynth.experiment import (
    ALL,
    Cell,
    ExperimentConfig,
    ExperimentError,
    cell_data,
    make_folds,
    parse_budgets,
    plan,
    run_experiment,
    training_order,
)
from painsynth.realdata import ingest

runner = CliRunner()


def fast() -> T.TrainConfig:
    return T.TrainConfig(epochs=2, batch_size=4, frames=8, device="cpu", model_kwargs={"hidden": 16, "layers": 2})


def fake_features(groups, labels, seed=0, prefix="real"):
    rng = np.random.default_rng(seed)
    features = [rng.normal(size=(10, T.N_FEATURES)).astype(np.float32) for _ in groups]
    return T.ClipFeatures(features, np.array(labels), list(groups), [f"{prefix}/{g}-{i}" for i, g in enumerate(groups)])


def fake_dataset(root, groups, labels, source, seed=0, method=T.DEFAULT_CAPTURE_METHOD):
    """A dataset folder with features cached as capture ``method`` makes them (trains without any video)."""
    clips = fake_features(groups, labels, seed)
    rows = []
    for i, (group, level) in enumerate(zip(groups, labels)):
        sha = f"{seed:032x}{i:032x}"
        rows.append({"clip_id": f"c{i:03d}", "path": f"videos/c{i:03d}.mp4", "split_group": group, "source": source,
                         "label": level, "fps": 25.0, "n_frames": 10, "width": 64, "height": 64, "sha256": sha})
        cached = T.cache_path(root, f"c{i:03d}", T.InputSpec(capture_method=method))
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cached, features=clips.features[i] + 2.0 * (level > 0),
                 valid=np.ones(10, bool), sha256=np.array(sha), version=np.array(T.feature_cache_key(method)))
    write_manifest(rows, root / "manifest.parquet")
    return root


def two_per_subject(subjects):
    return [s for s in subjects for _ in range(2)], [level for _ in subjects for level in (0, 4)]


# ---------------------------------------------------------------- budgets, folds, plan

def test_budgets_and_folds():
    assert parse_budgets("0,5, 10,all,5") == [0, 5, 10, ALL]
    for bad in ("-1", "five", ""):
        with pytest.raises(ExperimentError, match="real-subjects"):
            parse_budgets(bad)
    subjects = [f"s{i:02d}" for i in range(11)]
    folds = make_folds(subjects, 3, seed=1)
    assert sorted(s for f in folds for s in f) == subjects and sorted(len(f) for f in folds) == [3, 4, 4]
    assert make_folds(subjects, 3, seed=1) == folds != make_folds(subjects, 3, seed=2)
    with pytest.raises(ExperimentError, match="4 folds need at least 4 real subjects"):
        make_folds(["a", "b", "c"], 4)


def test_plan_rows_nested_budgets_and_too_large_budget():
    folds = make_folds([f"s{i}" for i in range(10)], 5)
    rows = plan(folds, [0, 2, 5, ALL], seeds=2)
    # per fold and seed: k=0 -> synthetic-only + synthetic+real; k>0 -> three settings
    assert len(rows) == 5 * 2 * (2 + 3 * 3)
    assert not [r for r in rows if r.setting == "real-only" and r.real_subjects == 0]
    for fold, test in enumerate(folds):
        for seed in range(2):
            cells = {r.budget: r.cell for r in rows if r.fold == fold and r.seed == seed and r.setting == "real-only"}
            assert set(cells[2].train_real_subjects) < set(cells[5].train_real_subjects) < set(cells[ALL].train_real_subjects)
            assert len(cells[ALL].train_real_subjects) == 8 and not set(cells[ALL].train_real_subjects) & set(test)
            zero = [r.cell for r in rows if r.fold == fold and r.seed == seed and r.budget == 0]
            assert zero[0] is zero[1] and zero[0].setting == "synthetic-only"  # k=0: synthetic+real is synthetic-only
    orders = {tuple(training_order([f"s{i}" for i in range(8)], 0, seed)) for seed in range(3)}
    assert len(orders) == 3  # seeds draw different subjects
    with pytest.raises(ExperimentError, match="real-subjects 9 is more than the real training subjects available"):
        plan(folds, [0, 9], seeds=1)


def test_synthetic_clips_of_test_subjects_never_train():
    """The leak test: synthetic clips that carry a real subject's motion share its split_group."""
    real_subjects = [f"r{i}" for i in range(6)]
    groups, labels = two_per_subject(real_subjects)
    real = fake_features(groups, labels)
    syn_groups, syn_labels = two_per_subject(real_subjects + ["perf-0", "perf-1"])
    synthetic = fake_features(syn_groups * 3, syn_labels * 3, seed=1, prefix="syn")
    folds = make_folds(real_subjects, 3)
    cells = {r.cell for r in plan(folds, [0, 1, ALL], seeds=2)}
    assert {c.setting for c in cells} == {"real-only", "synthetic-only", "synthetic+real"}
    for cell in cells:
        train, test = cell_data(cell, real, synthetic)
        assert not set(train.split_groups) & set(cell.test_subjects), cell.name
        assert sorted(set(test.split_groups)) == sorted(cell.test_subjects) and len(test.features) == 4
        if cell.setting != "real-only":
            # every other synthetic clip is used: the test is not passing by training on nothing
            expected = sum(g not in cell.test_subjects for g in synthetic.split_groups)
            assert sum(c in synthetic.clip_ids for c in train.clip_ids) == expected
        if cell.setting != "synthetic-only":
            real_used = {g for g, c in zip(train.split_groups, train.clip_ids) if c in real.clip_ids}
            assert real_used == set(cell.train_real_subjects)
    # the guard itself: a cell whose real subjects include a test subject is refused
    bad = Cell("synthetic+real", 0, 0, ("r0",), ("r0", "r1"))
    with pytest.raises(ExperimentError, match="training clips of test subjects"):
        cell_data(bad, real, synthetic)


def test_mixed_motion_of_a_test_subject_never_trains():
    """A clip whose motion mixes several people (generate --motion-privacy mix) names them all; it is
    left out of a fold when any of them is a test subject, not only the one who leads it."""
    real_subjects = [f"r{i}" for i in range(4)]
    real = fake_features(*two_per_subject(real_subjects))
    mixed_groups = ["r0+r1", "r2+r0", "r2+r3", "perf-0"]
    synthetic = fake_features(mixed_groups * 2, [0, 1] * 4, seed=1, prefix="syn")
    cell = Cell("synthetic-only", 0, 0, ("r0",), ())
    train, _ = cell_data(cell, real, synthetic)
    assert sorted(set(train.split_groups)) == ["perf-0", "r2+r3"]


# ---------------------------------------------------------------- end to end on rendered video

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The 'real' stand-in: a tiny rendered dataset (4 performers x pain levels 0 and 4) ingested through a CSV
    as subjects perf-0000, perf-0010, perf-0011, perf-0012, so its clips are captured from their pixels.
    The 'synthetic' side has cached features (the same clip_features path without re-rendering, to keep the
    test fast) for groups perf-0000, perf-0001, perf-0002: its perf-0000 clips play as if they replayed motion
    captured from real subject perf-0000."""
    from painsynth.config import make_config
    from painsynth.generate import generate

    root = tmp_path_factory.mktemp("exp")
    source = root / "rendered"
    summary = generate(make_config(out=source, clips=8, frames=8, size=128, views=["front"], workers=1,
                                   levels=[0, 4], clips_per_performer=2, seed=5))
    assert summary.failed == 0
    real_name = {"perf-0000": "perf-0000", "perf-0001": "perf-0010", "perf-0002": "perf-0011", "perf-0003": "perf-0012"}
    with open(root / "real.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "label", "subject"])
        for row in manifest_rows(source):
            writer.writerow([source / row["path"], row["label"], real_name[row["split_group"]]])
    ingest(root / "real.csv", root / "real")
    groups, labels = two_per_subject(["perf-0000", "perf-0001", "perf-0002"])
    syn = fake_dataset(root / "syn", groups, labels, "captured", seed=3)
    return syn, root / "real"


def _fold_test(out, fold):
    return json.loads((out / "experiment.json").read_text())["folds"][int(fold)]


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_tiny_experiment_end_to_end_and_resume(rendered, tmp_path):
    syn, real = rendered
    out = tmp_path / "exp"
    config = ExperimentConfig(synthetic=syn, real=real, budgets="0,2", folds=2, seeds=1, train=fast())
    started = time.perf_counter()
    summary = run_experiment(config, out)
    print(f"tiny experiment (capturing 8 real clips + 6 cells): {time.perf_counter() - started:.1f} s")
    assert summary.cells_run == 6 and summary.cells_skipped == 0 and not summary.cell_errors
    rows = _csv(out / "results.csv")
    # per fold: k=0 -> synthetic-only, synthetic+real; k=2 -> real-only, synthetic-only, synthetic+real
    assert len(rows) == 2 * 5
    assert {(r["setting"], r["real_subjects"]) for r in rows} == {
        ("synthetic-only", "0"), ("synthetic+real", "0"), ("real-only", "2"), ("synthetic-only", "2"),
        ("synthetic+real", "2")}
    assert {"setting", "real_subjects", "fold", "seed", "auroc", "f1", "accuracy", "n_train", "n_test"} <= set(rows[0])
    for row in rows:
        assert row["error"] == "" and 0 <= float(row["auroc"]) <= 1 and int(row["n_test"]) == 4
        synthetic = 4 if "perf-0000" in _fold_test(out, row["fold"]) else 6
        assert int(row["n_train"]) == {"real-only": 4, "synthetic-only": synthetic,
                                       "synthetic+real": synthetic + 2 * int(row["real_subjects"])}[row["setting"]]
    # no leak: synthetic perf-0000 (the motion of real subject perf-0000) trains only where perf-0000 is not tested
    assert {row["split_group"] for row in manifest_rows(syn)} == {"perf-0000", "perf-0001", "perf-0002"}
    assert len(list((real / "features" / "capture-hybrid").glob("*.npz"))) == 8  # the real videos were captured
    records = [json.loads(cell.read_text()) for cell in (out / "cells").glob("*.json")]
    assert len(records) == 6
    for record in records:
        assert not set(record["train_groups"]) & set(record["test_subjects"]), record["cell"]
        if record["setting"] != "real-only":
            assert ("perf-0000" in record["train_groups"]) == ("perf-0000" not in record["test_subjects"])
    table = (out / "results.md").read_text()
    for setting in ("real-only", "synthetic-only", "synthetic+real"):
        assert f"| {setting} |" in table
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # resume: nothing retrained; a missing cell is redone alone and the results stay the same
    summary = run_experiment(config, out)
    assert summary.cells_run == 0 and summary.cells_skipped == 6 and _csv(out / "results.csv") == rows
    (out / "cells" / "real-only_k2_fold1_seed0.json").unlink()
    summary = run_experiment(config, out)
    assert summary.cells_run == 1 and summary.cells_skipped == 5 and _csv(out / "results.csv") == rows


# ---------------------------------------------------------------- command line and bad inputs

@pytest.fixture
def fake_pair(tmp_path):
    subjects = [f"r{i}" for i in range(6)]
    groups, labels = two_per_subject(subjects)
    real = fake_dataset(tmp_path / "real", groups, labels, "real")
    syn_groups, syn_labels = two_per_subject(subjects + ["perf-0", "perf-1"])
    syn = fake_dataset(tmp_path / "syn", syn_groups * 2, syn_labels * 2, "captured", seed=1)
    return syn, real


def _args(syn, real, out, *extra):
    return ["experiment", "--synthetic", str(syn), "--real", str(real), "--out", str(out), "--folds", "2",
            "--seeds", "1", "--epochs", "1", "--batch-size", "4", "--frames", "8", "--device", "cpu", *extra]


def test_experiment_command(fake_pair, tmp_path):
    syn, real = fake_pair
    out = tmp_path / "exp"
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0,all"))
    assert result.exit_code == 0, result.output
    assert "| synthetic+real |" in result.output and "cells trained: 6" in result.output
    rows = _csv(out / "results.csv")
    assert len(rows) == 2 * (2 + 3)
    assert {r["real_subjects"] for r in rows if r["budget"] == "all"} == {"3"}
    # re-run with another budget: only the new cells train; other settings are refused
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0,2,all"))
    assert result.exit_code == 0 and "cells trained: 4, already done: 6" in result.output, result.output
    assert len(_csv(out / "results.csv")) == 2 * (2 + 3 + 3)
    before = (out / "results.csv").read_bytes()
    result = runner.invoke(app, _args(syn, real, out, "--task", "multiclass"))
    assert result.exit_code == 2 and "holds an experiment with task='binary'" in result.output, result.output
    assert (out / "results.csv").read_bytes() == before


@pytest.mark.parametrize("extra, message", [
    (["--real-subjects", "0,4"], "real-subjects 4 is more than the real training subjects available"),
    (["--model", "nope"], "unknown model 'nope'"),
    (["--task", "ternary"], "unknown task 'ternary'"),
    (["--folds", "7"], "7 folds need at least 7 real subjects"),
    (["--folds", "1"], "folds must be an integer >= 2"),
    (["--real-subjects", "x"], "real-subjects: 'x' is not a number"),
])
def test_bad_experiment_inputs_get_one_line_and_write_nothing(fake_pair, tmp_path, extra, message):
    syn, real = fake_pair
    out = tmp_path / "exp"
    result = runner.invoke(app, _args(syn, real, out, *extra))
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists()


def test_missing_or_single_class_datasets(fake_pair, tmp_path):
    syn, _real = fake_pair
    result = runner.invoke(app, _args(syn, tmp_path / "nowhere", tmp_path / "exp"))
    assert result.exit_code == 2 and "no such manifest" in result.output, result.output
    one_class = fake_dataset(tmp_path / "pain-only", ["a", "b", "c"], [4, 4, 4], "real")
    result = runner.invoke(app, _args(syn, one_class, tmp_path / "exp"))
    assert result.exit_code == 2 and "single class" in result.output, result.output
    assert not (tmp_path / "exp").exists()


def test_unlabelled_clips_are_left_out_of_an_experiment_with_one_line(tmp_path):
    subjects = [f"r{i}" for i in range(6)]
    groups, labels = two_per_subject(subjects)
    real = fake_dataset(tmp_path / "real", groups + ["r0", "x9"], labels + [-1, -1], "real")
    syn_groups, syn_labels = two_per_subject(subjects + ["perf-0"])
    syn = fake_dataset(tmp_path / "syn", syn_groups + ["perf-9"], syn_labels + [-1], "captured", seed=1)
    out = tmp_path / "exp"
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0", "--workers", "1"))
    assert result.exit_code == 0, result.output
    for folder, left, total in ((real, 2, 14), (syn, 1, 15)):
        line = f"{folder}: left out {left} of {total} clips without a pain level 0-4 (label -1; -1 marks unlabelled motion)"
        assert result.output.count(line) == 1, result.output
    folds = json.loads((out / "experiment.json").read_text())["folds"]
    assert sorted(s for fold in folds for s in fold) == subjects  # x9 has no labelled clip: in no fold
    for row in _csv(out / "results.csv"):
        assert int(row["n_test"]) == 6 and int(row["n_train"]) == 14 - 2 * sum(s in _fold_test(out, row["fold"])
                                                                                for s in subjects)

    unlabelled = fake_dataset(tmp_path / "unlabelled", ["a", "b"], [-1, -1], "real")
    result = runner.invoke(app, _args(syn, unlabelled, tmp_path / "exp2"))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"{unlabelled}: no clip has a pain level 0-4 (all are unlabelled motion, label -1)" in result.output
    assert not (tmp_path / "exp2").exists()


def test_a_rerun_after_capture_changed_is_refused(fake_pair, tmp_path, monkeypatch):
    from painsynth.train import features

    syn, real = fake_pair
    out = tmp_path / "exp"
    assert runner.invoke(app, _args(syn, real, out, "--real-subjects", "0")).exit_code == 0
    before = (out / "results.csv").read_bytes()
    monkeypatch.setattr(features, "FEATURE_VERSION", features.FEATURE_VERSION + 1)  # as when capture's retargeting changes
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0"))
    assert result.exit_code == 2 and "holds an experiment with input=" in result.output, result.output
    assert (out / "results.csv").read_bytes() == before


def test_the_capture_method_is_recorded_and_a_rerun_with_another_is_refused(tmp_path):
    subjects = [f"r{i}" for i in range(4)]
    groups, labels = two_per_subject(subjects)
    real = fake_dataset(tmp_path / "real", groups, labels, "real", method="direct")
    syn = fake_dataset(tmp_path / "syn", groups, labels, "captured", seed=1, method="direct")
    out = tmp_path / "exp"
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0", "--capture-method", "direct"))
    assert result.exit_code == 0, result.output
    settings = json.loads((out / "experiment.json").read_text())["settings"]
    assert settings["capture_method"] == "direct" and settings["input"] == T.feature_cache_key("direct")
    before = (out / "results.csv").read_bytes()
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0"))
    assert result.exit_code == 2 and "holds an experiment with capture_method='direct', not 'hybrid'" in result.output
    assert (out / "results.csv").read_bytes() == before


def test_an_unwritable_output_folder_is_refused_before_anything_runs(fake_pair, tmp_path):
    syn, real = fake_pair
    blocker = tmp_path / "afile"
    blocker.write_text("a file, not a folder")
    out = blocker / "exp"
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0"))
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"{out}: output folder is not writable ({blocker} is a file)" in result.output
    assert blocker.read_text() == "a file, not a folder"


def test_a_failed_cell_is_retried_on_a_rerun(fake_pair, tmp_path):
    syn, real = fake_pair
    config = ExperimentConfig(synthetic=syn, real=real, budgets="1", folds=2, seeds=1, train=fast())
    out = tmp_path / "exp"
    first = run_experiment(config, out, workers=1)
    assert first.cells_run == 6 and not first.cell_errors  # budget 1: real-only trains on one subject
    rows = _csv(out / "results.csv")
    path = out / "cells" / "real-only_k1_fold0_seed0.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "metrics": {}, "error": "interrupted"}))
    again = run_experiment(config, out, workers=1)
    assert (again.cells_run, again.cells_skipped) == (1, 5) and not again.cell_errors
    assert json.loads(path.read_text())["error"] == "" and _csv(out / "results.csv") == rows


def test_every_cell_trains_all_epochs_without_validation_and_keeps_the_last(fake_pair, tmp_path):
    """One rule for every setting and budget: the synthetic set's 8 groups and 'all' (3) real subjects would get
    a validation split from `painsynth train`, 1 real subject would not; in the experiment none does."""
    syn, real = fake_pair
    training = T.TrainConfig(**{**vars(fast()), "epochs": 3, "patience": 1})
    out = tmp_path / "exp"
    summary = run_experiment(ExperimentConfig(synthetic=syn, real=real, budgets="1,all", folds=2, seeds=1,
                                              train=training), out, workers=1)
    assert summary.cells_run == 10 and not summary.cell_errors
    for path in (out / "cells").glob("*.json"):
        record = json.loads(path.read_text())
        assert (record["epochs_run"], record["kept_epoch"]) == (3, 3), record["cell"]
        run_config = json.loads((out / "runs" / record["cell"] / "config.json").read_text())
        assert run_config["n_val"] == 0 and run_config["n_train"] == record["n_train"], record["cell"]
    assert "Every cell trains 3 epochs without a validation split and keeps the last" in (out / "results.md").read_text()


def test_an_experiment_folder_from_before_the_one_training_rule_is_refused(fake_pair, tmp_path):
    syn, real = fake_pair
    config = ExperimentConfig(synthetic=syn, real=real, budgets="0", folds=2, seeds=1, train=fast())
    out = tmp_path / "exp"
    run_experiment(config, out, workers=1)
    saved = json.loads((out / "experiment.json").read_text())
    del saved["settings"]["model_selection"]
    (out / "experiment.json").write_text(json.dumps(saved))
    with pytest.raises(ExperimentError, match="holds an experiment with model_selection=None"):
        run_experiment(config, out, workers=1)


def test_parallel_cells_give_the_serial_results(fake_pair, tmp_path):
    syn, real = fake_pair
    results = {}
    for workers in (1, 2):
        config = ExperimentConfig(synthetic=syn, real=real, budgets="0,2", folds=2, seeds=1, train=fast())
        summary = run_experiment(config, tmp_path / f"exp{workers}", workers=workers)
        assert summary.cells_run == 6 and not summary.cell_errors
        results[workers] = _csv(tmp_path / f"exp{workers}" / "results.csv")
    assert results[1] == results[2]
    with pytest.raises(ExperimentError, match="workers must be an integer >= 1"):
        run_experiment(ExperimentConfig(synthetic=syn, real=real, budgets="0", folds=2, seeds=1, train=fast()),
                       tmp_path / "exp0", workers=0)


def test_experiment_trains_frame_models_on_embeddings_at_the_given_size(tmp_path):
    real = write_video_dataset(tmp_path / "real", n_groups=4, frames=8, size=48)
    syn = write_video_dataset(tmp_path / "syn", n_groups=3, frames=8, size=48)
    out = tmp_path / "exp"
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0", "--model", "frame-temporal",
                                      "--image-size", "32"))
    assert result.exit_code == 0, result.output
    assert len(_csv(out / "results.csv")) == 2 * 2
    for dataset in (real, syn):  # embeddings of every clip, encoded at the requested size
        assert len(list((dataset / "features").glob("mobilenet_v2-*-32px/*.npz"))) == len(manifest_rows(dataset))
    assert json.loads((out / "experiment.json").read_text())["settings"]["model_kwargs"] == {"image_size": 32}
    result = runner.invoke(app, _args(syn, real, out, "--real-subjects", "0", "--model", "frame-temporal"))
    assert result.exit_code == 2 and "holds an experiment with model_kwargs={'image_size': 32}" in result.output

"""Running the experiment: training and testing each cell where it is sent (this process, spawned
processes or Ray), recording it so that a re-run resumes rather than repeats, and refusing a re-run
whose settings or folds would mix incomparable cells into one folder."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from painsynth.executors import executor
from painsynth.experiment.cells import Cell, PlannedRow, cell_data, make_folds, plan
from painsynth.experiment.config import ExperimentConfig, ExperimentError
from painsynth.experiment.results import METRICS, RESULTS_CSV, write_results
from painsynth.fileio import atomic_path
from painsynth.train import (
    ClipFeatures,
    TrainConfig,
    TrainError,
    check_datasets,
    check_writable,
    clip_features,
    evaluate,
    fit,
    input_spec,
    resolve_device,
    task_targets,
)

CONFIG_JSON, CELLS_DIR, RUNS_DIR = "experiment.json", "cells", "runs"
TRAIN_DEFAULTS = asdict(TrainConfig())
# A cell's share of a GPU on a Ray node: the models are small, so several cells train on one GPU at once.
CELL_GPU_SHARE = 0.25


@dataclass
class ExperimentSummary:
    out: Path
    rows: list[dict]
    cells_run: int = 0
    cells_skipped: int = 0  # finished in an earlier run
    cell_errors: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # per dataset: its clips without a pain level, left out
    seconds: float = 0.0


def _write_json(path: Path, payload: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2))


def _read_cell(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return payload if isinstance(payload, dict) and "metrics" in payload else None


def _check_resume(out: Path, identity: dict) -> dict | None:
    path = out / CONFIG_JSON
    if not path.exists():
        if (out / CELLS_DIR).exists() or (out / RESULTS_CSV).exists():
            raise ExperimentError(f"{out}: holds results without {CONFIG_JSON}; choose another --out")
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        raise ExperimentError(f"{path}: unreadable; choose another --out") from None
    settings = saved.get("settings", {})
    for key, value in identity.items():
        # training settings an older experiment.json does not name were TrainConfig's defaults then
        earlier = settings.get(key, TRAIN_DEFAULTS.get(key))
        if earlier != value:
            raise ExperimentError(f"{out}: holds an experiment with {key}={earlier!r}, not {value!r}; "
                                  f"choose another --out")
    return saved


def _cell_record(cell: Cell) -> dict:
    """A cell's record before training (no clips, no metrics, no error)."""
    return {"cell": cell.name, "setting": cell.setting, "fold": cell.fold, "seed": cell.seed,
            "test_subjects": list(cell.test_subjects), "train_real_subjects": list(cell.train_real_subjects),
            "train_groups": [], "n_train": 0, "n_test": 0, "metrics": {}, "error": ""}


def run_cell(cell: Cell, real: ClipFeatures, synthetic: ClipFeatures, config: ExperimentConfig, out: Path) -> dict:
    """Train and test one cell (resuming its run folder) and write ``cells/<name>.json``; returns its record."""
    train, test = cell_data(cell, real, synthetic)
    record = {**_cell_record(cell), "train_groups": sorted(set(train.split_groups)), "n_train": len(train.features),
              "n_test": len(test.features)}
    started = time.perf_counter()
    run_dir = out / RUNS_DIR / cell.name
    try:
        if not train.features:
            raise TrainError("no training clips")
        if not test.features:
            raise TrainError("no test clips")
        result = fit(train, run_dir, config.train_config(cell.seed), validate=False)
        metrics = evaluate(run_dir, data=test, device=config.train.device, bootstrap=0)
        record["epochs_run"], record["kept_epoch"] = result.epochs_run, result.best_epoch
        record["n_test"] = metrics["n_clips"]
        record["metrics"] = {k: metrics[k] for k in (*METRICS, "balanced_accuracy")}
    except TrainError as exc:
        record["error"] = str(exc)
    record["seconds"] = round(time.perf_counter() - started, 3)
    _write_json(out / CELLS_DIR / f"{cell.name}.json", record)
    return record


def default_cell_workers(device: str = "auto") -> int:
    """One training process per core on CPU: the models are small, so separate cells scale better than
    torch's threads inside one; one process on CUDA (the cells share the GPU)."""
    return 1 if resolve_device(device).type == "cuda" else max(1, os.cpu_count() or 1)


def _set_threads(threads: int) -> None:
    torch.set_num_threads(threads)


def _run_cells(cells: Sequence[Cell], real: ClipFeatures, synthetic: ClipFeatures, config: ExperimentConfig,
               out: Path, workers: int, ray: str | None = None) -> Iterator[dict]:
    """Each cell's record as it finishes: in this process, in ``workers`` spawned processes, or as Ray
    tasks (the features travel once per process, or once into Ray's object store). A cell whose process
    dies, or that fails in a way training does not catch, is recorded as an error, not lost."""
    workers = min(workers, len(cells))
    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    on_gpu = resolve_device(config.train.device).type == "cuda"
    runner = executor(ray, workers, initializer=_set_threads, initargs=(threads,),
                      shared=(real, synthetic, config, out), num_gpus=CELL_GPU_SHARE if on_gpu else 0)
    for cell, result in runner.map(run_cell, cells):  # run_cell(cell, *shared)
        if isinstance(result, BaseException):
            reason = str(result).splitlines()[0] if str(result) else type(result).__name__
            yield {**_cell_record(cell), "error": f"training process failed ({reason})"}
        else:
            yield result


def run_experiment(config: ExperimentConfig, out: str | Path, on_progress: Callable[[int, int], None] | None = None,
                   errors: list[str] | None = None, workers: int | None = None,
                   ray: str | None = None) -> ExperimentSummary:
    """Run (or resume) the whole experiment into ``out`` and write results.csv, results.md and results.png.

    Cells train in ``workers`` processes (default :func:`default_cell_workers`), or as tasks on the Ray
    cluster at ``ray`` (one task per cell); each cell is seeded by itself, so the results do not depend
    on what ran them.
    """
    started = time.perf_counter()
    out = Path(out)
    config.check()
    workers = default_cell_workers(config.train.device) if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExperimentError(f"workers must be an integer >= 1, got {workers!r}")
    identity = config.identity()
    check_writable(out)
    saved = _check_resume(out, identity)
    model_input = {"model": config.train.model, "model_kwargs": config.train.model_kwargs,
                   "capture_method": config.train.capture_method}
    spec = input_spec(**model_input)  # features (by a capture method), embeddings or frames
    # a missing, empty, unlabelled or single-class dataset fails before featurising
    left_out = [line for folder in (config.real, config.synthetic)
                for line in check_datasets([folder], config.train.task, spec)]
    real = clip_features(config.real, errors=errors, **model_input)
    synthetic = clip_features(config.synthetic, errors=errors, **model_input)
    keep, _ = task_targets(real.labels, config.train.task)
    subjects = sorted({g for g, k in zip(real.split_groups, keep) if k})
    folds = make_folds(subjects, config.folds, config.split_seed)
    planned = plan(folds, config.budgets, config.seeds, config.split_seed)
    if saved is not None and saved.get("folds") != folds:
        raise ExperimentError(f"{out}: its folds were made from other real subjects; choose another --out")
    _write_json(out / CONFIG_JSON, {"settings": identity, "folds": folds,
                                    "budgets": [str(b) for b in config.budgets], "seeds": config.seeds})
    summary = ExperimentSummary(out=out, rows=[], left_out=left_out)
    cells = list(dict.fromkeys(row.cell for row in planned))
    records = {cell: _read_cell(out / CELLS_DIR / f"{cell.name}.json") for cell in cells}
    todo = [cell for cell, record in records.items() if record is None or record["error"]]  # failed cells retry
    summary.cells_skipped = len(cells) - len(todo)
    if on_progress:
        on_progress(summary.cells_skipped, len(cells))
    by_name = {cell.name: cell for cell in todo}
    for done, record in enumerate(_run_cells(todo, real, synthetic, config, out, workers, ray), start=1):
        records[by_name[record["cell"]]] = record
        summary.cells_run += 1
        if on_progress:
            on_progress(summary.cells_skipped + done, len(cells))
    summary.cell_errors = [f"{cell.name}: {records[cell]['error']}" for cell in cells if records[cell]["error"]]
    summary.rows = [_result_row(row, records[row.cell]) for row in planned]
    write_results(summary.rows, out, config)
    summary.seconds = time.perf_counter() - started
    return summary


def _result_row(row: PlannedRow, record: dict) -> dict:
    metrics = record.get("metrics") or {}
    return {"setting": row.setting, "budget": str(row.budget), "real_subjects": row.real_subjects,
            "train_real_subjects": len(record["train_real_subjects"]), "fold": row.fold, "seed": row.seed,
            **{k: metrics.get(k) for k in (*METRICS, "balanced_accuracy")},
            "n_train": record["n_train"], "n_test": record["n_test"], "cell": record["cell"], "error": record["error"]}

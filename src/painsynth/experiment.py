"""The paper's comparison: recognition against the number of real training subjects.

The real subjects (``split_group`` of the real dataset) are shuffled once (``split_seed``) and cut into
``folds`` subject-disjoint folds. For each fold, the test set is that fold's real clips; for each seed the
other folds' subjects are put in a seeded order and a budget of k real training subjects takes the first k
of it (so budgets are nested: the 5 subjects of k=5 are among the 10 of k=10). Three settings are trained
with :func:`painsynth.train.fit` (settings from the experiment's :class:`~painsynth.train.TrainConfig`, seeded
per cell) and scored with :func:`painsynth.train.evaluate` on the fold's test clips:

- ``real-only``: the k subjects' real clips (not run for k=0);
- ``synthetic-only``: every synthetic clip (independent of k: trained once per fold and seed, its result
  is repeated on each budget's row so that it plots as the reference line);
- ``synthetic+real``: both (at k=0 it is the synthetic-only model).

Every cell trains under the same rule, whatever its setting and budget: all ``train.epochs`` epochs on all
its training clips, no validation split, no early stopping, the last epoch kept. (``painsynth train`` holds
out validation subjects only when there are 5 or more; in an experiment that would give real-only cells of
1-4 subjects one rule and the others another.)

Synthetic clips whose ``split_group`` is one of the fold's test subjects (motion captured from that
subject) are never trained on, in any setting; each cell records its training groups so this can be
checked after the fact.

Outputs in ``out``: ``experiment.json`` (settings and folds; a re-run must match them), ``cells/<cell>.json``
(one per trained cell; a re-run skips cells that have one), ``runs/<cell>/`` (the training runs; an
interrupted one resumes from its ``last.pt``), ``results.csv``, ``results.md`` and ``results.png``.
Features are :func:`painsynth.train.clip_features` (captured by ``train.capture_method``), cached per clip and
method in each dataset folder. Clips without a pain level (label -1, unlabelled motion) are left out of both
datasets; the summary says how many.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from painsynth.dataset import group_members
from painsynth.executors import executor
from painsynth.fileio import atomic_path
from painsynth.train import (
    FEATURES,
    ClipFeatures,
    TrainConfig,
    TrainError,
    check_datasets,
    check_writable,
    clip_features,
    clips_at,
    evaluate,
    feature_cache_key,
    fit,
    input_spec,
    resolve_device,
    task_targets,
)

SETTINGS = ("real-only", "synthetic-only", "synthetic+real")
ALL = "all"
DEFAULT_BUDGETS = (0, 5, 10, 20, ALL)
CONFIG_JSON, CELLS_DIR, RUNS_DIR = "experiment.json", "cells", "runs"
RESULTS_CSV, RESULTS_MD, RESULTS_PNG = "results.csv", "results.md", "results.png"
# How a cell's model is chosen; recorded in experiment.json, so cells trained under another rule are not mixed in
CELL_MODEL_SELECTION = "last epoch, no validation"
UNUSED_TRAIN_SETTINGS = ("seed", "device", "val_fraction", "patience")  # per cell, or not used without validation
METRICS = ("auroc", "f1", "accuracy")
TRAIN_DEFAULTS = asdict(TrainConfig())
# A cell's share of a GPU on a Ray node: the models are small, so several cells train on one GPU at once.
CELL_GPU_SHARE = 0.25
RESULT_COLUMNS = ("setting", "budget", "real_subjects", "train_real_subjects", "fold", "seed", "auroc", "f1",
                  "accuracy", "balanced_accuracy", "n_train", "n_test", "cell", "error")


class ExperimentError(ValueError):
    """The experiment cannot run with these inputs; the message says why, in one line."""


# ---------------------------------------------------------------- settings

def parse_budgets(text: str | Sequence) -> list[int | str]:
    """Budgets from ``"0,5,10,all"`` (or a list): distinct integers >= 0 in order, ``all`` last."""
    items = [s.strip() for s in text.split(",")] if isinstance(text, str) else [str(s).strip() for s in text]
    numbers, want_all = set(), False
    for item in items:
        if item.lower() == ALL:
            want_all = True
            continue
        try:
            value = int(item)
        except ValueError:
            value = -1
        if value < 0:
            raise ExperimentError(f"real-subjects: {item!r} is not a number of subjects >= 0 or 'all'")
        numbers.add(value)
    if not numbers and not want_all:
        raise ExperimentError("real-subjects: give at least one budget, e.g. 0,5,10,all")
    return sorted(numbers) + ([ALL] if want_all else [])


@dataclass
class ExperimentConfig:
    synthetic: str | Path
    real: str | Path
    budgets: list = field(default_factory=lambda: list(DEFAULT_BUDGETS))
    folds: int = 5
    seeds: int = 3
    split_seed: int = 0  # the fold assignment of the real subjects
    train: TrainConfig = field(default_factory=TrainConfig)  # every cell's training; its seed is the cell's

    def train_config(self, seed: int) -> TrainConfig:
        return replace(self.train, seed=seed, model_kwargs=dict(self.train.model_kwargs))

    def check(self) -> None:
        self.budgets = parse_budgets(self.budgets)
        for name in ("folds", "seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (2 if name == "folds" else 1):
                raise ExperimentError(f"{name} must be an integer >= {2 if name == 'folds' else 1}, got {value!r}")
        self.train.check()  # model, task, epochs, lr, device ...

    def identity(self) -> dict:
        """The settings a re-run into the same folder must share (budgets and seeds may grow)."""
        training = {k: v for k, v in asdict(self.train).items() if k not in UNUSED_TRAIN_SETTINGS}
        keep = {**training, "model_selection": CELL_MODEL_SELECTION, "folds": self.folds, "split_seed": self.split_seed,
                "synthetic": str(Path(self.synthetic).resolve()), "real": str(Path(self.real).resolve())}
        spec = input_spec(self.train.model, self.train.model_kwargs, self.train.capture_method)
        # what the clips became: finished cells trained on other features (e.g. before capture changed) would not compare
        keep["input"] = feature_cache_key(spec.capture_method) if spec.kind == FEATURES else asdict(spec)
        return keep


# ---------------------------------------------------------------- folds and cells

def make_folds(subjects: Sequence[str], folds: int, seed: int = 0) -> list[list[str]]:
    """``folds`` disjoint, near-equal groups of the subjects, by a seeded shuffle (each sorted)."""
    unique = sorted(set(subjects))
    if folds > len(unique):
        raise ExperimentError(f"{folds} folds need at least {folds} real subjects, the real dataset has {len(unique)}")
    order = np.random.default_rng(seed).permutation(unique)
    return [sorted(part.tolist()) for part in np.array_split(order, folds)]


@dataclass(frozen=True)
class Cell:
    setting: str
    fold: int
    seed: int
    test_subjects: tuple[str, ...]
    train_real_subjects: tuple[str, ...]  # the budget's real subjects (empty for synthetic-only)

    @property
    def name(self) -> str:
        k = "" if self.setting == "synthetic-only" else f"_k{len(self.train_real_subjects)}"
        return f"{self.setting.replace('+', '-plus-')}{k}_fold{self.fold}_seed{self.seed}"


@dataclass(frozen=True)
class PlannedRow:
    setting: str
    budget: int | str
    real_subjects: int  # the budget as a number of subjects (for 'all': this fold's training pool)
    fold: int
    seed: int
    cell: Cell


def training_order(pool: Sequence[str], fold: int, seed: int, split_seed: int = 0) -> list[str]:
    """The seeded order in which a fold's training subjects enter the budgets (a budget k takes the first k)."""
    return np.random.default_rng([split_seed, fold, seed]).permutation(sorted(pool)).tolist()


def plan(folds: list[list[str]], budgets: Sequence[int | str], seeds: int, split_seed: int = 0) -> list[PlannedRow]:
    """The rows of results.csv for these folds, budgets and seeds, each with the cell that produces it.

    ExperimentError when a budget exceeds a fold's training subjects.
    """
    all_subjects = sorted(s for fold in folds for s in fold)
    smallest = min(len(all_subjects) - len(fold) for fold in folds)
    too_big = [k for k in budgets if k != ALL and k > smallest]
    if too_big:
        raise ExperimentError(
            f"real-subjects {too_big[0]} is more than the real training subjects available: {len(all_subjects)} "
            f"subjects in {len(folds)} folds leave {smallest} for training in the smallest fold")
    rows = []
    for fold, test in enumerate(folds):
        pool = [s for s in all_subjects if s not in set(test)]
        for seed in range(seeds):
            order = training_order(pool, fold, seed, split_seed)
            synthetic = Cell("synthetic-only", fold, seed, tuple(test), ())
            for budget in budgets:
                k = len(pool) if budget == ALL else int(budget)
                real = tuple(sorted(order[:k]))
                both = synthetic if k == 0 else Cell("synthetic+real", fold, seed, tuple(test), real)
                if k > 0:
                    rows.append(PlannedRow("real-only", budget, k, fold, seed,
                                           Cell("real-only", fold, seed, tuple(test), real)))
                rows.append(PlannedRow("synthetic-only", budget, k, fold, seed, synthetic))
                rows.append(PlannedRow("synthetic+real", budget, k, fold, seed, both))
    return rows


def _concat(a: ClipFeatures, b: ClipFeatures) -> ClipFeatures:
    return ClipFeatures(a.features + b.features, np.concatenate([a.labels, b.labels]).astype(np.int64),
                        a.split_groups + b.split_groups, a.clip_ids + b.clip_ids, a.input)


def cell_data(cell: Cell, real: ClipFeatures, synthetic: ClipFeatures) -> tuple[ClipFeatures, ClipFeatures]:
    """(training clips, test clips) of a cell. Synthetic clips carrying a test subject's motion (their
    split_group names the subject, alone or among those mixed) are left out."""
    test_subjects = set(cell.test_subjects)
    chosen = set(cell.train_real_subjects)
    test = clips_at(real, [i for i, g in enumerate(real.split_groups) if g in test_subjects])
    parts = []
    if cell.setting in ("real-only", "synthetic+real"):
        parts.append(clips_at(real, [i for i, g in enumerate(real.split_groups) if g in chosen]))
    if cell.setting in ("synthetic-only", "synthetic+real"):
        parts.append(clips_at(synthetic, [i for i, g in enumerate(synthetic.split_groups)
                                           if not test_subjects.intersection(group_members(g))]))
    train = parts[0] if len(parts) == 1 else _concat(*parts)
    leaked = sorted({m for g in train.split_groups for m in group_members(g)} & test_subjects)
    if leaked:  # cannot happen with the selection above; guards against a future change
        raise ExperimentError(f"cell {cell.name}: training clips of test subjects {leaked[:5]}")
    return train, test


# ---------------------------------------------------------------- running

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


# ---------------------------------------------------------------- results

def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def aggregate(rows: Sequence[dict]) -> list[dict]:
    """Mean and std (over folds and seeds, NaN-ignoring) of each metric per setting and budget, in plot order."""
    budgets = list(dict.fromkeys(row["budget"] for row in rows))
    out = []
    for setting in SETTINGS:
        for budget in budgets:
            group = [row for row in rows if row["setting"] == setting and row["budget"] == budget]
            if not group:
                continue
            entry = {"setting": setting, "budget": budget, "cells": len(group),
                     "real_subjects": float(np.mean([_number(row["real_subjects"]) for row in group]))}
            for metric in METRICS:
                values = np.array([_number(row[metric]) for row in group])
                values = values[~np.isnan(values)]
                entry[metric] = float(values.mean()) if len(values) else math.nan
                entry[f"{metric}_std"] = float(values.std(ddof=1)) if len(values) > 1 else (0.0 if len(values) else math.nan)
                entry[f"{metric}_n"] = len(values)
            out.append(entry)
    return out


def _markdown(summary: list[dict], config: ExperimentConfig) -> str:
    lines = [(f"Model `{config.train.model}`, task `{config.train.task}`, {config.folds} subject-disjoint folds x {config.seeds} "
             f"seed(s); mean ± std over folds and seeds. Every cell trains {config.train.epochs} epochs without a "
             f"validation split and keeps the last. `real subjects`: real training subjects per fold "
             f"(synthetic-only uses none; its row repeats the same models on every budget)."), "",
             "| setting | real subjects | " + " | ".join(m.upper() if m == "auroc" else m.capitalize() for m in METRICS)
             + " | cells |",
             "|---|---|" + "---|" * len(METRICS) + "---|"]
    for entry in summary:
        k = entry["budget"] if entry["budget"] != ALL else f"all ({entry['real_subjects']:g})"
        cells = [f"{entry[m]:.3f} ± {entry[m + '_std']:.3f}" if not math.isnan(entry[m]) else "n/a" for m in METRICS]
        lines.append(f"| {entry['setting']} | {k} | " + " | ".join(cells) + f" | {entry['cells']} |")
    return "\n".join(lines) + "\n"


def _plot(summary: list[dict], path: Path, config: ExperimentConfig) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.6), squeeze=False)
    colours = {"real-only": "tab:orange", "synthetic-only": "tab:blue", "synthetic+real": "tab:green"}
    for ax, metric in zip(axes[0], METRICS):
        for setting in SETTINGS:
            points = sorted((e["real_subjects"], e[metric], e[f"{metric}_std"]) for e in summary
                            if e["setting"] == setting and not math.isnan(e[metric]))
            if not points:
                continue
            x, mean, std = (np.array(v) for v in zip(*points))
            ax.plot(x, mean, marker="o", color=colours[setting], label=setting,
                    linestyle="--" if setting == "synthetic-only" else "-")
            ax.fill_between(x, np.clip(mean - std, 0, 1), np.clip(mean + std, 0, 1), color=colours[setting], alpha=0.15)
        ax.set_xlabel("real training subjects")
        ax.set_ylim(-0.02, 1.02)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_ylabel(metric.upper() if metric == "auroc" else metric)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{config.train.model}, {config.train.task}: mean ± std over {config.folds} folds x {config.seeds} seed(s)",
                 fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def write_results(rows: list[dict], out: Path, config: ExperimentConfig) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(RESULT_COLUMNS))
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    with atomic_path(out / RESULTS_CSV) as tmp:
        tmp.write_text(buffer.getvalue())
    summary = aggregate(rows)
    with atomic_path(out / RESULTS_MD) as tmp:
        tmp.write_text(_markdown(summary, config))
    _plot(summary, out / RESULTS_PNG, config)

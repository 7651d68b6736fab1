"""Scoring a training run's kept model on test clips: ``<run>/metrics.json``."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from painsynth import models
from painsynth.fileio import atomic_path
from painsynth.train.checkpoints import BEST, METRICS_JSON, load_run, run_data_args, run_input
from painsynth.train.datasets import ClipFeatures, load_datasets
from painsynth.train.errors import TrainError
from painsynth.train.inputs import check_input
from painsynth.train.loop import evaluation_sampling, predict
from painsynth.train.metrics import bootstrap_ci, classification_metrics
from painsynth.train.tasks import TASKS, task_targets


def _no_nan(value):
    """NaN (an undefined metric) as None, so metrics.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def _check_width(run: str | Path, checkpoint: dict, clips: list) -> None:
    """TrainError when per-frame arrays are not as wide as the model's input."""
    width = checkpoint["model_kwargs"].get("in_features")
    if isinstance(clips[0], np.ndarray) and width is not None and clips[0].shape[1] != width:
        raise TrainError(f"{run}: the model takes {width} features per frame, the data has {clips[0].shape[1]}")


def evaluate(run: str | Path, dataset_dirs: Sequence[str | Path] | None = None, data: ClipFeatures | None = None,
             device: str = "auto", bootstrap: int = 1000, seed: int = 0, model: str | None = None,
             on_progress: Callable[[int, int], None] | None = None, errors: list[str] | None = None) -> dict:
    """Test metrics of a run's best checkpoint on datasets (or given per-clip inputs), with 95 % bootstrap
    intervals; written to ``<run>/metrics.json`` and returned. Clips without a pain level are not scored."""
    net, checkpoint = load_run(run, device)
    if model is not None and checkpoint["model_name"] != model:
        raise TrainError(f"{Path(run) / BEST}: checkpoint is from model {checkpoint['model_name']!r}, not {model!r}")
    task = checkpoint["task"]
    if data is None:
        data = load_datasets(dataset_dirs or [], on_progress, errors, **run_data_args(checkpoint))
    check_input(run_input(checkpoint), data.input, str(run))
    keep, targets = task_targets(data.labels, task)
    clips = [clip for clip, k in zip(data.features, keep) if k]
    if not clips:
        raise TrainError(f"no test clips for task {task}")
    _check_width(run, checkpoint, clips)
    num_classes = TASKS[task]
    probs = predict(net, models.model_spec(checkpoint["model_name"]), clips, checkpoint["frames"],
                    evaluation_sampling(checkpoint["sampling"]), next(net.parameters()).device)
    result = {"task": task, "model": checkpoint["model_name"], "checkpoint_epoch": checkpoint["epoch"],
              "n_clips": len(clips), "n_subjects": len({g for g, k in zip(data.split_groups, keep) if k}),
              "class_counts": np.bincount(targets, minlength=num_classes).tolist(),
              **classification_metrics(probs, targets, num_classes),
              "ci95": bootstrap_ci(probs, targets, num_classes, bootstrap, seed) if bootstrap > 0 else {},
              "bootstrap_resamples": bootstrap,
              "data": [str(d) for d in (dataset_dirs or [])]}
    result = _no_nan(result)
    with atomic_path(Path(run) / METRICS_JSON) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    return result

"""The files of a training run folder: checkpoints, ``config.json``, ``epochs.csv``.

A checkpoint (``best.pt``, ``last.pt``) is a dict of tensors and plain Python values only (numbers, text,
lists, dicts): the model's ``state_dict``, the optimiser's and scheduler's, and the metadata that says what
the model is (``model_name``, ``model_kwargs``, ``input``, ``task``, ``frames``, ``sampling``, ``epoch``,
``config``, and ``split_groups``: every group the run trained or validated on, which ``evaluate
--held-out-only`` reads). It is read with ``torch.load(weights_only=True)``, so a checkpoint from a shared folder cannot
run code: one that carries pickled objects is refused. ``config.json`` beside it holds the run's settings
for people and other tools.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pickle
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn as nn

from painsynth.fileio import atomic_path
from painsynth.train.config import TrainConfig, resolve_device
from painsynth.train.errors import TrainError
from painsynth.train.inputs import InputSpec, create_model

BEST, LAST, EPOCHS_CSV, CONFIG_JSON, METRICS_JSON = "best.pt", "last.pt", "epochs.csv", "config.json", "metrics.json"
RESUME_KEYS = ("task", "seed", "frames", "sampling", "val_fraction", "optimizer", "model_kwargs",
               "capture_method")  # must match to resume


def save_checkpoint(checkpoint: dict, path: Path) -> None:
    """Write a checkpoint (tensors and plain values) atomically."""
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def read_checkpoint(path: Path) -> dict:
    """A painsynth checkpoint, read as tensors and plain values only; TrainError (one line) for anything
    else, above all a file carrying pickled objects, which is never unpickled."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise TrainError(f"{path}: not a plain-tensor checkpoint (it holds pickled Python objects, "
                         f"which painsynth never loads)") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise TrainError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(checkpoint, dict) or "model_name" not in checkpoint or "model" not in checkpoint:
        raise TrainError(f"{path}: not a painsynth checkpoint")
    return checkpoint


def check_writable(out: str | Path) -> None:
    """TrainError unless ``out`` is a folder that can be written, or created (it is not created here)."""
    out = Path(out)
    existing = next(folder for folder in (out, *out.absolute().parents) if folder.exists())
    if not existing.is_dir():
        raise TrainError(f"{out}: output folder is not writable ({existing} is a file)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise TrainError(f"{out}: output folder is not writable (permission denied on {existing})")


def check_resume(out: str | Path, config: TrainConfig) -> dict | None:
    """The checkpoint a run in ``out`` would resume from, or None; TrainError when ``out`` cannot take a run
    (:func:`check_writable`) or holds one that cannot resume with ``config``."""
    check_writable(out)
    last = Path(out) / LAST
    if not last.is_file():
        if (Path(out) / BEST).exists():
            raise TrainError(f"{out}: holds a finished or foreign run without {LAST}; choose another --out")
        return None
    checkpoint = read_checkpoint(last)
    if checkpoint["model_name"] != config.model:
        raise TrainError(f"{last}: checkpoint is from model {checkpoint['model_name']!r}, not {config.model!r}; "
                         f"choose another --out")
    saved = checkpoint.get("config", {})
    for key in RESUME_KEYS:
        if key in saved and saved[key] != getattr(config, key):
            raise TrainError(f"{last}: cannot resume with {key}={getattr(config, key)!r}, the run used {saved[key]!r}")
    return checkpoint


def write_run_config(out: Path, config: TrainConfig, spec: InputSpec, n_train: int, n_val: int) -> None:
    """``config.json``: the run's settings, what its clips were and how many trained and validated."""
    record = {**asdict(config), "input": asdict(spec), "n_train": n_train, "n_val": n_val}
    with atomic_path(out / CONFIG_JSON) as tmp:
        tmp.write_text(json.dumps(record, indent=2))


def write_history(out: Path, history: list[dict]) -> None:
    """``epochs.csv``: one row of metrics per finished epoch."""
    if not history:
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    with atomic_path(out / EPOCHS_CSV) as tmp:
        tmp.write_text(buffer.getvalue())


def load_run(run: str | Path, device: str = "auto") -> tuple[nn.Module, dict]:
    """The best checkpoint of a training run as (model in eval mode, checkpoint dict)."""
    path = Path(run) / BEST
    if not path.is_file():
        raise TrainError(f"{run}: not a training run (no {BEST})")
    checkpoint = read_checkpoint(path)
    model = create_model(checkpoint["model_name"], **checkpoint["model_kwargs"])
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError:
        raise TrainError(f"{path}: checkpoint does not fit model {checkpoint['model_name']!r}") from None
    return model.to(resolve_device(device)).eval(), checkpoint


def run_input(checkpoint: dict) -> InputSpec:
    """What a checkpoint's model was trained on (captured features for runs that predate the record)."""
    return InputSpec(**checkpoint["input"]) if checkpoint.get("input") else InputSpec()


def run_data_args(checkpoint: dict) -> dict:
    """Keyword arguments of :func:`~painsynth.train.datasets.load_datasets` that prepare test clips the way
    a run's training clips were."""
    return {"model": checkpoint["model_name"], "model_kwargs": dict(checkpoint.get("config", {}).get("model_kwargs", {})),
            "capture_method": run_input(checkpoint).capture_method}

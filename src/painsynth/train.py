"""Train and evaluate pain recognition models on painsynth datasets (issue 4, first slice: ``au-tcn``).

Features: every clip's video is run through :mod:`painsynth.capture` (the path real videos take, so
synthetic clips are featurised from their rendered pixels exactly as real clips are) and the per-frame
features are cached under ``<dataset>/features/<clip_id>.npz``, reused while the manifest's sha256 of
the video matches.

Training: AdamW with a per-step cosine schedule, class-weighted cross entropy, a validation split that is
subject-disjoint (by ``split_group``) and seeded, checkpoint selection and early stopping on validation
AUROC, ``<out>/last.pt`` to resume from, per-epoch metrics in ``<out>/epochs.csv``. Each epoch's random
choices are seeded from (seed, epoch), so a resumed run gives the same result as an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn

from painsynth import models
from painsynth.dataset import ManifestError, manifest_rows
from painsynth.fileio import atomic_path

TASKS = {"binary": 2, "binary-extreme": 2, "multiclass": 5}  # task -> number of classes
SAMPLINGS = ("uniform", "window")
FEATURES_DIR = "features"
FEATURE_VERSION = 1
BEST, LAST, EPOCHS_CSV, CONFIG_JSON, METRICS_JSON = "best.pt", "last.pt", "epochs.csv", "config.json", "metrics.json"

# Landmark-derived distances (MediaPipe Face Mesh indices), in units of the inter-ocular distance
# (outer eye corners 33 and 263): eye openings, brow-to-eye, mouth opening and width, nose-to-lip.
OUTER_EYE_CORNERS = (33, 263)
LANDMARK_DISTANCES = (
    ("eye_open_right", 159, 145), ("eye_open_left", 386, 374),
    ("brow_eye_right", 105, 159), ("brow_eye_left", 334, 386),
    ("mouth_open", 13, 14), ("mouth_width", 61, 291), ("nose_lip", 1, 13),
)
N_FEATURES = 52 + 6 + len(LANDMARK_DISTANCES)


class TrainError(ValueError):
    """Training or evaluation cannot run on these inputs; the message says why, in one line."""


# ---------------------------------------------------------------- features

class ClipFeatures(NamedTuple):
    features: list[np.ndarray]  # per clip [T, N_FEATURES] float32
    labels: np.ndarray  # [N] pain level 0-4
    split_groups: list[str]
    clip_ids: list[str]


def track_features(track, width: int = 1, height: int = 1) -> np.ndarray:
    """[T, N_FEATURES] float32: blendshapes, head rotation and translation, landmark distances (0 without landmarks)."""
    parts = [track.blendshapes, track.head_rotation, track.head_translation]
    distances = np.zeros((track.n_frames, len(LANDMARK_DISTANCES)), np.float32)
    if track.landmarks is not None:
        points = track.landmarks[:, :, :2] * np.array([width, height], np.float32)  # pixels: square units
        scale = np.linalg.norm(points[:, OUTER_EYE_CORNERS[0]] - points[:, OUTER_EYE_CORNERS[1]], axis=1)
        scale = np.maximum(scale, 1e-6)
        for column, (_, a, b) in enumerate(LANDMARK_DISTANCES):
            distances[:, column] = np.linalg.norm(points[:, a] - points[:, b], axis=1) / scale
    parts.append(distances)
    return np.nan_to_num(np.concatenate(parts, axis=1).astype(np.float32))


def _cache_path(root: Path, clip_id: str) -> Path:
    return root / FEATURES_DIR / f"{clip_id.replace('/', '__').replace(chr(92), '__')}.npz"


def _load_cached(path: Path, sha256: str) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["sha256"]) != sha256 or int(data["version"]) != FEATURE_VERSION:
                return None
            features = data["features"].astype(np.float32)
    except (OSError, KeyError, ValueError, EOFError):
        return None
    return features if features.ndim == 2 and features.shape[1] == N_FEATURES and len(features) else None


def featurise_clip(root: Path, row: dict, model_path: Path) -> np.ndarray:
    """Capture one clip of a dataset folder and cache its features; raise on a clip that cannot be captured."""
    from painsynth.capture import CaptureInput, capture_one

    entry = CaptureInput(path=root / row["path"], label=int(row["label"]), subject=row["split_group"])
    track, _ = capture_one(entry, model_path, fps=float(row["fps"]))
    features = track_features(track, row["width"], row["height"])
    with atomic_path(_cache_path(root, row["clip_id"])) as tmp:
        np.savez(tmp, features=features, valid=track.valid, sha256=np.array(row["sha256"]),
                 version=np.array(FEATURE_VERSION))
    return features


def dataset_rows(dataset_dir: str | Path) -> list[dict]:
    """The manifest rows of a dataset folder; TrainError when it is missing or has no clips."""
    try:
        rows = manifest_rows(dataset_dir)
    except ManifestError as exc:
        raise TrainError(str(exc)) from None
    missing = [row["path"] for row in rows if not (Path(dataset_dir) / row["path"]).is_file()
               and not _cache_path(Path(dataset_dir), row["clip_id"]).is_file()]
    if missing:
        raise TrainError(f"{dataset_dir}: {len(missing)} of {len(rows)} clips in the manifest have no video file "
                         f"(first: {missing[0]})")
    return rows


def clip_features(dataset_dir: str | Path, on_progress: Callable[[int, int], None] | None = None,
                  errors: list[str] | None = None, capture_model: str | Path | None = None) -> ClipFeatures:
    """Per-clip features of a dataset folder, from the cache or by capturing each clip's video.

    A clip whose face is not found often enough (or whose video is unreadable) is left out and its
    message appended to ``errors``; TrainError when the folder has no usable clips.
    """
    root = Path(dataset_dir)
    rows = dataset_rows(root)
    model_path = None
    out = ClipFeatures([], [], [], [])
    labels = []
    for done, row in enumerate(rows):
        if on_progress:
            on_progress(done, len(rows))
        features = _load_cached(_cache_path(root, row["clip_id"]), row["sha256"])
        if features is None:
            from painsynth.capture import CaptureError, ModelError, verified_model
            from painsynth.tracks import TrackError
            from painsynth.video import VideoError

            try:
                model_path = model_path or verified_model(capture_model)
            except ModelError as exc:
                raise TrainError(str(exc)) from None
            try:
                features = featurise_clip(root, row, model_path)
            except (CaptureError, VideoError, TrackError, OSError) as exc:
                if errors is not None:
                    errors.append(str(exc))
                continue
        out.features.append(features)
        labels.append(int(row["label"]))
        out.split_groups.append(str(row["split_group"]))
        out.clip_ids.append(str(row["clip_id"]))
    if on_progress:
        on_progress(len(rows), len(rows))
    if not out.features:
        raise TrainError(f"{root}: none of its {len(rows)} clips could be featurised")
    return out._replace(labels=np.array(labels, dtype=np.int64))


def check_datasets(dataset_dirs: Sequence[str | Path], task: str | None = None) -> int:
    """Fail fast, before any featurising: every folder has a readable manifest with clips whose videos
    exist and, given ``task``, the manifest labels hold at least two of its classes. Returns the clip count."""
    if not dataset_dirs:
        raise TrainError("no dataset given (--data DIR)")
    rows = [row for folder in dataset_dirs for row in dataset_rows(folder)]
    if task is not None:
        _check_classes(np.array([row["label"] for row in rows]), task)
    return len(rows)


def _check_classes(levels: np.ndarray, task: str) -> None:
    keep, targets = task_targets(levels, task)
    present = np.unique(targets)
    if len(present) < 2:
        what = f"a single class ({int(present[0])})" if len(present) else "no clips"
        raise TrainError(f"the training set has {what} for task {task}; it needs clips of at least two classes")


def load_datasets(dataset_dirs: Sequence[str | Path], on_progress: Callable[[int, int], None] | None = None,
                  errors: list[str] | None = None) -> ClipFeatures:
    """clip_features of several folders, concatenated (progress over all their clips)."""
    if not dataset_dirs:
        raise TrainError("no dataset given (--data DIR)")
    totals = [len(dataset_rows(d)) for d in dataset_dirs]  # fail on a bad folder before featurising any
    merged = ClipFeatures([], [], [], [])
    labels = []
    for i, folder in enumerate(dataset_dirs):
        offset = sum(totals[:i])
        report = (lambda done, _total, offset=offset: on_progress(offset + done, sum(totals))) if on_progress else None
        part = clip_features(folder, report, errors)
        merged.features.extend(part.features)
        labels.extend(part.labels.tolist())
        merged.split_groups.extend(part.split_groups)
        merged.clip_ids.extend(part.clip_ids)
    return merged._replace(labels=np.array(labels, dtype=np.int64))


def sample_frames(features: np.ndarray, frames: int, sampling: str = "uniform",
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """``frames`` rows of a clip's [T, F] features: evenly spaced over the clip (``uniform``; rows repeat
    when the clip is shorter) or a contiguous ``window`` at a random start (the centre without ``rng``)."""
    n = len(features)
    if sampling == "uniform" or n <= frames:
        index = np.linspace(0, n - 1, frames).round().astype(np.int64)
    elif sampling == "window":
        start = int(rng.integers(0, n - frames + 1)) if rng is not None else (n - frames) // 2
        index = np.arange(start, start + frames)
    else:
        raise TrainError(f"unknown sampling {sampling!r}; available: {', '.join(SAMPLINGS)}")
    return features[index]


# ---------------------------------------------------------------- tasks and splits

def check_task(task: str) -> int:
    if task not in TASKS:
        raise TrainError(f"unknown task {task!r}; available: {', '.join(TASKS)}")
    return TASKS[task]


def task_targets(levels: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """(keep mask, class targets of the kept clips) for pain levels 0-4 under ``task``."""
    check_task(task)
    levels = np.asarray(levels, dtype=np.int64)
    if task == "binary":
        return np.ones(len(levels), bool), (levels > 0).astype(np.int64)
    if task == "binary-extreme":
        keep = (levels == 0) | (levels == 4)
        return keep, (levels[keep] == 4).astype(np.int64)
    return np.ones(len(levels), bool), levels.copy()


def group_split(groups: Sequence[str], targets: np.ndarray, val_fraction: float = 0.2,
                seed: int = 0, attempts: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices), disjoint by group, about ``val_fraction`` of the clips in validation.

    Groups are shuffled with ``seed``; a shuffle is kept when both sides hold every class of
    ``targets`` that validation AUROC needs (the first shuffle whose sides hold at least two classes
    when none holds them all). TrainError with fewer than two groups.
    """
    groups = np.asarray(groups)
    unique = np.unique(groups)
    if len(unique) < 2:
        raise TrainError(f"a subject-disjoint validation split needs at least 2 split groups, got {len(unique)}")
    classes = set(np.unique(targets).tolist())
    rng = np.random.default_rng(seed)
    fallback = None
    for _ in range(attempts):
        order = rng.permutation(unique)
        val_groups, count = [], 0
        for g in order[:-1]:  # leave at least one group for training
            if count >= val_fraction * len(groups) and val_groups:
                break
            val_groups.append(g)
            count += int((groups == g).sum())
        val = np.isin(groups, val_groups)
        train_classes, val_classes = set(targets[~val].tolist()), set(targets[val].tolist())
        if train_classes == classes and val_classes == classes:
            return np.flatnonzero(~val), np.flatnonzero(val)
        if fallback is None and len(train_classes) > 1 and len(val_classes) > 1:
            fallback = (np.flatnonzero(~val), np.flatnonzero(val))
    if fallback is None:
        raise TrainError("cannot split the training data by split_group so that training and validation "
                         "both hold two classes; add clips from more subjects")
    return fallback


# ---------------------------------------------------------------- metrics

def classification_metrics(probs: np.ndarray | torch.Tensor, targets: np.ndarray | torch.Tensor,
                           num_classes: int) -> dict:
    """AUROC, F1, accuracy, balanced accuracy, macro precision/recall and the confusion matrix (torchmetrics).

    Binary: ``probs`` [N, 2] (or [N], the positive class); F1/precision/recall of class 1 for ``f1``,
    macro over both classes for ``precision_macro``/``recall_macro``. Multiclass: macro AUROC and F1,
    plain (micro) accuracy. Balanced accuracy is the mean recall over the classes present in ``targets``.
    AUROC is NaN when ``targets`` holds a single class.
    """
    from torchmetrics.functional import classification as tmf

    probs = torch.as_tensor(np.asarray(probs), dtype=torch.float32)
    targets = torch.as_tensor(np.asarray(targets), dtype=torch.int64)
    if probs.ndim == 1:
        probs = torch.stack([1 - probs, probs], dim=1)
    predictions = probs.argmax(dim=1)
    confusion = tmf.multiclass_confusion_matrix(predictions, targets, num_classes=num_classes)
    present = confusion.sum(dim=1) > 0
    recall = confusion.diag().float() / confusion.sum(dim=1).clamp_min(1)
    precision = confusion.diag().float() / confusion.sum(dim=0).clamp_min(1)
    single_class = int(present.sum()) < 2
    if num_classes == 2:
        auroc = float("nan") if single_class else float(tmf.binary_auroc(probs[:, 1], targets))
        f1 = float(tmf.binary_f1_score(predictions, targets))
    else:
        auroc = float("nan") if single_class else float(
            tmf.multiclass_auroc(probs, targets, num_classes=num_classes, average="macro"))
        f1 = float(tmf.multiclass_f1_score(predictions, targets, num_classes=num_classes, average="macro"))
    return {
        "auroc": auroc,
        "f1": f1,
        "accuracy": float((predictions == targets).float().mean()),
        "balanced_accuracy": float(recall[present].mean()),
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
        "confusion_matrix": confusion.tolist(),
    }


BOOTSTRAP_METRICS = ("auroc", "f1", "accuracy", "balanced_accuracy")


def bootstrap_ci(probs: np.ndarray, targets: np.ndarray, num_classes: int, resamples: int = 1000,
                 seed: int = 0, level: float = 0.95) -> dict[str, list[float]]:
    """Percentile bootstrap intervals (clips resampled with replacement) of the headline metrics.

    Resamples that hold a single class are drawn again (AUROC needs both); at most ``10 * resamples`` draws.
    """
    rng = np.random.default_rng(seed)
    probs, targets = np.asarray(probs), np.asarray(targets)
    values: dict[str, list[float]] = {k: [] for k in BOOTSTRAP_METRICS}
    for _ in range(10 * resamples):
        if len(values["auroc"]) >= resamples:
            break
        index = rng.integers(0, len(targets), len(targets))
        if len(np.unique(targets[index])) < 2:
            continue
        result = classification_metrics(probs[index], targets[index], num_classes)
        for key in BOOTSTRAP_METRICS:
            values[key].append(result[key])
    tail = (1 - level) / 2 * 100
    return {key: ([float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail))] if v else [math.nan, math.nan])
            for key, v in values.items()}


# ---------------------------------------------------------------- training

@dataclass
class TrainConfig:
    model: str = "au-tcn"
    task: str = "binary"
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 0
    device: str = "auto"
    frames: int = 32
    sampling: str = "uniform"  # training clips: uniform | window (evaluation: uniform | centre window)
    val_fraction: float = 0.2
    patience: int = 10  # epochs without a better validation AUROC before stopping
    model_kwargs: dict = field(default_factory=dict)

    def check(self) -> None:
        models.get_model_class(self.model)  # UnknownModelError
        check_task(self.task)
        if self.sampling not in SAMPLINGS:
            raise TrainError(f"unknown sampling {self.sampling!r}; available: {', '.join(SAMPLINGS)}")
        for name in ("epochs", "batch_size", "frames", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise TrainError(f"{name.replace('_', '-')} must be an integer >= 1, got {value!r}")
        if not self.lr > 0:
            raise TrainError(f"lr must be positive, got {self.lr}")
        if not 0 < self.val_fraction < 1:
            raise TrainError(f"val-fraction must be between 0 and 1, got {self.val_fraction}")
        resolve_device(self.device)


@dataclass
class TrainResult:
    out: Path
    epochs_run: int  # epochs finished in total (including those of a resumed run)
    best_epoch: int
    best_val_auroc: float
    stopped_early: bool
    n_train: int
    n_val: int
    seconds: float
    history: list[dict]


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise TrainError(f"unknown device {device!r}; use auto, cpu or cuda[:N]") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise TrainError(f"device {device!r} asked for but CUDA is not available")
    if resolved.type not in ("cpu", "cuda"):
        raise TrainError(f"unsupported device {device!r}; use auto, cpu or cuda[:N]")
    return resolved


def _stack(features: Sequence[np.ndarray], index: np.ndarray, frames: int, sampling: str,
           rng: np.random.Generator | None) -> torch.Tensor:
    return torch.from_numpy(np.stack([sample_frames(features[i], frames, sampling, rng) for i in index]))


def predict(model: nn.Module, features: Sequence[np.ndarray], frames: int, sampling: str,
            device: torch.device, batch_size: int = 256) -> np.ndarray:
    """Class probabilities [N, C] (deterministic sampling: uniform or the centre window)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            index = np.arange(start, min(start + batch_size, len(features)))
            x = _stack(features, index, frames, sampling, None).to(device)
            out.append(torch.softmax(model(x).float(), dim=1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 2), np.float32)


def _read_checkpoint(path: Path) -> dict:
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise TrainError(f"{path}: not a readable checkpoint ({type(exc).__name__})") from None
    if not isinstance(checkpoint, dict) or "model_name" not in checkpoint or "model" not in checkpoint:
        raise TrainError(f"{path}: not a painsynth checkpoint")
    return checkpoint


def check_resume(out: str | Path, config: TrainConfig) -> dict | None:
    """The checkpoint a run in ``out`` would resume from, or None; TrainError when it cannot resume with ``config``."""
    last = Path(out) / LAST
    if not last.is_file():
        if (Path(out) / BEST).exists():
            raise TrainError(f"{out}: holds a finished or foreign run without {LAST}; choose another --out")
        return None
    checkpoint = _read_checkpoint(last)
    if checkpoint["model_name"] != config.model:
        raise TrainError(f"{last}: checkpoint is from model {checkpoint['model_name']!r}, not {config.model!r}; "
                         f"choose another --out")
    saved = checkpoint.get("config", {})
    for key in ("task", "seed", "frames", "sampling", "val_fraction", "model_kwargs"):
        if key in saved and saved[key] != getattr(config, key):
            raise TrainError(f"{last}: cannot resume with {key}={getattr(config, key)!r}, the run used {saved[key]!r}")
    return checkpoint


def _write_history(out: Path, history: list[dict]) -> None:
    if not history:
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]))
    writer.writeheader()
    writer.writerows(history)
    with atomic_path(out / EPOCHS_CSV) as tmp:
        tmp.write_text(buffer.getvalue())


def _save(obj: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def fit(data: ClipFeatures, out: str | Path, config: TrainConfig,
        on_progress: Callable[[int, int], None] | None = None) -> TrainResult:
    """Train ``config.model`` on featurised clips into ``out`` (resuming from ``out/last.pt`` if there)."""
    started = time.perf_counter()
    config.check()
    out = Path(out)
    checkpoint = check_resume(out, config)
    num_classes = TASKS[config.task]
    keep, targets = task_targets(data.labels, config.task)
    features = [f for f, k in zip(data.features, keep) if k]
    groups = [g for g, k in zip(data.split_groups, keep) if k]
    _check_classes(data.labels, config.task)
    train_index, val_index = group_split(groups, targets, config.val_fraction, config.seed)
    device = resolve_device(config.device)
    in_features = features[0].shape[1]

    torch.manual_seed(config.seed)
    model = models.create(config.model, in_features=in_features, num_classes=num_classes, **config.model_kwargs)
    train_rows = np.concatenate([features[i] for i in train_index])
    if hasattr(model, "set_normalisation"):
        model.set_normalisation(torch.from_numpy(train_rows.mean(0)), torch.from_numpy(train_rows.std(0)))
    model.to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = math.ceil(len(train_index) / config.batch_size)
    total_steps = max(1, config.epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    counts = np.bincount(targets[train_index], minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(train_index) / (num_classes * np.maximum(counts, 1)), 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device))
    amp = device.type == "cuda"
    grad_scaler = torch.amp.GradScaler("cuda", enabled=amp)

    start_epoch, best_auroc, best_epoch, bad_epochs, history, stopped = 0, -math.inf, 0, 0, [], False
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
        except RuntimeError:
            raise TrainError(f"{out / LAST}: checkpoint does not fit model {config.model!r} with these inputs") from None
        optimiser.load_state_dict(checkpoint["optimiser"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        start_epoch, best_auroc, best_epoch = checkpoint["epoch"], checkpoint["best_auroc"], checkpoint["best_epoch"]
        bad_epochs, history, stopped = checkpoint["bad_epochs"], checkpoint["history"], checkpoint["stopped"]
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / CONFIG_JSON) as tmp:
        tmp.write_text(json.dumps({**asdict(config), "n_train": len(train_index), "n_val": len(val_index)}, indent=2))

    def payload(epoch: int) -> dict:
        return {"model_name": config.model, "model_kwargs": {"in_features": in_features, "num_classes": num_classes,
                                                              **config.model_kwargs},
                "model": model.state_dict(), "task": config.task, "frames": config.frames,
                "sampling": config.sampling, "epoch": epoch, "config": asdict(config)}

    val_features = [features[i] for i in val_index]
    epoch = start_epoch
    for epoch in range(start_epoch + 1, config.epochs + 1):
        if stopped:
            epoch -= 1
            break
        if on_progress:
            on_progress(epoch - 1, config.epochs)
        epoch_start = time.perf_counter()
        torch.manual_seed(config.seed * 100_003 + epoch)  # dropout etc.: same per epoch whether resumed or not
        rng = np.random.default_rng([config.seed, epoch])
        model.train()
        order = rng.permutation(train_index)
        total_loss = 0.0
        for start in range(0, len(order), config.batch_size):
            index = order[start:start + config.batch_size]
            x = _stack(features, index, config.frames, config.sampling, rng).to(device)
            y = torch.from_numpy(targets[index]).to(device)
            with torch.autocast(device.type, enabled=amp):
                loss = loss_fn(model(x), y)
            optimiser.zero_grad(set_to_none=True)
            grad_scaler.scale(loss).backward()
            grad_scaler.step(optimiser)
            grad_scaler.update()
            scheduler.step()
            total_loss += float(loss.detach()) * len(index)
        eval_sampling = "uniform" if config.sampling == "uniform" else "window"
        probs = predict(model, val_features, config.frames, eval_sampling, device)
        val_targets = targets[val_index]
        metrics = classification_metrics(probs, val_targets, num_classes)
        val_loss = float(nn.functional.nll_loss(torch.log(torch.from_numpy(probs).clamp_min(1e-8)),
                                                torch.from_numpy(val_targets)))
        auroc = metrics["auroc"] if not math.isnan(metrics["auroc"]) else -metrics["accuracy"]
        improved = auroc > best_auroc
        if improved:
            best_auroc, best_epoch, bad_epochs = auroc, epoch, 0
            _save(payload(epoch), out / BEST)
        else:
            bad_epochs += 1
        stopped = bad_epochs >= config.patience
        history.append({"epoch": epoch, "lr": optimiser.param_groups[0]["lr"],
                        "train_loss": round(total_loss / len(order), 6), "val_loss": round(val_loss, 6),
                        "val_auroc": round(metrics["auroc"], 6), "val_f1": round(metrics["f1"], 6),
                        "val_accuracy": round(metrics["accuracy"], 6),
                        "val_balanced_accuracy": round(metrics["balanced_accuracy"], 6),
                        "best": int(improved), "seconds": round(time.perf_counter() - epoch_start, 3)})
        _save({**payload(epoch), "optimiser": optimiser.state_dict(), "scheduler": scheduler.state_dict(),
               "best_auroc": best_auroc, "best_epoch": best_epoch, "bad_epochs": bad_epochs,
               "history": history, "stopped": stopped}, out / LAST)
        _write_history(out, history)
    if on_progress:
        on_progress(config.epochs, config.epochs)
    return TrainResult(out=out, epochs_run=len(history), best_epoch=best_epoch, best_val_auroc=best_auroc,
                       stopped_early=stopped, n_train=len(train_index), n_val=len(val_index),
                       seconds=time.perf_counter() - started, history=history)


def train(dataset_dirs: Sequence[str | Path], out: str | Path, config: TrainConfig | None = None,
          on_progress: Callable[[int, int], None] | None = None, errors: list[str] | None = None) -> TrainResult:
    """Featurise (or load cached features of) ``dataset_dirs`` and :func:`fit` on them."""
    config = config or TrainConfig()
    config.check()
    check_resume(out, config)  # a foreign checkpoint or a bad dataset fails before any featurising
    check_datasets(dataset_dirs, config.task)
    return fit(load_datasets(dataset_dirs, errors=errors), out, config, on_progress)


# ---------------------------------------------------------------- evaluation

def load_run(run: str | Path, device: str = "auto") -> tuple[nn.Module, dict]:
    """The best checkpoint of a training run as (model in eval mode, checkpoint dict)."""
    path = Path(run) / BEST
    if not path.is_file():
        raise TrainError(f"{run}: not a training run (no {BEST})")
    checkpoint = _read_checkpoint(path)
    model = models.create(checkpoint["model_name"], **checkpoint["model_kwargs"])
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError:
        raise TrainError(f"{path}: checkpoint does not fit model {checkpoint['model_name']!r}") from None
    return model.to(resolve_device(device)).eval(), checkpoint


def _no_nan(value):
    """NaN (an undefined metric) as None, so metrics.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def evaluate(run: str | Path, dataset_dirs: Sequence[str | Path] | None = None, data: ClipFeatures | None = None,
             device: str = "auto", bootstrap: int = 1000, seed: int = 0, model: str | None = None,
             on_progress: Callable[[int, int], None] | None = None, errors: list[str] | None = None) -> dict:
    """Test metrics of a run's best checkpoint on datasets (or given features), with 95 % bootstrap
    intervals; written to ``<run>/metrics.json`` and returned."""
    net, checkpoint = load_run(run, device)
    if model is not None and checkpoint["model_name"] != model:
        raise TrainError(f"{Path(run) / BEST}: checkpoint is from model {checkpoint['model_name']!r}, not {model!r}")
    task = checkpoint["task"]
    if data is None:
        data = load_datasets(dataset_dirs or [], on_progress, errors)
    keep, targets = task_targets(data.labels, task)
    features = [f for f, k in zip(data.features, keep) if k]
    if not features:
        raise TrainError(f"no test clips for task {task}")
    if features[0].shape[1] != checkpoint["model_kwargs"].get("in_features", features[0].shape[1]):
        raise TrainError(f"{run}: the model takes {checkpoint['model_kwargs']['in_features']} features per frame, "
                         f"the data has {features[0].shape[1]}")
    num_classes = TASKS[task]
    sampling = "uniform" if checkpoint["sampling"] == "uniform" else "window"
    probs = predict(net, features, checkpoint["frames"], sampling, next(net.parameters()).device)
    metrics = classification_metrics(probs, targets, num_classes)
    result = {"task": task, "model": checkpoint["model_name"], "checkpoint_epoch": checkpoint["epoch"],
              "n_clips": len(features), "n_subjects": len({g for g, k in zip(data.split_groups, keep) if k}),
              "class_counts": np.bincount(targets, minlength=num_classes).tolist(), **metrics,
              "ci95": bootstrap_ci(probs, targets, num_classes, bootstrap, seed) if bootstrap > 0 else {},
              "bootstrap_resamples": bootstrap,
              "data": [str(d) for d in (dataset_dirs or [])]}
    result = _no_nan(result)
    with atomic_path(Path(run) / METRICS_JSON) as tmp:
        tmp.write_text(json.dumps(result, indent=2))
    return result

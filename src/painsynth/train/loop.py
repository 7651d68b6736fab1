"""The training loop: AdamW (or SGD) with a per-step cosine schedule, class-weighted cross entropy, a seeded
subject-disjoint validation split, checkpoint selection and early stopping on validation AUROC.

Each epoch's random choices are seeded from (seed, epoch), so a run resumed from ``<out>/last.pt`` gives
the same result as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from painsynth import models
from painsynth.train.checkpoints import BEST, LAST, check_resume, save_checkpoint, write_history, write_run_config
from painsynth.train.config import TrainConfig, resolve_device
from painsynth.train.datasets import ClipFeatures, check_datasets, load_datasets
from painsynth.train.errors import TrainError
from painsynth.train.inputs import InputSpec, check_input, create_model, input_spec, model_input, sample_frames
from painsynth.train.metrics import classification_metrics
from painsynth.train.tasks import TASKS, check_classes, task_targets, validation_split


@dataclass
class TrainResult:
    out: Path
    epochs_run: int  # epochs finished in total (including those of a resumed run)
    best_epoch: int
    best_val_auroc: float
    stopped_early: bool
    n_train: int
    n_val: int
    n_groups: int  # split groups trained or validated on
    seconds: float
    history: list[dict]


@dataclass
class _Progress:
    """Where a run stands after an epoch; ``last.pt`` carries it so a run resumes where it stopped."""

    epoch: int = 0
    best_auroc: float = -math.inf
    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    history: list[dict] = field(default_factory=list)
    stopped: bool = False

    @classmethod
    def of(cls, checkpoint: dict | None) -> _Progress:
        return cls(**{f.name: checkpoint[f.name] for f in fields(cls)}) if checkpoint else cls()


def _stack(clips: Sequence, index: np.ndarray, frames: int, sampling: str,
           rng: np.random.Generator | None) -> torch.Tensor:
    """A batch [B, frames, ...] of the clips at ``index``."""
    return torch.from_numpy(np.stack([sample_frames(clips[i], frames, sampling, rng) for i in index]))


def _mean_std(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) std over the rows of several [T, F] arrays, without concatenating them."""
    count, total, squares = 0, 0.0, 0.0
    for a in arrays:
        a = a.astype(np.float64)
        count, total, squares = count + len(a), total + a.sum(0), squares + (a * a).sum(0)
    mean = total / count
    return mean.astype(np.float32), np.sqrt(np.maximum(squares / count - mean * mean, 0.0)).astype(np.float32)


def predict(model: nn.Module, spec: models.ModelSpec, clips: Sequence, frames: int, sampling: str,
            device: torch.device, batch_size: int | None = None) -> np.ndarray:
    """Class probabilities [N, C] of ``model`` (registered with ``spec``) on per-clip inputs, with
    deterministic sampling (uniform or the centre window). Default batch: 256 clips of features or
    embeddings, 16 of frames."""
    if batch_size is None:
        batch_size = 256 if not clips or isinstance(clips[0], np.ndarray) else 16
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(clips), batch_size):
            index = np.arange(start, min(start + batch_size, len(clips)))
            x = _stack(clips, index, frames, sampling, None).to(device)
            out.append(torch.softmax(model(model_input(spec, model, x)).float(), dim=1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, 2), np.float32)


def evaluation_sampling(sampling: str) -> str:
    """How clips are sampled when scoring a model trained with ``sampling``: deterministically."""
    return "uniform" if sampling == "uniform" else "window"


def _optimiser(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _cosine(optimiser: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))


def _class_weighted_loss(targets: np.ndarray, num_classes: int, device: torch.device) -> nn.CrossEntropyLoss:
    counts = np.bincount(targets, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(targets) / (num_classes * np.maximum(counts, 1)), 0.0)
    return nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device))


@dataclass
class _Setup:
    """A run's model, its optimisation and its data, ready for the first (or resumed) epoch."""

    model: nn.Module
    model_spec: models.ModelSpec
    model_kwargs: dict
    input: InputSpec
    optimiser: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    loss_fn: nn.CrossEntropyLoss
    grad_scaler: torch.amp.GradScaler  # mixed precision on CUDA, a no-op on CPU
    device: torch.device
    clips: list
    targets: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    split_groups: list[str]  # every group the run trained or validated on

    def checkpoint(self, config: TrainConfig, epoch: int) -> dict:
        """What best.pt holds: the model's tensors and plain metadata."""
        return {"model_name": config.model, "model_kwargs": self.model_kwargs, "input": asdict(self.input),
                "model": self.model.state_dict(), "task": config.task, "frames": config.frames,
                "sampling": config.sampling, "epoch": epoch, "config": asdict(config),
                "split_groups": self.split_groups}

    def resumable(self, config: TrainConfig, progress: _Progress) -> dict:
        """What last.pt holds: best.pt's content plus the optimiser, the schedule and the progress."""
        return {**self.checkpoint(config, progress.epoch), "optimiser": self.optimiser.state_dict(),
                "scheduler": self.scheduler.state_dict(), **asdict(progress)}


def _set_up(data: ClipFeatures, config: TrainConfig, validate: bool) -> _Setup:
    spec = input_spec(config.model, config.model_kwargs, config.capture_method)
    check_input(spec, data.input, f"model {config.model!r}")
    check_classes(data.labels, config.task)
    keep, targets = task_targets(data.labels, config.task)
    clips = [clip for clip, k in zip(data.features, keep) if k]
    groups = [group for group, k in zip(data.split_groups, keep) if k]
    if validate:
        train_index, val_index = validation_split(groups, targets, config.val_fraction, config.seed)
    else:
        train_index, val_index = np.arange(len(groups)), np.arange(0)
    num_classes, device, model_spec = TASKS[config.task], resolve_device(config.device), models.model_spec(config.model)
    model_kwargs = {"in_features": clips[0].shape[1]} if spec.arrays else {}
    model_kwargs.update(num_classes=num_classes, **config.model_kwargs)
    torch.manual_seed(config.seed)
    model = create_model(config.model, **model_kwargs)
    if spec.arrays and model_spec.normalised:
        mean, std = _mean_std([clips[i] for i in train_index])
        model.set_normalisation(torch.from_numpy(mean), torch.from_numpy(std))
    model.to(device)
    optimiser = _optimiser(model, config)
    total_steps = max(1, config.epochs * math.ceil(len(train_index) / config.batch_size))
    return _Setup(model, model_spec, model_kwargs, spec, optimiser, _cosine(optimiser, total_steps),
                  _class_weighted_loss(targets[train_index], num_classes, device),
                  torch.amp.GradScaler("cuda", enabled=device.type == "cuda"), device, clips, targets,
                  train_index, val_index, sorted(set(groups)))


def _resume(setup: _Setup, checkpoint: dict | None, last: Path, model: str) -> _Progress:
    if checkpoint is None:
        return _Progress()
    try:
        setup.model.load_state_dict(checkpoint["model"])
    except RuntimeError:
        raise TrainError(f"{last}: checkpoint does not fit model {model!r} with these inputs") from None
    setup.optimiser.load_state_dict(checkpoint["optimiser"])
    setup.scheduler.load_state_dict(checkpoint["scheduler"])
    return _Progress.of(checkpoint)


def _train_epoch(setup: _Setup, config: TrainConfig, epoch: int) -> float:
    """One pass over the training clips in a seeded order; the mean training loss."""
    torch.manual_seed(config.seed * 100_003 + epoch)  # dropout etc.: same per epoch whether resumed or not
    rng = np.random.default_rng([config.seed, epoch])
    setup.model.train()
    order = rng.permutation(setup.train_index)
    total_loss = 0.0
    for start in range(0, len(order), config.batch_size):
        index = order[start:start + config.batch_size]
        x = _stack(setup.clips, index, config.frames, config.sampling, rng).to(setup.device)
        y = torch.from_numpy(setup.targets[index]).to(setup.device)
        with torch.autocast(setup.device.type, enabled=setup.grad_scaler.is_enabled()):
            loss = setup.loss_fn(setup.model(model_input(setup.model_spec, setup.model, x)), y)
        setup.optimiser.zero_grad(set_to_none=True)
        setup.grad_scaler.scale(loss).backward()
        setup.grad_scaler.step(setup.optimiser)
        setup.grad_scaler.update()
        setup.scheduler.step()
        total_loss += float(loss.detach()) * len(index)
    return total_loss / len(order)


def _validate(setup: _Setup, config: TrainConfig) -> tuple[dict, float]:
    """Validation metrics and loss (NaN without a validation set)."""
    if not len(setup.val_index):
        return dict.fromkeys(("auroc", "f1", "accuracy", "balanced_accuracy"), math.nan), math.nan
    clips = [setup.clips[i] for i in setup.val_index]
    targets = setup.targets[setup.val_index]
    batch_size = None if setup.input.arrays else config.batch_size
    probs = predict(setup.model, setup.model_spec, clips, config.frames, evaluation_sampling(config.sampling),
                    setup.device, batch_size)
    metrics = classification_metrics(probs, targets, TASKS[config.task])
    log_probs = torch.log(torch.from_numpy(probs).clamp_min(1e-8))
    return metrics, float(nn.functional.nll_loss(log_probs, torch.from_numpy(targets)))


def _improved(progress: _Progress, metrics: dict, val_loss: float, validating: bool) -> bool:
    """Whether this epoch's model is the one to keep; updates the best so far."""
    auroc = metrics["auroc"] if not math.isnan(metrics["auroc"]) else -metrics["accuracy"]
    # A few validation subjects often reach AUROC 1.0 within an epoch or two: ties go to the lower
    # validation loss, so the kept model is not the first, barely trained one to get there.
    tied = auroc == progress.best_auroc and val_loss < progress.best_loss
    better = not validating or auroc > progress.best_auroc or tied
    if better:
        progress.best_auroc, progress.best_loss, progress.best_epoch = auroc, val_loss, progress.epoch
        progress.bad_epochs = 0
    else:
        progress.bad_epochs += 1
    return better


def _history_row(epoch: int, lr: float, train_loss: float, val_loss: float, metrics: dict, best: bool,
                 seconds: float) -> dict:
    return {"epoch": epoch, "lr": lr, "train_loss": round(train_loss, 6), "val_loss": round(val_loss, 6),
            "val_auroc": round(metrics["auroc"], 6), "val_f1": round(metrics["f1"], 6),
            "val_accuracy": round(metrics["accuracy"], 6),
            "val_balanced_accuracy": round(metrics["balanced_accuracy"], 6),
            "best": int(best), "seconds": round(seconds, 3)}


def fit(data: ClipFeatures, out: str | Path, config: TrainConfig,
        on_progress: Callable[[int, int], None] | None = None, validate: bool = True) -> TrainResult:
    """Train ``config.model`` on per-clip inputs into ``out`` (resuming from ``out/last.pt`` if there):
    ``best.pt`` (the kept model), ``last.pt``, ``config.json`` and ``epochs.csv``.

    ``validate=False`` holds no clips out: every epoch runs and the last is kept, however many split
    groups there are (the experiment trains every cell so, whatever its setting and budget)."""
    started = time.perf_counter()
    config.check()
    out = Path(out)
    checkpoint = check_resume(out, config)
    setup = _set_up(data, config, validate)
    progress = _resume(setup, checkpoint, out / LAST, config.model)
    out.mkdir(parents=True, exist_ok=True)
    write_run_config(out, config, setup.input, len(setup.train_index), len(setup.val_index))
    validating = len(setup.val_index) > 0
    while progress.epoch < config.epochs and not progress.stopped:
        if on_progress:
            on_progress(progress.epoch, config.epochs)
        epoch_start = time.perf_counter()
        progress.epoch += 1
        train_loss = _train_epoch(setup, config, progress.epoch)
        metrics, val_loss = _validate(setup, config)
        best = _improved(progress, metrics, val_loss, validating)
        if best:
            save_checkpoint(setup.checkpoint(config, progress.epoch), out / BEST)
        progress.stopped = progress.bad_epochs >= config.patience
        progress.history.append(_history_row(progress.epoch, setup.optimiser.param_groups[0]["lr"], train_loss,
                                             val_loss, metrics, best, time.perf_counter() - epoch_start))
        save_checkpoint(setup.resumable(config, progress), out / LAST)
        write_history(out, progress.history)
    if on_progress:
        on_progress(config.epochs, config.epochs)
    return TrainResult(out=out, epochs_run=len(progress.history), best_epoch=progress.best_epoch,
                       best_val_auroc=progress.best_auroc if validating else math.nan, stopped_early=progress.stopped,
                       n_train=len(setup.train_index), n_val=len(setup.val_index), n_groups=len(setup.split_groups),
                       seconds=time.perf_counter() - started, history=progress.history)


def train(dataset_dirs: Sequence[str | Path], out: str | Path, config: TrainConfig | None = None,
          on_progress: Callable[[int, int], None] | None = None, errors: list[str] | None = None,
          notes: list[str] | None = None) -> TrainResult:
    """Featurise (or load cached inputs of) ``dataset_dirs`` for ``config.model`` and :func:`fit` on them.
    Clips the loader leaves out are described in ``errors`` (one per clip) and ``notes`` (unlabelled
    clips, one line per folder)."""
    config = config or TrainConfig()
    config.check()
    check_resume(out, config)  # a foreign checkpoint or a bad dataset fails before any featurising
    spec = input_spec(config.model, config.model_kwargs, config.capture_method)
    left_out = check_datasets(dataset_dirs, config.task, spec)
    if notes is not None:
        notes.extend(left_out)
    data = load_datasets(dataset_dirs, errors=errors, model=config.model, model_kwargs=config.model_kwargs,
                         capture_method=config.capture_method)
    return fit(data, out, config, on_progress)

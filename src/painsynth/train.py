"""Train and evaluate pain recognition models on painsynth datasets: every registered model.

What a clip becomes depends on what the model consumes (:func:`input_spec`, from the model class's
``input_kind`` and arguments); the checkpoint records it, so evaluation prepares test clips the same way:

- ``features`` (``au-tcn``): every clip's video is run through :mod:`painsynth.capture` (the path real
  videos take, so synthetic clips are featurised from their rendered pixels exactly as real clips are)
  and the per-frame features [T, 65] are cached under ``<dataset>/features/<clip_id>.npz``, reused while
  the manifest's sha256 of the video matches.
- ``embeddings`` (``frame-temporal`` with its frozen encoder): every clip is decoded once and encoded to
  MobileNetV2 embeddings [T, 1280], cached under ``<dataset>/features/<encoder key>/<clip_id>.npz``
  (keyed by the video's sha256, the encoder weights and the image size); only the temporal head trains.
- ``frames`` (``r2plus1d-18``, ``frame-temporal`` with ``freeze_encoder=False``): each clip is a
  :class:`FrameClip` that decodes its video on access at the model's ``image_size`` (decoded clips are
  kept in memory up to :data:`FRAME_CACHE_BYTES`), giving float frames [n, 3, S, S] in [0, 1].

Every kind is a per-clip sequence indexed by frame, so sampling, batching and the training loop are the same.

Training: AdamW with a per-step cosine schedule, class-weighted cross entropy, a validation split that is
subject-disjoint (by ``split_group``) and seeded, checkpoint selection and early stopping on validation
AUROC, ``<out>/last.pt`` to resume from, per-epoch metrics in ``<out>/epochs.csv``. Each epoch's random
choices are seeded from (seed, epoch), so a resumed run gives the same result as an uninterrupted one.
"""

from __future__ import annotations

import csv
import inspect
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
import torch.nn.functional as F

from painsynth import models
from painsynth.dataset import ManifestError, manifest_rows
from painsynth.fileio import atomic_path

TASKS = {"binary": 2, "binary-extreme": 2, "multiclass": 5}  # task -> number of classes
SAMPLINGS = ("uniform", "window")
OPTIMIZERS = ("adamw", "sgd")  # sgd: momentum 0.9, Nesterov
FEATURES_DIR = "features"
FEATURE_VERSION = 2
# With fewer subjects, holding whole ones out for early stopping costs a large share of the training data
# and picks the epoch on a handful of clips (measured on the stand-in experiment: 2 subjects with one
# held out scored below 1 subject trained without validation), so they train every epoch instead.
MIN_VALIDATION_GROUPS = 5
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


FEATURES, EMBEDDINGS, FRAMES = "features", "embeddings", "frames"  # what a model consumes per clip
DEFAULT_IMAGE_SIZE = 112
FRAME_CACHE_BYTES = 2 << 30  # decoded clips (frames kind) kept in memory per loaded dataset, at most


class TrainError(ValueError):
    """Training or evaluation cannot run on these inputs; the message says why, in one line."""


# ---------------------------------------------------------------- model inputs

@dataclass(frozen=True)
class InputSpec:
    """What a model is trained on: ``features`` (captured, [T, 65]), ``embeddings`` (frozen-encoder frame
    embeddings [T, D], made by ``encoder`` at ``image_size``) or ``frames`` (video frames decoded at
    ``image_size``)."""

    kind: str = FEATURES
    image_size: int | None = None
    encoder: str | None = None

    def describe(self) -> str:
        if self.kind == EMBEDDINGS:
            return f"frame embeddings ({self.encoder})"
        if self.kind == FRAMES:
            return f"video frames ({self.image_size}x{self.image_size})"
        return "captured face features"

    @property
    def progress_label(self) -> str:
        return {FEATURES: "featurising clips", EMBEDDINGS: "encoding clips", FRAMES: "decoding clips"}[self.kind]


def _defaults(cls) -> dict:
    return {name: p.default for name, p in inspect.signature(cls).parameters.items() if p.default is not p.empty}


TRAINER_ARGUMENTS = ("num_classes", "in_features")  # set by the trainer from the task and the data


def check_model_kwargs(model: str, model_kwargs: dict | None) -> None:
    """TrainError when ``model_kwargs`` names an argument the model does not take (or one the trainer sets)."""
    cls = models.get_model_class(model)
    params = inspect.signature(cls).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for name in model_kwargs or {}:
        if name in TRAINER_ARGUMENTS:
            raise TrainError(f"model option {name} is set by the trainer (from the task and the data), not by hand")
        if name not in params and not accepts_any:
            options = ", ".join(k for k in params if k not in TRAINER_ARGUMENTS) or "none"
            raise TrainError(f"model {model!r} takes no option {name.replace('_', '-')}; its options: {options}")


def input_spec(model: str, model_kwargs: dict | None = None) -> InputSpec:
    """What ``model`` built with ``model_kwargs`` consumes, from its class: ``input_kind == "features"`` ->
    captured features; a frame or clip model -> cached embeddings when its class can name them
    (``embedding_key(**kwargs)``, a frozen encoder with fixed weights), else decoded frames."""
    cls = models.get_model_class(model)
    kind = getattr(cls, "input_kind", FEATURES)
    if kind == FEATURES:
        return InputSpec()
    kwargs = {**_defaults(cls), **(model_kwargs or {})}
    size = int(kwargs.get("image_size") or DEFAULT_IMAGE_SIZE)
    embedding_key = getattr(cls, "embedding_key", None)
    try:
        key = embedding_key(**kwargs) if embedding_key is not None else None
    except OSError as exc:
        raise TrainError(f"{exc.filename or kwargs.get('weights')}: weights file not readable "
                         f"({exc.strerror or type(exc).__name__})") from None
    return InputSpec(EMBEDDINGS, size, key) if key is not None else InputSpec(FRAMES, size)


def _create_model(name: str, **kwargs) -> nn.Module:
    from painsynth.models.weights import WeightsError

    try:
        return models.create(name, **kwargs)
    except (WeightsError, ValueError) as exc:
        raise TrainError(str(exc).splitlines()[0]) from None


def _check_input(expected: InputSpec, got: InputSpec, where: str) -> None:
    if expected != got:
        raise TrainError(f"{where}: the model takes {expected.describe()}, the data holds {got.describe()}")


class FrameCache:
    """Decoded clips (uint8 [T, S, S, 3]) kept in memory up to ``budget`` bytes; nothing is evicted
    (training visits clips in random order). Pickles empty, so worker processes fill their own."""

    def __init__(self, budget: int = FRAME_CACHE_BYTES):
        self.budget, self.used, self.clips = budget, 0, {}

    def __reduce__(self):
        return FrameCache, (self.budget,)

    def get(self, key) -> np.ndarray | None:
        return self.clips.get(key)

    def has_room(self, nbytes: int) -> bool:
        return self.used + nbytes <= self.budget

    def put(self, key, frames: np.ndarray) -> np.ndarray:
        if key not in self.clips and self.has_room(frames.nbytes):
            self.clips[key] = frames
            self.used += frames.nbytes
        return frames


def resize_frames(frames: np.ndarray, size: int, chunk: int = 32) -> np.ndarray:
    """uint8 RGB frames [T, H, W, 3] -> [T, size, size, 3] (antialiased bilinear; unchanged at that size)."""
    if frames.shape[1:3] == (size, size):
        return frames
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for start in range(0, len(frames), chunk):
        x = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk])).permute(0, 3, 1, 2).float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out[start:start + chunk] = x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return out


class FrameClip:
    """One clip's video frames, decoded on access: ``len(clip)`` frames, and ``clip[index]`` (an index
    array, as :func:`sample_frames` uses) gives float32 [n, 3, size, size] RGB in [0, 1]. The whole clip
    is decoded into ``cache`` while it has room, else only the frames asked for are decoded each time."""

    def __init__(self, path: str | Path, n_frames: int, size: int, key: str = "", cache: FrameCache | None = None):
        self.path, self.n_frames, self.size, self.cache = Path(path), int(n_frames), int(size), cache
        self.key = (str(self.path), key, self.size)

    def __len__(self) -> int:
        return self.n_frames

    @property
    def nbytes(self) -> int:
        return self.n_frames * self.size * self.size * 3

    def load(self) -> None:
        """Check the video now: decode it into the cache if there is room, else read its frame count."""
        from painsynth.video import probe_video

        if self.cache is not None and self.cache.has_room(self.nbytes):
            self._decoded()
        else:
            self.n_frames = int(probe_video(self.path)["n_frames"])

    def _decoded(self) -> np.ndarray:
        from painsynth.video import read_video

        frames = self.cache.get(self.key) if self.cache is not None else None
        if frames is None:
            frames = resize_frames(read_video(self.path)[0], self.size)
            self.n_frames = len(frames)
            if self.cache is not None:
                self.cache.put(self.key, frames)
        return frames

    def __getitem__(self, index) -> np.ndarray:
        from painsynth.video import VideoError, read_frames

        index = np.asarray(index, dtype=np.int64).reshape(-1)
        try:
            if self.cache is not None and (self.cache.get(self.key) is not None or self.cache.has_room(self.nbytes)):
                picked = self._decoded()[index]
            else:
                picked = resize_frames(read_frames(self.path, index), self.size)
        except VideoError as exc:
            raise TrainError(str(exc)) from None
        return picked.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)


# ---------------------------------------------------------------- features

class ClipFeatures(NamedTuple):
    features: list  # per clip: [T, F] float32 arrays (features, embeddings) or FrameClip (frames)
    labels: np.ndarray  # [N] pain level 0-4
    split_groups: list[str]
    clip_ids: list[str]
    input: InputSpec = InputSpec()  # what the clips are (a model of another input refuses them)


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


def _cache_path(root: Path, clip_id: str, spec: InputSpec | None = None) -> Path:
    """Where a clip's cached features (or, for an embeddings spec, its encoder's embeddings) are kept."""
    name = f"{clip_id.replace('/', '__').replace(chr(92), '__')}.npz"
    if spec is not None and spec.kind == EMBEDDINGS:
        return root / FEATURES_DIR / spec.encoder / name
    return root / FEATURES_DIR / name


def feature_cache_key() -> str:
    """What a cached features file must have been made with to be reused: this module's feature layout
    and capture's retargeting."""
    from painsynth.capture.fit import retarget_key

    return f"{FEATURE_VERSION}-{retarget_key()}"


def _load_cached(path: Path, sha256: str) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["sha256"]) != sha256 or str(data["version"]) != feature_cache_key():
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
                 version=np.array(feature_cache_key()))
    return features


def dataset_rows(dataset_dir: str | Path, spec: InputSpec | None = None) -> list[dict]:
    """The manifest rows of a dataset folder; TrainError when it is missing or has no clips, or when
    clips have neither a video file nor (features, embeddings) a cached file of ``spec``'s kind."""
    spec = spec or InputSpec()
    try:
        rows = manifest_rows(dataset_dir)
    except ManifestError as exc:
        raise TrainError(str(exc)) from None
    missing = [row["path"] for row in rows if not (Path(dataset_dir) / row["path"]).is_file()
               and (spec.kind == FRAMES or not _cache_path(Path(dataset_dir), row["clip_id"], spec).is_file())]
    if missing:
        raise TrainError(f"{dataset_dir}: {len(missing)} of {len(rows)} clips in the manifest have no video file "
                         f"(first: {missing[0]})")
    return rows


def clip_features(dataset_dir: str | Path, on_progress: Callable[[int, int], None] | None = None,
                  errors: list[str] | None = None, capture_model: str | Path | None = None,
                  model: str = "au-tcn", model_kwargs: dict | None = None,
                  frame_cache: FrameCache | None = None) -> ClipFeatures:
    """Per-clip inputs of a dataset folder for ``model`` (built with ``model_kwargs``; see :func:`input_spec`):
    captured features (from the cache or by capturing each clip's video), frozen-encoder embeddings (from
    the cache or by decoding and encoding each clip) or lazily decoded frames (:class:`FrameClip`).

    A clip whose face is not found often enough (or whose video is unreadable) is left out and its
    message appended to ``errors``; TrainError when the folder has no usable clips.
    """
    root = Path(dataset_dir)
    spec = input_spec(model, model_kwargs)
    rows = dataset_rows(root, spec)
    if spec.kind != FEATURES:
        return _frame_inputs(root, rows, spec, model, model_kwargs or {}, on_progress, errors, frame_cache)
    from painsynth.capture import CaptureError, ModelError, verified_model
    from painsynth.tracks import TrackError
    from painsynth.video import VideoError

    model_path = None

    def load(row: dict) -> np.ndarray:
        nonlocal model_path
        features = _load_cached(_cache_path(root, row["clip_id"]), row["sha256"])
        if features is not None:
            return features
        if model_path is None:
            try:
                model_path = verified_model(capture_model)
            except ModelError as exc:
                raise TrainError(str(exc)) from None
        return featurise_clip(root, row, model_path)

    return _collect(root, rows, spec, load, (CaptureError, VideoError, TrackError, OSError), "featurised",
                    on_progress, errors)


def _collect(root: Path, rows: list[dict], spec: InputSpec, load: Callable[[dict], object],
             skipped: tuple[type[Exception], ...], verb: str,
             on_progress: Callable[[int, int], None] | None, errors: list[str] | None) -> ClipFeatures:
    """Every row's input by ``load``; a row whose load raises one of ``skipped`` is left out (its message
    in ``errors``); TrainError when none is left."""
    out = ClipFeatures([], [], [], [], spec)
    labels = []
    for done, row in enumerate(rows):
        if on_progress:
            on_progress(done, len(rows))
        try:
            clip = load(row)
        except skipped as exc:
            if errors is not None:
                errors.append(str(exc))
            continue
        out.features.append(clip)
        labels.append(int(row["label"]))
        out.split_groups.append(str(row["split_group"]))
        out.clip_ids.append(str(row["clip_id"]))
    if on_progress:
        on_progress(len(rows), len(rows))
    if not out.features:
        raise TrainError(f"{root}: none of its {len(rows)} clips could be {verb}")
    return out._replace(labels=np.array(labels, dtype=np.int64))


def _frame_inputs(root: Path, rows: list[dict], spec: InputSpec, model: str, model_kwargs: dict,
                  on_progress: Callable[[int, int], None] | None, errors: list[str] | None,
                  frame_cache: FrameCache | None) -> ClipFeatures:
    """clip_features of the embeddings and frames kinds."""
    from painsynth.models.frame_temporal import cached_embeddings
    from painsynth.video import VideoError, read_video

    encoder = None
    cache = frame_cache if frame_cache is not None else FrameCache()

    def load(row: dict):
        nonlocal encoder
        path = root / row["path"]
        if spec.kind == FRAMES:
            clip = FrameClip(path, row["n_frames"], spec.image_size, row["sha256"], cache)
            clip.load()
            return clip
        if encoder is None:  # built on the first clip (weights loaded once), in eval mode
            encoder = _create_model(model, **{**model_kwargs, "num_classes": 2}).eval()
        clip = cached_embeddings(encoder, _cache_path(root, row["clip_id"], spec),
                                 lambda: read_video(path)[0], key=row["sha256"])
        if clip.ndim != 2 or not len(clip):
            raise VideoError(f"{path}: no frames encoded")
        return clip

    verb = "encoded" if spec.kind == EMBEDDINGS else "decoded"
    return _collect(root, rows, spec, load, (VideoError, OSError), verb, on_progress, errors)


def check_datasets(dataset_dirs: Sequence[str | Path], task: str | None = None, spec: InputSpec | None = None) -> int:
    """Fail fast, before any featurising: every folder has a readable manifest with clips whose videos
    exist (or, for ``spec``'s kind, cached inputs) and, given ``task``, the manifest labels hold at least
    two of its classes. Returns the clip count."""
    if not dataset_dirs:
        raise TrainError("no dataset given (--data DIR)")
    rows = [row for folder in dataset_dirs for row in dataset_rows(folder, spec)]
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
                  errors: list[str] | None = None, model: str = "au-tcn", model_kwargs: dict | None = None) -> ClipFeatures:
    """clip_features of several folders for ``model``, concatenated (progress over all their clips)."""
    if not dataset_dirs:
        raise TrainError("no dataset given (--data DIR)")
    spec = input_spec(model, model_kwargs)
    totals = [len(dataset_rows(d, spec)) for d in dataset_dirs]  # fail on a bad folder before featurising any
    merged = ClipFeatures([], [], [], [], spec)
    frame_cache = FrameCache()
    labels = []
    for i, folder in enumerate(dataset_dirs):
        offset = sum(totals[:i])
        report = (lambda done, _total, offset=offset: on_progress(offset + done, sum(totals))) if on_progress else None
        part = clip_features(folder, report, errors, model=model, model_kwargs=model_kwargs, frame_cache=frame_cache)
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
    optimizer: str = "adamw"
    seed: int = 0
    device: str = "auto"
    frames: int = 32
    sampling: str = "uniform"  # training clips: uniform | window (evaluation: uniform | centre window)
    val_fraction: float = 0.2
    patience: int = 10  # epochs without a better validation AUROC before stopping
    model_kwargs: dict = field(default_factory=dict)

    def check(self) -> None:
        models.get_model_class(self.model)  # UnknownModelError
        check_model_kwargs(self.model, self.model_kwargs)
        input_spec(self.model, self.model_kwargs)  # e.g. a weights file that is not there
        check_task(self.task)
        if self.optimizer not in OPTIMIZERS:
            raise TrainError(f"unknown optimizer {self.optimizer!r}; available: {', '.join(OPTIMIZERS)}")
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


def _stack(features: Sequence, index: np.ndarray, frames: int, sampling: str,
           rng: np.random.Generator | None) -> torch.Tensor:
    return torch.from_numpy(np.stack([sample_frames(features[i], frames, sampling, rng) for i in index]))


def model_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A batch as the model takes it: frames [B, T, 3, H, W] go through the model's ``from_frames`` when it
    has one (r2plus1d-18: a normalised clip [B, 3, T, H, W]); features and embeddings go in unchanged."""
    from_frames = getattr(model, "from_frames", None)
    return from_frames(x) if from_frames is not None and x.ndim == 5 else x


def _mean_std(arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) std over the rows of several [T, F] arrays, without concatenating them."""
    count, total, squares = 0, 0.0, 0.0
    for a in arrays:
        a = a.astype(np.float64)
        count, total, squares = count + len(a), total + a.sum(0), squares + (a * a).sum(0)
    mean = total / count
    return mean.astype(np.float32), np.sqrt(np.maximum(squares / count - mean * mean, 0.0)).astype(np.float32)


def predict(model: nn.Module, features: Sequence, frames: int, sampling: str,
            device: torch.device, batch_size: int | None = None) -> np.ndarray:
    """Class probabilities [N, C] (deterministic sampling: uniform or the centre window). Default batch:
    256 clips of features or embeddings, 16 of frames."""
    if batch_size is None:
        batch_size = 256 if not features or isinstance(features[0], np.ndarray) else 16
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(features), batch_size):
            index = np.arange(start, min(start + batch_size, len(features)))
            x = _stack(features, index, frames, sampling, None).to(device)
            out.append(torch.softmax(model(model_input(model, x)).float(), dim=1).cpu())
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
    for key in ("task", "seed", "frames", "sampling", "val_fraction", "optimizer", "model_kwargs"):
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


def _optimiser(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9, nesterov=True,
                               weight_decay=config.weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


def _validate(model, features: list, targets: np.ndarray, num_classes: int, config: TrainConfig,
              device: torch.device, arrays: bool) -> tuple[dict, float]:
    """Validation metrics and loss of ``model`` on ``features``."""
    sampling = "uniform" if config.sampling == "uniform" else "window"
    probs = predict(model, features, config.frames, sampling, device, batch_size=None if arrays else config.batch_size)
    metrics = classification_metrics(probs, targets, num_classes)
    loss = float(nn.functional.nll_loss(torch.log(torch.from_numpy(probs).clamp_min(1e-8)), torch.from_numpy(targets)))
    return metrics, loss


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
    if len(set(groups)) >= MIN_VALIDATION_GROUPS:
        train_index, val_index = group_split(groups, targets, config.val_fraction, config.seed)
    else:  # every epoch runs and the last is kept
        train_index, val_index = np.arange(len(groups)), np.arange(0)
    device = resolve_device(config.device)
    spec = input_spec(config.model, config.model_kwargs)
    _check_input(spec, data.input, f"model {config.model!r}")
    arrays = spec.kind != FRAMES  # per-clip [T, F] arrays: features or embeddings
    model_kwargs = {"in_features": features[0].shape[1]} if arrays else {}
    model_kwargs.update(num_classes=num_classes, **config.model_kwargs)

    torch.manual_seed(config.seed)
    model = _create_model(config.model, **model_kwargs)
    if arrays and hasattr(model, "set_normalisation"):
        mean, std = _mean_std([features[i] for i in train_index])
        model.set_normalisation(torch.from_numpy(mean), torch.from_numpy(std))
    model.to(device)
    optimiser = _optimiser(model, config)
    steps_per_epoch = math.ceil(len(train_index) / config.batch_size)
    total_steps = max(1, config.epochs * steps_per_epoch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps)))
    counts = np.bincount(targets[train_index], minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, len(train_index) / (num_classes * np.maximum(counts, 1)), 0.0)
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32, device=device))
    amp = device.type == "cuda"
    grad_scaler = torch.amp.GradScaler("cuda", enabled=amp)

    start_epoch, best_auroc, best_loss, best_epoch, bad_epochs, history, stopped = 0, -math.inf, math.inf, 0, 0, [], False
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
        except RuntimeError:
            raise TrainError(f"{out / LAST}: checkpoint does not fit model {config.model!r} with these inputs") from None
        optimiser.load_state_dict(checkpoint["optimiser"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        start_epoch, best_auroc, best_epoch = checkpoint["epoch"], checkpoint["best_auroc"], checkpoint["best_epoch"]
        best_loss = checkpoint["best_loss"]
        bad_epochs, history, stopped = checkpoint["bad_epochs"], checkpoint["history"], checkpoint["stopped"]
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / CONFIG_JSON) as tmp:
        tmp.write_text(json.dumps({**asdict(config), "n_train": len(train_index), "n_val": len(val_index)}, indent=2))

    def payload(epoch: int) -> dict:
        return {"model_name": config.model, "model_kwargs": model_kwargs, "input": asdict(spec),
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
                loss = loss_fn(model(model_input(model, x)), y)
            optimiser.zero_grad(set_to_none=True)
            grad_scaler.scale(loss).backward()
            grad_scaler.step(optimiser)
            grad_scaler.update()
            scheduler.step()
            total_loss += float(loss.detach()) * len(index)
        if len(val_index):
            metrics, val_loss = _validate(model, val_features, targets[val_index], num_classes, config, device, arrays)
            auroc = metrics["auroc"] if not math.isnan(metrics["auroc"]) else -metrics["accuracy"]
        else:
            metrics, val_loss = dict.fromkeys(("auroc", "f1", "accuracy", "balanced_accuracy"), math.nan), math.nan
            auroc = math.nan
        # A few validation subjects often reach AUROC 1.0 within an epoch or two: ties go to the lower
        # validation loss, so the kept model is not the first, barely trained one to get there.
        improved = not len(val_index) or auroc > best_auroc or (auroc == best_auroc and val_loss < best_loss)
        if improved:
            best_auroc, best_loss, best_epoch, bad_epochs = auroc, val_loss, epoch, 0
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
               "best_auroc": best_auroc, "best_loss": best_loss, "best_epoch": best_epoch, "bad_epochs": bad_epochs,
               "history": history, "stopped": stopped}, out / LAST)
        _write_history(out, history)
    if on_progress:
        on_progress(config.epochs, config.epochs)
    return TrainResult(out=out, epochs_run=len(history), best_epoch=best_epoch, best_val_auroc=best_auroc if len(val_index) else math.nan,
                       stopped_early=stopped, n_train=len(train_index), n_val=len(val_index),
                       seconds=time.perf_counter() - started, history=history)


def train(dataset_dirs: Sequence[str | Path], out: str | Path, config: TrainConfig | None = None,
          on_progress: Callable[[int, int], None] | None = None, errors: list[str] | None = None) -> TrainResult:
    """Featurise (or load cached inputs of) ``dataset_dirs`` for ``config.model`` and :func:`fit` on them."""
    config = config or TrainConfig()
    config.check()
    check_resume(out, config)  # a foreign checkpoint or a bad dataset fails before any featurising
    check_datasets(dataset_dirs, config.task, input_spec(config.model, config.model_kwargs))
    data = load_datasets(dataset_dirs, errors=errors, model=config.model, model_kwargs=config.model_kwargs)
    return fit(data, out, config, on_progress)


# ---------------------------------------------------------------- evaluation

def load_run(run: str | Path, device: str = "auto") -> tuple[nn.Module, dict]:
    """The best checkpoint of a training run as (model in eval mode, checkpoint dict)."""
    path = Path(run) / BEST
    if not path.is_file():
        raise TrainError(f"{run}: not a training run (no {BEST})")
    checkpoint = _read_checkpoint(path)
    model = _create_model(checkpoint["model_name"], **checkpoint["model_kwargs"])
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError:
        raise TrainError(f"{path}: checkpoint does not fit model {checkpoint['model_name']!r}") from None
    return model.to(resolve_device(device)).eval(), checkpoint


def run_input(checkpoint: dict) -> InputSpec:
    """What a checkpoint's model was trained on (captured features for runs that predate the record)."""
    return InputSpec(**checkpoint["input"]) if checkpoint.get("input") else InputSpec()


def run_data_args(checkpoint: dict) -> dict:
    """Keyword arguments of :func:`load_datasets` that prepare test clips the way a run's training clips were."""
    return {"model": checkpoint["model_name"], "model_kwargs": dict(checkpoint.get("config", {}).get("model_kwargs", {}))}


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
        data = load_datasets(dataset_dirs or [], on_progress, errors, **run_data_args(checkpoint))
    _check_input(run_input(checkpoint), data.input, str(run))
    keep, targets = task_targets(data.labels, task)
    features = [f for f, k in zip(data.features, keep) if k]
    if not features:
        raise TrainError(f"no test clips for task {task}")
    arrays = isinstance(features[0], np.ndarray)
    if arrays and features[0].shape[1] != checkpoint["model_kwargs"].get("in_features", features[0].shape[1]):
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

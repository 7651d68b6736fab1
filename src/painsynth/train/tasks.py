"""Tasks (which pain levels become which classes) and subject-disjoint validation splits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from painsynth.dataset import N_LEVELS
from painsynth.train.errors import TrainError

TASKS = {"binary": 2, "binary-extreme": 2, "multiclass": 5}  # task -> number of classes
# With fewer subjects, holding whole ones out for early stopping costs a large share of the training data
# and picks the epoch on a handful of clips (measured on the stand-in experiment: 2 subjects with one
# held out scored below 1 subject trained without validation), so they train every epoch instead.
MIN_VALIDATION_GROUPS = 5


def check_task(task: str) -> int:
    """The number of classes of ``task``; TrainError for an unknown task."""
    if task not in TASKS:
        raise TrainError(f"unknown task {task!r}; available: {', '.join(TASKS)}")
    return TASKS[task]


def has_pain_level(levels) -> np.ndarray:
    """[N] bool: the label is a pain level 0-4 (-1 marks unlabelled motion, which no task can use)."""
    levels = np.asarray(levels, dtype=np.int64)
    return (levels >= 0) & (levels < N_LEVELS)


def task_targets(levels: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """(keep mask [N], class targets of the kept clips) for labels under ``task``; clips without a pain
    level (and, for ``binary-extreme``, levels 1-3) are not kept."""
    check_task(task)
    levels = np.asarray(levels, dtype=np.int64)
    keep = has_pain_level(levels)
    if task == "binary-extreme":
        keep &= (levels == 0) | (levels == N_LEVELS - 1)
        return keep, (levels[keep] > 0).astype(np.int64)
    if task == "binary":
        return keep, (levels[keep] > 0).astype(np.int64)
    return keep, levels[keep].copy()


def check_classes(levels: np.ndarray, task: str) -> None:
    """TrainError unless the labels hold at least two of ``task``'s classes."""
    _, targets = task_targets(levels, task)
    present = np.unique(targets)
    if len(present) < 2:
        what = f"a single class ({int(present[0])})" if len(present) else "no clips"
        raise TrainError(f"the training set has {what} for task {task}; it needs clips of at least two classes")


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
        val = np.isin(groups, _validation_groups(rng.permutation(unique), groups, val_fraction))
        train_classes, val_classes = set(targets[~val].tolist()), set(targets[val].tolist())
        if train_classes == classes and val_classes == classes:
            return np.flatnonzero(~val), np.flatnonzero(val)
        if fallback is None and len(train_classes) > 1 and len(val_classes) > 1:
            fallback = (np.flatnonzero(~val), np.flatnonzero(val))
    if fallback is None:
        raise TrainError("cannot split the training data by split_group so that training and validation "
                         "both hold two classes; add clips from more subjects")
    return fallback


def _validation_groups(order: np.ndarray, groups: np.ndarray, val_fraction: float) -> list:
    """The first groups of ``order`` until they hold ``val_fraction`` of the clips (one group at least and
    one left for training)."""
    chosen, count = [], 0
    for group in order[:-1]:
        if count >= val_fraction * len(groups) and chosen:
            break
        chosen.append(group)
        count += int((groups == group).sum())
    return chosen


def validation_split(groups: Sequence[str], targets: np.ndarray, val_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`group_split` with at least :data:`MIN_VALIDATION_GROUPS` groups, else every clip trains
    (an empty validation set: every epoch runs and the last is kept)."""
    if len(set(groups)) >= MIN_VALIDATION_GROUPS:
        return group_split(groups, targets, val_fraction, seed)
    return np.arange(len(groups)), np.arange(0)

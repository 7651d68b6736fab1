"""What the experiment trains: the subject-disjoint folds, the cells (setting, fold, seed and the budget's
real subjects) behind each row of results.csv, and a cell's training and test clips, kept apart from the
fold's test subjects so that no cell trains on the people it is tested on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from painsynth.dataset import group_members
from painsynth.experiment.config import ALL, ExperimentError
from painsynth.train import ClipFeatures, clips_at


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

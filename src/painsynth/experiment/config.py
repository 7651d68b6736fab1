"""The experiment's settings and what a re-run into the same folder must share with the first run, so
that cells trained under other settings (or on other features) are never mixed into one table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from painsynth.train import FEATURES, TrainConfig, feature_cache_key, input_spec

ALL = "all"
DEFAULT_BUDGETS = (0, 5, 10, 20, ALL)
# How a cell's model is chosen; recorded in experiment.json, so cells trained under another rule are not mixed in
CELL_MODEL_SELECTION = "last epoch, no validation"
UNUSED_TRAIN_SETTINGS = ("seed", "device", "val_fraction", "patience")  # per cell, or not used without validation


class ExperimentError(ValueError):
    """The experiment cannot run with these inputs; the message says why, in one line."""


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

"""The settings of one training run, checked before anything is read or written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from painsynth import devices, models
from painsynth.devices import DeviceError
from painsynth.train.errors import TrainError
from painsynth.train.features import check_capture_method
from painsynth.train.inputs import DEFAULT_CAPTURE_METHOD, FEATURES, SAMPLINGS, InputSpec, check_model_kwargs, input_spec
from painsynth.train.tasks import check_task

OPTIMIZERS = ("adamw", "sgd")  # sgd: momentum 0.9, Nesterov
PLAIN = (str, int, float, bool, type(None))  # what a model option may be: it is kept in JSON and checkpoints


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
    capture_method: str = DEFAULT_CAPTURE_METHOD  # capture's retargeting that makes a feature model's inputs

    def check(self) -> None:
        """TrainError (one line) on any setting that cannot run; model options given as paths become strings."""
        models.get_model_class(self.model)  # UnknownModelError
        self.model_kwargs = _plain_options(self.model_kwargs)
        check_model_kwargs(self.model, self.model_kwargs)
        self._check_capture_method(input_spec(self.model, self.model_kwargs))  # input_spec: e.g. a missing weights file
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

    def _check_capture_method(self, spec: InputSpec) -> None:
        if spec.kind == FEATURES:
            check_capture_method(self.capture_method)
        elif self.capture_method != DEFAULT_CAPTURE_METHOD:  # a frame model never runs capture
            raise TrainError(f"capture-method applies to models of captured features; model {self.model!r} "
                             f"takes {spec.describe()}")


def _plain_options(model_kwargs: dict) -> dict:
    options = {name: str(value) if isinstance(value, Path) else value for name, value in model_kwargs.items()}
    for name, value in options.items():
        if not isinstance(value, PLAIN):
            raise TrainError(f"model option {name.replace('_', '-')} must be a number, text or a path, "
                             f"not {type(value).__name__}")
    return options


def resolve_device(device: str) -> torch.device:
    """``auto`` (CUDA when there is one, else CPU), ``cpu`` or ``cuda[:N]`` as a torch device; TrainError otherwise."""
    try:
        return devices.resolve_device(device)
    except DeviceError as exc:
        raise TrainError(str(exc)) from None

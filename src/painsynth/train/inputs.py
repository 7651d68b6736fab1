"""What a model is fed: the input kinds, read from the model's registry entry, and per-clip frame sampling."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from painsynth import models
from painsynth.models.weights import WeightsError
from painsynth.train.errors import TrainError

FEATURES, EMBEDDINGS, FRAMES = "features", "embeddings", "frames"  # what a clip becomes for a model
DEFAULT_IMAGE_SIZE = 112
# capture's default retargeting (CaptureSettings.method), named here so that the trainer imports no capture
DEFAULT_CAPTURE_METHOD = "hybrid"
SAMPLINGS = ("uniform", "window")
TRAINER_ARGUMENTS = ("num_classes", "in_features")  # set by the trainer from the task and the data


@dataclass(frozen=True)
class InputSpec:
    """What a model is trained on: ``features`` (captured, [T, 65], by capture's retargeting ``capture_method``),
    ``embeddings`` (frozen-encoder frame embeddings [T, D], made by ``encoder`` at ``image_size``) or ``frames``
    (video frames decoded at ``image_size``)."""

    kind: str = FEATURES
    image_size: int | None = None
    encoder: str | None = None
    capture_method: str | None = None  # features only: None there means the default (runs before it was recorded)

    def __post_init__(self):
        method = (self.capture_method or DEFAULT_CAPTURE_METHOD) if self.kind == FEATURES else None
        object.__setattr__(self, "capture_method", method)

    def describe(self) -> str:
        if self.kind == EMBEDDINGS:
            return f"frame embeddings ({self.encoder})"
        if self.kind == FRAMES:
            return f"video frames ({self.image_size}x{self.image_size})"
        return f"captured face features ({self.capture_method})"

    @property
    def progress_label(self) -> str:
        return {FEATURES: "featurising clips", EMBEDDINGS: "encoding clips", FRAMES: "decoding clips"}[self.kind]

    @property
    def arrays(self) -> bool:
        """Each clip is a [T, F] array (features or embeddings), not frames decoded on access."""
        return self.kind != FRAMES


def _constructor_defaults(model: str) -> dict:
    parameters = inspect.signature(models.get_model_class(model)).parameters
    return {name: p.default for name, p in parameters.items() if p.default is not p.empty}


def check_model_kwargs(model: str, model_kwargs: dict | None) -> None:
    """TrainError when ``model_kwargs`` names an argument the model does not take (or one the trainer sets)."""
    params = inspect.signature(models.get_model_class(model)).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for name in model_kwargs or {}:
        if name in TRAINER_ARGUMENTS:
            raise TrainError(f"model option {name} is set by the trainer (from the task and the data), not by hand")
        if name not in params and not accepts_any:
            options = ", ".join(k for k in params if k not in TRAINER_ARGUMENTS) or "none"
            raise TrainError(f"model {model!r} takes no option {name.replace('_', '-')}; its options: {options}")


def input_spec(model: str, model_kwargs: dict | None = None, capture_method: str | None = None) -> InputSpec:
    """What ``model`` built with ``model_kwargs`` consumes, from its registry entry: features captured by
    ``capture_method`` (default :data:`DEFAULT_CAPTURE_METHOD`); or, for a frame model, cached embeddings when
    its ``embedding_key`` names them for these arguments (a frozen encoder with fixed weights), else frames
    decoded at its ``image_size``."""
    spec = models.model_spec(model)
    if spec.input == models.FEATURES:
        return InputSpec(capture_method=capture_method)
    kwargs = {**_constructor_defaults(model), **(model_kwargs or {})}
    size = int(kwargs.get("image_size") or DEFAULT_IMAGE_SIZE)
    try:
        key = spec.embedding_key(**kwargs) if spec.embedding_key is not None else None
    except OSError as exc:
        raise TrainError(f"{exc.filename or kwargs.get('weights')}: weights file not readable "
                         f"({exc.strerror or type(exc).__name__})") from None
    return InputSpec(EMBEDDINGS, size, key) if key is not None else InputSpec(FRAMES, size)


def create_model(name: str, **kwargs) -> nn.Module:
    """The registered model ``name``; TrainError (one line) when its arguments or weights are refused."""
    try:
        return models.create(name, **kwargs)
    except (WeightsError, ValueError) as exc:
        raise TrainError(str(exc).splitlines()[0]) from None


def check_input(expected: InputSpec, got: InputSpec, where: str) -> None:
    if expected != got:
        raise TrainError(f"{where}: the model takes {expected.describe()}, the data holds {got.describe()}")


def model_input(spec: models.ModelSpec, model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    """A batch as the model takes it: through ``model.from_frames`` where its registry entry says so (frames
    [B, T, 3, H, W] -> r2plus1d-18's normalised clip [B, 3, T, H, W]), else unchanged."""
    return model.from_frames(batch) if spec.from_frames else batch


def sample_frames(clip, frames: int, sampling: str = "uniform", rng: np.random.Generator | None = None):
    """``frames`` rows of a per-clip sequence (a [T, F] array, or a FrameClip): evenly spaced over the clip
    (``uniform``; rows repeat when the clip is shorter) or a contiguous ``window`` at a random start (the
    centre without ``rng``)."""
    n = len(clip)
    if sampling == "uniform" or n <= frames:
        index = np.linspace(0, n - 1, frames).round().astype(np.int64)
    elif sampling == "window":
        start = int(rng.integers(0, n - frames + 1)) if rng is not None else (n - frames) // 2
        index = np.arange(start, start + frames)
    else:
        raise TrainError(f"unknown sampling {sampling!r}; available: {', '.join(SAMPLINGS)}")
    return clip[index]

"""Pain recognition models in a registry with one factory (timm-style).

    >>> from painsynth import models
    >>> models.list_models()
    ['au-tcn', 'frame-temporal', 'r2plus1d-18']
    >>> net = models.create("au-tcn", in_features=65, num_classes=2)
    >>> models.model_spec("au-tcn").input
    'features'

Every model takes a batch of per-clip inputs and returns logits [B, num_classes]. Each is registered
with a :class:`ModelSpec` saying what it consumes, so the trainer feeds it without looking inside:
a new model is one module with a ``@register_model(name, ModelSpec(...))`` class and one import below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn as nn

FEATURES, FRAMES = "features", "frames"  # what a model consumes per clip


@dataclass(frozen=True)
class ModelSpec:
    """What a registered model consumes; the trainer reads this, never the model's attributes.

    ``input``: ``"features"`` -- per-frame captured features [B, T, F]; or ``"frames"`` -- RGB frames
    [B, T, 3, S, S] in [0, 1], decoded at the model's ``image_size`` argument S.

    ``embedding_key`` (frame models that also take per-frame embeddings [B, T, D] in place of frames):
    called with the model's keyword arguments, it names the embeddings (encoder weights and input size)
    when they can be computed once per clip and cached -- a frozen encoder with fixed weights -- else
    returns None, and the model must see the frames. Such a model has ``encode_frames(uint8 [T, H, W, 3])
    -> [T, D]``.

    ``from_frames``: the model's forward takes ``model.from_frames(frames)``, not the frames themselves
    (r2plus1d-18: a normalised clip [B, 3, T, S, S]).

    ``normalised``: the model standardises its per-frame arrays (features or embeddings) with the
    training set's per-column statistics, given as ``model.set_normalisation(mean [F], std [F])``.

    A model fed per-frame arrays is built with ``in_features=F`` and, like every model, ``num_classes``.
    """

    input: str
    embedding_key: Callable[..., str | None] | None = None
    from_frames: bool = False
    normalised: bool = False

    def __post_init__(self) -> None:
        if self.input not in (FEATURES, FRAMES):
            raise ValueError(f"model input must be {FEATURES!r} or {FRAMES!r}, got {self.input!r}")
        if self.input == FEATURES and (self.embedding_key is not None or self.from_frames):
            raise ValueError("embedding_key and from_frames describe frame models, not feature models")


@dataclass(frozen=True)
class _Entry:
    factory: Callable[..., nn.Module]
    spec: ModelSpec


_REGISTRY: dict[str, _Entry] = {}


class UnknownModelError(ValueError):
    """No model is registered under that name."""


def register_model(name: str, spec: ModelSpec) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Class or function decorator: make ``create(name, **kw)`` build it, and ``model_spec(name)`` give ``spec``."""

    def decorator(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY and _REGISTRY[name].factory is not factory:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = _Entry(factory, spec)
        return factory

    return decorator


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def _entry(name: str) -> _Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; available: {', '.join(list_models())}") from None


def get_model_class(name: str) -> Callable[..., nn.Module]:
    """The class (or factory function) registered as ``name``."""
    return _entry(name).factory


def model_spec(name: str) -> ModelSpec:
    """What the model registered as ``name`` consumes."""
    return _entry(name).spec


def create(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with its keyword arguments."""
    return get_model_class(name)(**kwargs)


from painsynth.models import au_tcn  # noqa: E402,F401  (registers au-tcn)
from painsynth.models import frame_temporal  # noqa: E402,F401  (registers frame-temporal)
from painsynth.models import r2plus1d  # noqa: E402,F401  (registers r2plus1d-18)

__all__ = ["FEATURES", "FRAMES", "ModelSpec", "UnknownModelError", "create", "get_model_class", "list_models",
           "model_spec", "register_model"]

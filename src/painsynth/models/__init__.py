"""Pain recognition models in a registry with one factory (timm-style).

    >>> from painsynth import models
    >>> models.list_models()
    ['au-tcn', 'frame-temporal', 'r2plus1d-18']
    >>> net = models.create("au-tcn", in_features=65, num_classes=2)

Every model takes a batch of per-clip inputs and returns logits [B, num_classes]. A model class
declares ``input_kind`` so the trainer knows what to feed it: ``"features"`` (per-frame captured
features [B, T, F], au-tcn), ``"frames"`` (RGB frames [B, T, 3, H, W] in [0, 1] or their cached
encoder embeddings [B, T, 1280], frame-temporal) or ``"clip"`` (a normalised video tensor
[B, 3, T, H, W], r2plus1d-18). The frame and clip models have a static ``example_input(batch, ...)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn

_REGISTRY: dict[str, Callable[..., nn.Module]] = {}


class UnknownModelError(ValueError):
    """No model is registered under that name."""


def register_model(name: str) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Class or function decorator: make ``create(name, **kw)`` build it."""

    def decorator(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _REGISTRY and _REGISTRY[name] is not factory:
            raise ValueError(f"model {name!r} is already registered")
        _REGISTRY[name] = factory
        return factory

    return decorator


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def get_model_class(name: str) -> Callable[..., nn.Module]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(f"unknown model {name!r}; available: {', '.join(list_models())}") from None


def create(name: str, **kwargs) -> nn.Module:
    """Build the model registered as ``name`` with its keyword arguments."""
    return get_model_class(name)(**kwargs)


from painsynth.models import au_tcn  # noqa: E402,F401  (registers au-tcn)
from painsynth.models import frame_temporal  # noqa: E402,F401  (registers frame-temporal)
from painsynth.models import r2plus1d  # noqa: E402,F401  (registers r2plus1d-18)

__all__ = ["UnknownModelError", "create", "get_model_class", "list_models", "register_model"]

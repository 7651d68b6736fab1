"""The renderers painsynth draws with, by name, behind one factory: a new one (a GPU batch path, an
offline path tracer) is one module with a class that has the methods of :class:`HeadRenderer`, plus
one entry in ``RENDERERS``. generate, preview, the identity-diversity measure, capture's calibration
and the benchmarks all make theirs through :func:`create_renderer`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np

from painsynth.render.renderer import Renderer

DEFAULT_RENDERER = "moderngl"
RENDERERS: dict[str, type] = {"moderngl": Renderer}


class HeadRenderer(Protocol):
    """What every renderer does: hold one identity at a time, draw a clip of it from several cameras."""

    def load_avatar(self, avatar) -> None: ...

    def load_identity(self, mesh, albedo: np.ndarray, gloss: np.ndarray, relief: np.ndarray | None = None,
                      layers: Sequence = (), inner_triangles: np.ndarray | None = None,
                      texture_coordinates: np.ndarray | None = None, light_gain: float = 1.0,
                      hidden_triangles: np.ndarray | None = None, worn_light_gain: float | None = None) -> None: ...

    def render_clip(self, vertices, cameras: list, lighting, backgrounds: list[np.ndarray]) -> Iterator[list[np.ndarray]]: ...

    def release(self) -> None: ...


def create_renderer(size: int | tuple[int, int] = 224, name: str = DEFAULT_RENDERER, **options) -> HeadRenderer:
    """A renderer of ``size`` pixels (square, or (width, height)); ``options`` go to its class
    (moderngl: samples, batch, shadows, device)."""
    if name not in RENDERERS:
        raise ValueError(f"unknown renderer {name!r}; allowed: {', '.join(RENDERERS)}")
    width, height = (size, size) if isinstance(size, int) else size
    return RENDERERS[name](width, height, **options)

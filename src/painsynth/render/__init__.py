"""Render: animated head meshes to images, with named camera views, lighting and backgrounds."""

from painsynth.render.cameras import VIEWS, Camera, frame_head, parse_views
from painsynth.render.renderer import Renderer
from painsynth.render.scene import (
    BACKGROUND_KINDS,
    Lighting,
    SceneError,
    make_background,
    sample_lighting,
)

__all__ = [
    "BACKGROUND_KINDS", "VIEWS", "Camera", "Lighting", "Renderer", "SceneError",
    "frame_head", "make_background", "parse_views", "sample_lighting",
]

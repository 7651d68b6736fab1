"""Render: animated head meshes to images, with named camera views, lighting and backgrounds."""

from painsynth.render.cameras import VIEWS, Camera, frame_head, parse_views
from painsynth.render.registry import DEFAULT_RENDERER, RENDERERS, HeadRenderer, create_renderer
from painsynth.render.renderer import Renderer
from painsynth.render.scene import (
    BACKGROUND_KINDS,
    Lighting,
    SceneError,
    make_background,
    sample_lighting,
)

__all__ = [
    "BACKGROUND_KINDS", "DEFAULT_RENDERER", "RENDERERS", "VIEWS", "Camera", "HeadRenderer", "Lighting", "Renderer",
    "SceneError", "create_renderer", "frame_head", "make_background", "parse_views", "sample_lighting",
]

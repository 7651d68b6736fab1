"""Inside the mouth: the cavity darkening with depth, and the tongue (the teeth are a layer: avatars.teeth)."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.reference import PART

_MOUTH = np.array([0.32, 0.08, 0.08], np.float32)
_TONGUE = np.array([0.42, 0.12, 0.12], np.float32)


def paint_mouth(canvas: Canvas) -> None:
    part = canvas.layout.part
    inside = part == PART["mouth_cavity"]
    y = canvas.where.face[inside, 1]
    behind_lips = y - y.min()
    mouth = _MOUTH * (1 - 0.8 * np.clip(behind_lips / 1.2, 0, 1))[:, None]
    canvas.colour[inside] = mouth
    canvas.gloss[inside] = GLOSS["wet"]
    tongue = part == PART["tongue"]
    texture = 0.9 + 0.1 * canvas.streaks(0.7, along_rows=True)[tongue]
    canvas.colour[tongue] = _TONGUE * texture[:, None]
    canvas.gloss[tongue] = GLOSS["wet"]

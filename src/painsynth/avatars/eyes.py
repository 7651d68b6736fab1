"""Eyes: sclera, iris, pupil, the socket's conjunctiva and the dark line of the lash roots."""

from __future__ import annotations

import numpy as np

from painsynth.avatars.canvas import GLOSS, Canvas
from painsynth.avatars.colour import lerp, linear, smoothstep
from painsynth.avatars.reference import IRIS_DEGREES, PART, PUPIL_DEGREES
from painsynth.avatars.spec import AvatarSpec

_IRIS_RGB = {
    "dark_brown": "2b190f", "brown": "583418", "hazel": "7a5b2c",
    "green": "5e7b46", "blue": "5a84ab", "grey": "7d8a90",
}

_WHITE_STRAND_SHARE = {"grey": 0.4, "white": 0.85}
_SCLERA = np.array([0.78, 0.72, 0.68], np.float32)
_PUPIL = np.full(3, 0.01, np.float32)
_CONJUNCTIVA_TINT = np.array([0.9, 0.68, 0.68], np.float32)


def paint_lash_lines(canvas: Canvas) -> None:
    upper, lower = canvas.where.lid_rim.T
    line = 0.9 * np.exp(-((upper / 0.0012) ** 2)) + 0.45 * np.exp(-((lower / 0.0008) ** 2))
    canvas.colour *= (1 - np.clip(line, 0, 0.92) * canvas.where.skin)[:, None]


def paint_eyes(canvas: Canvas, spec: AvatarSpec) -> None:
    fibres = canvas.streaks(1.0, along_rows=True)
    on_eye = canvas.where.eye_angle < 180
    angle = canvas.where.eye_angle[on_eye]
    sclera = _SCLERA * (1 - 0.15 * smoothstep(40, 90, angle))[:, None]
    # Redder towards the corners, where the vessels show.
    sclera *= np.array([1.0, 0.93, 0.92], np.float32) ** smoothstep(30, 80, angle)[:, None]
    iris = linear(_IRIS_RGB[spec.eye_color]) * (0.8 + 0.25 * fibres[on_eye])[:, None]
    if spec.eye_color == "hazel":  # green outside, brown around the pupil
        brown_inside = 1 - smoothstep(PUPIL_DEGREES, IRIS_DEGREES, angle)
        iris = lerp(linear(_IRIS_RGB["green"]), iris, brown_inside[:, None])
    limbal_ring = smoothstep(0.75 * IRIS_DEGREES, IRIS_DEGREES, angle)
    iris *= 1 - 0.55 * limbal_ring[:, None]
    in_iris = 1 - smoothstep(IRIS_DEGREES - 1.5, IRIS_DEGREES + 1.5, angle)
    in_pupil = 1 - smoothstep(PUPIL_DEGREES - 1.0, PUPIL_DEGREES + 1.0, angle)
    canvas.colour[on_eye] = lerp(lerp(sclera, iris, in_iris[:, None]), _PUPIL, in_pupil[:, None])
    canvas.gloss[on_eye] = GLOSS["eye"]
    layout = canvas.layout
    socket = np.isin(layout.part, [PART["eye_cavity.L"], PART["eye_cavity.R"]])
    # The socket shows at the eye corners, and under a hard squeeze pokes through the lower lid:
    # reddened skin reads right in both places, where a deep red would look like a wound.
    shade = 1 - np.clip(layout.occlusion[socket], 0, 0.3)
    canvas.colour[socket] *= _CONJUNCTIVA_TINT * shade[:, None]
    canvas.gloss[socket] = GLOSS["wet"]

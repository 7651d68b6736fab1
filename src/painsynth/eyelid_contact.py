"""Eyelids that slide over the eyeballs instead of through them.

anny's lid units (eyeSquint, cheekSquint, eyeBlink, ...) move the lid skin as straight offsets,
while the eyeball stays put: under a strong squint the lower lid rises *behind* the eyeball's
surface (by up to 3 mm at peak pain on 4 faces of one bank), so the eyeball shows through the lid as a white wedge
under the iris and the eye looks open when the lids say it is nearly shut. Each eyeball of anny is
a sphere to within 0.3 mm (72 vertices, radius about 16 mm), so the contact is one sphere per eye:
every skin vertex near an eye is kept at least ``MARGIN`` outside it, moved radially out from its
centre where a face unit took it further in. A vertex that lies closer than that at rest (the lid
margins rest on the eye) is kept no closer than it rests, or than it rests on the same head without
its face shape: the face modifiers move eyes and lids apart (eyes pushed out, bags, ...), which sank
8-111 lid vertices per eye by up to 4 mm into the eyeball on 6 faces of one bank, and showed white
specks of eyeball under the lids of a neutral face.

The contact acts on the face-shaped vertices before skinning, where the eyeballs do not move with
the head, so it holds whatever the head does.
"""

from __future__ import annotations

import torch

MARGIN = 0.0005  # metres of lid skin kept over the eyeball (the skin's outer surface)
REACH = 0.03  # metres from an eye's centre within which skin is kept out of it (lids squeezed shut reach in from 24 mm)


class EyelidContact:
    """The eyeball spheres of one identity and the skin vertices kept outside them.

    ``rest`` [V, 3]: the identity's vertices with no face unit; ``eyes``: per eye, the indices of
    its eyeball's vertices; ``unshaped`` [V, 3]: the same vertices of the head without its face
    shape (None: the head has none)."""

    def __init__(self, rest: torch.Tensor, eyes: list[torch.Tensor], unshaped: torch.Tensor | None = None):
        eyeball = torch.zeros(len(rest), dtype=torch.bool)
        eyeball[torch.cat(eyes)] = True
        self.eyes, self.skin, self.floor = list(eyes), [], []
        for eye in eyes:
            centre, radius = eyeball_sphere(rest, eye)
            distance = (rest - centre).norm(dim=1)
            skin = torch.nonzero(~eyeball & (distance < REACH)).flatten()
            self.skin.append(skin)
            floor = torch.clamp(distance[skin], max=radius + MARGIN)  # [S] metres from the centre
            if unshaped is not None:
                floor = torch.maximum(floor, radius + torch.clamp(_depth_outside(unshaped, eye)[skin], max=MARGIN))
            self.floor.append(floor)

    @property
    def vertices(self) -> torch.Tensor:
        """Indices of every vertex the contact may move."""
        return torch.cat(self.skin)

    def to(self, device: torch.device | str) -> EyelidContact:
        for values in (self.eyes, self.skin, self.floor):
            values[:] = [value.to(device) for value in values]
        return self

    def apply(self, vertices: torch.Tensor) -> torch.Tensor:
        """``vertices`` [T, V, 3] (face-shaped, before skinning) with the skin pushed out of the eyeballs."""
        vertices = vertices.clone()
        for eye, skin, floor in zip(self.eyes, self.skin, self.floor):
            centre = vertices[:, eye].mean(dim=1, keepdim=True)  # [T, 1, 3]: eyeLook units turn the eye about it
            near = vertices[:, skin]
            distance = (near - centre).norm(dim=2, keepdim=True).clamp_min(1e-9)
            scale = floor[:, None] / distance
            vertices[:, skin] = torch.where(scale > 1, centre + (near - centre) * scale, near)
        return vertices


def eyeball_sphere(vertices: torch.Tensor, eye: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centre [3] and radius of the eyeball whose vertices are ``eye``, in ``vertices`` [V, 3]."""
    centre = vertices[eye].mean(dim=0)
    return centre, (vertices[eye] - centre).norm(dim=1).max()


def _depth_outside(vertices: torch.Tensor, eye: torch.Tensor) -> torch.Tensor:
    """[V] how far each vertex lies outside the sphere of the eyeball ``eye`` (metres; negative: inside)."""
    centre, radius = eyeball_sphere(vertices, eye)
    return (vertices - centre).norm(dim=1) - radius

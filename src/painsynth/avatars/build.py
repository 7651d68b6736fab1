"""An avatar ready to render: its anny identity (shaped face), painted maps and worn layers.

Worn layers come from a name table: a new kind of wearable is one module with a builder
``(spec, anatomy) -> list[Layer]`` plus one entry in :data:`WEARABLES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from painsynth.animate import HeadRig, Identity
from painsynth.avatars.anatomy import Anatomy, anatomy_of
from painsynth.avatars.beard import build_beard
from painsynth.avatars.earrings import earring_layers
from painsynth.avatars.garments import covered_triangles, garment_layers
from painsynth.avatars.glasses import glasses_layers
from painsynth.avatars.hair import build_hair
from painsynth.avatars.lashes import build_lashes
from painsynth.avatars.lighting import light_gain, worn_light_gain
from painsynth.avatars.reference import PART, texture_coordinates
from painsynth.avatars.spec import AvatarSpec
from painsynth.avatars.teeth import build_teeth
from painsynth.avatars.texture import appearance_maps
from painsynth.render.layers import Layer

WEARABLES: dict[str, Callable[[AvatarSpec, Anatomy], list[Layer]]] = {
    "hair": build_hair,
    "beard": build_beard,
    "lashes": build_lashes,
    "garment": garment_layers,
    "glasses": glasses_layers,
    "earrings": earring_layers,
    "teeth": build_teeth,
}
# Surfaces inside the head, hidden by the face most of the time.
_INNER_PARTS = ("eye_back.L", "eye_back.R", "eye_cavity.L", "eye_cavity.R", "mouth_cavity", "tongue")


@dataclass
class Avatar:
    """One identity as the renderer takes it (see ``Renderer.load_avatar``)."""

    spec: AvatarSpec
    identity: Identity
    maps: dict[str, np.ndarray]  # albedo, gloss, relief
    layers: list[Layer]
    inner_triangles: np.ndarray | None = None  # [F] bool, see Renderer.load_identity
    texture_coordinates: np.ndarray | None = None  # [U, 2] the maps' layout (None: anny's own)
    covered_triangles: np.ndarray | None = None  # [F] bool: skin under the garment, see Renderer.load_identity

    @property
    def light_gain(self) -> float:
        """The factor on the studio's lights for this face (:func:`painsynth.avatars.lighting.light_gain`)."""
        return light_gain(self.spec.monk_tone)

    @property
    def worn_light_gain(self) -> float:
        """The factor on the lights for what it wears (:func:`painsynth.avatars.lighting.worn_light_gain`)."""
        return worn_light_gain(self.spec.monk_tone)

    def animate(self, blendshapes: np.ndarray, head_rotation: np.ndarray, head_translation: np.ndarray) -> np.ndarray:
        return self.identity.animate(blendshapes, head_rotation, head_translation)


def build_avatar(spec: AvatarSpec, rig: HeadRig, texture_size: int = 1024) -> Avatar:
    """Shape, paint and dress one identity; deterministic for a spec."""
    identity = rig.identity(spec.phenotype, spec.face_shape)
    anatomy = anatomy_of(identity)
    layers = [layer for build in WEARABLES.values() for layer in build(spec, anatomy)]
    return Avatar(spec, identity, appearance_maps(spec, texture_size), layers, inner_triangles(anatomy),
                  texture_coordinates(), covered_triangles=covered_triangles(spec, anatomy))


def inner_triangles(anatomy: Anatomy) -> np.ndarray:
    """[F] which triangles of the head mesh lie inside it: eye sockets, backs of the eyes, mouth, tongue."""
    inner = np.isin(anatomy.part, [PART[name] for name in _INNER_PARTS])
    return inner[anatomy.triangles].all(axis=1)

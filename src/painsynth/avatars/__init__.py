"""Avatar bank: diverse synthetic identities on the ``anny`` parametric human, and their look.

An :class:`AvatarSpec` fixes one identity: anny's phenotype values (body shape, age, sex, ancestry
mix) plus appearance choices. :func:`sample_avatars` draws banks balanced over gender, age band and
skin tone; :func:`appearance_maps` paints an identity's albedo and gloss textures in anny's UV space.

One job per module: ``tables`` (the named choices), ``spec`` (the spec and bank files), ``bank``
and ``phenotype`` (sampling), ``reference`` (where each texel lies on a reference head),
``canvas``, ``skin``, ``face_hair``, ``hair_colour``, ``hair_texture``, ``eyes``, ``mouth`` and
``texture`` (painting the maps).
"""

from painsynth.avatars.bank import BankChoices, sample_avatars
from painsynth.avatars.spec import AvatarSpec, load_bank, save_bank
from painsynth.avatars.tables import (
    ADULT_AGE_BANDS,
    ANCESTRIES,
    CHILD_AGE_BANDS,
    EYE_COLORS,
    FACIAL_HAIR,
    GARMENT_PATTERNS,
    GARMENTS,
    GENDERS,
    GLASSES,
    GLASSES_SHARE,
    HAIR_COLORS,
    HAIR_FAMILIES,
    HAIRLINES,
    MONK_TONES,
    PHENOTYPE_LABELS,
)
from painsynth.avatars.texture import appearance_maps

__all__ = [
    "ADULT_AGE_BANDS", "ANCESTRIES", "CHILD_AGE_BANDS", "EYE_COLORS", "FACIAL_HAIR", "GARMENTS",
    "GARMENT_PATTERNS", "GENDERS", "GLASSES", "GLASSES_SHARE", "HAIRLINES", "HAIR_COLORS",
    "HAIR_FAMILIES", "MONK_TONES", "PHENOTYPE_LABELS", "AvatarSpec", "BankChoices", "appearance_maps",
    "load_bank", "sample_avatars", "save_bank",
]

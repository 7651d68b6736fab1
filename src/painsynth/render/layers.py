"""Layers: meshes an identity wears over its skin (hair, lashes, garment, glasses) and inside it (teeth).

A layer is built once per identity against the neutral head-and-shoulders mesh and is moved every
frame by the animated head through its *binding*:

- :class:`SurfaceBinding` puts each layer point in the local frame of one head vertex (its normal
  and the direction to a neighbour), so the point follows that patch of skin: lashes ride the
  eyelids, a garment the shoulders, hair shells the scalp.
- :class:`RigidBinding` moves the points with the best rigid fit of a set of skull vertices, for
  things that do not bend: glasses, long hair, buns, teeth (the lower ones with the jaw's vertices).

Both also carry a per-point direction (a hair strand's run, for the anisotropic highlight).
:class:`LayerRig` poses all of an identity's layers together, as the renderer needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from painsynth.render.normals import VertexNormals
from painsynth.rigid import rigid_motion


@dataclass(frozen=True)
class Material:
    """How the renderer draws a layer: its pass, the mesh shader's shading model, and which of its
    faces it draws when."""

    draw_pass: str  # a member of PASSES
    shading: str  # a member of shaders.SHADING_MODELS
    # Triangles wind counter-clockwise seen from outside. A closed layer's back faces are its
    # inside: behind its front faces from the key light, so they cast no shadow (culled, the
    # garment and frame cost the shadow pass half as much), and never seen by the camera either,
    # unless the layer is open somewhere. Then (a garment at its collar) they are drawn after the
    # head, whose depth spares most of them the shading that the far side of a garment, drawn
    # before the body, cost (0.6x the garment's cost).
    closed: bool = False
    open_edges: bool = False


# Passes run in this order: opaque layers before the head (their depth hides the skin under them
# from the skin's costly shading), alpha-tested ones after it (coverage from the texture's alpha,
# depth written, blended over the skin), then blended ones (depth tested, not written).
MATERIALS: dict[str, Material] = {
    "fabric": Material("opaque", "fabric", closed=True, open_edges=True),
    "frame": Material("opaque", "frame", closed=True),
    "hair": Material("cutout", "strand"),
    "lash": Material("cutout", "strand"),
    "glass": Material("blend", "glass"),
}
PASSES = ("opaque", "cutout", "blend")


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    return vectors * (vectors * vectors).sum(-1, keepdim=True).clamp_min(1e-24).rsqrt()


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
    # Written out component by component: torch.linalg.cross and normalize took 2.5x as long.
    n = _unit(normals.index_select(1, anchors))
    edge = vertices.index_select(1, neighbours) - vertices.index_select(1, anchors)
    u = _unit(edge - (edge * n).sum(-1, keepdim=True) * n)
    (n0, n1, n2), (u0, u1, u2) = n.unbind(-1), u.unbind(-1)
    w = torch.stack([n1 * u2 - n2 * u1, n2 * u0 - n0 * u2, n0 * u1 - n1 * u0], dim=-1)
    return torch.stack([n, u, w], dim=2)


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
    edge_fade: float = 0.0  # strands: 0 .. 1, how far the layer fades out where it is seen edge on

    def __post_init__(self):
        if self.material not in MATERIALS:
            raise ValueError(f"layer {self.name!r}: unknown material {self.material!r}; allowed: {', '.join(MATERIALS)}")

    @property
    def draw_pass(self) -> str:
        return MATERIALS[self.material].draw_pass


class LayerRig:
    """All the layers an identity wears, posed together as one array of points: first those
    riding the skin, then those moving with the skull.

    Skin-bound points share one frame per anchor vertex (a hairdo's shells ride the same scalp
    vertices) and skull-bound ones one rigid motion per set of reference vertices: posed layer by
    layer they cost 4x as much. Each point also carries its layer's normal, computed once at rest
    and turned with the point (worn layers hardly bend), which costs far less than normals of
    every posed frame."""

    def __init__(self, layers: list[Layer], rest_vertices: torch.Tensor, rest_normals: torch.Tensor):
        """``rest_vertices`` and ``rest_normals`` [1, V, 3]: the neutral head the layers were built on."""
        surface = [layer for layer in layers if isinstance(layer.binding, SurfaceBinding)]
        rigid = _by_reference([layer for layer in layers if not isinstance(layer.binding, SurfaceBinding)])
        order = surface + [layer for group in rigid for layer in group]
        starts = np.cumsum([0] + [len(layer.uvs) for layer in order])
        start_of = dict(zip(map(id, order), starts))
        self.first = [int(start_of[id(layer)]) for layer in layers]  # each layer's first point
        self.size = int(starts[-1])
        local_normals = {id(layer): _local_normals(layer, rest_vertices, rest_normals) for layer in layers}
        self._surface = _SurfaceGroup(surface, [local_normals[id(layer)] for layer in surface]) if surface else None
        self._rigid = [_RigidGroup(group, [local_normals[id(layer)] for layer in group]) for group in rigid]

    def to(self, device: torch.device | str) -> "LayerRig":
        """The rig with its tensors on ``device`` (where the head's vertices will be posed)."""
        for group in [self._surface, *self._rigid]:
            if group is not None:
                group.__dict__.update({name: value.to(device) for name, value in vars(group).items()})
        return self

    def pose(self, vertices: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
        """Head ``vertices`` and ``normals`` [T, V, 3] → [T, N, 9]: each point's position, normal and
        strand direction."""
        parts = [self._surface.pose(vertices, normals)] if self._surface else []
        parts += [group.pose(vertices) for group in self._rigid]
        return torch.cat(parts, dim=1) if parts else vertices.new_zeros((len(vertices), 0, 9))


def _local_normals(layer: Layer, rest_vertices: torch.Tensor, rest_normals: torch.Tensor) -> torch.Tensor:
    """The layer's smooth normals at rest, as its binding carries vectors."""
    binding = layer.binding
    rest_points, _ = binding.pose(rest_vertices, rest_normals)
    return binding.localise(rest_vertices, rest_normals, VertexNormals(layer.triangles)(rest_points)[0])


class _SurfaceGroup:
    """Skin-bound layers, posed through one frame per distinct (anchor, neighbour) vertex pair."""

    def __init__(self, layers: list[Layer], local_normals: list[torch.Tensor]):
        bindings = [layer.binding for layer in layers]
        self.anchors = torch.cat([b.anchors for b in bindings])
        pairs, self.pair_of_point = torch.unique(torch.stack([self.anchors, torch.cat([b.neighbours for b in bindings])], 1),
                                                 dim=0, return_inverse=True)
        self.pair_anchors, self.pair_neighbours = pairs[:, 0].contiguous(), pairs[:, 1].contiguous()
        # [N, 3, 3]: rows offset, normal, direction; columns their components along (n, u, w)
        self.local = torch.stack([torch.cat([b.offsets for b in bindings]), torch.cat(local_normals),
                                  torch.cat([b.directions for b in bindings])], dim=1)

    def pose(self, vertices: torch.Tensor, normals: torch.Tensor) -> torch.Tensor:
        frames = _frames(vertices, normals, self.pair_anchors, self.pair_neighbours)[:, self.pair_of_point]
        posed = torch.einsum("nci,tnij->tncj", self.local, frames)  # [T, N, 3, 3]
        posed[:, :, 0] += vertices[:, self.anchors]
        return posed.reshape(len(vertices), -1, 9)


class _RigidGroup:
    """Skull-bound layers sharing their reference vertices, posed through one rigid motion."""

    def __init__(self, layers: list[Layer], local_normals: list[torch.Tensor]):
        bindings = [layer.binding for layer in layers]
        self.reference, self.rest_reference = bindings[0].reference, bindings[0].rest_reference
        self.rest = torch.stack([torch.cat([b.points for b in bindings]), torch.cat(local_normals),
                                 torch.cat([b.directions for b in bindings])], dim=1)  # [N, 3, 3]

    def pose(self, vertices: torch.Tensor) -> torch.Tensor:
        rotation, translation = rigid_motion(self.rest_reference, vertices[:, self.reference])
        posed = (self.rest.reshape(-1, 3) @ rotation.transpose(1, 2)).reshape(len(vertices), -1, 3, 3)
        posed[:, :, 0] += translation[:, None]
        return posed.reshape(len(vertices), -1, 9)


def _by_reference(layers: list[Layer]) -> list[list[Layer]]:
    """Rigid layers grouped by their reference vertices (and rest places), in order of appearance."""
    groups: dict[tuple, list[Layer]] = {}
    for layer in layers:
        binding = layer.binding
        key = (binding.reference.numpy().tobytes(), binding.rest_reference.numpy().tobytes())
        groups.setdefault(key, []).append(layer)
    return list(groups.values())

"""Meshes cut along a field: the part of a head mesh where a function of the reference face
coordinates is negative, with its edge on the function's zero line rather than on the mesh's
staircase of whole triangles. Garments are cut along their necklines, hair along its parting."""

from __future__ import annotations

import numpy as np


class CutMesh:
    """Triangles over points that are linear blends of head vertices: positions, normals, reference
    face coordinates and the head vertex each point rides on."""

    def __init__(self, triangles, position, normal, face, anchor):
        self.triangles, self.position, self.normal = triangles, position, normal
        self.face, self.anchor = face, anchor

    @classmethod
    def of(cls, anatomy, vertex_mask: np.ndarray) -> CutMesh:
        tri = anatomy.triangles[np.all(vertex_mask[anatomy.triangles], axis=1)].astype(np.int64)
        v = anatomy.vertices.astype(np.float64)
        return cls(tri, v, anatomy.normals.astype(np.float64), anatomy.face.astype(np.float64),
                   np.arange(len(v)))

    def clip(self, field_of, seen=None, refine: int = 1) -> CutMesh:
        """The part where ``field_of`` (reference face coordinates [N, 3] -> field [N]) is negative.

        The triangles near the field's zero line are first split (``refine`` times), so the cut
        follows the field where it bends or narrows within a triangle of the coarse body mesh: a
        tank top's straps are narrower than those triangles, and cut on them alone their edges
        came out as a staircase. ``seen`` (triangle centres' face coordinates [F, 3] -> [F] bool)
        limits the splitting to where a camera can see the cut.
        """
        mesh = self
        for _ in range(refine):
            mesh = mesh.refined(mesh._near_zero(field_of(mesh.face), seen))
        return mesh._cut(field_of(mesh.face))

    def _near_zero(self, s: np.ndarray, seen) -> np.ndarray:
        """[F] bool: the triangles that the field ``s`` (per point) changes sign across (and ``seen``)."""
        corners = s[self.triangles]
        crossed = (corners.min(axis=1) < 0) & (corners.max(axis=1) > 0)
        return crossed if seen is None else crossed & seen(self.face[self.triangles].mean(axis=1))

    def joined(self, other: CutMesh) -> CutMesh:
        """This mesh and ``other`` (both cut from one mesh) as one; their points are not merged."""
        return CutMesh(np.concatenate([self.triangles, other.triangles + len(self.position)]),
                       *(np.concatenate([a, b]) for a, b in ((self.position, other.position), (self.normal, other.normal),
                                                             (self.face, other.face), (self.anchor, other.anchor))))

    def refined(self, split: np.ndarray) -> CutMesh:
        """Triangles ``split`` [F] cut in four at their edges' midpoints; a neighbour with two of its
        edges cut is cut in four too, and one with a single edge cut in two, so no crack opens."""
        tri = self.triangles
        pairs = np.sort(np.stack([tri, np.roll(tri, -1, axis=1)], axis=2), axis=2)  # [F, 3, 2]: edge k = (k, k+1)
        unique, which = np.unique(pairs.reshape(-1, 2), axis=0, return_inverse=True)
        which = which.reshape(-1, 3)
        cut = np.zeros(len(unique), bool)
        while True:
            cut[which[split].ravel()] = True
            grown = split | (cut[which].sum(axis=1) >= 2)
            if np.array_equal(grown, split):
                break
            split = grown
        edges = np.flatnonzero(cut)
        middle = np.full(len(unique), -1, np.int64)
        middle[edges] = len(self.position) + np.arange(len(edges))
        a, b = unique[edges].T
        m = middle[which]  # [F, 3]: the midpoint of edge k, or -1
        count = (m >= 0).sum(axis=1)
        v0, v1, v2 = tri.T
        m01, m12, m20 = m.T
        tris = [tri[count == 0],
                np.stack([v0, m01, m20], 1)[split], np.stack([m01, v1, m12], 1)[split],
                np.stack([m20, m12, v2], 1)[split], np.stack([m01, m12, m20], 1)[split]]
        single = count == 1
        k = np.argmax(m >= 0, axis=1)[single]  # the cut edge: corners k, k + 1, the midpoint between
        rolled = np.take_along_axis(tri[single], (k[:, None] + np.arange(3)) % 3, axis=1)
        mid = m[single, k]
        tris += [np.stack([rolled[:, 0], mid, rolled[:, 2]], 1), np.stack([mid, rolled[:, 1], rolled[:, 2]], 1)]

        def blend(x):
            return np.concatenate([x, 0.5 * (x[a] + x[b])])

        normal = blend(self.normal)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        return CutMesh(np.concatenate(tris), blend(self.position), normal, blend(self.face),
                     np.concatenate([self.anchor, self.anchor[a]]))

    def _cut(self, s: np.ndarray) -> CutMesh:
        """The part where the field ``s`` (per point) is negative, cut along its zero line."""
        s = np.where(np.abs(s) < 1e-6, 1e-6, s)
        inside = s[self.triangles] < 0
        count = inside.sum(1)
        keep = self.triangles[count == 3]
        mixed = self.triangles[(count == 1) | (count == 2)]
        mixed_inside = inside[(count == 1) | (count == 2)]
        n_in = mixed_inside.sum(1)
        # Roll each mixed triangle so its odd corner (the lone inside or lone outside one) is first.
        odd = np.where(n_in == 1, np.argmax(mixed_inside, 1), np.argmin(mixed_inside, 1))
        rolled = np.take_along_axis(mixed, (odd[:, None] + np.arange(3)) % 3, axis=1)
        o, p, q = rolled.T
        edges = np.concatenate([np.sort(np.stack([o, p], 1), 1), np.sort(np.stack([o, q], 1), 1)])
        unique, where = np.unique(edges, axis=0, return_inverse=True)
        where = where.reshape(-1)
        a, b = unique.T
        t = s[a] / (s[a] - s[b])  # the field's zero along the edge a -> b
        new = len(self.position) + np.arange(len(unique))
        e_op, e_oq = new[where[: len(o)]], new[where[len(o):]]
        one = n_in == 1
        tris = [keep, np.stack([o, e_op, e_oq], 1)[one],
                np.stack([e_op, p, q], 1)[~one], np.stack([e_op, q, e_oq], 1)[~one]]

        def blend(x):
            return np.concatenate([x, x[a] * (1 - t[:, None]) + x[b] * t[:, None]])

        normal = blend(self.normal)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        anchor = np.concatenate([self.anchor, np.where(t < 0.5, self.anchor[a], self.anchor[b])])
        return CutMesh(np.concatenate(tris), blend(self.position), normal, blend(self.face), anchor).compact()

    def compact(self) -> CutMesh:
        used = np.unique(self.triangles)
        remap = np.full(len(self.position), -1, np.int64)
        remap[used] = np.arange(len(used))
        self.triangles = remap[self.triangles]
        self.position, self.normal, self.face = self.position[used], self.normal[used], self.face[used]
        self.anchor = self.anchor[used]
        return self

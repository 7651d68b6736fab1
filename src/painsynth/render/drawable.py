"""One mesh on the GPU for the renderer: static UVs and indices, a vertex buffer per frame slot, textures."""

from __future__ import annotations

import numpy as np


class Drawable:
    """One mesh on the GPU: a static UV and index buffer, a vertex buffer per frame slot, textures."""

    def __init__(self):
        self.buffers: list = []
        self.arrays: list = []
        self.static: list = []
        self.albedo = None
        self.detail = None
        self.shadow_arrays: list = []  # the same buffers, seen by the shadow program

    @classmethod
    def upload(cls, ctx, program, shadow_program, uvs: np.ndarray, triangles: np.ndarray, slots: int,
               with_tangents: bool) -> Drawable:
        drawable = cls()
        uv_buffer = ctx.buffer(np.ascontiguousarray(uvs, dtype="f4").tobytes())
        index_buffer = ctx.buffer(np.ascontiguousarray(triangles, dtype="i4").reshape(-1).tobytes())
        drawable.static = [uv_buffer, index_buffer]
        layout = ("3f 3f 3f", "in_position", "in_normal", "in_tangent") if with_tangents else (
            "3f 3f", "in_position", "in_normal")
        stride = 36 if with_tangents else 24
        for _ in range(slots):
            # A buffer per frame of the batch: rewriting one buffer would stall until its last draw ran.
            positions = ctx.buffer(reserve=len(uvs) * stride, dynamic=True)
            drawable.buffers.append(positions)
            drawable.arrays.append(ctx.vertex_array(
                program, [(positions, *layout), (uv_buffer, "2f", "in_uv")], index_buffer=index_buffer))
            skip = "3f 6x4" if with_tangents else "3f 3x4"
            drawable.shadow_arrays.append(ctx.vertex_array(
                shadow_program, [(positions, skip, "in_position"), (uv_buffer, "2f", "in_uv")],
                index_buffer=index_buffer))
        return drawable

    def draw(self, program, slot: int, material: int, cutoff: float, gloss: float) -> None:
        import moderngl

        self.albedo.use(location=1)
        program["albedo_map"].value = 1
        if self.detail is not None:
            self.detail.use(location=2)
            program["detail_map"].value = 2
        program["material"].value = material
        program["alpha_cutoff"].value = cutoff
        program["layer_gloss"].value = gloss
        self.arrays[slot].render(moderngl.TRIANGLES)

    def draw_depth(self, program, slot: int, cutoff: float) -> None:
        import moderngl

        self.albedo.use(location=1)
        program["albedo_map"].value = 1
        program["alpha_cutoff"].value = cutoff
        self.shadow_arrays[slot].render(moderngl.TRIANGLES)

    def resources(self) -> list:
        textures = [t for t in (self.albedo, self.detail) if t is not None]
        return [*self.static, *textures, *self.buffers, *self.arrays, *self.shadow_arrays]

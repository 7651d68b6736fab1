"""Meshes on the GPU for the renderer: static UVs and indices, a vertex buffer per frame slot, and
the parts drawn from them, each with its program and texture."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Part:
    """A run of a drawable's triangles drawn with one program and texture: the head, or one layer."""

    program: object  # moderngl.Program of its shading model
    shadow_program: object | None  # the depth program it casts its shadow with; None: it casts none
    first: int  # first index (three per triangle)
    count: int  # number of indices
    albedo: object  # moderngl.Texture
    detail: object | None = None  # gloss and relief, for skin
    gloss: float = 0.0
    edge_fade: float = 0.0
    draw_pass: str = "opaque"
    closed: bool = False  # see layers.Material
    open_edges: bool = False
    # The program's per-layer uniforms with this part's values, looked up once: they are set at every draw.
    uniforms: tuple = field(init=False, repr=False)

    def __post_init__(self):
        values = (("layer_gloss", self.gloss), ("layer_edge_fade", self.edge_fade))
        self.uniforms = tuple((self.program[name], value) for name, value in values if name in self.program)


class Drawable:
    """Meshes sharing one vertex layout: a static UV and index buffer, a vertex buffer per frame slot,
    and per program that draws them a vertex array for each slot."""

    def __init__(self, ctx, uvs: np.ndarray, triangles: np.ndarray, slots: int, columns: tuple[str, ...],
                 programs: list):
        """``columns``: the per-vertex inputs each frame uploads, 3 floats each, in order."""
        self.uvs = ctx.buffer(np.ascontiguousarray(uvs, dtype="f4").tobytes())
        self.indices = ctx.buffer(np.ascontiguousarray(triangles, dtype="i4").reshape(-1).tobytes())
        # A buffer per frame of the batch: rewriting one buffer would stall until its last draw ran.
        self.buffers = [ctx.buffer(reserve=max(len(uvs), 1) * 12 * len(columns), dynamic=True) for _ in range(slots)]
        self.arrays = {program: [self._vertex_array(ctx, program, vertices, columns) for vertices in self.buffers]
                       for program in dict.fromkeys(programs)}
        self.parts: list[Part] = []

    def _vertex_array(self, ctx, program, vertices, columns: tuple[str, ...]):
        # The compiler drops the inputs a program does not use (fabric has no strand tangent, solid
        # shadows no UVs): the buffer's layout skips those.
        formats = " ".join("3f" if name in program else "12x" for name in columns)
        inputs = [(vertices, formats, *[name for name in columns if name in program])]
        if "in_uv" in program:
            inputs.append((self.uvs, "2f", "in_uv"))
        return ctx.vertex_array(program, inputs, index_buffer=self.indices)

    def write(self, slot: int, frame: np.ndarray) -> None:
        """Upload one frame's per-vertex data [N, columns x 3] (float32, C-contiguous) into ``slot``."""
        if frame.size:
            self.buffers[slot].write(frame)

    def draw(self, part: Part, slot: int) -> None:
        import moderngl

        part.albedo.use(location=1)
        if part.detail is not None:
            part.detail.use(location=2)
        for uniform, value in part.uniforms:
            uniform.value = value
        self.arrays[part.program][slot].render(moderngl.TRIANGLES, vertices=part.count, first=part.first)

    def draw_depth(self, part: Part, slot: int) -> None:
        import moderngl

        part.albedo.use(location=1)
        self.arrays[part.shadow_program][slot].render(moderngl.TRIANGLES, vertices=part.count, first=part.first)

    def resources(self) -> list:
        textures = [t for part in self.parts for t in (part.albedo, part.detail) if t is not None]
        arrays = [array for per_slot in self.arrays.values() for array in per_slot]
        return [self.uvs, self.indices, *textures, *self.buffers, *arrays]

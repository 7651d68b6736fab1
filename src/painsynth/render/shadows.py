"""The key light's soft shadow: a depth map drawn from the light for every frame, sampled with
percentage-closer filtering in the mesh shader.

Frames are drawn in batches, so each frame of a batch gets its own square tile of one wide depth
texture (tiles across, as the colour framebuffer has frames across); two such textures alternate
like the colour framebuffers, so drawing one batch's shadows never waits on the previous batch.
The light is orthographic (a distant key light) and frames the head and shoulders.
"""

from __future__ import annotations

import numpy as np

from painsynth.render.shaders import CUTOUT_SHADOW_FRAGMENT, SHADOW_VERTEX, SOLID_SHADOW_FRAGMENT

SHADOW_SIZE = 256  # texels per frame tile: ~3 mm over head and shoulders
_DISTANCE = 1.0  # metres from the scene centre to the light's image plane
_DEPTH_RANGE = (0.4, 1.6)


class ShadowMaps:
    """Two tiled depth textures for ``batch`` frames each, their framebuffers and the depth
    programs: one for solid casters, one for casters whose texture has holes (alpha below 0.5)."""

    def __init__(self, ctx, batch: int, size: int = SHADOW_SIZE):
        import moderngl

        self.size = size
        self.solid = ctx.program(vertex_shader=SHADOW_VERTEX, fragment_shader=SOLID_SHADOW_FRAGMENT)
        self.cutout = ctx.program(vertex_shader=SHADOW_VERTEX, fragment_shader=CUTOUT_SHADOW_FRAGMENT)
        self.cutout["albedo_map"].value = 1
        self.textures, self.framebuffers = [], []
        for _ in range(2):
            texture = ctx.depth_texture((size * batch, size))
            texture.compare_func = "<="  # sampled as sampler2DShadow: 0 shadowed .. 1 lit
            texture.filter = (moderngl.LINEAR, moderngl.LINEAR)  # 2x2 comparisons blended per tap
            self.textures.append(texture)
            self.framebuffers.append(ctx.framebuffer(depth_attachment=texture))

    def program_for(self, texture: np.ndarray):
        """The depth program for a caster with this RGBA texture."""
        return self.cutout if (texture[..., 3] < 128).any() else self.solid

    def write_light(self, light_view_projection: bytes) -> None:
        for program in (self.solid, self.cutout):
            program["light_view_projection"].write(light_view_projection)

    def resources(self) -> list:
        return [self.solid, self.cutout, *self.framebuffers, *self.textures]


def light_view_projection(key_direction, vertices: np.ndarray) -> np.ndarray:
    """[4, 4] orthographic view-projection of a light from ``key_direction`` (towards the light)
    framing ``vertices`` [V, 3] (the first frame's head and shoulders, with room for hair)."""
    towards = np.asarray(key_direction, np.float64)
    towards /= np.linalg.norm(towards)
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    centre = (low + high) / 2
    radius = float(np.linalg.norm(high - low)) / 2 + 0.03
    up = np.array([0.0, 0.0, 1.0]) if abs(towards[2]) < 0.95 else np.array([0.0, 1.0, 0.0])
    right = np.cross(-towards, up)  # a right-handed view, so triangles keep their winding
    right /= np.linalg.norm(right)
    true_up = np.cross(right, -towards)
    eye = centre + _DISTANCE * towards
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = right, true_up, towards
    view[:3, 3] = -view[:3, :3] @ eye
    near, far = _DEPTH_RANGE
    projection = np.diag([1 / radius, 1 / radius, -2 / (far - near), 1.0])
    projection[2, 3] = -(far + near) / (far - near)
    return (projection @ view).astype(np.float32)

"""Offscreen head renderer on moderngl: EGL on Mesa llvmpipe without a GPU, the GPU's driver with one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from painsynth.animate import HeadMesh
from painsynth.render.cameras import Camera
from painsynth.render.layers import MATERIALS, PASSES, Layer
from painsynth.render.scene import Lighting

_MESH_VERTEX = """
#version 330
uniform mat4 view_projection;
in vec3 in_position;
in vec3 in_normal;
in vec3 in_tangent;
in vec2 in_uv;
out vec3 world_position;
out vec3 world_normal;
out vec3 world_tangent;
out vec2 uv;
void main() {
    world_position = in_position;
    world_normal = in_normal;
    world_tangent = in_tangent;
    uv = in_uv;
    gl_Position = view_projection * vec4(in_position, 1.0);
}
"""

# One shader for the head and what it wears; `material` picks the shading model.
# Skin (0): wrap lighting with a wider wrap for red than for blue, so the shadow terminator turns
# warm as light scattered under the skin would make it; Blinn-Phong highlights scaled by the gloss
# map (lips and eyes wet, hair dull) with Schlick's Fresnel for grazing sheen; bump shading from
# the relief map (wrinkles, pores) by the surface gradient of screen-space derivatives.
# Hair and lashes (1): Kajiya-Kay strands along the layer's tangent, a white primary and a tinted,
# shifted secondary highlight; coverage from the texture's alpha.
# Fabric (2): rough diffuse with a soft rim sheen. Frame (3): glossy plastic or metal.
# Glass (4): clear, a Fresnel reflection and a highlight, blended over what is behind.
_MESH_FRAGMENT = """
#version 330
uniform sampler2D albedo_map;
uniform sampler2D detail_map;
uniform int material;
uniform float alpha_cutoff;
uniform float layer_gloss;
uniform float relief_depth;
uniform vec3 camera_position;
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 ambient_color;
in vec3 world_position;
in vec3 world_normal;
in vec3 world_tangent;
in vec2 uv;
out vec4 frag_color;

const vec3 WRAP = vec3(0.45, 0.25, 0.2);

vec3 skin_light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo, float gloss) {
    float ndl = dot(n, l);
    vec3 diffuse = max(vec3(0.0), (ndl + WRAP) / (1.0 + WRAP));
    vec3 h = normalize(l + v);
    float fresnel = 0.04 + 0.96 * pow(1.0 - max(dot(h, v), 0.0), 5.0);
    float shininess = mix(12.0, 90.0, gloss);
    float specular = pow(max(dot(n, h), 0.0), shininess) * mix(0.05, 0.5, gloss) * fresnel * 4.0;
    return color * (albedo * diffuse + specular * step(0.0, ndl));
}

vec3 hair_light(vec3 n, vec3 t, vec3 v, vec3 l, vec3 color, vec3 albedo) {
    float diffuse = clamp(0.25 + 0.75 * dot(n, l), 0.0, 1.0);
    vec3 h = normalize(l + v);
    float primary = pow(sqrt(max(0.0, 1.0 - pow(dot(t + 0.08 * n, h), 2.0))), 80.0);
    float secondary = pow(sqrt(max(0.0, 1.0 - pow(dot(t - 0.1 * n, h), 2.0))), 24.0);
    vec3 specular = vec3(0.12 * primary) + 0.25 * secondary * albedo;
    return color * (albedo * diffuse + specular * layer_gloss * step(0.0, dot(n, l) + 0.3));
}

vec3 plain_light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo, float shininess, float strength) {
    float ndl = max(dot(n, l), 0.0);
    vec3 h = normalize(l + v);
    float fresnel = 0.04 + 0.96 * pow(1.0 - max(dot(h, v), 0.0), 5.0);
    float specular = pow(max(dot(n, h), 0.0), shininess) * strength * fresnel * 4.0;
    return color * (albedo * ndl + specular * step(0.0, ndl));
}

vec3 bumped(vec3 n, float height) {
    vec3 dpdx = dFdx(world_position);
    vec3 dpdy = dFdy(world_position);
    vec3 r1 = cross(dpdy, n);
    vec3 r2 = cross(n, dpdx);
    float det = dot(dpdx, r1);
    vec3 gradient = sign(det) * (dFdx(height) * r1 + dFdy(height) * r2);
    return normalize(abs(det) * n - gradient);
}

vec3 lit(vec3 n, vec3 v, vec3 albedo, float gloss) {
    vec3 ambient = ambient_color * albedo * (0.75 + 0.25 * n.z);
    vec3 key = normalize(key_direction);
    vec3 fill = normalize(fill_direction);
    if (material == 0) {
        return ambient + skin_light(n, v, key, key_color, albedo, gloss)
            + skin_light(n, v, fill, fill_color, albedo, gloss);
    }
    if (material == 1) {
        vec3 t = normalize(world_tangent);
        return ambient + hair_light(n, t, v, key, key_color, albedo) + hair_light(n, t, v, fill, fill_color, albedo);
    }
    float shininess = material == 2 ? 6.0 : 60.0;
    float strength = material == 2 ? 0.03 : 0.35 * layer_gloss;
    vec3 color = ambient + plain_light(n, v, key, key_color, albedo, shininess, strength)
        + plain_light(n, v, fill, fill_color, albedo, shininess, strength);
    if (material == 2) {
        color += 0.15 * albedo * key_color * pow(1.0 - max(dot(n, v), 0.0), 3.0);
    }
    return color;
}

void main() {
    vec4 texel = texture(albedo_map, uv);
    if (texel.a < alpha_cutoff) discard;
    vec3 n = normalize(world_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 v = normalize(camera_position - world_position);
    vec3 albedo = pow(texel.rgb, vec3(2.2));
    float gloss = layer_gloss;
    float alpha = 1.0;
    if (material == 0) {
        vec2 detail = texture(detail_map, uv).rg;
        gloss = detail.r;
        n = bumped(n, (detail.g - 0.5) * relief_depth);
    } else if (material == 1) {
        alpha = texel.a;
    } else if (material == 4) {
        alpha = 0.06 + 0.6 * pow(1.0 - max(dot(n, v), 0.0), 4.0);
    }
    vec3 color = lit(n, v, albedo, gloss);
    frag_color = vec4(pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2)), alpha);
}
"""

# Metres of height that the relief map's full range (0-255) spans: wrinkles and pores are
# fractions of a millimetre deep.
RELIEF_DEPTH = 0.0012

_BACKGROUND_VERTEX = """
#version 330
in vec2 in_corner;
out vec2 uv;
void main() {
    uv = in_corner * 0.5 + 0.5;
    gl_Position = vec4(in_corner, 0.0, 1.0);
}
"""

_BACKGROUND_FRAGMENT = """
#version 330
uniform sampler2D background;
in vec2 uv;
out vec4 frag_color;
void main() { frag_color = vec4(texture(background, uv).rgb, 1.0); }
"""


def _gl_flush_function():
    """glFlush of the current context: hands queued drawing to llvmpipe's threads without waiting.

    moderngl has no flush of its own; without one llvmpipe starts drawing only when pixels are read.
    """
    import ctypes

    for library in ("libOpenGL.so.0", "libGL.so.1"):
        try:
            return ctypes.CDLL(library).glFlush
        except (OSError, AttributeError):
            continue
    return lambda: None


def create_context():
    import moderngl

    try:
        return moderngl.create_standalone_context(backend="egl")
    except Exception as exc:  # moderngl raises plain Exception when EGL is missing
        raise RuntimeError(
            f"cannot create an offscreen OpenGL context with EGL ({exc}); install Mesa's EGL "
            "(Debian: libegl1 libgl1-mesa-dri) or a GPU driver"
        ) from None


class VertexNormals:
    """Area-weighted smooth normals of a fixed triangle list, for many frames at once."""

    def __init__(self, triangles: np.ndarray):
        self._corners = [torch.as_tensor(triangles[:, k], dtype=torch.long) for k in range(3)]

    def __call__(self, vertices: np.ndarray) -> torch.Tensor:
        """[T, V, 3] vertices → [T, V, 3] unit normals (float32 tensor)."""
        points = torch.as_tensor(vertices, dtype=torch.float32)
        a, b, c = (points[:, corner] for corner in self._corners)
        face_normals = torch.linalg.cross(b - a, c - a)  # length = twice the area: area weighting for free
        normals = torch.zeros_like(points)
        for corner in self._corners:
            normals.index_add_(1, corner, face_normals)
        return torch.nn.functional.normalize(normals, dim=2)


class _CameraUniforms:
    """A camera's shader uniforms, computed once per clip rather than once per draw."""

    def __init__(self, camera: Camera):
        self.position = tuple(map(float, camera.eye))
        # GLSL reads matrices column by column
        self.view_projection = (camera.projection_matrix() @ camera.view_matrix()).T.astype("f4").tobytes()


class _Drawable:
    """One mesh on the GPU: a static UV and index buffer, a vertex buffer per frame slot, textures."""

    def __init__(self):
        self.buffers: list = []
        self.arrays: list = []
        self.static: list = []
        self.albedo = None
        self.detail = None

    @classmethod
    def upload(cls, ctx, program, uvs: np.ndarray, triangles: np.ndarray, slots: int,
               with_tangents: bool) -> _Drawable:
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

    def resources(self) -> list:
        textures = [t for t in (self.albedo, self.detail) if t is not None]
        return [*self.static, *textures, *self.buffers, *self.arrays]


class Renderer:
    """Renders one identity at a time from several cameras; keep one per process and reuse it.

    Frames are drawn in batches into one tiled framebuffer (frames across, views down) and read
    back once per batch: on llvmpipe each read waits for the rasteriser, so fewer reads means
    more frames per second. Two framebuffers alternate, so the rasteriser draws one batch while
    the caller encodes the previous one.
    """

    def __init__(self, width: int = 224, height: int = 224, samples: int = 0, batch: int = 8):
        """`samples` > 0 turns on multisample anti-aliasing; on llvmpipe 2 samples halve the speed."""
        import moderngl

        self.size = (width, height)
        self.batch = batch
        self.ctx = create_context()
        self.samples = min(samples, self.ctx.max_samples)
        self._targets: dict[int, list[tuple]] = {}
        self._flush = _gl_flush_function()
        self._mesh_program = self.ctx.program(vertex_shader=_MESH_VERTEX, fragment_shader=_MESH_FRAGMENT)
        self._background_program = self.ctx.program(
            vertex_shader=_BACKGROUND_VERTEX, fragment_shader=_BACKGROUND_FRAGMENT
        )
        corners = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4")
        self._quad = self.ctx.vertex_array(
            self._background_program, [(self.ctx.buffer(corners.tobytes()), "2f", "in_corner")]
        )
        self._mipmap_filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self._mesh_resources: list = []
        self._slots: list[int] = []  # one per frame of two batches
        self._layers: list[_Drawable] = []
        self._mesh_program["relief_depth"].value = RELIEF_DEPTH

    def _framebuffers(self, n_views: int) -> list[tuple]:
        """Two tiled framebuffers for this many views, each with the one its pixels are read from."""
        if n_views not in self._targets:
            self._targets[n_views] = [self._tiled_framebuffer(n_views) for _ in range(2)]
        return self._targets[n_views]

    def _tiled_framebuffer(self, n_views: int) -> tuple:
        size = (self.size[0] * self.batch, self.size[1] * n_views)
        target = self.ctx.framebuffer(
            color_attachments=[self.ctx.renderbuffer(size, 4, samples=self.samples)],
            depth_attachment=self.ctx.depth_renderbuffer(size, samples=self.samples),
        )
        # Multisampled pixels must be resolved into a plain buffer before they can be read.
        resolved = self.ctx.framebuffer(color_attachments=[self.ctx.renderbuffer(size, 4)]) if self.samples else target
        return target, resolved

    def load_identity(self, mesh: HeadMesh, albedo: np.ndarray, gloss: np.ndarray,
                      relief: np.ndarray | None = None, layers: Sequence[Layer] = ()) -> None:
        """Upload an identity's topology, UVs, textures and worn layers (replaces the previous identity).

        ``albedo`` [H, W, 3] and ``gloss`` / ``relief`` [H, W] are uint8 maps in anny's UV space
        (relief 128 = flat)."""
        from painsynth.animate import load_anny

        for resource in self._mesh_resources:
            resource.release()
        # A render vertex per distinct (vertex, UV) corner: UV seams split a mesh vertex in two.
        all_uvs = load_anny().texture_coordinates.numpy()
        keys = mesh.triangles.reshape(-1).astype(np.int64) * len(all_uvs) + mesh.triangle_uv_ids.reshape(-1)
        unique, corner_to_render = np.unique(keys, return_inverse=True)
        self._render_to_vertex = torch.as_tensor(unique // len(all_uvs), dtype=torch.long)
        self._normals = VertexNormals(mesh.triangles)
        head = _Drawable.upload(self.ctx, self._mesh_program, all_uvs[unique % len(all_uvs)],
                                corner_to_render, 2 * self.batch, with_tangents=False)
        relief = np.full(gloss.shape[:2], 128, np.uint8) if relief is None else relief
        head.albedo = self._texture(albedo)
        head.detail = self._texture(np.stack([gloss[..., 0] if gloss.ndim == 3 else gloss, relief], axis=-1))
        self._head = head
        self._layers = []
        for layer in layers:
            drawable = _Drawable.upload(self.ctx, self._mesh_program, layer.uvs, layer.triangles,
                                        2 * self.batch, with_tangents=True)
            drawable.albedo = self._texture(layer.texture)
            drawable.layer = layer
            drawable.normals = VertexNormals(layer.triangles)
            self._layers.append(drawable)
        self._layers.sort(key=lambda d: PASSES.index(d.layer.draw_pass))
        self._slots = list(range(2 * self.batch))
        self._mesh_resources = [resource for d in [head, *self._layers] for resource in d.resources()]

    def load_avatar(self, avatar) -> None:
        """Upload an avatar (``painsynth.avatars.build.Avatar``): its mesh, maps and worn layers."""
        maps = avatar.maps
        self.load_identity(avatar.identity.mesh, maps["albedo"], maps["gloss"], maps.get("relief"), avatar.layers)

    def _texture(self, image: np.ndarray):
        # Texture rows run from v = 1 at the top; OpenGL's first row is v = 0.
        data = np.ascontiguousarray(np.flipud(image), dtype=np.uint8)
        texture = self.ctx.texture((data.shape[1], data.shape[0]), data.shape[2], data.tobytes())
        texture.build_mipmaps()
        texture.filter = self._mipmap_filter
        return texture

    def render_clip(
        self, vertices: np.ndarray, cameras: list[Camera], lighting: Lighting, backgrounds: list[np.ndarray]
    ) -> Iterator[list[np.ndarray]]:
        """For each frame of `vertices` [T, V, 3], the uint8 RGB images seen by each camera."""
        if not self._slots:
            raise RuntimeError("load_identity() must be called before render_clip()")
        background_textures = [self._texture(b) for b in backgrounds]
        points = torch.as_tensor(vertices, dtype=torch.float32)
        normals = self._normals(points)
        streams = [torch.cat([points, normals], dim=2)[:, self._render_to_vertex].numpy()]
        for drawable in self._layers:
            layer_points, directions = drawable.layer.binding.pose(points, normals)
            streams.append(torch.cat([layer_points, drawable.normals(layer_points), directions], dim=2).numpy())
        cameras = [_CameraUniforms(camera) for camera in cameras]
        self._set_lighting(lighting)
        pending = None
        try:
            for number, start in enumerate(range(0, len(vertices), self.batch)):
                frames = [stream[start:start + self.batch] for stream in streams]
                self._submit(number % 2, frames, cameras, background_textures)
                if pending is not None:
                    yield from self._collect(*pending)
                pending = (number % 2, len(frames[0]), len(cameras))
            if pending is not None:
                yield from self._collect(*pending)
        finally:
            for texture in background_textures:
                texture.release()

    def _submit(self, buffer: int, frames: list[np.ndarray], cameras: list[_CameraUniforms], backgrounds: list) -> None:
        """Queue the drawing of a batch into framebuffer `buffer` (0 or 1) and let the rasteriser start.

        ``frames`` holds one [B, N, C] array of per-vertex data for the head and one per layer."""
        width, height = self.size
        target, resolved = self._framebuffers(len(cameras))[buffer]
        slots = self._slots[buffer * self.batch:(buffer + 1) * self.batch]
        drawables = [self._head, *self._layers]
        target.use()
        target.clear(depth=1.0)
        for drawable, stream in zip(drawables, frames):
            for slot, frame in zip(slots, stream):
                drawable.buffers[slot].write(frame.tobytes())
        for column, slot in enumerate(slots[:len(frames[0])]):
            for row, (camera, background) in enumerate(zip(cameras, backgrounds)):
                self.ctx.viewport = (column * width, row * height, width, height)
                self._draw(slot, camera, background)
        if resolved is not target:
            self.ctx.copy_framebuffer(resolved, target)
        self._flush()

    def _collect(self, buffer: int, n_frames: int, n_views: int) -> Iterator[list[np.ndarray]]:
        """Wait for a submitted batch and yield its frames, each a list of one image per view."""
        width, height = self.size
        _, resolved = self._framebuffers(n_views)[buffer]
        tiles = np.frombuffer(resolved.read(components=3), dtype=np.uint8)
        tiles = tiles.reshape(n_views, height, self.batch, width, 3)[:, ::-1]  # GL rows run bottom-up
        for column in range(n_frames):
            yield [np.ascontiguousarray(tiles[row, :, column]) for row in range(n_views)]

    def _set_lighting(self, lighting: Lighting) -> None:
        program = self._mesh_program
        program["key_direction"].value = lighting.key_direction
        program["key_color"].value = lighting.key_color
        program["fill_direction"].value = lighting.fill_direction
        program["fill_color"].value = lighting.fill_color
        program["ambient_color"].value = lighting.ambient_color

    def _draw(self, slot: int, camera: "_CameraUniforms", background) -> None:
        import moderngl

        ctx, program = self.ctx, self._mesh_program
        ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE | moderngl.BLEND)
        background.use(location=0)
        self._background_program["background"].value = 0
        self._quad.render(moderngl.TRIANGLE_STRIP)
        program["camera_position"].value = camera.position
        program["view_projection"].write(camera.view_projection)
        # anny's triangles wind counter-clockwise seen from outside: culling the back halves the
        # rasteriser's work and changes no visible pixel (the mouth and eye interiors face inwards).
        ctx.front_face = "ccw"
        ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self._head.draw(program, slot, material=0, cutoff=0.0, gloss=0.0)
        # Worn layers are thin shells and cards, seen from both sides.
        ctx.disable(moderngl.CULL_FACE)
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        for drawable in self._layers:
            draw_pass = drawable.layer.draw_pass
            if draw_pass != "opaque":
                ctx.enable(moderngl.BLEND)
            ctx.depth_mask = draw_pass != "blend"
            material = MATERIALS[drawable.layer.material][1]
            cutoff = {"opaque": 0.5, "cutout": 0.25, "blend": 0.0}[draw_pass]
            drawable.draw(program, slot, material=material, cutoff=cutoff, gloss=drawable.layer.gloss)
        ctx.depth_mask = True

    def release(self) -> None:
        self.ctx.release()

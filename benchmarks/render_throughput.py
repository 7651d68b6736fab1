"""Render throughput of painsynth against pyrender, and speed and memory of `generate`.

Prints Markdown tables; asserts nothing and is not part of the test suite. Every figure is
measured in this run, so ratios compare like with like on whatever machine runs it.

    .venv/bin/pip install -e '.[bench]'   # pyrender, trimesh
    .venv/bin/python benchmarks/render_throughput.py            # all parts, about 2.5 min on 2 idle cores
    .venv/bin/python benchmarks/render_throughput.py --parts render,profile

Parts:
  render    painsynth's Renderer vs pyrender on the same animated head, 224x224, frames/s: as
            `generate` runs it (8 frames per read) and like for like (every frame read, 4x MSAA)
  profile   where one frame's time goes in painsynth (animate, normals, upload, draw, ...)
  generate  `generate()` end to end (H.264 files on disk), workers=1 and workers=2 (or --generate-workers);
            on a GPU box: --parts generate --generate-workers 1,4,8,16 --generate-views front,left30,right30
            --generate-clips 64 --device cuda
  memory    peak RSS of `generate` (parent and largest worker) for a small and a large run
"""

from __future__ import annotations

import os

# pyrender picks its OpenGL platform at import time; EGL is the headless one.
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

try:  # anny's skinning imports NVIDIA Warp, which otherwise prints its banner into the tables
    import warp

    warp.config.log_level = warp.LOG_WARNING
except ImportError:
    pass

SIZE = 224
CLIP_FRAMES = 138  # the generate default
WARMUP_FRAMES = 8  # first draws compile llvmpipe shader variants; keep them out of the timing
RENDER_REPEATS = 2  # best of N clips: the least disturbed by the rest of the machine


# --- shared scene ------------------------------------------------------------------------------


@dataclass
class Clip:
    """One animated identity, framed and lit as `generate` would."""

    identity: object
    track: object
    vertices: np.ndarray  # [T, V, 3]
    triangles: np.ndarray  # [F, 3]
    maps: dict
    camera: object
    lighting: object
    background: np.ndarray  # [H, W, 3] uint8, solid colour


def make_clip(level: int = 4, seed: int = 0) -> Clip:
    from painsynth.animate import HeadRig
    from painsynth.avatars import appearance_maps, sample_avatars
    from painsynth.procedural import make_track
    from painsynth.render import frame_head, make_background, sample_lighting

    spec = sample_avatars(1, seed)[0]
    identity = HeadRig().identity(spec.phenotype)
    track = make_track(level, seed=seed, n_frames=CLIP_FRAMES)
    vertices = identity.animate(track.blendshapes, track.head_rotation, track.head_translation)
    rng = np.random.default_rng(seed)
    return Clip(
        identity=identity,
        track=track,
        vertices=vertices,
        triangles=identity.mesh.triangles,
        maps=appearance_maps(spec),
        camera=frame_head(identity.mesh.head_box, "front"),
        lighting=sample_lighting(rng),
        background=make_background("solid", (SIZE, SIZE), rng),
    )


def render_layout(clip: Clip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render vertices as painsynth builds them: one per (vertex, uv) pair, so UV seams split.

    Returns render-vertex → mesh-vertex ids, their UVs and the triangle indices into them, so
    that pyrender draws exactly the vertex and index buffers painsynth draws.
    """
    from painsynth.animate import load_anny

    mesh = clip.identity.mesh
    corners = np.stack([mesh.triangles.reshape(-1), mesh.triangle_uv_ids.reshape(-1)], axis=1)
    unique, corner_to_render = np.unique(corners, axis=0, return_inverse=True)
    uvs = load_anny().texture_coordinates.numpy()[unique[:, 1]].astype(np.float32)
    return unique[:, 0], uvs, corner_to_render.reshape(-1, 3).astype(np.uint32)


class OtherCpu:
    """CPU seconds that other processes used on this machine while the block ran.

    The machine's busy time (/proc/stat) minus this process's and its reaped children's: a
    figure well above zero means something else competed for the cores and skewed the timing.
    """

    def __enter__(self) -> OtherCpu:
        self._start = machine_busy_seconds() - own_cpu_seconds()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc_info) -> None:
        self.seconds = max(0.0, machine_busy_seconds() - own_cpu_seconds() - self._start)


def machine_busy_seconds() -> float:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def foreground(image: np.ndarray, background_rgb: np.ndarray) -> np.ndarray:
    return np.any(image != background_rgb, axis=2)


def silhouette_iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


# --- part: render only (painsynth against pyrender) -------------------------------------------------------


@dataclass(frozen=True)
class PainsynthSetting:
    """One way to run painsynth's Renderer in the comparison."""

    label: str
    batch: int  # frames drawn per readback
    msaa: int
    shadows: bool


PAINSYNTH_SETTINGS = (
    PainsynthSetting("as `generate` runs it: 8 frames per read, key-light shadow", 8, 0, True),
    PainsynthSetting("8 frames per read, no shadow", 8, 0, False),
    PainsynthSetting("every frame read, no shadow", 1, 0, False),
    PainsynthSetting("every frame read, no shadow, 4x MSAA: **like for like**", 1, 4, False),
)
LIKE_FOR_LIKE = PAINSYNTH_SETTINGS[-1]
COMPARISON_REPEATS = 3  # each renderer's clips alternate, so load from other processes hits them alike


class PainsynthRun:
    """Renderer.render_clip (normals, upload, draw, readback) of the clip under one setting."""

    def __init__(self, clip: Clip, setting: PainsynthSetting):
        from painsynth.render import create_renderer

        self.clip = clip
        self.renderer = create_renderer(SIZE, samples=setting.msaa, batch=setting.batch, shadows=setting.shadows)
        self.renderer.load_identity(clip.identity.mesh, clip.maps["albedo"], clip.maps["gloss"])

    def __call__(self, vertices: np.ndarray) -> list[np.ndarray]:
        clip = self.clip
        return [views[0] for views in self.renderer.render_clip(vertices, [clip.camera], clip.lighting,
                                                                 [clip.background])]

    def release(self) -> None:
        self.renderer.release()


class PyrenderScene:
    """The clip's head in a pyrender scene: albedo texture, the clip's key and fill lights as directional
    lights plus its ambient, painsynth's camera; pyrender's OffscreenRenderer at 224x224."""

    def __init__(self, clip: Clip):
        import pyrender

        self.clip = clip
        self.render_to_vertex, self.uvs, self.indices = render_layout(clip)
        self.material = pyrender.MetallicRoughnessMaterial(
            baseColorTexture=pyrender.Texture(source=clip.maps["albedo"], source_channels="RGB"),
            metallicFactor=0.0, roughnessFactor=0.6,
        )
        lighting = clip.lighting
        self.scene = pyrender.Scene(bg_color=np.r_[clip.background[0, 0] / 255.0, 1.0],
                                    ambient_light=np.asarray(lighting.ambient_color))
        camera = pyrender.PerspectiveCamera(yfov=np.radians(clip.camera.fov), aspectRatio=1.0,
                                            znear=0.05, zfar=10.0)  # painsynth's near and far planes
        self.scene.add(camera, pose=np.linalg.inv(clip.camera.view_matrix()))
        for colour, direction in ((lighting.key_color, lighting.key_direction),
                                  (lighting.fill_color, lighting.fill_direction)):
            colour = np.asarray(colour)
            light = pyrender.DirectionalLight(color=colour / colour.max(), intensity=3.0 * colour.max())
            self.scene.add(light, pose=light_pose(np.asarray(direction)))
        self.renderer = pyrender.OffscreenRenderer(SIZE, SIZE)
        self.node = None

    def primitive(self, positions: np.ndarray, normals: np.ndarray):
        import pyrender

        r2v = self.render_to_vertex
        return pyrender.Primitive(positions=positions[r2v], normals=normals[r2v], texcoord_0=self.uvs,
                                  indices=self.indices, material=self.material)

    def show(self, primitive) -> None:
        import pyrender

        if self.node is not None:
            self.scene.remove_node(self.node)
        self.node = self.scene.add(pyrender.Mesh([primitive]))

    def render(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.renderer.render(self.scene)

    def read_colour_only(self, on: bool) -> None:
        """Have pyrender read back colour alone (RGBA, as painsynth reads), or again colour and depth.

        pyrender has no flag for this (DEPTH_ONLY skips the colour, nothing skips the depth), so its
        readback method is replaced on this renderer: the same MSAA resolve, without the depth blit,
        the depth read and its linearisation in numpy."""
        gl_renderer = self.renderer._renderer
        if on:
            gl_renderer._read_main_framebuffer = lambda scene, flags: (read_colour(gl_renderer), None)
        else:
            vars(gl_renderer).pop("_read_main_framebuffer", None)

    def release(self) -> None:
        self.renderer.delete()


def read_colour(gl_renderer) -> np.ndarray:
    """pyrender's main framebuffer's colour, resolved from its 4x MSAA buffer, as uint8 RGB."""
    from OpenGL import GL

    width, height = gl_renderer._main_fb_dims
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, gl_renderer._main_fb_ms)
    GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, gl_renderer._main_fb)
    GL.glBlitFramebuffer(0, 0, width, height, 0, 0, width, height, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, gl_renderer._main_fb)
    rgba = np.frombuffer(GL.glReadPixels(0, 0, width, height, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE), np.uint8)
    return np.ascontiguousarray(rgba.reshape(height, width, 4)[::-1, :, :3])


def light_pose(towards_light: np.ndarray) -> np.ndarray:
    """A pose whose −z axis (pyrender's light direction) points from the light to the head."""
    z = towards_light / np.linalg.norm(towards_light)
    x = np.cross([0.0, 0.0, 1.0], z)
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-6 else np.array([1.0, 0.0, 0.0])
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2] = x, np.cross(z, x), z
    return pose


def trimesh_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    import trimesh

    # process=False keeps vertex order (merging would break the per-frame correspondence).
    return trimesh.Trimesh(vertices, triangles, process=False).vertex_normals


def pyrender_new_mesh_per_frame(view: PyrenderScene, vertices: np.ndarray) -> None:
    """What typical pyrender code does: trimesh normals, a new Mesh per frame, swap the scene node.
    pyrender then uploads every buffer again (positions, normals, UVs, indices)."""
    for frame in vertices:
        view.show(view.primitive(frame, trimesh_normals(frame, view.clip.triangles)))
        view.render()


def pyrender_rebuild_buffers(view: PyrenderScene, vertices: np.ndarray) -> None:
    """Keep one Primitive; set its positions and normals and rebuild its GL buffers in place."""
    primitive = view.node.mesh.primitives[0]
    r2v = view.render_to_vertex
    for frame in vertices:
        primitive.positions = frame[r2v]
        primitive.normals = trimesh_normals(frame, view.clip.triangles)[r2v]
        view.renderer._platform.make_current()  # pyrender's GL calls need its context current
        primitive._remove_from_context()
        primitive._add_to_context()
        view.render()


def pyrender_buffer_subdata(view: PyrenderScene, vertices: np.ndarray) -> None:
    """The fastest way found: keep pyrender's vertex buffer and overwrite it with glBufferSubData.

    Normals come from painsynth's batched VertexNormals, as in painsynth's own path, so this
    variant differs from painsynth only in the GL and readback side.
    """
    from OpenGL import GL

    from painsynth.render.renderer import VertexNormals

    primitive = view.node.mesh.primitives[0]
    r2v = view.render_to_vertex
    normals = VertexNormals(view.clip.triangles)(vertices).numpy()
    uvs = np.broadcast_to(view.uvs, (len(vertices), *view.uvs.shape))
    # pyrender's vertex buffer layout: position, normal, texcoord_0 interleaved per vertex.
    interleaved = np.ascontiguousarray(np.concatenate([vertices[:, r2v], normals[:, r2v], uvs], axis=2),
                                       dtype=np.float32)
    for frame in interleaved:
        view.renderer._platform.make_current()
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, primitive._buffers[0])
        GL.glBufferSubData(GL.GL_ARRAY_BUFFER, 0, frame.nbytes, frame)
        view.render()


def pyrender_buffer_subdata_colour_only(view: PyrenderScene, vertices: np.ndarray) -> None:
    """As pyrender_buffer_subdata, reading back colour alone: painsynth's readback, frame by frame."""
    view.read_colour_only(True)
    try:
        pyrender_buffer_subdata(view, vertices)
    finally:
        view.read_colour_only(False)


PYRENDER_VARIANTS = {  # name: (update per frame, readback per frame)
    "new Mesh per frame (trimesh normals)": (pyrender_new_mesh_per_frame, "colour + depth"),
    "rebuild Primitive buffers (trimesh normals)": (pyrender_rebuild_buffers, "colour + depth"),
    "glBufferSubData in place (batched normals)": (pyrender_buffer_subdata, "colour + depth"),
    "glBufferSubData in place (batched normals), depth read removed": (pyrender_buffer_subdata_colour_only,
                                                                        "colour (RGBA)"),
}
PYRENDER_LIKE_FOR_LIKE = "glBufferSubData in place (batched normals), depth read removed"
PYRENDER_FASTEST_AS_SHIPPED = "glBufferSubData in place (batched normals)"


def comparison_fps(clip: Clip) -> tuple[dict, dict, dict[str, np.ndarray], np.ndarray]:
    """Frames/s of every painsynth setting and pyrender variant, their clips alternating; the first
    frame of each painsynth setting and pyrender's depth image of frame 0 (for the geometry check)."""
    ours = {setting: PainsynthRun(clip, setting) for setting in PAINSYNTH_SETTINGS}
    view = PyrenderScene(clip)
    view.show(view.primitive(clip.vertices[0], trimesh_normals(clip.vertices[0], clip.triangles)))
    _, pyrender_depth = view.render()
    runs = {setting: (lambda run=run: run(clip.vertices)) for setting, run in ours.items()}
    for name, (variant, _) in PYRENDER_VARIANTS.items():
        runs[name] = lambda variant=variant: variant(view, clip.vertices)
    first_frames = {setting: run(clip.vertices[:WARMUP_FRAMES])[0] for setting, run in ours.items()}
    for variant, _ in PYRENDER_VARIANTS.values():
        variant(view, clip.vertices[:WARMUP_FRAMES])
    best = dict.fromkeys(runs, 0.0)
    for _ in range(COMPARISON_REPEATS):
        for key, run in runs.items():
            started = time.perf_counter()
            run()
            best[key] = max(best[key], len(clip.vertices) / (time.perf_counter() - started))
    for run in ours.values():
        run.release()
    view.release()
    return ({s: best[s] for s in PAINSYNTH_SETTINGS}, {n: best[n] for n in PYRENDER_VARIANTS}, first_frames,
            pyrender_depth)


def render_part(clip: Clip) -> None:
    with OtherCpu() as other:
        ours, theirs, first_frames, pyrender_depth = comparison_fps(clip)
    like, shipped = theirs[PYRENDER_LIKE_FOR_LIKE], theirs[PYRENDER_FASTEST_AS_SHIPPED]

    print("\n## Render only: one head, 224x224, one camera, pixels read back into numpy\n")
    print(f"{len(clip.vertices)} frames of {clip.vertices.shape[1]} vertices and {len(clip.triangles)} triangles "
          f"per frame; the clip's key and fill lights and ambient in both; best of {COMPARISON_REPEATS} runs, the "
          f"renderers' runs alternating.\n")
    print("| renderer | per-frame update / setting | frames per read | read back | MSAA | frames/s | ms/frame "
          "| vs pyrender like for like | vs pyrender as shipped |")
    print("|---|---|---:|---|---|---:|---:|---:|---:|")
    for setting, fps in ours.items():
        print(f"| painsynth | {setting.label} | {setting.batch} | colour (RGBA) | {setting.msaa or 'off'} "
              f"| {fps:.1f} | {1e3 / fps:.2f} | {fps / like:.2f}x | {fps / shipped:.2f}x |")
    for name, fps in theirs.items():
        readback = PYRENDER_VARIANTS[name][1]
        print(f"| pyrender | {name} | 1 | {readback} | 4 (fixed) | {fps:.1f} | {1e3 / fps:.2f} "
              f"| {fps / like:.2f}x | {fps / shipped:.2f}x |")

    background_rgb = clip.background[0, 0]
    pyrender_mask = pyrender_depth > 0
    print("\nSame geometry check, frame 0 silhouette IoU with pyrender's: "
          + ", ".join(f"painsynth batch {s.batch} msaa {s.msaa} shadow {'on' if s.shadows else 'off'}: "
                      f"{silhouette_iou(foreground(image, background_rgb), pyrender_mask):.3f}"
                      for s, image in first_frames.items()))
    print(f"\nLike for like: painsynth '{LIKE_FOR_LIKE.label.split(':')[0]}' against pyrender "
          f"'{PYRENDER_LIKE_FOR_LIKE}': {ours[LIKE_FOR_LIKE] / like:.2f}x. Both read one frame's colour as RGBA "
          "after drawing it, with 4x MSAA and no shadow, lit by the same key, fill and ambient light; what "
          "still differs: each uses its own shader (painsynth wrap lighting, Blinn-Phong with Fresnel and bump "
          "shading from albedo + gloss/relief maps; pyrender metallic-roughness PBR from the albedo map), "
          "painsynth draws the next frame while the last is read (two framebuffers), pyrender draws and reads "
          "in turn, and pyrender's depth read was removed by replacing its readback method (it has no flag to "
          "skip it).")
    print(f"Other processes used {other.seconds:.1f} CPU s while this part ran.")


# --- part: profile of painsynth's frame ---------------------------------------------------------

# Where render_clip's time goes, found by profiling it and adding up moderngl's C calls, so the
# split needs no knowledge of the renderer's internals. llvmpipe transforms vertices when a draw
# is submitted and rasterises when the pixels are first needed: by the MSAA resolve if there is
# one, else by the read, so that call's time is mostly waiting for the rasteriser.
GL_CALLS = {
    "upload (Buffer.write)": ("write", "mgl.Buffer"),
    "draw submit, vertex stage (VertexArray.render)": ("render", "mgl.VertexArray"),
    "rasterise + MSAA resolve (copy_framebuffer)": ("copy_framebuffer", "mgl.Context"),
    "rasterise (if not yet) + read back (Framebuffer.read)": ("read_into", "mgl.Framebuffer"),
}


def profile_render_clip(clip: Clip, msaa: int) -> dict[str, float]:
    """Seconds per frame of each stage of render_clip (one view): the fastest of a few profiled clips."""
    from painsynth.render import create_renderer

    renderer = create_renderer(SIZE, samples=msaa)
    renderer.load_identity(clip.identity.mesh, clip.maps["albedo"], clip.maps["gloss"])

    def render(vertices):
        return list(renderer.render_clip(vertices, [clip.camera], clip.lighting, [clip.background]))

    render(clip.vertices[:WARMUP_FRAMES])
    runs = [profiled_stages(render, clip.vertices) for _ in range(RENDER_REPEATS)]
    renderer.release()
    return min(runs, key=lambda stages: sum(stages.values()))


def profiled_stages(render, vertices: np.ndarray) -> dict[str, float]:
    import cProfile
    import pstats

    from painsynth.render.renderer import VertexNormals

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.runcall(render, vertices)
    total = time.perf_counter() - started

    stats = pstats.Stats(profiler).stats  # {(file, line, name): (calls, calls, own s, total s, callers)}
    normals_code = VertexNormals.__call__.__code__
    stages = {"normals (VertexNormals, batched per clip)": sum(
        entry[3] for (file, line, name), entry in stats.items()
        if (file, line, name) == (normals_code.co_filename, normals_code.co_firstlineno, normals_code.co_name))}
    for stage, (method, owner) in GL_CALLS.items():
        stages[stage] = sum(entry[3] for (_, _, name), entry in stats.items()
                            if name.startswith(f"<method '{method}' of '{owner}"))
    stages["numpy + Python glue (interleave, matrices, tiles)"] = total - sum(stages.values())
    return {stage: seconds / len(vertices) for stage, seconds in stages.items()}


def readback_only_seconds(repeats: int = 200) -> float:
    """Seconds to read one finished 224x224 RGB frame: the copy alone, without any rasterising."""
    from painsynth.render.renderer import create_context

    ctx = create_context()
    framebuffer = ctx.simple_framebuffer((SIZE, SIZE))
    framebuffer.use()
    framebuffer.clear(0.5, 0.5, 0.5)
    framebuffer.read(components=3)  # waits for the clear; later reads only copy
    seconds, _ = timed(lambda: framebuffer.read(components=3), repeats)
    ctx.release()
    return seconds


def encode_seconds(clip: Clip) -> float:
    """Seconds per frame to encode the clip's frames as `generate` does (libx264, one thread)."""
    from painsynth.render import create_renderer
    from painsynth.video import H264Writer

    renderer = create_renderer(SIZE)
    renderer.load_identity(clip.identity.mesh, clip.maps["albedo"], clip.maps["gloss"])
    images = [views[0] for views in renderer.render_clip(clip.vertices, [clip.camera], clip.lighting,
                                                          [clip.background])]
    renderer.release()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with H264Writer(Path(folder) / "clip.mp4", clip.track.fps, SIZE, SIZE) as writer:
            for image in images:
                writer.write(image)
        return (time.perf_counter() - started) / len(images)


def per_clip_seconds(clip: Clip) -> dict[str, float]:
    """The once-per-performance costs of render_performance, for a fresh avatar."""
    from painsynth.animate import HeadRig
    from painsynth.avatars import appearance_maps, sample_avatars
    from painsynth.render import create_renderer

    rig = HeadRig()
    spec = sample_avatars(2, 1)[1]  # not the clip's avatar: nothing cached
    renderer = create_renderer(SIZE)
    costs = {
        "identity (anny rest mesh + crop)": timed(lambda: rig.identity(spec.phenotype))[0],
        "appearance maps (1024x1024 albedo + gloss)": timed(lambda: appearance_maps(spec))[0],
        "load_identity (topology, textures, mipmaps)": timed(lambda: renderer.load_identity(
            clip.identity.mesh, clip.maps["albedo"], clip.maps["gloss"]))[0],
    }
    renderer.release()
    return costs


def timed(action, repeats: int = 1) -> tuple[float, object]:
    """Mean seconds per call of `action`, and its last result."""
    started = time.perf_counter()
    for _ in range(repeats):
        result = action()
    return (time.perf_counter() - started) / repeats, result


def profile_part(clip: Clip) -> None:
    with OtherCpu() as other:
        columns, readback, per_clip = profile_stages(clip)
    print_profile(columns, readback, per_clip)
    print(f"\nOther processes used {other.seconds:.1f} CPU s while this part ran.")


def profile_stages(clip: Clip) -> tuple[dict, float, dict]:
    track = clip.track
    animate, _ = timed(lambda: clip.identity.animate(track.blendshapes, track.head_rotation,
                                                     track.head_translation), repeats=3)
    columns = {msaa: {"animate (blendshapes + skinning, batched per clip)": animate / len(clip.vertices),
                      **profile_render_clip(clip, msaa)} for msaa in (0, 4)}
    encode = encode_seconds(clip)
    for stages in columns.values():
        stages["H.264 encode (libx264 veryfast, 1 thread)"] = encode
    readback = readback_only_seconds()
    per_clip = per_clip_seconds(clip)
    return columns, readback, per_clip


def print_profile(columns: dict, readback: float, per_clip: dict) -> None:
    print("\n## Where painsynth's time goes: one view, 224x224, one clip profiled\n")
    print("| per frame, ms | msaa off | share | msaa 4 | share |")
    print("|---|---:|---:|---:|---:|")
    totals = {msaa: sum(stages.values()) for msaa, stages in columns.items()}
    for stage in columns[0]:
        cells = " | ".join(f"{columns[m][stage] * 1e3:.2f} | {columns[m][stage] / totals[m]:.0%}" for m in columns)
        print(f"| {stage} | {cells} |")
    cells = " | ".join(f"**{totals[m] * 1e3:.2f}** | {1 / totals[m]:.0f} frames/s" for m in columns)
    print(f"| **total, stages one after another** | {cells} |")
    print(f"\nReading one finished 224x224 frame costs {readback * 1e3:.3f} ms: the rest of "
          "'rasterise + read back' is waiting for llvmpipe to draw.")
    print("\n| per performance (once per avatar) | ms | frames' worth (msaa off) |")
    print("|---|---:|---:|")
    for stage, seconds in per_clip.items():
        print(f"| {stage} | {seconds * 1e3:.0f} | {seconds / totals[0]:.0f} |")


# --- parts: generate speed and memory (each run in a fresh process) ------------------------------

# Runs in a child interpreter, so every run pays the same start-up (imports, anny) and its
# memory figures belong to that run alone. The parent's peak is VmHWM, not ru_maxrss: Linux
# carries ru_maxrss across exec, so a child started from this (by then 1 GB) benchmark would
# report at least this process's size. Workers are spawned from the much smaller generate
# process and grow far past it, so RUSAGE_CHILDREN's ru_maxrss is their own peak.
GENERATE_CHILD = """
import json, resource, sys
from pathlib import Path
from painsynth.config import make_config
from painsynth.generate import generate
summary = generate(make_config(**json.loads(sys.argv[1])))
status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
print(json.dumps({
    "frames": summary.frames, "clips": summary.written, "failed": summary.failed,
    "seconds": summary.seconds,
    "parent_kb": int(status["VmHWM"].split()[0]),
    "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def run_generate(clips: int, views: list[str], workers: int, device: str = "auto") -> dict:
    """Run generate in a child process into a temporary folder (deleted after); its figures."""
    with tempfile.TemporaryDirectory(prefix="painsynth-bench-") as out:
        settings = {"out": out, "clips": clips, "views": views, "workers": workers, "seed": 0, "device": device}
        started = time.perf_counter()
        with OtherCpu() as other:
            done = subprocess.run([sys.executable, "-c", GENERATE_CHILD, json.dumps(settings)],
                                  capture_output=True, text=True, check=False)
        process_seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"generate failed ({done.returncode}):\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["failed"]:
        raise RuntimeError(f"generate reported {result['failed']} failed clips")
    return {**result, "process_seconds": process_seconds, "other_cpu": other.seconds, "workers": workers}


def generate_part(clips: int, views: list[str], workers: list[int], device: str) -> None:
    from painsynth.devices import resolve_device
    from painsynth.render.renderer import create_context

    context = create_context()
    drawn_by = context.info["GL_RENDERER"]
    context.release()
    runs = [run_generate(clips, views, count, device) for count in workers]
    print(f"\n## Whole generate path: {clips} clips x {len(views)} views ({','.join(views)}), "
          f"{CLIP_FRAMES} frames, 224x224, H.264 to disk; torch on {resolve_device(device)} (--device {device}), "
          f"OpenGL on {drawn_by}\n")
    print("| workers | clips written | frames | generate() s | frames/s | process s (with start-up) | speed-up "
          "| other processes' CPU s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    single = runs[0]["frames"] / runs[0]["seconds"]
    for run in runs:
        fps = run["frames"] / run["seconds"]
        print(f"| {run['workers']} | {run['clips']} | {run['frames']} | {run['seconds']:.1f} | {fps:.1f} "
              f"| {run['process_seconds']:.1f} | {fps / single:.2f}x | {run['other_cpu']:.1f} |")


def memory_part(clip_counts: tuple[int, int]) -> None:
    runs = [run_generate(clips, ["front"], workers) for workers in (1, 2) for clips in clip_counts]
    print("\n## Peak memory of generate (1 view, 138 frames, 224x224)\n")
    print("| workers | clips | frames/s | parent peak RSS MiB | largest worker peak RSS MiB | other processes' CPU s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        worker = f"{run['worker_kb'] / 1024:.0f}" if run["workers"] > 1 else "- (in parent)"
        print(f"| {run['workers']} | {run['clips']} | {run['frames'] / run['seconds']:.1f} "
              f"| {run['parent_kb'] / 1024:.0f} | {worker} | {run['other_cpu']:.1f} |")
    print("\nParent: VmHWM of the generate process; workers: ru_maxrss of its largest reaped child. "
          "Each process caches up to 8 avatars' appearance maps (4 MiB each), so up to 32 MiB of growth "
          "until a process has seen 8 avatars is expected.")


# --- machine --------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gl_renderer() -> tuple[str, str]:
    from painsynth.render.renderer import create_context

    ctx = create_context()
    info = ctx.info["GL_RENDERER"], ctx.info["GL_VERSION"]
    ctx.release()
    return info


def package_versions() -> str:
    names = ("numpy", "torch", "moderngl", "av", "pyrender", "PyOpenGL", "trimesh")
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} -")
    return ", ".join(found)


def print_machine() -> None:
    renderer, gl_version = gl_renderer()
    print("## Machine\n")
    print("| | |")
    print("|---|---|")
    print(f"| CPU | {cpu_model()} |")
    print(f"| cores | {os.cpu_count()} (usable: {len(os.sched_getaffinity(0))}) |")
    print(f"| GL renderer | {renderer} (OpenGL {gl_version}) |")
    print(f"| Python | {platform.python_version()} |")
    print(f"| packages | {package_versions()} |")


# --- main -----------------------------------------------------------------------------------------

PARTS = ("render", "profile", "generate", "memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {', '.join(PARTS)}")
    parser.add_argument("--generate-clips", type=int, default=6, help="clips for the generate part")
    parser.add_argument("--generate-views", default="front,left45", help="views for the generate part")
    parser.add_argument("--generate-workers", default="1,2", help="worker counts for the generate part "
                        "(a GPU box: 1,4,8,16)")
    parser.add_argument("--device", default="auto", help="generate's --device (auto, cpu, cuda)")
    parser.add_argument("--memory-clips", default="4,16", help="two clip counts for the memory part")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part {', '.join(sorted(unknown))}; allowed: {', '.join(PARTS)}")

    started = time.perf_counter()
    print_machine()
    if "render" in parts or "profile" in parts:
        clip = make_clip()
        if "render" in parts:
            render_part(clip)
        if "profile" in parts:  # its moderngl contexts are all made after pyrender's last render
            profile_part(clip)
    if "generate" in parts:
        generate_part(args.generate_clips, args.generate_views.split(","),
                      [int(n) for n in args.generate_workers.split(",")], args.device)
    if "memory" in parts:
        small, large = (int(c) for c in args.memory_clips.split(","))
        memory_part((small, large))
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

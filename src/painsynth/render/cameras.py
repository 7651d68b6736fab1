"""Named camera views and framing that follows each identity's head."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Named views: (yaw, pitch) in degrees. Positive yaw moves the camera towards the subject's left
# (+x: anny's face looks down −y with z up); positive pitch raises the camera to look down.
VIEWS: dict[str, tuple[float, float]] = {
    "front": (0.0, 0.0),
    "left30": (30.0, 0.0),
    "right30": (-30.0, 0.0),
    "left45": (45.0, 0.0),
    "right45": (-45.0, 0.0),
    "left60": (60.0, 0.0),
    "right60": (-60.0, 0.0),
    "up20": (0.0, 20.0),
    "down20": (0.0, -20.0),
}
FIELD_OF_VIEW = 25.0  # degrees, vertical: a portrait lens, little perspective distortion
HEAD_SHARE_OF_FRAME = 0.58  # the skull-and-face box fills this share of the frame height
FRAME_DROP = 0.12  # aim below the head centre, by this share of its height, to show neck and shoulders


def parse_views(text: str | list[str]) -> list[str]:
    names = [v.strip() for v in (text.split(",") if isinstance(text, str) else text) if v.strip()]
    unknown = [v for v in names if v not in VIEWS]
    if unknown or not names:
        raise ValueError(f"unknown view {', '.join(unknown) or '(none given)'}; allowed: {', '.join(VIEWS)}")
    return names


@dataclass(frozen=True)
class Camera:
    view: str
    yaw: float  # degrees, jitter included
    pitch: float
    eye: np.ndarray  # [3] camera position
    target: np.ndarray  # [3]
    fov: float = FIELD_OF_VIEW
    aspect: float = 1.0

    def view_matrix(self) -> np.ndarray:
        forward = self.target - self.eye
        forward = forward / np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        view = np.eye(4, dtype=np.float32)
        view[0, :3], view[1, :3], view[2, :3] = right, up, -forward
        view[:3, 3] = -view[:3, :3] @ self.eye
        return view

    def projection_matrix(self, near: float = 0.05, far: float = 10.0) -> np.ndarray:
        f = 1.0 / np.tan(np.radians(self.fov) / 2)
        proj = np.zeros((4, 4), dtype=np.float32)
        proj[0, 0], proj[1, 1] = f / self.aspect, f
        proj[2, 2], proj[2, 3] = (far + near) / (near - far), 2 * far * near / (near - far)
        proj[3, 2] = -1.0
        return proj

    def project(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """Pixel coordinates (x right, y down) of world points [N, 3]."""
        homogeneous = np.c_[points, np.ones(len(points))] @ (self.projection_matrix() @ self.view_matrix()).T
        ndc = homogeneous[:, :2] / homogeneous[:, 3:4]
        return np.c_[(ndc[:, 0] + 1) * width / 2, (1 - ndc[:, 1]) * height / 2]


def frame_head(
    head_box: tuple[np.ndarray, np.ndarray],
    view: str,
    jitter: float = 0.0,
    rng: np.random.Generator | None = None,
    aspect: float = 1.0,
) -> Camera:
    """A camera for `view` that frames this head at the same size whatever the identity's size.

    `jitter` in [0, 1] scales random offsets of up to 5 degrees yaw/pitch, 5 % of the head height
    sideways and 8 % in distance.
    """
    low, high = (np.asarray(c, dtype=np.float64) for c in head_box)
    height = high[2] - low[2]
    target = (low + high) / 2 - np.array([0.0, 0.0, FRAME_DROP * height])
    yaw, pitch = VIEWS[view]
    distance = height / (HEAD_SHARE_OF_FRAME * 2 * np.tan(np.radians(FIELD_OF_VIEW) / 2))
    if jitter > 0:
        rng = rng or np.random.default_rng()
        yaw += jitter * rng.uniform(-5, 5)
        pitch += jitter * rng.uniform(-5, 5)
        sideways, vertical = rng.uniform(-0.05, 0.05, 2)
        target = target + jitter * height * np.array([sideways, 0.0, vertical])
        distance *= 1 + jitter * rng.uniform(-0.08, 0.08)
    yaw_r, pitch_r = np.radians(yaw), np.radians(pitch)
    direction = np.array([np.sin(yaw_r) * np.cos(pitch_r), -np.cos(yaw_r) * np.cos(pitch_r), np.sin(pitch_r)])
    return Camera(view=view, yaw=float(yaw), pitch=float(pitch), eye=target + distance * direction,
                  target=target, aspect=aspect)

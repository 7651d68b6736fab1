"""The eye patches, the image cue's input: two small grey patches sampled around the eyes in a frame fixed
to the eye corners (:mod:`painsynth.capture.retarget.cue` reads them)."""

from __future__ import annotations

import functools

import numpy as np

# PATCH x PATCH samples per eye, in a frame fixed to the eye corners, which cheek raising does not move.
PATCH = 24  # samples per side of a patch: ~1.3 px apart at the benchmark's 224 px
# (inner, outer) eye corner landmarks per side (the subject's Left, Right)
EYE_CORNERS = ((362, 263), (133, 33))
# The patch in eye widths: u from the inner corner outwards, v downwards (negative: above the eye line)
U_RANGE = (-0.9, 1.3)
V_RANGE = (-1.3, 1.7)  # from the brow (nose wrinkle pulls the inner brow down) to the cheek
MAX_SPACING = 1.5  # px between samples beyond which the image is first shrunk (no aliasing on big frames)


def eye_width_ratio(landmarks: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """[T]: log of the subject's left eye's width in the image over the right's, from landmarks [T, 478, 3]
    (normalised): 0 frontally, positive when the left eye is the nearer (~0.35 at 30 degrees, 0.55-0.8 at 45,
    measured on anny renders)."""
    scaled = np.asarray(landmarks, np.float64)[:, :, :2] * image_size
    left, right = (np.linalg.norm(scaled[:, outer] - scaled[:, inner], axis=1) for inner, outer in EYE_CORNERS)
    return np.log(np.maximum(left, 1e-9) / np.maximum(right, 1e-9))


def _grid(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """Sample positions [2, PATCH, PATCH, 2] (pixels) of both patches for one frame's landmarks."""
    u = np.linspace(*U_RANGE, PATCH)
    v = np.linspace(*V_RANGE, PATCH)
    points = []
    for (inner, outer), sign in zip(EYE_CORNERS, (1.0, -1.0)):
        a = landmarks[inner, :2] * (width, height)
        axis = landmarks[outer, :2] * (width, height) - a
        down = sign * np.array([-axis[1], axis[0]])  # perpendicular, pointing down the face on both sides
        points.append(a + u[None, :, None] * axis + v[:, None, None] * down)
    return np.stack(points).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _cv2():
    import cv2  # OpenCV comes with mediapipe (the capture extra)

    cv2.setNumThreads(1)  # its worker pool would contend with MediaPipe's for tiny remaps (measured)
    return cv2


def extract_patches(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Grey patches [2, PATCH, PATCH] (float32, 0-255) around both eyes of an RGB uint8 image."""
    cv2 = _cv2()
    height, width = image.shape[:2]
    grid = _grid(np.asarray(landmarks, np.float64), width, height)
    spacing = np.linalg.norm(grid[0, 0, 1] - grid[0, 0, 0])
    if spacing > MAX_SPACING:  # shrink the face's bounding box first: area averaging, no aliasing
        low = np.maximum(np.floor(grid.reshape(-1, 2).min(axis=0)) - 2, 0).astype(int)
        high = np.minimum(np.ceil(grid.reshape(-1, 2).max(axis=0)) + 3, (width, height)).astype(int)
        if np.all(high - low > 2):
            crop = image[low[1]:high[1], low[0]:high[0]]
            factor = 1.0 / spacing
            size = (max(1, round(crop.shape[1] * factor)), max(1, round(crop.shape[0] * factor)))
            image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            grid = (grid - low) * (np.array(size) / (crop.shape[1], crop.shape[0])).astype(np.float32)
    maps = np.ascontiguousarray(grid.reshape(2 * PATCH, PATCH, 2), np.float32)
    sampled = cv2.remap(np.ascontiguousarray(image), maps, None, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
    grey = sampled.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return grey.reshape(2, PATCH, PATCH)

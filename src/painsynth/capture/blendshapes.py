"""MediaPipe's blendshape net, read on the face turned to the front.

MediaPipe scores the 52 ARKit units with a small net over 146 of its landmarks' image x, y. On a
turned face those coordinates carry the turn, and the net reads it as expression: replaying real
videos on avatars and capturing them back (``benchmarks/real_roundtrip.py``), at 30 degrees the lips
closing read at r 0.14 (0.90 frontally) and the far eye's squint at 0.04. So the net is run here, with
LiteRT, on the landmarks rotated back by the head's own turn (MediaPipe's facial transformation
matrix): the same face seen from the front. On frontal faces the scores move by about 0.02.

Each face is read twice, as it is and mirrored (its mirror image's scores given back to the face's own
sides), and the two readings are averaged: the net does not read a face and its mirror image alike, and
the mean of both is a steadier reading of either side. Real videos replayed on avatars and captured back
(``benchmarks/real_roundtrip.py``, each replay read once, three decimals) replayed at per-unit median r
0.776 -> 0.781 at 30 degrees and 0.848 -> 0.851 frontally, on a held-out bank 0.759 -> 0.773 and
0.816 -> 0.819 (the capture assets rebuilt on it); the second reading costs about 0.8 ms a frame.

The net is the ``face_blendshapes.tflite`` inside the verified landmarker bundle
(:mod:`painsynth.capture.model`); nothing else is loaded.
"""

from __future__ import annotations

import functools
import threading
import zipfile
from pathlib import Path

import numpy as np

from painsynth.capture.mirror import mirror_partners
from painsynth.quiet import native_chatter_filtered
from painsynth.tracks import ARKIT_BLENDSHAPES, BLENDSHAPE_INDEX, other_side

NET_FILE = "face_blendshapes.tflite"
# How the scores are read; part of the captured features' cache key (calibration.retarget_key).
# 1: the net on the face turned to the front (before: MediaPipe's own scores of the face as seen);
# 2: and on its mirror image, the two readings averaged.
READING_VERSION = 2
# The landmarks the net reads, in its input order (MediaPipe's face blendshapes graph).
NET_LANDMARKS = np.array((
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78,
    80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133, 136, 144, 145, 146, 148, 149, 150, 152,
    153, 154, 155, 157, 158, 159, 160, 161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246,
    249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312,
    314, 317, 318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381,
    382, 384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468, 469, 470, 471, 472,
    473, 474, 475, 476, 477))
# The net's outputs: MediaPipe's "_neutral", then ARKit's units but tongueOut, alphabetically.
NET_UNITS = ("_neutral", *sorted(name for name in ARKIT_BLENDSHAPES if name != "tongueOut"))
_TO_ARKIT = np.array([NET_UNITS.index(name) if name in NET_UNITS else -1 for name in ARKIT_BLENDSHAPES])
_OTHER_SIDE = np.array([BLENDSHAPE_INDEX[other_side(name)] for name in ARKIT_BLENDSHAPES])
_MIRROR_X = np.array([-1.0, 1.0], np.float32)  # a frontal point's mirror image about the face's centre line
# image (x right, y down, z away) -> MediaPipe's camera axes (x right, y up, z towards the viewer)
_IMAGE_TO_CAMERA = np.array([1.0, -1.0, -1.0])


def frontal_points(landmarks: np.ndarray, matrix: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """The net's input [146, 2]: ``landmarks`` [478, 3] (normalised image coordinates; z on x's scale)
    made metric-proportional, turned back by the rotation of ``matrix`` [4, 4] (canonical face ->
    camera) about their centre, and seen from the front (x right, y down, in pixels)."""
    width, height = image_size
    points = np.asarray(landmarks, np.float64)[NET_LANDMARKS] * (np.array([width, height, width]) * _IMAGE_TO_CAMERA)
    u, _, vt = np.linalg.svd(np.asarray(matrix, np.float64)[:3, :3])  # its rotation, scale left out
    turned_back = (points - points.mean(axis=0)) @ (u @ vt)  # R^T p for each row p
    return (turned_back[:, :2] * _IMAGE_TO_CAMERA[:2]).astype(np.float32)


def mirror_order(partner: np.ndarray) -> np.ndarray:
    """[146]: for each of the net's inputs, which input its mirror-image partner is (``partner`` [478]: the
    mirror map, :func:`painsynth.capture.mirror.mirror_partners`; the net's landmarks are closed under it)."""
    position = {int(landmark): k for k, landmark in enumerate(NET_LANDMARKS)}
    return np.array([position[int(partner[landmark])] for landmark in NET_LANDMARKS])


class BlendshapeNet:
    """The net of one landmarker bundle; :meth:`scores` maps its input to ARKit-ordered scores [52].

    ``partner``: the mirror map; without it (while the map itself is being built) each face is read one way.
    """

    def __init__(self, bundle: Path, partner: np.ndarray | None = None):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise ImportError("capture's blendshape net needs ai-edge-litert: pip install 'painsynth[capture]'") from exc

        with zipfile.ZipFile(bundle) as archive:
            content = archive.read(NET_FILE)
        # One thread: 0.68 ms a face; two threads take 0.41 ms alone but slowed capture, whose landmarker
        # keeps both cores busy (docs/measurements.md, "Capture"). LiteRT announces its XNNPACK delegate.
        with native_chatter_filtered():
            self._interpreter = Interpreter(model_content=content, num_threads=1)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._lock = threading.Lock()  # one interpreter, perhaps several capture threads
        self._mirror = None if partner is None else mirror_order(partner)

    def scores(self, points: np.ndarray) -> np.ndarray:
        with self._lock:
            self._interpreter.set_tensor(self._input, np.asarray(points, np.float32)[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._output)
        return np.where(_TO_ARKIT >= 0, raw[_TO_ARKIT], 0.0).astype(np.float32)

    def frontal_scores(self, landmarks: np.ndarray, matrix: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """ARKit-ordered scores [52] of one frame's face seen from the front (:func:`frontal_points`): the mean
        of the net's reading of it and of its mirror image's, each unit of the mirror image read as its
        other side's."""
        points = frontal_points(landmarks, matrix, image_size)
        if self._mirror is None:
            return self.scores(points)
        mirrored = points[self._mirror] * _MIRROR_X
        return 0.5 * (self.scores(points) + self.scores(mirrored)[_OTHER_SIDE])


@functools.lru_cache(maxsize=2)
def blendshape_net(bundle: Path) -> BlendshapeNet:
    """The (shared) net of the landmarker bundle at ``bundle``, reading each face both ways."""
    return BlendshapeNet(Path(bundle), mirror_partners())


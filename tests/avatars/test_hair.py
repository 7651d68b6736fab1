"""Hair and lashes as worn geometry: every family builds on a child and a tall adult, keeps the
eyes, brows and cheeks clear, moves with the head, and lashes follow blinks."""

import dataclasses

import numpy as np
import pytest
import torch

from painsynth.avatars.tables import HAIR_FAMILIES, MONK_TONES

FAMILIES = tuple(f for f in HAIR_FAMILIES if f != "bald")


@pytest.fixture(scope="module")
def people(rig):
    """(spec, identity, anatomy) of a child under 12 and of the tallest of a few adults."""
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.anatomy import anatomy_of

    child = next(s for s in sample_avatars(16, 3, children=True) if s.age_years < 12)
    adult = max(sample_avatars(8, 5), key=lambda s: s.phenotype["height"])
    out = {}
    for name, spec in (("child", child), ("adult", adult)):
        # Full volume, length and fringe: the hardest case for keeping the face clear.
        spec = dataclasses.replace(spec, hair={**spec.hair, "volume": 1.0, "length": 1.0, "fringe": 1.0})
        identity = rig.identity(spec.phenotype, spec.face_shape)
        out[name] = (spec, identity, anatomy_of(identity))
    return out


def _hair(spec, anatomy, family):
    from painsynth.avatars.hair import build_hair

    return build_hair(dataclasses.replace(spec, hair_family=family), anatomy)


def _pose(layer, vertices, triangles):
    """A layer's points and strand directions [T, N, 3] on the head's ``vertices`` [T, V, 3]."""
    from painsynth.avatars.reference import vertex_normals

    normals = np.stack([vertex_normals(v, triangles) for v in vertices])
    points, directions = layer.binding.pose(torch.as_tensor(vertices), torch.as_tensor(normals, dtype=torch.float32))
    return points.numpy(), directions.numpy()


def _posed(layer, vertices):
    return _pose(layer, vertices, _TRIANGLES[0])[0]


_TRIANGLES = [None]


@pytest.mark.parametrize("curl", [0.0, 0.9])
@pytest.mark.parametrize("who", ["child", "adult"])
def test_every_family_builds_and_keeps_the_face_clear(people, who, curl):
    """Straight and curly (lofted, unparted) hair of every family."""
    spec, _, anatomy = people[who]
    spec = dataclasses.replace(spec, hair={**spec.hair, "curl": curl})
    _TRIANGLES[0] = anatomy.triangles
    mid, iod = anatomy.eye_centres.mean(0), anatomy.interocular
    for family in FAMILIES:
        layers = _hair(spec, anatomy, family)
        assert layers and all(layer.material == "hair" for layer in layers), family
        triangles = sum(len(layer.triangles) for layer in layers)
        assert 100 < triangles <= 4000, (family, triangles)
        for layer in layers:
            assert layer.texture.dtype == np.uint8 and max(layer.texture.shape[:2]) <= 256
            points = _posed(layer, anatomy.vertices[None])[0]
            assert layer.triangles.max() < len(points) and np.isfinite(points).all()
            q = (points - mid) / iod  # face frame: x left, y back, z up, interocular units
            # In front of the ears, between the outer eye corners, from the chin to above the brows.
            in_face = (np.abs(q[:, 0]) < 1.05) & (q[:, 2] > -2.0) & (q[:, 2] < 0.75) & (q[:, 1] < 0.5)
            assert not in_face.any(), (who, family, layer.name, q[in_face][:3])


def test_curly_short_hair_stands_off_the_scalp_without_a_fringe(people):
    spec, _, anatomy = people["adult"]
    _TRIANGLES[0] = anatomy.triangles
    centre = anatomy.vertices.mean(axis=0)

    def outer_shell(curl):
        layers = _hair(dataclasses.replace(spec, hair={**spec.hair, "curl": curl}), anatomy, "short")
        points = _posed(layers[-1], anatomy.vertices[None])[0]
        return np.linalg.norm(points - centre, axis=1), (points - anatomy.eye_centres.mean(0)) / anatomy.interocular

    (straight, straight_q), (curly, curly_q) = outer_shell(0.0), outer_shell(0.9)
    assert np.percentile(curly, 95) > np.percentile(straight, 95) + 0.003  # metres further out
    def lowest_over_the_forehead(q):
        return q[(np.abs(q[:, 0]) < 0.5) & (q[:, 1] < 0), 2].min()

    # A fringe is let down over the forehead only from the straight hair.
    assert lowest_over_the_forehead(curly_q) > lowest_over_the_forehead(straight_q) + 0.1


def test_bald_has_no_hair_but_lashes(people):
    from painsynth.avatars.lashes import build_lashes

    spec, _, anatomy = people["adult"]
    assert _hair(spec, anatomy, "bald") == []
    lashes = build_lashes(spec, anatomy)
    assert len(lashes) == 1 and lashes[0].material == "lash" and len(lashes[0].triangles) >= 40


def test_same_spec_same_layers(people):
    from painsynth.avatars.lashes import build_lashes

    spec, _, anatomy = people["child"]
    for family in ("long_wavy", "afro", "ponytail"):
        first = _hair(spec, anatomy, family) + build_lashes(spec, anatomy)
        second = _hair(spec, anatomy, family) + build_lashes(spec, anatomy)
        for a, b in zip(first, second, strict=True):
            assert a.name == b.name and a.gloss == b.gloss
            for field in ("triangles", "uvs", "texture"):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
            pa = _posed_rest(a, anatomy)
            np.testing.assert_array_equal(pa, _posed_rest(b, anatomy))


def _posed_rest(layer, anatomy):
    _TRIANGLES[0] = anatomy.triangles
    return _posed(layer, anatomy.vertices[None])[0]


@pytest.mark.parametrize("who", ["child", "adult"])
def test_hair_and_lashes_move_with_the_head(people, who):
    from painsynth.avatars.lashes import build_lashes
    from painsynth.render.layers import RigidBinding, rigid_motion

    spec, identity, anatomy = people[who]
    _TRIANGLES[0] = anatomy.triangles
    rotation = np.array([[0.0, 0.0, 0.0], [0.3, 0.5, -0.2]], np.float32)
    vertices = identity.animate(np.zeros((2, 52), np.float32), rotation, np.zeros((2, 3), np.float32))
    turn, shift = (t.numpy()[1] for t in rigid_motion(torch.as_tensor(anatomy.vertices[anatomy.skull]),
                                                       torch.as_tensor(vertices[:, anatomy.skull])))
    assert np.degrees(np.arccos((np.trace(turn) - 1) / 2)) > 20
    # Head vertices carried rigidly by the head bone (the nape and neck skin bend with the neck).
    rigid = np.linalg.norm(anatomy.vertices @ turn.T + shift - vertices[1], axis=1) < 5e-4
    for family in ("long_straight", "ponytail", "bun", "afro", "medium"):
        for layer in _hair(spec, anatomy, family) + build_lashes(spec, anatomy):
            rest, moved = _posed(layer, vertices)
            error = np.linalg.norm(rest @ turn.T + shift - moved, axis=1)
            if isinstance(layer.binding, RigidBinding):
                assert error.max() < 1e-4, (family, layer.name)
            else:  # riding the skin: rigid over the skull, and always on its own anchor
                anchors = layer.binding.anchors.numpy()
                on_skull = rigid[anchors]
                assert on_skull.mean() > (0.5 if layer.name != "lashes" else 0.9), (family, layer.name)
                assert np.median(error[on_skull]) < 1e-4 and error[on_skull].max() < 2e-3, (family, layer.name)
                reach = np.linalg.norm(rest - anatomy.vertices[anchors], axis=1)
                np.testing.assert_allclose(np.linalg.norm(moved - vertices[1, anchors], axis=1), reach, atol=1e-4)


def test_lashes_follow_a_blink(people):
    from painsynth.avatars.lashes import build_lashes
    from painsynth.tracks import ARKIT_BLENDSHAPES

    spec, identity, anatomy = people["adult"]
    _TRIANGLES[0] = anatomy.triangles
    units = np.zeros((2, 52), np.float32)
    units[1, ARKIT_BLENDSHAPES.index("eyeBlinkLeft")] = 1.0
    units[1, ARKIT_BLENDSHAPES.index("eyeBlinkRight")] = 1.0
    vertices = identity.animate(units, np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
    (layer,) = build_lashes(spec, anatomy)
    rest, closed = _posed(layer, vertices)
    anchors = layer.binding.anchors.numpy()
    lid_drop = vertices[0, anchors, 2] - vertices[1, anchors, 2]
    upper = lid_drop > 0.003  # the upper lids come down by millimetres
    assert upper.sum() > 10
    # The lashes' roots come down with their lid (and the whole card stays on it).
    drop = rest[:, 2] - closed[:, 2]
    assert np.median(drop[upper]) > 0.5 * np.median(lid_drop[upper])
    gap = np.linalg.norm(closed - vertices[1, anchors], axis=1)
    assert gap.max() < 1.5 * spec.lash_length + 0.002


def _render(identity, maps, layers, views, size=128):
    from painsynth.render import Renderer, frame_head, make_background, sample_lighting

    renderer = Renderer(size, size)
    renderer.load_identity(identity.mesh, maps["albedo"], maps["gloss"], maps.get("relief"), layers)
    cameras = [frame_head(identity.mesh.head_box, v) for v in views]
    rng = np.random.default_rng(0)
    vertices = identity.animate(np.zeros((1, 52), np.float32), np.zeros((1, 3), np.float32), np.zeros((1, 3), np.float32))
    (frame,) = renderer.render_clip(vertices, cameras, sample_lighting(rng),
                                    [make_background("solid", (size, size), rng)] * len(views))
    renderer.release()
    return frame, cameras


@pytest.mark.parametrize("who", ["child", "adult"])
def test_rendered_hair_leaves_the_eyes_and_brows_alone(people, who):
    from painsynth.avatars.texture import appearance_maps

    spec, identity, anatomy = people[who]
    maps = appearance_maps(spec, 256)
    mid, iod = anatomy.eye_centres.mean(0), anatomy.interocular
    # Eyes and brows: a box in the face frame, projected into each view.
    corners = mid + iod * np.array([[x, -0.3, z] for x in (-0.95, 0.95) for z in (-0.45, 0.55)])
    views = ["front", "left45"]
    bare, cameras = _render(identity, maps, [], views)
    for family in ("long_wavy", "afro", "medium", "bun"):
        worn, _ = _render(identity, maps, _hair(spec, anatomy, family), views)
        for image, plain, camera in zip(worn, bare, cameras):
            pixels = camera.project(corners, 128, 128)
            (x0, y0), (x1, y1) = np.floor(pixels.min(0)).astype(int), np.ceil(pixels.max(0)).astype(int)
            box = (slice(max(y0, 0), y1), slice(max(x0, 0), x1))
            changed = np.abs(image[box].astype(int) - plain[box].astype(int)).max(-1) > 12
            assert changed.mean() < 0.01, (who, family, camera, changed.mean())
        # ... while the hair does show on the head (a curly bun's thin shells, fading where seen edge on,
        # change 1.8 % of the image at the least).
        assert (np.abs(worn[0].astype(int) - bare[0].astype(int)).max(-1) > 12).mean() > 0.01


def test_lashes_are_fine_tapering_strands_as_dense_on_both_eyes(people):
    from painsynth.avatars.lashes import build_lashes

    spec, _, anatomy = people["adult"]
    (layer,) = build_lashes(spec, anatomy)
    coverage = layer.texture[..., 3].astype(float) / 255  # rows from the tips (0) to the roots
    height = len(coverage)
    roots, middle = coverage[-height // 8:].mean(), coverage[height // 3:height // 2].mean()
    assert 0.1 < roots < 0.95 and middle < 0.8 * roots  # gaps between strands, thinner towards the tips
    assert np.mean((coverage > 0) & (coverage < 1)) > 0.05  # soft strand edges, blended rather than cut
    # Each lid's card runs over the same length of texture on both eyes: the same lashes per lid.
    anchors = layer.binding.anchors.numpy()
    u = layer.uvs[:, 0]
    left = anatomy.vertices[anchors, 0] > 0
    upper = anatomy.vertices[anchors, 2] > anatomy.eye_centres[0, 2] - 0.002
    spans = [np.ptp(u[side & upper & (layer.uvs[:, 1] < 0.1)]) for side in (left, ~left)]
    assert spans[0] == pytest.approx(spans[1], rel=0.05)


def _hair_draws(gender, ancestry, draws=400):
    from painsynth.avatars.hair_style import sample_hair
    from painsynth.avatars.tables import HAIR_FAMILIES

    hair = [sample_hair(np.random.default_rng(i), gender, 35.0, HAIR_FAMILIES, ancestry) for i in range(draws)]
    curl = np.array([params["curl"] for _, _, params in hair])
    share = {family: np.mean([f == family for f, _, _ in hair]) for family in HAIR_FAMILIES}
    return curl, share


AFRICAN = {"african": 1.0, "asian": 0.0, "caucasian": 0.0}
EUROPEAN = {"african": 0.0, "asian": 0.0, "caucasian": 1.0}


def test_hair_texture_and_style_follow_ancestry():
    """Most people of full African ancestry draw coily hair, and afros or close crops more often than
    long loose hair; East Asian hair is straighter than European."""
    african, african_share = _hair_draws("male", AFRICAN)
    european, european_share = _hair_draws("male", EUROPEAN)
    asian, _ = _hair_draws("male", {"african": 0.0, "asian": 1.0, "caucasian": 0.0})
    assert np.mean(african > 0.7) > 0.75 and np.mean(european > 0.7) < 0.4
    assert african_share["afro"] > 3 * european_share["afro"]
    assert african_share["long_straight"] < 0.5 * european_share["long_straight"]
    assert np.median(asian) < 0.6 * np.median(european)


def test_women_of_african_ancestry_wear_their_hair_long_or_tied_back_more_often_than_cropped():
    """Women's hair follows ancestry less than men's: afros still more common than among European
    women, but long or tied-back hair more common than afros, crops and short cuts together."""
    _, women = _hair_draws("female", AFRICAN)
    _, european_women = _hair_draws("female", EUROPEAN)
    cropped = sum(women[f] for f in ("afro", "buzz", "short", "bald"))
    long_or_tied = sum(women[f] for f in ("long_straight", "long_wavy", "ponytail", "bun"))
    assert women["afro"] > 2 * european_women["afro"]
    assert long_or_tied > cropped > 0.2


@pytest.mark.parametrize("side", [0.0, -0.9])
def test_a_parting_leaves_a_line_of_scalp_between_the_hair(people, side):
    """Parted families cut their shells along both sides of the parting line, from the front to the
    crown: no hair within the line, hair right up to it on both sides; the scalp painted under the
    hair is barer along it. A family worn without a parting keeps its shells whole."""
    from painsynth.avatars.cut_mesh import CutMesh
    from painsynth.avatars.hairline import parting

    spec, _, anatomy = people["adult"]
    spec = dataclasses.replace(spec, hair_family="medium", hair={**spec.hair, "part": side, "fringe": 0.0, "curl": 0.2})
    part = parting("medium", spec.hair)
    assert part.x == (0.0 if side == 0.0 else pytest.approx(-0.63))
    assert parting("medium", {**spec.hair, "fringe": 1.0}).front > part.front  # behind a fringe
    assert parting("afro", spec.hair) is None and parting("buzz", spec.hair) is None
    assert parting("medium", {**spec.hair, "curl": 0.9}) is None  # curly and coily hair is not parted
    scalp = CutMesh.of(anatomy, anatomy.head_skin & (anatomy.face[:, 2] > 0.5))
    cut = part.cut(scalp).compact()
    width = part.half_width(cut.face)
    gap = np.abs(cut.face[:, 0] - part.x)
    assert (gap >= width - 0.005).all()  # (the width narrows towards the crown: cut linearly, 0.2 mm off)
    centres = cut.face[cut.triangles].mean(axis=1)
    assert (part.distance(centres) >= -0.005).all()
    on_top = (cut.face[:, 2] > 1.2) & (cut.face[:, 1] < 1.2)  # the parting's front half
    for outside in (cut.face[:, 0] < part.x, cut.face[:, 0] > part.x):
        edge = on_top & outside & (gap < width + 1e-6)
        assert edge.sum() >= 3  # hair reaches the line on this side
    # The painted scalp: along the line, nearer the bare skin (the same head bald) than the same
    # texels are when the parting lies on the other side.
    from painsynth.avatars.reference import fields_of
    from painsynth.avatars.texture import appearance_maps

    where = fields_of(256)
    line = where.head_skin & (where.face[:, 2] > 1.3) & (where.face[:, 1] < 1.2) & (
        np.abs(where.face[:, 0] - part.x) < 0.5 * part.half_width(where.face))
    assert line.sum() > 3

    def albedo(**change):
        image = appearance_maps(dataclasses.replace(spec, **change), 256)["albedo"].astype(float)
        return image[where.rows[line], where.cols[line]]

    skin = albedo(hair_family="bald")
    parted = albedo()
    elsewhere = albedo(hair={**spec.hair, "part": 0.9 if side == 0.0 else -side})
    assert np.abs(parted - skin).mean() < 0.7 * np.abs(elsewhere - skin).mean()


def test_curls_vary_in_clumps_not_in_streaks_from_the_crown():
    """Straight strands differ in colour from strand to strand, i.e. per column of the strand texture
    (along v, from the crown to the hairline); curls vary in clumps with no direction, so a coily or
    grey curly head shows no straight lines."""
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.strands import strand_texture

    spec = dataclasses.replace(sample_avatars(1, 5)[0], hair_color="grey")

    def across_columns_over_across_rows(curly):
        image = strand_texture(spec, np.random.default_rng(0), 1.0, 0.9, curly=curly)
        light = image[..., :3].astype(float).mean(axis=2)
        return light.mean(axis=0).std() / light.mean(axis=1).std()

    assert across_columns_over_across_rows(curly=False) > 4
    assert 0.4 < across_columns_over_across_rows(curly=True) < 2.5


def test_grey_curls_are_white_hair_by_hair_not_in_blotches():
    """Greying curly hair (and beards) mixes white and pigmented hairs finely, as salt and pepper: chosen
    by the curls' clumps, the white came in blotches (lightness alike 3 texels apart at r 0.68-0.80)."""
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.strands import BEARD_BLOB, COIL_CLUMP, strand_texture

    spec = sample_avatars(1, 5)[0]
    spec = dataclasses.replace(spec, hair_color="black", hair={**spec.hair, "white": 0.4})
    for blob in (COIL_CLUMP, BEARD_BLOB):
        light = strand_texture(spec, np.random.default_rng(0), 1.0, 0.9, curly=True, blob=blob)[..., :3].mean(axis=2)
        assert np.corrcoef(light.ravel(), np.roll(light, 3, axis=1).ravel())[0, 1] < 0.3
        assert 0.25 < (light > 150).mean() < 0.55  # about the person's share of white hair


def test_curly_hair_stands_out_in_lumps(people, monkeypatch):
    """Curls stand off the scalp by a depth that varies over the head (a lumpy outline, not a cap)."""
    from painsynth.avatars import hair

    spec, _, anatomy = people["adult"]
    _TRIANGLES[0] = anatomy.triangles
    curly = dataclasses.replace(spec, hair={**spec.hair, "curl": 0.9})

    def depths():
        layers = _hair(curly, anatomy, "short")
        inner, outer = (_posed(layer, anatomy.vertices[None])[0] for layer in (layers[0], layers[-1]))
        return np.linalg.norm(outer - inner, axis=1)

    lumpy = depths()
    monkeypatch.setattr(hair, "_LOOKS", {"short": hair._ShellLook(lumps=0.0)})
    ratio = lumpy / depths()
    assert ratio.std() > 0.08
    assert ratio.min() < 0.85 and ratio.max() > 1.15


def _strands(layer, anatomy):
    """A layer's points and strand directions [N, 3] on the head at rest."""
    points, directions = _pose(layer, anatomy.vertices[None], anatomy.triangles)
    return points[0], directions[0]


def test_coils_run_every_way_and_straight_hair_down_the_head(people):
    """Straight strands run down the head, alike at neighbouring points, so their highlight is a band
    across them; coils' strands run every way from point to point, so their highlight breaks into patches."""
    from scipy.spatial import cKDTree

    spec, _, anatomy = people["adult"]

    def strands(curl):
        points, directions = _strands(_hair(dataclasses.replace(spec, hair={**spec.hair, "curl": curl}), anatomy,
                                            "short")[1], anatomy)
        nearest = cKDTree(points).query(points, k=2)[1][:, 1]
        return directions[:, 2], np.abs(np.sum(directions * directions[nearest], axis=1))

    down, alike = strands(0.0)
    assert np.median(down) < -0.5 and np.median(alike) > 0.9  # anny's z is up
    down, alike = strands(0.9)
    assert np.median(down) > -0.3 and np.median(alike) < 0.8


def test_an_afro_is_cut_close_at_the_nape_and_full_on_top(people):
    """An afro stands far off the upper head and close over the ears and at the nape: as deep there as
    on top, it read as a bob's shelf round the back of the head."""
    from scipy.spatial import cKDTree

    spec, _, anatomy = people["adult"]
    _TRIANGLES[0] = anatomy.triangles
    layers = _hair(spec, anatomy, "afro")
    inner, outer = (_posed(layer, anatomy.vertices[None])[0] for layer in (layers[0], layers[-1]))
    depth = np.linalg.norm(outer - inner, axis=1)
    elevation = anatomy.elevation[cKDTree(anatomy.vertices).query(inner)[1]]
    low, top = depth[elevation < -12].mean(), depth[elevation > 40].mean()
    assert low < 0.5 * top
    assert top > 0.02  # metres: an afro at full volume


@pytest.mark.parametrize("who", ["child", "adult"])
def test_an_afro_is_as_deep_over_the_front_of_the_crown_as_over_its_back(people, who):
    """Kept thin over the front of the head all the way up to the crown (to keep the face open), an afro
    drew a notch between two peaks in front view."""
    from scipy.spatial import cKDTree

    spec, _, anatomy = people[who]
    _TRIANGLES[0] = anatomy.triangles
    layers = _hair(spec, anatomy, "afro")
    inner, outer = (_posed(layer, anatomy.vertices[None])[0] for layer in (layers[0], layers[-1]))
    nearest = cKDTree(anatomy.vertices).query(inner)[1]
    azimuth, elevation = np.abs(anatomy.azimuth[nearest]), anatomy.elevation[nearest]
    depth = np.linalg.norm(outer - inner, axis=1)
    crown = elevation > 60
    assert depth[crown & (azimuth < 40)].mean() > 0.8 * depth[crown & (azimuth > 140)].mean()


@pytest.mark.parametrize("who", ["child", "adult"])
def test_a_bun_sits_from_the_back_of_the_head_to_a_top_knot(people, who):
    """Worn low, a bun sits at the back of the head, hidden in front view; as a top knot it rises above
    the head, so that it shows from the front (low only, a woman with her hair in a bun read as a man)."""
    spec, _, anatomy = people[who]
    _TRIANGLES[0] = anatomy.triangles
    top = anatomy.vertices[anatomy.head_skin, 2].max()
    back = anatomy.vertices[anatomy.head_skin, 1].max()  # the face looks to -y

    def bun(length):
        layers = _hair(dataclasses.replace(spec, hair={**spec.hair, "length": length}), anatomy, "bun")
        return _posed(next(layer for layer in layers if layer.name == "hair_bun"), anatomy.vertices[None])[0]

    low, high = bun(0.0), bun(1.0)
    assert low[:, 2].max() < top and low[:, 1].max() > back + 0.01
    assert high[:, 2].max() > top + 0.02


def test_coily_shells_fade_where_seen_edge_on(people):
    """A coily head's outer shells fade out where seen edge on, so its outline is soft instead of a dark
    line per shell: the same head with the fade turned off covers more of the image round the hair;
    straight hair and the first (covering) shell do not fade."""
    from painsynth.avatars.texture import appearance_maps

    spec, identity, anatomy = people["adult"]
    coily = dataclasses.replace(spec, hair={**spec.hair, "curl": 0.9})
    layers = _hair(coily, anatomy, "short")
    assert layers[0].edge_fade == 0 and all(layer.edge_fade > 0 for layer in layers[1:])
    straight = dataclasses.replace(spec, hair={**spec.hair, "curl": 0.0})
    assert all(layer.edge_fade == 0 for layer in _hair(straight, anatomy, "short"))
    maps = appearance_maps(coily, 256)
    unfaded = [dataclasses.replace(layer, edge_fade=0.0) for layer in layers]
    (faded_front, faded_side), _ = _render(identity, maps, layers, ["front", "left45"])
    (plain_front, plain_side), _ = _render(identity, maps, unfaded, ["front", "left45"])
    for faded, plain in ((faded_front, plain_front), (faded_side, plain_side)):
        background = faded[0, 0]
        covered = [np.any(image != background, axis=2).sum() for image in (faded, plain)]
        assert covered[0] < covered[1]
        assert np.abs(faded.astype(int) - plain.astype(int)).max() > 60


def test_white_hair_and_beard_on_the_darkest_skin_keep_their_strands(rig):
    # The lights are raised for dark skin (avatars.lighting); at the whole gain a white-haired, full-bearded
    # Monk 10 man's hair and beard burnt out to flat white, 21 % of this image at 250 or more, none on
    # Monk 1; at half the gain without the strands' shoulder (render.shaders) 2.3 %, with it 0.7 %.
    from painsynth.avatars import sample_avatars
    from painsynth.avatars.build import build_avatar
    from painsynth.diversity import EVEN_LIGHT
    from painsynth.render import Renderer, frame_head

    base = max(sample_avatars(8, 5), key=lambda s: s.phenotype["height"])
    renderer = Renderer(128, 128)
    still = np.zeros((1, 3), np.float32)
    try:
        for tone in (1, 10):
            spec = dataclasses.replace(base, monk_tone=tone, skin_hex=MONK_TONES[tone - 1], hair_color="white",
                                       hair={**base.hair, "white": 0.95}, hair_family="medium", gender="male",
                                       facial_hair="full_beard", age_years=70.0)
            avatar = build_avatar(spec, rig, texture_size=256)
            renderer.load_avatar(avatar)
            vertices = avatar.animate(np.zeros((1, 52), np.float32), still, still)
            camera = frame_head(avatar.identity.mesh.head_box, "front")
            image = next(iter(renderer.render_clip(vertices, [camera], EVEN_LIGHT, [np.full((128, 128, 3), 90, np.uint8)])))[0]
            assert (image.min(-1) >= 250).mean() < 0.01, tone
    finally:
        renderer.release()

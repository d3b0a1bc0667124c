"""Local-slope dimension over zoom frames (Sohl-Dickstein 2024), analysis.zoomdim."""

import numpy as np
import pytest

from gdchaos.analysis import local_slope_dimension, window_boundary
from gdchaos.analysis.zoomdim import sd_box_sizes, spanning_box_counts
from gdchaos.errors import GdchaosInputError


def _porespy_counts(im, sizes):
    """Reference: porespy.metrics.boxcount's loops (box holds a true pixel and is not all true)."""
    out = []
    for d in sizes:
        n = 0
        for i in range(0, im.shape[0], d):
            for j in range(0, im.shape[1], d):
                t = im[i:i + d, j:j + d]
                n += int(np.any(t)) - int(np.all(t))
        out.append(n)
    return np.array(out)


def _julia_frames(c, n=512, n_frames=4, iters=200):
    """Filled Julia set of z^2 + c (escape radius 4) at zooms by 2 around the alpha fixed point."""
    centre = (1 - np.sqrt(1 - 4 * complex(c))) / 2
    frames = []
    for k in range(n_frames):
        w = 4.0 / 2 ** k
        t = w * (np.arange(n) / (n - 1) - 0.5)
        z = (centre.real + t)[None, :] + 1j * (centre.imag + t)[:, None]
        alive = np.ones(z.shape, bool)
        for _ in range(iters):
            z = np.where(alive, z * z + c, z)
            alive &= np.abs(z) < 4
        frames.append(alive)
    return frames


def test_sizes_are_porespys_rule():
    # his 4096 x 4096 frames give 4095 x 4095 boundary images
    assert sd_box_sizes(4095).tolist() == [10, 19, 38, 74, 144, 282, 551, 1075, 2098, 4095]
    assert sd_box_sizes(83).tolist() == [10, 12, 16, 20, 25, 32, 40, 51, 65, 83]


def test_counts_and_slopes_match_the_reference_loops():
    rng = np.random.default_rng(1)
    for shape, p in (((97, 83), 0.1), ((64, 64), 0.5), ((50, 71), 0.97)):
        m = rng.random(shape) < p
        sz = sd_box_sizes(min(shape))
        assert spanning_box_counts(m, sz).tolist() == _porespy_counts(m, sz).tolist()
        occ = spanning_box_counts(m, sz, "occupied")
        assert np.all(occ >= spanning_box_counts(m, sz))
    m = rng.random((97, 83)) < 0.1
    r = local_slope_dimension([m], boundary="given")
    ref = _porespy_counts(m, r.sizes)
    assert r.counts[0].tolist() == ref.tolist()
    np.testing.assert_allclose(r.slopes[0], -np.gradient(np.log(ref), np.log(r.sizes)))
    assert r.dimension == pytest.approx(np.median(r.slopes[0]))


def test_window_boundary_is_his_extract_edges():
    rng = np.random.default_rng(2)
    v = rng.normal(size=(40, 30))  # a convergence measure: sign = outcome
    Y = np.stack((v[1:, 1:], v[:-1, 1:], v[1:, :-1], v[:-1, :-1]), axis=-1)
    his = np.sign(Y.max(-1) * Y.min(-1)) < 0
    assert np.array_equal(window_boundary(v), his)
    assert np.array_equal(window_boundary(v > 0), his)
    assert np.array_equal(window_boundary((v > 0).astype(np.int16)), his)
    lab = (v > 0).astype(np.int16)
    lab[:, :5] = -1  # invalid pixels never make a boundary
    b = window_boundary(lab)
    assert not b[:, :4].any() and np.array_equal(b[:, 5:], his[:, 5:])


def test_straight_boundary_has_dimension_one():
    n = 512
    X, Y = np.meshgrid(np.arange(n), np.arange(n))
    frames = [(Y - 0.3 * X - 0.37 * n * (k + 1) / 6) > 0 for k in range(4)]
    r = local_slope_dimension(frames)
    assert abs(r.dimension - 1.0) < 0.05, r.dimension
    assert r.ci[0] <= r.dimension <= r.ci[1] and r.iqr[0] <= r.dimension <= r.iqr[1]
    assert r.counts.shape == r.slopes.shape == (4, r.sizes.size) and r.n_frames == 4
    assert np.all(np.diff(r.counts, axis=1) <= 0)  # fewer boxes at larger sizes


@pytest.mark.parametrize("c,truth", [(-1.0, 1.2683), (-0.1226 + 0.7449j, 1.3934)],
                         ids=["basilica", "rabbit"])
def test_julia_boundary_of_known_dimension(c, truth):
    # hyperbolic quadratic Julia sets; Hausdorff = box dimension (McMullen's values 1.2683,
    # 1.3934).  Band: +-0.05 at 512 x 512 frames (measured 1.268 and 1.374 with 6 frames).
    r = local_slope_dimension(_julia_frames(c))
    assert abs(r.dimension - truth) < 0.05, (r.dimension, r.frame_medians)
    assert np.all(np.isfinite(r.frame_medians)) and np.all(r.n_boundary > 0)


def test_julia_dimensions_are_ordered():
    b = local_slope_dimension(_julia_frames(-1.0, n=256, n_frames=2)).dimension
    r = local_slope_dimension(_julia_frames(-0.1226 + 0.7449j, n=256, n_frames=2)).dimension
    assert 1.05 < b < r < 1.6, (b, r)


def test_noise_and_filled_maps_have_dimension_two():
    rng = np.random.default_rng(3)
    r = local_slope_dimension([rng.random((512, 512)) < 0.5 for _ in range(2)])
    assert 1.9 < r.dimension < 2.1, r.dimension
    full = np.ones((256, 256), bool)
    r = local_slope_dimension([full], boundary="given", count="occupied", sizes="dyadic",
                              min_size=1)
    assert r.sizes.tolist() == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    np.testing.assert_allclose(r.slopes[0], 2.0)
    assert r.dimension == 2.0


def test_size_range_and_difference_slopes():
    rng = np.random.default_rng(4)
    fr = [rng.random((300, 300)) < 0.5]
    r = local_slope_dimension(fr, size_range=(10, 60), slope="difference")
    assert r.used.tolist() == [10 <= s <= 60 for s in r.sizes]
    assert r.pooled_slopes.size == np.count_nonzero(r.used)
    d = r.as_dict()
    assert d["method"]["slope"] == "difference" and len(d["sizes"]) == r.sizes.size


@pytest.mark.parametrize("frames,msg", [
    ([], "empty"),
    ([np.zeros((64, 64), bool), np.zeros((64, 32), bool)], "one shape"),
    ([np.zeros(64, bool)], "2-D"),
    ([np.zeros((64, 64), bool)], "no frame has a boundary"),
    ([np.zeros((8, 8), bool)], "too small"),
    ([np.array([["a", "b"], ["c", "d"]])], "dtype"),
])
def test_bad_input_is_one_clear_error(frames, msg):
    with pytest.raises(GdchaosInputError, match=msg) as e:
        local_slope_dimension(frames)
    assert "\n" not in str(e.value)


def test_bad_options():
    m = np.zeros((64, 64), bool)
    m[:, 30:] = True
    for kw in ({"boundary": "edge"}, {"count": "all"}, {"slope": "fit"}, {"sizes": "linear"},
               {"sizes": [10, 5]}, {"sizes": [1, 2, 4]}, {"size_range": (100, 200)},
               {"level": 1.5}):
        with pytest.raises(GdchaosInputError):
            local_slope_dimension([m], **kw)
    with pytest.raises(GdchaosInputError, match="boolean"):
        local_slope_dimension([m.astype(float)], boundary="given")
    assert abs(local_slope_dimension([m], sizes=[2, 4, 8, 16], count="occupied").dimension
               - 1.0) < 0.01

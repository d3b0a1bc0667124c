"""Boundary-refined maps (issue 20): a tile computed on a coarse lattice, subdivided where the
outcomes differ (and next to it), filled elsewhere, with a seeded check sample of the filled
pixels.  Checked against known pictures (where the right answer is every pixel), against the
full map of the same run (figure 3's quotient window, a hyperparameter map, a network map), and
through stores, resume, the command line and a rerun."""

import json
import subprocess
import sys

import numpy as np
import pytest

import gdchaos as gc
from gdchaos.engine import _refine, _run
from gdchaos.engine._refine import Refine, as_refine, refine_summary, refine_tile, wilson
from gdchaos.errors import GdchaosInputError


def _picture(truth, **extra):
    """``compute_at`` of a known picture; counts the pixels asked for."""
    calls = []

    def compute(r, c):
        calls.append(r.size)
        out = {"status": truth[r, c], "final_loss": r * 1000.0 + c}
        out.update({k: v(r, c) for k, v in extra.items()})
        return out

    return compute, calls


def _disc(R, N, cy, cx, rad):
    yy, xx = np.mgrid[0:R, 0:N]
    return ((yy - cy) ** 2 + (xx - cx) ** 2 < rad ** 2).astype(np.int8)


# ------------------------------------------------------------------------- the algorithm
def test_a_disc_is_exact_and_costs_its_outline():
    """A disc far larger than the coarse cell: every pixel right, the computed ones hold their
    own values (never a neighbour's), and the cost is about the outline, not the area."""
    R, N = 256, 300
    truth = _disc(R, N, 120, 150, 90)
    compute, calls = _picture(truth)
    out = refine_tile(compute, R, N, Refine(levels=4, check=0.0, min_check=0), [0])
    assert np.array_equal(out["status"], truth)
    done = out["computed"] == 1
    yy, xx = np.mgrid[0:R, 0:N]
    assert np.array_equal(out["final_loss"][done], (yy * 1000.0 + xx)[done])
    assert set(np.unique(out["computed"])) <= {0, 1}
    assert sum(calls) == int(done.sum()) and done.mean() < 0.15
    # every boundary pixel (a 4-neighbour differs) was computed, and the pixels next to it
    edge = np.zeros_like(done)
    edge[:-1] |= truth[:-1] != truth[1:]
    edge[1:] |= truth[:-1] != truth[1:]
    edge[:, :-1] |= truth[:, :-1] != truth[:, 1:]
    edge[:, 1:] |= truth[:, :-1] != truth[:, 1:]
    assert done[edge].all()


def test_noise_is_computed_in_full():
    """Outcomes that differ between neighbours everywhere (a chaotic region): refinement
    computes (nearly) every pixel and gets every one right."""
    R, N = 64, 80
    truth = np.random.default_rng(3).integers(0, 3, (R, N)).astype(np.int8)
    out = refine_tile(_picture(truth)[0], R, N, Refine(levels=3, check=0.0, min_check=0), [0])
    assert (out["computed"] == 1).mean() > 0.97
    assert (out["status"] == truth).mean() > 0.995


@pytest.mark.parametrize("R, N", [(1, 1), (1, 2), (1, 33), (2, 1), (3, 5), (17, 2), (17, 33),
                                  (16, 16), (33, 17)])
def test_every_pixel_is_computed_or_filled_whatever_the_shape(R, N):
    """Tiles of one row, one column, sizes off the lattice: no pixel is left unset (a pixel
    outside the picture's values would show it), a large feature is exact."""
    truth = np.zeros((R, N), dtype=np.int8)
    truth[:, N // 2:] = 2
    out = refine_tile(_picture(truth)[0], R, N, Refine(levels=3, check=0.0, min_check=0), [0])
    assert np.array_equal(out["status"], truth)
    assert np.isin(out["final_loss"] // 1000, np.arange(R)).all()
    assert out["computed"].shape == (R, N)


def test_an_island_inside_a_cell_is_missed_and_the_sample_finds_it():
    """An island smaller than the coarse cell that touches no lattice point is invisible to
    refinement (docs/maps.md says so); a sample of every filled pixel finds each of its pixels
    (code 3) and stores their computed values, and the summary counts them."""
    R, N = 64, 64
    truth = np.zeros((R, N), dtype=np.int8)
    truth[21:24, 37:40] = 1  # inside the 16-pixel cell [16, 32] x [32, 48], off every corner
    miss = refine_tile(_picture(truth)[0], R, N, Refine(levels=4, check=0.0, min_check=0), [0])
    assert (miss["status"][21:24, 37:40] == 0).all()
    assert (miss["computed"] == 1).mean() < 0.1
    found = refine_tile(_picture(truth)[0], R, N, Refine(levels=4, check=1.0), [0])
    assert np.array_equal(found["status"], truth)
    assert (found["computed"][21:24, 37:40] == 3).all()
    s = refine_summary(found["computed"])
    assert s["disagreements"] == 9 and s["samples"] == int((miss["computed"] == 0).sum())
    lo, hi = s["disagreement_interval"]
    assert lo < 9 / s["samples"] < hi


def test_the_sample_is_seeded_and_counts_honestly():
    R, N = 96, 128
    truth = _disc(R, N, 40, 60, 30)
    truth[70:72, 100:102] = 1  # an island the lattice misses
    r = Refine(levels=4, check=0.05, min_check=16, seed=7)
    a = refine_tile(_picture(truth)[0], R, N, r, [7, 0])
    b = refine_tile(_picture(truth)[0], R, N, r, [7, 0])
    c = refine_tile(_picture(truth)[0], R, N, r, [8, 0])
    assert np.array_equal(a["computed"], b["computed"])
    assert not np.array_equal(a["computed"], c["computed"])
    sampled = np.isin(a["computed"], (2, 3))
    filled_or_sampled = (a["computed"] != 1)
    assert sampled.sum() == max(16, int(np.ceil(0.05 * filled_or_sampled.sum())))
    # a sampled pixel disagrees exactly where the fill (what a run without it gives) is wrong
    plain = refine_tile(_picture(truth)[0], R, N, Refine(levels=4, check=0.0, min_check=0), [0])
    wrong = plain["status"] != truth
    assert np.array_equal(a["computed"][sampled] == 3, wrong[sampled])


def test_wilson_interval():
    lo, hi = wilson(0, 100)
    assert lo == 0.0 and 0.03 < hi < 0.04  # the rule of three's neighbourhood
    lo, hi = wilson(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)


@pytest.mark.parametrize("bad", [0.5, 11, -1, "4", {"levels": 4, "steps": 3}, True + 1j])
def test_bad_refine_settings_are_one_line(bad):
    with pytest.raises(GdchaosInputError):
        as_refine(bad)


def test_refine_spellings():
    assert as_refine(None) is None and as_refine(False) is None and as_refine(0) is None
    assert as_refine(True) == Refine() and as_refine(3) == Refine(levels=3)
    assert as_refine({"levels": 2, "check": 0.5}) == Refine(levels=2, check=0.5)
    with pytest.raises(GdchaosInputError):
        Refine(check=1.5)


# ------------------------------------------------------------------- against full maps
QUOTIENT = gc.QuotientMap(y=0.5, lam=0.2)
CFG = gc.RunConfig(eta=1.0, max_iter=200)


@pytest.fixture(scope="module")
def window():
    """Figure 3's quotient window at 384^2, full and refined."""
    g = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 384)
    return g, gc.basin(QUOTIENT, g, config=CFG), gc.basin(QUOTIENT, g, config=CFG, refine=True)


def test_figure_3_window_refined_agrees_with_the_full_map(window):
    g, full, ref = window
    agree = (full.status.values == ref.status.values).mean()
    assert agree >= 0.999
    done = ref.computed.values != 0
    assert done.mean() < 0.25
    for k in full.data_vars:  # a computed pixel has the bits of the full map
        if full[k].dims[:2] == ("y", "x"):
            assert np.array_equal(full[k].values[done], ref[k].values[done], equal_nan=True), k
    a = ref.attrs
    assert a["refine_pixels"] == 384 * 384 and a["refine_samples"] > 0
    assert a["refine_computed_fraction"] == pytest.approx(done.mean())
    # the measured disagreement of the fill covers what the full map shows
    filled = ref.computed.values == 0
    true_rate = (full.status.values[filled] != ref.status.values[filled]).mean()
    lo, hi = a["refine_disagreement_interval"]
    assert true_rate <= hi
    assert json.loads(a["gdchaos_run"])["refine"] == Refine().spec()
    assert ref.computed.attrs["flag_meanings"].split()[1:] == ["filled", "computed",
                                                                 "sampled_agree",
                                                                 "sampled_disagree"]


def test_fractions_and_dimension_read_a_refined_store_like_a_full_one(tmp_path, window):
    from gdchaos.analysis import store_dimension

    g, full, ref = window
    a, b = tmp_path / "full.zarr", tmp_path / "ref.zarr"
    gc.basin(QUOTIENT, g, config=CFG, store=str(a))
    gc.basin(QUOTIENT, g, config=CFG, store=str(b), refine=True)
    fa, fb = (gc.status_fractions(gc.open_store(p).status.values) for p in (a, b))
    assert all(abs(fa[k] - fb[k]) < 1e-3 for k in fa)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        da, db = store_dimension(str(a)), store_dimension(str(b))
    assert abs(da.dimension - db.dimension) < 0.02


def test_a_refined_store_is_the_in_memory_map_and_resumes_bit_for_bit(tmp_path, monkeypatch):
    g = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 96)
    mem = gc.basin(QUOTIENT, g, config=CFG, refine=2, tile_rows=16)
    s = tmp_path / "s.zarr"
    real, calls = _refine.refine_tile, []

    def dying(*a, **k):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(_refine, "refine_tile", dying)
    with pytest.raises(KeyboardInterrupt):
        gc.basin(QUOTIENT, g, config=CFG, refine=2, tile_rows=16, store=str(s))
    monkeypatch.setattr(_refine, "refine_tile", real)
    ds = gc.basin(QUOTIENT, g, config=CFG, refine=2, tile_rows=16, store=str(s))
    for k in mem.data_vars:
        assert np.array_equal(mem[k].values, ds[k].values, equal_nan=True), k
    assert ds.attrs["refine_samples"] == mem.attrs["refine_samples"]
    assert gc.verify_store(str(s))["ok"]
    # another refinement is another run: the store refuses it, naming the setting
    with pytest.raises(GdchaosInputError, match="refine"):
        gc.basin(QUOTIENT, g, config=CFG, refine=3, tile_rows=16, store=str(s))


def test_a_hyperparameter_map_refined_agrees_with_the_full_map():
    prob = gc.ScalarFactorization(d=2, y=1.0)
    x, y = gc.Axis("eta", 0.5, 2.5), gc.Axis("momentum", 0.0, 0.95)
    kw = dict(optimizer=gc.Optimizer("heavy_ball"), max_iter=500)
    full = gc.hyper_map(prob, x, y, 160, **kw)
    ref = gc.hyper_map(prob, x, y, 160, refine=3, **kw)
    assert (full.status.values == ref.status.values).mean() >= 0.995
    done = ref.computed.values != 0
    assert done.mean() < 0.5
    for k in ("status", "iterations", "final_loss", "score"):
        assert np.array_equal(full[k].values[done], ref[k].values[done], equal_nan=True), k


def test_a_network_map_refined_follows_the_trainability_boundary():
    """Sohl-Dickstein's tanh map (small): refinement compares trainability too, so the
    trainable fraction matches the full map's."""
    pytest.importorskip("torch")
    from gdchaos.nn.maps import NetMapSettings, network_map

    s = NetMapSettings(width=4, iters=60)
    full = network_map(s, grid=32)
    ref = network_map(s, grid=32, refine=2)
    assert (full.trainable.values == ref.trainable.values).mean() >= 0.97
    done = ref.computed.values != 0
    assert np.array_equal(full.score.values[done], ref.score.values[done], equal_nan=True)


# ---------------------------------------------------------------------- command line
def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "gdchaos.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


BASIN = ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1",
         "--grid", "128", "--iters", "200"]


def test_cli_refine_prints_the_measured_error_and_reruns(tmp_path):
    r = _cli(*BASIN, "--out", "r.zarr", "--refine", "3", "--quiet", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    r = _cli(*BASIN, "--out", "r.zarr", "--refine", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    line = [s for s in r.stdout.splitlines() if s.startswith("refined: ")]
    assert len(line) == 1 and "sampled filled pixels disagree" in line[0]
    r = _cli(*BASIN, "--out", "r.zarr", "--refine", "3", "--json", cwd=tmp_path)
    rec = json.loads(r.stdout)
    assert rec["refine"]["samples"] > 0 and 0 < rec["refine"]["computed_fraction"] < 1
    r = _cli("rerun", "r.zarr", "--out", "again.zarr", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    a, b = gc.open_store(str(tmp_path / "r.zarr")), gc.open_store(str(tmp_path / "again.zarr"))
    assert np.array_equal(a.computed.values, b.computed.values)
    assert np.array_equal(a.status.values, b.status.values)


@pytest.mark.parametrize("extra, msg", [
    (["--refine-check", "0.1"], "--refine-check needs --refine"),
    (["--refine", "0"], "--refine"),
    (["--refine", "2", "--refine-check", "2"], "refine check"),
])
def test_cli_refine_bad_input_is_one_line_before_anything_is_written(tmp_path, extra, msg):
    r = _cli(*BASIN, "--out", "r.zarr", *extra, cwd=tmp_path)
    assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r.zarr").exists()


def test_map_refine_on_the_command_line(tmp_path):
    r = _cli("map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
             "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--grid", "64",
             "--out", "m.zarr", "--refine", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert any(s.startswith("refined: ") for s in r.stdout.splitlines())
    ds = gc.open_store(str(tmp_path / "m.zarr"))
    assert "computed" in ds and ds.attrs["refine_pixels"] == 64 * 64


def test_the_pixel_points_are_the_grid_points():
    g = gc.Slice2D.random(5, (-1.3, 2.1), (0.2, 7.7), 37, 23, seed=4)
    r, c = np.divmod(np.arange(37 * 23), 37)
    assert np.array_equal(g.points_at(r, c), g.points())


def test_a_refined_tile_reports_its_levels_and_moves_within_the_tile():
    """The bar of a refined map says which level its tile is at and moves as the levels go
    (issue 20: 'a refined map reports its levels')."""
    from gdchaos.engine._progress import TileBar

    class Bar:
        def __init__(self):
            self.n, self.notes, self.moves = 0.0, [], []

        def update(self, d):
            self.n += d
            self.moves.append(self.n)

        def set_postfix_str(self, s, refresh=True):
            self.notes.append(s)

    truth = _disc(64, 64, 30, 30, 20)
    bar = Bar()
    TileBar(bar).compute(refine_tile, _picture(truth)[0], 64, 64, Refine(levels=3), [0])
    assert bar.notes == ["lattice every 8 px", "level 1/3", "level 2/3", "level 3/3",
                         "check sample"]
    assert len(bar.moves) >= 4 and bar.n == pytest.approx(1.0)


def test_a_refined_map_is_the_same_for_any_thread_count():
    import numba

    g = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 200)
    n = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = gc.basin(QUOTIENT, g, config=CFG, refine=3)
        numba.set_num_threads(max(2, n))
        two = gc.basin(QUOTIENT, g, config=CFG, refine=3)
    finally:
        numba.set_num_threads(n)
    for k in one.data_vars:
        assert np.array_equal(one[k].values, two[k].values, equal_nan=True), k


def test_status_fractions_take_a_dataset(window):
    g, full, ref = window
    assert gc.status_fractions(ref) == gc.status_fractions(ref.status.values)
    with pytest.raises(GdchaosInputError, match="no status variable"):
        gc.status_fractions(ref[["computed"]])

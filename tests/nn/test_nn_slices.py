"""Parameter-space slices: batched tiles against per-network training, resumable store, maps."""

import numpy as np
import pytest
import torch

from gdchaos.errors import GdchaosInputError
from gdchaos.status import CONVERGED, DIVERGED, UNDECIDED
from gdchaos.nn import run_slice, slice_directions, slice_preset, slice_problem, train


#: per dataset, a window of the slice that holds all three outcomes at 90 steps
WINDOWS = {"digits": (2.0, 24.0, 1.0, 16.0), "cifar10": (2.0, 60.0, 1.0, 40.0)}


def _small(data_dir=None, dataset="digits", **kw):
    base = {"dataset": dataset, "data_dir": None if data_dir is None else str(data_dir),
            "n_per_class": 10, "hidden": (8, 8), "grid": (4, 3), "range": WINDOWS[dataset],
            "iters": 200, "tol": 1e-3, "eta": 0.05, "weight_decay": 1e-3}
    base.update(kw)
    return slice_preset("paper", **base)


@pytest.fixture(params=["digits", "cifar10"])
def dataset(request):
    """``(dataset, data folder)``: digits always, CIFAR-10 when present (skip otherwise)."""
    if request.param == "digits":
        return "digits", None
    return "cifar10", request.getfixturevalue("cifar_data")


def test_directions_orthonormal_and_seeded():
    D = slice_directions(1000, seed=4)
    assert D.shape == (2, 1000) and D.dtype == torch.float64
    assert torch.allclose(D @ D.T, torch.eye(2, dtype=torch.float64), rtol=0, atol=1e-15)
    assert torch.equal(D, slice_directions(1000, seed=4))
    assert not torch.equal(D, slice_directions(1000, seed=5))


def test_paper_preset_settings():
    s = slice_preset("paper")
    assert (s.hidden, s.eta, s.weight_decay, s.iters, s.grid, s.range, s.tol, s.div) == (
        (25, 25), 0.05, 1e-3, 3000, (300, 300), (32.0, 42.0, 16.0, 24.0), 5e-4, 1e4)
    with pytest.raises(GdchaosInputError):
        slice_preset("paper", range=(1.0, 0.0, 0.0, 1.0))
    with pytest.raises(GdchaosInputError):
        slice_preset("huge")
    with pytest.raises(GdchaosInputError):
        slice_preset("paper", no_such_setting=1)


def test_batched_slice_equals_per_network_training(dataset):
    # 90 steps: long enough for all three outcomes, short enough that the chaotic points do not
    # amplify the rounding differences (reduced coordinates, batched products) beyond 1e-10
    name, folder = dataset
    s = _small(folder, name, momentum=0.5, iters=90, tol=3e-3)
    res = run_slice(s)
    ds = res.dataset
    st = ds["status"].values
    assert st.shape == (3, 4) and set(np.unique(st).tolist()) == {CONVERGED, UNDECIDED, DIVERGED}
    data, widths, grid, init = slice_problem(s)
    D = torch.from_numpy(grid.directions)
    xs, ys = ds["x"].values, ds["y"].values
    for i in range(3):
        for j in range(4):
            p0 = init([i * 4 + j])[0]
            assert torch.allclose(p0, xs[j] * D[0] + ys[i] * D[1], rtol=0, atol=0)
            r = train(p0, data.X, data.y, widths, s.eta, momentum=s.momentum,
                      weight_decay=s.weight_decay, iters=s.iters, tol=s.tol, div=s.div)
            assert st[i, j] == r.status and ds["steps"].values[i, j] == r.steps
            assert ds["final_loss"].values[i, j] == pytest.approx(r.final_loss, rel=1e-10)
            assert ds["sq_norm"].values[i, j] == pytest.approx(r.sq_norm, rel=1e-10)
            if r.status != DIVERGED:
                assert ds["final_sharpness"].values[i, j] == pytest.approx(r.final_sharpness,
                                                                           rel=1e-8)
            else:
                assert np.isnan(ds["final_sharpness"].values[i, j])


def test_resume_equals_one_shot_and_refuses_other_runs(tmp_path):
    s = _small(tile_rows=1, grid=(3, 3))
    one = run_slice(s).dataset
    out = tmp_path / "s.zarr"
    part = run_slice(s, out=out, max_tiles=1)
    assert part.summary["tiles_pending"] == 2
    assert np.all(part.dataset["status"].values[1:] == -1)
    full = run_slice(s, out=out, png=tmp_path / "s.png")
    assert full.summary["tiles_computed"] == 2 and full.summary["tiles_pending"] == 0
    for v in ("status", "steps", "final_loss", "sq_norm", "final_sharpness"):
        assert np.array_equal(one[v].values, full.dataset[v].values, equal_nan=True), v
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert full.dataset["slice_directions"].shape[0] == 2
    with pytest.raises(GdchaosInputError, match="different parameters"):
        run_slice(_small(tile_rows=1, grid=(3, 3), eta=0.06), out=out)
    again = run_slice(_small(tile_rows=1, grid=(3, 3), eta=0.06), out=out,
                      overwrite=True)
    assert again.summary["tiles_computed"] == 3


def test_workers_give_identical_results():
    s = _small(tile_rows=1, grid=(3, 2), iters=50)
    a = run_slice(s, workers=1).dataset
    b = run_slice(s, workers=2).dataset
    for v in ("status", "final_loss", "final_sharpness"):
        assert np.array_equal(a[v].values, b[v].values, equal_nan=True)


def test_slice_is_the_engines_slice2d_and_stored_like_it():
    """One type describes every slice: a gdchaos.Slice2D (origin, the torch directions of
    ``seed``, nx first), stored as the engine stores it (slice_center, slice_directions), with
    the convergence rule beside the data."""
    from gdchaos import Slice2D
    from gdchaos.nn import slice_grid

    s = _small(grid=(4, 3), iters=20)
    res = run_slice(s)
    g = res.grid
    assert isinstance(g, Slice2D) and (g.nx, g.ny) == (4, 3) and g.seed == s.seed
    n = g.n_params
    assert np.array_equal(g.directions, slice_directions(n, s.seed).numpy())
    assert not np.any(g.center)
    assert np.array_equal(res.dataset["slice_directions"].values, g.directions)
    assert np.array_equal(res.dataset["slice_center"].values, g.center)
    assert np.array_equal(res.dataset["x"].values, g.xs)
    assert np.array_equal(res.dataset["y"].values, g.ys)
    assert res.dataset["status"].shape == (3, 4) and res.summary["grid"] == [4, 3]
    assert slice_grid(s, n).spec() == g.spec()
    assert res.dataset.attrs["convergence_rule"] == "loss_below_tol"
    assert res.summary["convergence_rule"] == "loss_below_tol"
    with pytest.raises(GdchaosInputError, match="convergence rule"):
        _small(convergence_rule="loss_below_tol_and_stable")


def test_digits_slice_runs_and_fractions():
    """Statuses of a digits slice against independent single-network runs from the same
    initialization (directions rebuilt here, not taken from the slice), and fractions that are
    the shares of those statuses."""
    s = slice_preset("quick", dataset="digits", hidden=(6, 6), grid=(5, 4), iters=200,
                     range=(0.0, 24.0, 0.0, 24.0), tol=1e-2)
    res = run_slice(s)
    st = res.dataset["status"].values
    assert st.shape == (4, 5)
    # this window holds all three outcomes; the far corner diverges at once
    assert set(np.unique(st).tolist()) == {CONVERGED, DIVERGED, UNDECIDED}
    assert st[-1, -1] == DIVERGED and res.dataset["steps"].values[-1, -1] <= 1
    from gdchaos.nn import load_pair, n_params

    d = load_pair("digits", (0, 1), 25, seed=0)
    widths = (64, 6, 6, 1)
    g = torch.Generator().manual_seed(s.seed)
    G = torch.randn(2, n_params(widths), dtype=torch.float64, generator=g)
    Q, R = torch.linalg.qr(G.T)  # the same plane, orthonormalized another way
    D = (Q * torch.sign(torch.diagonal(R))).T
    xs, ys = np.linspace(0, 24, 5), np.linspace(0, 24, 4)
    picks = [(i, j) for code in (CONVERGED, DIVERGED, UNDECIDED)
             for i, j in zip(*np.nonzero(st == code))][::2] + [(0, 0), (3, 4)]
    assert {int(st[i, j]) for i, j in picks} == {CONVERGED, DIVERGED, UNDECIDED}
    for i, j in picks:
        p0 = xs[j] * D[0] + ys[i] * D[1]
        r = train(p0, d.X, d.y, widths, s.eta, weight_decay=s.weight_decay, iters=s.iters,
                  tol=s.tol, div=s.div, final_sharpness=None)
        assert st[i, j] == r.status, (i, j)
        assert r.convergence_rule == "loss_below_tol"
    fr = res.summary["fractions"]
    for code, name in ((CONVERGED, "converged"), (DIVERGED, "diverged"),
                       (UNDECIDED, "undecided")):
        assert fr[name] == np.count_nonzero(st == code) / st.size
    assert fr["not_run"] == 0.0
    assert res.summary["network_steps"] == int(res.dataset["steps"].values.sum())
    assert res.summary["network_steps_per_second"] > 0
    assert res.dataset.attrs["widths"] == [64, 6, 6, 1]


def test_a_refined_slice_agrees_with_the_full_slice_and_resumes(tmp_path):
    """Boundary refinement on a network slice (issue 20): statuses as the full slice's where
    computed (steps too; the losses to rounding: the networks are batched differently), nearly
    everywhere else, fewer networks trained, the refined pixels and the measured error stored;
    an interrupted refined store resumes to the same data; a slice computed in full keeps the
    record it had before refinement existed."""
    kw = dict(grid=(24, 20), iters=90, sharpness_method="none", tile_rows=10)
    full = run_slice(_small(**kw))
    ref = run_slice(_small(refine=2, **kw))
    a, b = full.dataset, ref.dataset
    done = b["computed"].values != 0
    assert (a.status.values == b.status.values).mean() >= 0.97
    assert np.array_equal(a.status.values[done], b.status.values[done])
    assert np.array_equal(a.steps.values[done], b.steps.values[done])
    np.testing.assert_allclose(a.final_loss.values[done], b.final_loss.values[done], rtol=1e-9)
    assert ref.summary["network_steps"] < full.summary["network_steps"]
    assert ref.summary["refine"]["samples"] > 0 and 0 < ref.summary["refine"]["computed_fraction"] < 1
    out = tmp_path / "r.zarr"
    run_slice(_small(refine=2, **kw), out=out, max_tiles=1)
    again = run_slice(_small(refine=2, **kw), out=out).dataset
    for v in ("status", "steps", "final_loss", "computed"):
        assert np.array_equal(again[v].values, b[v].values, equal_nan=True), v
    import json

    assert "refine" not in json.loads(a.attrs["gdchaos_run"])
    assert json.loads(again.attrs["gdchaos_run"])["refine"] == 2
    with pytest.raises(GdchaosInputError, match="refine"):
        _small(refine_check=0.1, **kw).validate()

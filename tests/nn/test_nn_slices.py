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
            "n_per_class": 10, "hidden": (8, 8), "grid": (3, 4), "range": WINDOWS[dataset],
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
    data, widths, D, init = slice_problem(s)
    xs, ys = ds["x"].values, ds["y"].values
    for i in range(3):
        for j in range(4):
            p0 = init([i * 4 + j])[0]
            assert torch.allclose(p0, xs[j] * D[0] + ys[i] * D[1], rtol=0, atol=0)
            r = train(p0, data.X, data.y, widths, s.eta, momentum=s.momentum,
                      weight_decay=s.weight_decay, iters=s.iters, tol=s.tol, div=s.div)
            assert st[i, j] == r.status and ds["steps"].values[i, j] == r.steps
            assert ds["final_loss"].values[i, j] == pytest.approx(r.final_loss, rel=1e-10)
            assert ds["final_norm"].values[i, j] == pytest.approx(r.final_norm, rel=1e-10)
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
    for v in ("status", "steps", "final_loss", "final_norm", "final_sharpness"):
        assert np.array_equal(one[v].values, full.dataset[v].values, equal_nan=True), v
    assert (tmp_path / "s.png").stat().st_size > 10_000
    assert full.dataset["directions"].shape[0] == 2
    with pytest.raises(GdchaosInputError, match="different parameters"):
        run_slice(_small(tile_rows=1, grid=(3, 3), eta=0.06), out=out)
    again = run_slice(_small(tile_rows=1, grid=(3, 3), eta=0.06), out=out,
                      overwrite=True)
    assert again.summary["tiles_computed"] == 3


def test_workers_give_identical_results():
    s = _small(tile_rows=1, grid=(2, 3), iters=50)
    a = run_slice(s, workers=1).dataset
    b = run_slice(s, workers=2).dataset
    for v in ("status", "final_loss", "final_sharpness"):
        assert np.array_equal(a[v].values, b[v].values, equal_nan=True)


def test_digits_slice_runs_and_fractions():
    s = slice_preset("quick", dataset="digits", hidden=(6, 6), grid=(4, 4), iters=100,
                     range=(0.0, 8.0, 0.0, 8.0), tol=1e-3)
    res = run_slice(s)
    fr = res.summary["fractions"]
    assert sum(fr[k] for k in ("converged", "diverged", "undecided")) == pytest.approx(1.0)
    assert res.summary["network_steps"] > 0 and res.summary["network_steps_per_second"] > 0
    assert res.dataset.attrs["widths"] == [64, 6, 6, 1]

"""Step-size sweeps: one initialization, many step sizes, store and figure."""

import numpy as np
import pytest

from gdchaos.errors import GdchaosInputError
from gdchaos.status import CONVERGED
from gdchaos.nn import eta_grid, init_params, run_sweep, sweep_preset, train


def test_paper_preset_settings():
    s = sweep_preset("paper")
    assert s.hidden == (100, 100) and s.n_eta == 500 and s.iters == 5000
    assert s.momenta == (0.0, 0.9) and s.eta_ranges == ((0.01, 0.15), (0.005, 0.07))
    g = eta_grid(s)
    assert g.shape == (2, 500) and g[0, 0] == 0.01 and g[0, -1] == 0.15 and g[1, -1] == 0.07
    with pytest.raises(GdchaosInputError):
        sweep_preset("paper", momenta=(0.0,))  # one range per momentum
    with pytest.raises(GdchaosInputError):
        sweep_preset("paper", loss="ce", targets="pm1")


def test_digits_sweep_store_and_figure(tmp_path):
    s = sweep_preset("quick", dataset="digits", n_per_class=10, hidden=(16, 16), n_eta=5,
                     iters=600, momenta=(0.0, 0.9), eta_ranges=((0.1, 0.5), (0.02, 0.1)),
                     sharpness_every=100)
    res = run_sweep(s, out=tmp_path / "w.zarr", png=tmp_path / "w.png")
    ds = res.dataset
    assert ds["loss_history"].shape == (2, 5, 601)
    assert ds["sharpness_history"].shape == (2, 5, 7)
    assert np.allclose(ds["eta"].values, eta_grid(s))
    assert (tmp_path / "w.png").stat().st_size > 10_000
    sm = res.summary
    assert set(sm) >= {"fractions", "seconds", "network_steps", "network_steps_per_second",
                       "outputs", "arms"}
    assert sm["outputs"]["store"].endswith("w.zarr")
    # the sweep's first network equals the per-network reference from the same initialization
    from gdchaos.nn import load_pair

    d = load_pair("digits", (0, 1), 10, seed=0)
    p0 = init_params((64, 16, 16, 1), seed=0)
    assert np.array_equal(ds["init_params"].values, p0.numpy())
    r = train(p0, d.X, d.y, (64, 16, 16, 1), 0.1, iters=600)
    assert ds["status"].values[0, 0] == r.status
    assert ds["final_norm"].values[0, 0] == pytest.approx(r.final_norm, rel=1e-10)
    # resuming a finished store recomputes nothing and returns the same data
    again = run_sweep(s, out=tmp_path / "w.zarr")
    assert again.summary["tiles_computed"] == 0
    assert np.array_equal(again.dataset["final_loss"].values, ds["final_loss"].values,
                          equal_nan=True)
    assert CONVERGED in np.unique(ds["status"].values)

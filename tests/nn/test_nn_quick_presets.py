"""The quick presets show what the paper shows (slow: a minute or two each on 2 cores)."""

import numpy as np
import pytest

from gdchaos.status import CONVERGED, DIVERGED
from gdchaos.nn import run_slice, run_sweep, slice_preset, sweep_preset

pytestmark = pytest.mark.slow


def test_quick_sweep_two_regimes(cifar_data, tmp_path):
    res = run_sweep(sweep_preset("quick", data_dir=str(cifar_data)), png=tmp_path / "f4.png",
                    workers=2)
    ds = res.dataset
    eta, st, fs = ds["eta"].values[0], ds["status"].values[0], ds["final_sharpness"].values[0]
    ratio = fs * eta / 2
    # edge of stability: final sharpness within 10% of 2/eta, a smooth function of eta
    eos = (eta >= 0.03) & (eta <= 0.07)
    assert np.mean(np.abs(ratio[eos] - 1) < 0.1) >= 0.9
    assert np.mean(st[eos] == CONVERGED) >= 0.8
    # chaotic regime: the outcome jumps with eta, sharpness anywhere below 2/eta
    chaos = (eta > 0.09) & (st != DIVERGED)
    assert chaos.sum() >= 5
    assert np.nanmin(ratio[chaos]) < 0.3 and np.nanmax(ratio[chaos]) > 0.5
    assert np.nanmax(ratio[chaos]) < 1.1
    # momentum: converged networks stay below (2 + 2 beta)/eta
    beta = ds["momentum"].values[1]
    m = ds["status"].values[1] == CONVERGED
    r1 = ds["final_sharpness"].values[1][m] * ds["eta"].values[1][m] / (2 + 2 * beta)
    assert m.sum() >= 20 and np.all(r1 < 1.1)
    assert (tmp_path / "f4.png").is_file()


def test_quick_slice_intricate_boundary(cifar_data, tmp_path):
    s = slice_preset("quick", data_dir=str(cifar_data))
    res = run_slice(s, png=tmp_path / "f5.png", workers=2)
    st = res.dataset["status"].values
    fr = res.summary["fractions"]
    assert fr["converged"] > 0.2 and fr["diverged"] > 0.2
    div = st == DIVERGED
    # boundary cells: a diverged cell next to a non-diverged one.  A smooth curve across a
    # 64 x 64 grid touches about 64-128 cells; the basin boundary here is far longer.
    edge = np.zeros_like(div)
    edge[:, 1:] |= div[:, 1:] != div[:, :-1]
    edge[1:, :] |= div[1:, :] != div[:-1, :]
    assert edge.sum() > 4 * st.shape[1]
    # islands: many separate diverged and non-diverged patches near the boundary
    from scipy import ndimage

    assert ndimage.label(div)[1] + ndimage.label(~div)[1] > 20
    sh = res.dataset["final_sharpness"].values[st == CONVERGED]
    assert np.nanmedian(sh) < 2 / s.eta
    assert (tmp_path / "f5.png").is_file()

"""The double-double quotient map (gdchaos.engine.quotient_grid_dd)."""

import numpy as np
import pytest

import gdchaos as gc
from gdchaos.engine import quotient_grid_dd

Y, LAM, ETA = 0.5, 0.2, 1.0
# figure 3's repelling period-2 point, to double-double accuracy (mpmath Newton, ddcheck.py)
CENTRE = ((1.2806248474865698, -6.468985632156855e-17), (4.724695047554424, 2.2598787220554715e-16))


def test_dd_equals_float64_where_float64_resolves():
    n, h = 60, 5e-4
    offs = np.linspace(-h, h, n)
    dd = quotient_grid_dd(Y, LAM, ETA, (CENTRE[0][0], CENTRE[1][0]), offs, offs, max_iter=2000,
                          tol=1e-12, gtol=0.0)
    g = gc.Slice2D(np.array([CENTRE[0][0], CENTRE[1][0]]), np.eye(2), (-h, h), (-h, h), n, n)
    ds = gc.basin(gc.QuotientMap(Y, LAM), g, eta=ETA, max_iter=2000, tol=1e-12, gtol=0.0,
                  records=[])
    st = np.asarray(ds.status)
    assert 0.1 < np.mean(st == 1) < 0.9
    assert np.mean(dd["status"] == st) >= 0.995
    conv = st == 1
    assert np.allclose(dd["final_loss"][conv], np.asarray(ds.final_loss)[conv], rtol=0,
                       atol=1e-11)


def test_dd_resolves_past_float64():
    """At width 1e-20 float64 sees one point; double-double shows both outcomes and agrees with
    a 60-digit reference on a sample of pixels."""
    from gdchaos.explore.ddcheck import mp_outcome

    n, h = 40, 5e-21
    offs = np.linspace(-h, h, n)
    dd = quotient_grid_dd(Y, LAM, ETA, CENTRE, offs, offs, max_iter=2000, tol=1e-12, gtol=0.0)
    assert 0.1 < np.mean(dd["status"] == 1) < 0.9
    assert len(np.unique(CENTRE[0][0] + offs)) == 1  # float64 cannot tell the columns apart
    import mpmath as mp

    sub = np.arange(0, n, 8)
    mp.mp.dps = 50
    zc = mp.mpf(CENTRE[0][0]) + CENTRE[0][1]
    wc = mp.mpf(CENTRE[1][0]) + CENTRE[1][1]
    ref = mp_outcome(zc, wc, offs[sub], offs[sub], Y, LAM, ETA, 2000,
                     gc.QuotientMap(Y, LAM).min_value, dps=50)
    assert np.array_equal(dd["status"][np.ix_(sub, sub)] == 1, ref)


def test_dd_statuses_and_bad_input():
    r = quotient_grid_dd(Y, LAM, ETA, (0.0, 0.0), [-3.0, 0.0], [1.0, 2.0], max_iter=5)
    assert r["status"][0, 0] == gc.OUTSIDE  # w = 1 < 2 |z + y| = 5
    assert r["status"].shape == (2, 2)
    for kw in (dict(eta=-1.0), dict(center=(1.0,)), dict(center=((1.0, 2.0, 3.0), 1.0)),
               dict(xs=[np.nan]), dict(max_iter=2.5)):
        args = dict(y=Y, lam=LAM, eta=ETA, center=(0.0, 1.0), xs=[0.0], ys=[0.0])
        it = kw.pop("max_iter", 10)
        args.update(kw)
        with pytest.raises(gc.GdchaosInputError):
            quotient_grid_dd(args.pop("y"), args.pop("lam"), args.pop("eta"), args.pop("center"),
                             args.pop("xs"), args.pop("ys"), max_iter=it)

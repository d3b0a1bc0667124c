"""The demo run by ``make demo``: figure 3's quotient region, a figure 1 (left) slice and a few
critical step sizes, each saved with its parameters."""

from __future__ import annotations

import json
import os
import time

import numpy as np

STORES = ("fig3_quotient.zarr", "fig1_slice.zarr")  # the demo's two stores, in --out


def run_demo(out="demo-output", quiet=False):
    from ..engine import RunConfig, Slice2D, TiledStore, basin, status_fractions
    from ..plotting import plot_basin, save_figure
    from ..problems import QuotientMap, ScalarFactorization
    from ..theory import scalar as th

    from .runner import check_output_dir, make_output_dir

    check_output_dir(out)
    for name in STORES:  # refused before anything is computed or written: a store is replaced
        # only when it is ours and holds nothing else
        TiledStore.check_target(os.path.join(out, name), overwrite=True, create_parents=True)
    make_output_dir(out)
    say = (lambda *a: None) if quiet else print
    summary = {}

    say("Critical step sizes (Theorem 1, y = 1):")
    rng = np.random.default_rng(0)
    rows = []
    for d in (1, 2, 5):
        u, v = rng.normal(size=d), rng.normal(size=d)
        es = float(th.eta_star(u, v, 1.0))
        rows.append({"d": d, "u": u.round(4).tolist(), "v": v.round(4).tolist(), "eta_star": es})
        say(f"  d = {d}: u = {np.round(u, 3)}, v = {np.round(v, 3)} -> eta* = {es:.6f}")
    summary["critical_steps"] = rows

    say("Figure 3 (left): quotient map, y = 0.5, lam = 0.2, eta = 1, 2000 x 2000, 200 steps")
    t0 = time.perf_counter()
    q = QuotientMap(y=0.5, lam=0.2)
    z0, z1, w0, w1 = QuotientMap.default_window  # figure 3's window
    grid = Slice2D.axes(2, (z0, z1), (w0, w1), 2000, 2000)
    ds = basin(q, grid, config=RunConfig(eta=1.0, max_iter=200, tol=1e-10),
               store=os.path.join(out, STORES[0]), overwrite=True, progress=not quiet)
    sec = time.perf_counter() - t0
    fr = status_fractions(np.asarray(ds["status"]))
    fig, ax = plot_basin(ds, xlabel="z = u.v - y", ylabel="w = |u|^2 + |v|^2",
                         title="quotient map: convergence region (fig. 3 left)")
    save_figure(fig, os.path.join(out, "fig3_quotient.png"))
    summary["fig3"] = {"fractions": fr, "seconds": sec}
    say(f"  converged {fr['converged']:.3f}, diverged {fr['diverged']:.3f}, "
        f"outside {fr['outside']:.3f} in {sec:.1f} s")

    say("Figure 1 (left): u, v in R^5, y = 1, lam = 0.6, eta = 1, 600 x 600, 1000 steps")
    t0 = time.perf_counter()
    p = ScalarFactorization(d=5, y=1.0, lam=0.6)
    grid = Slice2D.random(10, (-4, 4), (-4, 4), 600, 600, seed=0)
    ds = basin(p, grid, config=RunConfig(eta=1.0, max_iter=1000, tol=1e-6, div_threshold=100.0),
               coordinate=0, store=os.path.join(out, STORES[1]), overwrite=True,
               progress=not quiet)
    sec = time.perf_counter() - t0
    fr = status_fractions(np.asarray(ds["status"]))
    fig, ax = plot_basin(ds, color="coordinate", colorbar_label="first coordinate of u at the limit",
                         title="u, v in R^5: limit coordinate (fig. 1 left)")
    save_figure(fig, os.path.join(out, "fig1_slice.png"))
    summary["fig1"] = {"fractions": fr, "seconds": sec}
    say(f"  converged {fr['converged']:.3f}, diverged {fr['diverged']:.3f} in {sec:.1f} s")
    with open(os.path.join(out, "demo.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    say(f"Wrote {out}/: fig3_quotient.png, fig1_slice.png, the two zarr stores, demo.json")
    return 0

"""Benchmark of the analysis package (prints a table).

Main item (acceptance): the uncertainty exponent of the figure-3 quotient map (y = 0.5,
lam = 0.2, eta = 1, 200 steps) with 10^6 random points per perturbation size and 8 sizes, in
under a minute on 2 cores.  Also timed: box counting of 10^6 points, the paper's procedure on
the 2000 x 2000 figure-3 boundary, and the tiled boundary at 8000 x 8000.

    python benchmarks/bench_analysis.py [--threads 2] [--points 1000000] [--n-eps 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2, help="numba threads (default 2)")
    ap.add_argument("--points", type=int, default=1_000_000, help="points per eps (1e6)")
    ap.add_argument("--n-eps", type=int, default=8, help="number of eps values (8)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import numba

    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    from gdchaos.analysis import (box_dimension, engine_outcome, paper_box_dimension,
                                  quotient_boundary_tiled, quotient_sampler,
                                  uncertainty_exponent)
    from gdchaos.problems import QuotientMap

    print(f"# gdchaos analysis benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}")
    # warm-up (JIT compile / cache load) outside the timings
    prob = QuotientMap(0.5, 0.2)
    out = engine_outcome(prob, 1.0, "converged", max_iter=200, tol=1e-12, gtol=0.0)
    out(np.array([[0.0, 3.0], [1.0, 4.0]]))

    eps = np.geomspace(1e-1, 1e-5, args.n_eps)
    sampler = quotient_sampler((-2.5, 3.0), (0.0, 10.0), 0.5, margin=1e-2)
    t0 = time.perf_counter()
    r = uncertainty_exponent(out, sampler, eps, args.points, seed=args.seed)
    dt = time.perf_counter() - t0
    print("\n## uncertainty exponent, figure-3 quotient map "
          f"({args.points:,} points per eps, {eps.size} eps, 200 steps)")
    print(f"{'eps':>10} {'uncertain':>10} {'valid':>10} {'fraction':>11}")
    for e, u, v, f in zip(r.eps, r.n_uncertain, r.n_valid, r.fraction):
        print(f"{e:>10.3e} {int(u):>10d} {int(v):>10d} {f:>11.4e}")
    print(f"alpha = {r.alpha:.4f}  95% CI [{r.ci[0]:.4f}, {r.ci[1]:.4f}]  ->  "
          f"D = 2 - alpha = {r.dimension:.4f}  [{r.dimension_ci[0]:.4f}, "
          f"{r.dimension_ci[1]:.4f}]   (paper: 0.751 / 1.249)")
    print(f"time: {dt:.1f} s total, {dt / eps.size:.2f} s per eps "
          f"({2 * args.points * eps.size / dt / 1e6:.1f} M orbits/s)  "
          f"[{'PASS' if dt < 60 else 'FAIL'}: < 60 s]")

    rows = []
    t0 = time.perf_counter()
    tb = quotient_boundary_tiled(2000, 200, procedure="paper")
    t1 = time.perf_counter()
    pap = paper_box_dimension(tb.points())
    t2 = time.perf_counter()
    rows.append(("figure-3 boundary 2000^2 (engine + erosion)", t1 - t0, f"{tb.n_boundary} px"))
    rows.append(("paper procedure on it", t2 - t1, f"D = {pap.dimension:.4f}"))
    t0 = time.perf_counter()
    tb8 = quotient_boundary_tiled(8000, 200, procedure="clean")
    t1 = time.perf_counter()
    rows.append(("figure-3 boundary 8000^2, tiled", t1 - t0, f"{tb8.n_boundary} px"))
    a = box_dimension(tb8.mask(), xs=tb8.grid.xs, ys=tb8.grid.ys)
    rows.append(("automatic estimator on it", time.perf_counter() - t1,
                 f"D = {a.dimension:.4f} [{a.ci[0]:.3f}, {a.ci[1]:.3f}]"))
    t = np.linspace(0, 2 * np.pi, 1_000_000, endpoint=False)
    t0 = time.perf_counter()
    c = box_dimension(np.stack([np.cos(t), np.sin(t)], 1))
    rows.append(("automatic estimator, 10^6 points (circle)", time.perf_counter() - t0,
                 f"D = {c.dimension:.4f}"))
    print("\n## other timings")
    print(f"{'task':<46} {'seconds':>8}  result")
    for name, s, res in rows:
        print(f"{name:<46} {s:>8.2f}  {res}")


if __name__ == "__main__":
    main()

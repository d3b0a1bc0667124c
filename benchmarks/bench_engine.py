"""Engine throughput against the paper's approach (whole-array NumPy, fixed step count).

Run:  python benchmarks/bench_engine.py [--repeat 3] [--threads 2]
Prints one table: point-steps per second (grid points x requested steps / wall seconds) of the
Numba engine and of the NumPy reference on the same grid in the same process, their ratio, and
the fraction of points on which their statuses agree.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numba
import numpy as np

from gdchaos.engine import RunConfig, Slice2D, basin
from gdchaos.engine._reference import quotient_reference, scalar_reference
from gdchaos.problems import QuotientMap, ScalarFactorization


def timed(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def workloads():
    q = QuotientMap(y=0.5, lam=0.2)
    gq = Slice2D.axes(2, (-2.5, 3.0), (0.0, 10.0), 2000, 2000)
    cq = RunConfig(eta=1.0, max_iter=200, tol=1e-10)

    def ref_q():
        X = gq.points()
        return quotient_reference(X[:, 0], X[:, 1], 1.0, 0.5, 0.2, 200, 1e-10)[0]

    s = ScalarFactorization(d=5, y=1.0, lam=0.6)
    gs = Slice2D.random(10, (-4, 4), (-4, 4), 600, 600, seed=0)
    cs = RunConfig(eta=1.0, max_iter=1000, tol=1e-6, div_threshold=100.0)

    def ref_s():
        return scalar_reference(gs.points(), 1.0, 1.0, 0.6, 1000, 1e-6, div=100.0)[0]

    return [("fig. 3 quotient 2000^2 x 200", q, gq, cq, ref_q),
            ("fig. 1 left d=5 600^2 x 1000", s, gs, cs, ref_s)]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ref-repeat", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args()
    if a.threads:
        numba.set_num_threads(a.threads)
    print(f"# {platform.processor() or platform.machine()}, numba threads "
          f"{numba.get_num_threads()}, numpy {np.__version__}")
    print(f"| workload | engine s | engine pt-steps/s | numpy s | numpy pt-steps/s | speed-up "
          f"| status agreement |")
    print("|---|---|---|---|---|---|---|")
    for name, prob, grid, cfg, ref in workloads():
        basin(prob, Slice2D.axes(grid.n_params, (-1, 1), (-1, 1), 4, 4), config=cfg)  # compile
        te, ds = timed(lambda: basin(prob, grid, config=cfg), a.repeat)
        tr, st_ref = timed(ref, a.ref_repeat)
        work = grid.nx * grid.ny * cfg.max_iter
        agree = float(np.mean(np.asarray(ds.status).ravel() == st_ref))
        print(f"| {name} | {te:.3f} | {work / te:.3g} | {tr:.2f} | {work / tr:.3g} | "
              f"{tr / te:.1f}x | {agree:.5f} |")


if __name__ == "__main__":
    main()

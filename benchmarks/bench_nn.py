"""Batched slice training against a per-network loop (the paper's approach), same grid.

Run:  python benchmarks/bench_nn.py [--grid 16] [--iters 200] [--repeat 1]

Workload: the figure-5 setting (CIFAR-10 classes 0/1, 25 + 25 images, MLP 3072-25-25-1, eta 0.05,
weight decay 1e-3, stop at loss < 5e-4 or > 1e4), a grid x grid slice of initializations on the
quick preset's window [24,42] x [8,30] (about half the points train for long; on the paper's
window most diverge within a few steps), at most ``iters`` steps each.  Networks that stop early take fewer steps, so
throughput is counted in network-steps actually taken per wall-clock second (training only; the
final sharpness is not computed in any row).  Rows:

- loop, one network at a time (the paper's approach): full parameters, ``torch.func`` gradient,
  torch's default threads (and with one thread);
- one network at a time in the reduced coordinates below (``train_batch`` with ``pool=1``): what
  the reduction alone gains;
- batched, full parameters: pools of networks stepped together (manual batched backward);
- batched, reduced: the same plus the exact reduction of the first layer to the span of the 50
  images (3072 -> 50 input columns);

A second table: ``run_slice`` (no final sharpness) with 1 and 2 worker processes on a larger grid
of the same window (``--workers-grid``, default 48), wall time including the workers' start.

Also printed: agreement of statuses between the loop and the batched runs, and the median and
largest relative difference of the final losses over the networks that did not diverge (chaotic
points amplify rounding differences over hundreds of steps; exact agreement on a short horizon is
a test, ``tests/nn/test_nn_slices.py``).  The load average is printed: other processes on the
machine slow the rows down, the multi-threaded loop most.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from gdchaos.nn import run_slice, slice_preset, slice_problem, train, train_batch


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=16, help="points per side (default 16)")
    ap.add_argument("--iters", type=int, default=300, help="step limit (default 300)")
    ap.add_argument("--range", default="24,42,8,30", help="x0,x1,y0,y1 (default 24,42,8,30)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N for the batched rows")
    ap.add_argument("--workers-grid", type=int, default=48,
                    help="points per side of the worker-scaling table (default 48; 0: skip)")
    ap.add_argument("--loop-threads", type=int, default=None,
                    help="torch threads of the first loop row (default: torch's default)")
    a = ap.parse_args()

    rng = tuple(float(v) for v in a.range.split(","))
    s = slice_preset("paper", grid=(a.grid, a.grid), iters=a.iters, range=rng)
    data, widths, _, init = slice_problem(s)
    n = a.grid * a.grid
    P0 = init(np.arange(n))
    kw = {"momentum": s.momentum, "weight_decay": s.weight_decay, "loss": s.loss,
          "iters": s.iters, "tol": s.tol, "div": s.div}
    rows = []

    default_threads = torch.get_num_threads()
    loop = {}
    for threads in (a.loop_threads or default_threads, 1):
        if threads in loop:
            continue
        t0 = time.perf_counter()
        res = [train(P0[i], data.X, data.y, widths, s.eta, final_sharpness=None, threads=threads,
                     **kw) for i in range(n)]
        dt = time.perf_counter() - t0
        steps = sum(r.steps for r in res)
        loop[threads] = res
        rows.append((f"loop, one network at a time, {threads} thread(s)", steps, dt))
    ref = next(iter(loop.values()))
    ref_status = np.array([r.status for r in ref])
    ref_loss = np.array([r.final_loss for r in ref])

    checks = []
    for label, reduce, pool in (
            ("one network at a time, reduced, 1 thread (train_batch, pool=1)", True, 1),
            ("batched, full parameters, 1 thread", False, s.pool),
            ("batched, reduced, 1 thread", True, s.pool)):
        best = None
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            b = train_batch(P0, data.X, data.y, widths, s.eta, final_sharpness=None,
                            reduce=reduce, pool=pool, **kw)
            dt = time.perf_counter() - t0
            best = dt if best is None else min(best, dt)
        rows.append((label, int(b.steps.sum()), best))
        ok = ref_status != 2
        rel = np.abs(b.final_loss[ok] - ref_loss[ok]) / ref_loss[ok]
        checks.append((label, float(np.mean(b.status == ref_status)),
                       float(np.median(rel)) if ok.any() else float("nan"),
                       float(np.max(rel)) if ok.any() else float("nan")))

    scaling = []
    if a.workers_grid:
        s2 = slice_preset("paper", grid=(a.workers_grid, a.workers_grid), iters=a.iters,
                          range=rng, sharpness_method="none")
        for workers in (1, 2):
            t0 = time.perf_counter()
            r2 = run_slice(s2, workers=workers)
            dt = time.perf_counter() - t0
            scaling.append((workers, r2.summary["network_steps"], dt))

    base = rows[0][1] / rows[0][2]
    print(f"# nn slice benchmark: {a.grid}x{a.grid} grid, <= {a.iters} steps, widths {widths}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, "
          f"torch {torch.__version__}, default threads {default_threads}, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print()
    print("| method | network-steps | seconds | network-steps/s | vs loop |")
    print("|---|---:|---:|---:|---:|")
    for label, steps, dt in rows:
        rate = steps / dt
        print(f"| {label} | {steps} | {dt:.2f} | {rate:,.0f} | {rate / base:.1f}x |")
    if scaling:
        print()
        print(f"| run_slice, {a.workers_grid}x{a.workers_grid} grid | network-steps | seconds | "
              "network-steps/s | vs loop |")
        print("|---|---:|---:|---:|---:|")
        for workers, steps, dt in scaling:
            rate = steps / dt
            print(f"| {workers} worker process(es), 1 thread each | {steps} | {dt:.2f} | "
                  f"{rate:,.0f} | {rate / base:.1f}x |")
    print()
    for label, agree, med, mx in checks:
        print(f"{label}: statuses agree with the loop on {agree:.1%} of the grid; relative "
              f"difference of the final loss (non-diverged): median {med:.1e}, largest {mx:.1e}")


if __name__ == "__main__":
    main()

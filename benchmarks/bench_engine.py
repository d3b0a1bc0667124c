"""The command users run, and the engine in memory, against the paper's own loop.

Run:  python benchmarks/bench_engine.py [--repeat 3] [--threads 2] [--heavy-reference]

Workloads (README): figure 3 (quotient map, 2000 x 2000, 200 steps) and figure 1 left (u, v in
R^5, a 600 x 600 slice, 1000 steps).  Columns, all medians over ``--repeat`` runs:

* the paper's loop: plain NumPy on whole arrays for the fixed number of steps, verdict at the end
  (what the paper's notebooks do), once;
* ``basin(...)`` in memory (after a warm-up run in the same process; all records);
* ``gdchaos basin ... --out STORE --json`` as a fresh process: its reported ``seconds`` (the run:
  tiles computed, records, the store written and reopened) and the wall time of the whole
  process (start-up included: interpreter, imports, loading the compiled kernels);
* optionally (``--heavy-reference``) the heavier NumPy reference of ``engine/_reference.py``
  (finished points frozen with ``np.where`` at every step).

Speed-ups are against the paper's loop; the command's columns give the range over the runs in
brackets.  "agree" is the fraction of points on which the store's "converged" and the paper
loop's verdict agree.  Last line: wall time of ``gdchaos critical-step ... --json``.

On a shared machine ``--wait-idle S`` waits (up to S seconds) before each timed command until
the processors are idle (other processes below 10% of the machine over 0.5 s), and reports how
many runs started on a busy machine anyway.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

FIG3 = ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1", "--grid",
        "2000", "--range=-2.5,3,0,10", "--iters", "200", "--tol", "1e-10"]
FIG1 = ["basin", "--problem", "scalar", "--d", "5", "--y", "1", "--lam", "0.6", "--eta", "1",
        "--grid", "600", "--range=-4,4,-4,4", "--iters", "1000", "--tol", "1e-6", "--div", "100",
        "--coordinate", "0"]
CLI = [sys.executable, "-m", "gdchaos.cli"]


def paper_loop_fig3():
    """Figure 3 as the paper computes it: 200 steps of the quotient map on the whole grid, then
    the region |w - 2(y - lam)| < 1e-5 (SPEC, figure 3)."""
    y, lam, eta = 0.5, 0.2, 1.0
    z, w = np.meshgrid(np.linspace(-2.5, 3, 2000), np.linspace(0, 10, 2000))
    inside = w >= 2 * np.abs(z + y)
    a = 1 - eta * lam
    with np.errstate(all="ignore"):
        for _ in range(200):
            c = a * a + eta * eta * z * z
            z, w = c * (z + y) - eta * a * z * w - y, c * w - 4 * eta * a * z * (z + y)
        return inside & (np.abs(w - 2 * (y - lam)) < 1e-5)


def paper_loop_fig1():
    """Figure 1 left as the paper computes it: 1000 GD steps on u, v in R^5 from every point of
    the slice, then converged where the loss is within 1e-6 of its minimum."""
    from gdchaos.engine import Slice2D

    y, lam, eta = 1.0, 0.6, 1.0
    X = Slice2D.random(10, (-4, 4), (-4, 4), 600, 600, seed=0).points()
    u, v = X[:, :5], X[:, 5:]
    with np.errstate(all="ignore"):
        for _ in range(1000):
            z = np.sum(u * v, axis=1, keepdims=True) - y
            u, v = (1 - eta * lam) * u - eta * z * v, (1 - eta * lam) * v - eta * z * u
        z = np.sum(u * v, axis=1) - y
        loss = 0.5 * z * z + 0.5 * lam * np.sum(u * u + v * v, axis=1)
        lmin = lam * abs(y) - 0.5 * lam * lam
        return (loss - lmin <= 1e-6).reshape(600, 600)


def heavy_fig3():
    from gdchaos.engine._reference import quotient_reference

    z, w = np.meshgrid(np.linspace(-2.5, 3, 2000), np.linspace(0, 10, 2000))
    return quotient_reference(z.ravel(), w.ravel(), 1.0, 0.5, 0.2, 200, 1e-10)[0]


def heavy_fig1():
    from gdchaos.engine import Slice2D
    from gdchaos.engine._reference import scalar_reference

    X = Slice2D.random(10, (-4, 4), (-4, 4), 600, 600, seed=0).points()
    return scalar_reference(X, 1.0, 1.0, 0.6, 1000, 1e-6, div=100.0)[0]


def in_memory(args):
    from gdchaos._cli.core import grid_from_args, problem_from_args
    from gdchaos.cli import build_parser
    from gdchaos.engine import RunConfig, basin

    a = build_parser().parse_args(args + ["--out", "unused"])
    prob = problem_from_args(a)
    grid = grid_from_args(a, prob)
    cfg = RunConfig(eta=float(a.eta), max_iter=a.iters, tol=float(a.tol),
                    div_threshold=float(a.div))
    return lambda: basin(prob, grid, config=cfg)


def _cpu_busy(window=0.5):
    """Fraction of the machine's processor time used (by anything) over ``window`` seconds, or
    None where /proc/stat is not readable."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait

    try:
        t0, i0 = snap()
        time.sleep(window)
        t1, i1 = snap()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (i1 - i0) / max(t1 - t0, 1)


BUSY = []  # runs that started on a busy machine (--wait-idle)


def wait_idle(max_wait):
    if not max_wait:
        return
    end = time.monotonic() + max_wait
    while time.monotonic() < end:
        busy = _cpu_busy()
        if busy is None or busy < 0.1:
            return
    BUSY.append(1)


def command(args, store, threads, idle=0):
    extra = ["--threads", str(threads)] if threads else []
    shutil.rmtree(store, ignore_errors=True)
    wait_idle(idle)
    t0 = time.perf_counter()
    r = subprocess.run(CLI + args + extra + ["--out", store, "--json"], capture_output=True,
                       text=True, check=True)
    wall = time.perf_counter() - t0
    return json.loads(r.stdout)["seconds"], wall


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--heavy-reference", action="store_true")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="S",
                    help="before each timed command wait up to S s for idle processors")
    a = ap.parse_args()
    import numba

    if a.threads:
        numba.set_num_threads(a.threads)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numba threads "
          f"{numba.get_num_threads()}, numpy {np.__version__}; medians of {a.repeat}")
    head = ("| workload | paper loop s | in memory s | command `seconds` | command wall s "
            "| agree |")
    if a.heavy_reference:
        head = head[:-len("| agree |")] + "| np.where reference s | agree |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    tmp = tempfile.mkdtemp(prefix="gdchaos-bench-")
    try:
        for name, args, paper, heavy in (("fig. 3 quotient 2000^2 x 200", FIG3, paper_loop_fig3,
                                          heavy_fig3),
                                         ("fig. 1 left d=5 600^2 x 1000", FIG1, paper_loop_fig1,
                                          heavy_fig1)):
            store = os.path.join(tmp, "s.zarr")
            command(args, store, a.threads)  # warm-up: compiled kernels in the cache
            runs = [command(args, store, a.threads, a.wait_idle) for _ in range(a.repeat)]
            secs = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            lo, hi = min(r[0] for r in runs), max(r[0] for r in runs)
            from gdchaos.engine import CONVERGED, open_store

            conv = np.asarray(open_store(store).status) == CONVERGED
            run = in_memory(args)
            run()
            mem = median_time(run, a.repeat)
            t0 = time.perf_counter()
            ref = paper()
            tp = time.perf_counter() - t0
            agree = float(np.mean(ref.reshape(conv.shape) == conv))
            row = (f"| {name} | {tp:.2f} | {mem:.3f} ({tp / mem:.0f}x) | {secs:.3f} "
                   f"({tp / secs:.0f}x) [{lo:.3f}-{hi:.3f}] | {wall:.2f} ({tp / wall:.1f}x) |")
            if a.heavy_reference:
                th = median_time(heavy, 1)
                row += f" {th:.2f} |"
            print(row + f" {agree:.5f} |", flush=True)
        walls = []
        for _ in range(max(a.repeat, 5)):
            t0 = time.perf_counter()
            subprocess.run(CLI + ["critical-step", "--y", "1", "--u", "1.2", "--v", "0.3",
                                  "--json"], capture_output=True, check=True)
            walls.append(time.perf_counter() - t0)
        print(f"\n`gdchaos critical-step --y 1 --u 1.2 --v 0.3 --json`: "
              f"{statistics.median(walls):.3f} s wall (median of {len(walls)})")
        if a.wait_idle:
            print(f"--wait-idle {a.wait_idle:g}: {len(BUSY)} timed command(s) started on a busy "
                  "machine")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

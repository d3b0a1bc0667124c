"""Boundary-refined maps against full maps: the commands users run, end to end, side by side.

Run:  python benchmarks/bench_refine.py [--cases fig3,map,nn] [--fig3-grids 2048,4096]
      [--map-grid 512] [--nn-grid 128] [--nn-iters 200] [--repeat 1]

Each case runs one command twice as fresh processes, once as written and once with
``--refine`` (default levels and check sample), into stores in a temporary folder, and prints
the wall time of each (median over ``--repeat``), their ratio, the share of pixels whose status
(for the network map: trainability) is equal in the two stores, the share the refined run
computed, and the disagreement its check sample measured (with its 95% interval):

* ``fig3``: figure 3's quotient window, ``gdchaos basin --problem quotient --y 0.5 --lam 0.2
  --eta 1 --range -2.5,3,0,10 --iters 200 --tol 1e-10`` at each of ``--fig3-grids``;
* ``map``: the two learning rates of scalar factorization (docs/maps.md's first example),
  ``gdchaos map --problem scalar --y 1 --x-axis eta_u:log:1e-2,1e1 --y-axis eta_v:log:1e-2,1e1
  --init 1.5,0.3 --iters 1000`` at ``--map-grid``;
* ``nn``: Sohl-Dickstein's tanh map, ``gdchaos nn map`` (width 16, mean field, learning rates
  of the two layers) at ``--nn-grid`` and ``--nn-iters`` steps.

The issue's targets are printed beside each line (fig3: 4x at 2048^2, 10x at 4096^2, 99.9%
equal; map: 99.9% equal; nn: at most half the cost, 99.5% equal).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

FIG3 = ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1",
        "--range", "-2.5,3,0,10", "--iters", "200", "--tol", "1e-10"]
MAP = ["map", "--problem", "scalar", "--y", "1", "--x-axis", "eta_u:log:1e-2,1e1",
       "--y-axis", "eta_v:log:1e-2,1e1", "--init", "1.5,0.3", "--iters", "1000"]
NN = ["nn", "map"]


def _run(args, cwd):
    argv = [sys.executable, "-m", "gdchaos.cli", *args, "--quiet", "--overwrite"]
    t = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{r.stderr}")
    return time.perf_counter() - t


def _case(name, args, target, var, cwd, repeat):
    import gdchaos as gc

    full = [_run([*args, "--out", "full.zarr"], cwd) for _ in range(repeat)]
    ref = [_run([*args, "--out", "ref.zarr", "--refine"], cwd) for _ in range(repeat)]
    a, b = gc.open_store(os.path.join(cwd, "full.zarr")), gc.open_store(os.path.join(cwd,
                                                                                     "ref.zarr"))
    va = np.asarray(a[var].values) if var != "trainable" else np.asarray(a.score.values) < 1
    vb = np.asarray(b[var].values) if var != "trainable" else np.asarray(b.score.values) < 1
    agree = float((va == vb).mean())
    s = {k[len("refine_"):]: v for k, v in b.attrs.items() if k.startswith("refine_")}
    tf, tr = statistics.median(full), statistics.median(ref)
    lo, hi = s["disagreement_interval"]
    print(f"{name:<22} full {tf:8.2f} s  refined {tr:8.2f} s  {tf / tr:5.1f}x  "
          f"equal {agree:.5f}  computed {s['computed_fraction']:.4f}  "
          f"sample {s['disagreements']}/{s['samples']} [{lo:.2%}, {hi:.2%}]   "
          f"(target {target})", flush=True)
    return {"case": name, "full_s": tf, "refined_s": tr, "ratio": tf / tr, "equal": agree,
            "refine": s}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="fig3,map,nn")
    ap.add_argument("--fig3-grids", default="2048,4096")
    ap.add_argument("--map-grid", type=int, default=512)
    ap.add_argument("--nn-grid", type=int, default=128)
    ap.add_argument("--nn-iters", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args()
    cases = a.cases.split(",")
    print(f"{os.cpu_count()} cores; each command a fresh process, into a store", flush=True)
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        if "fig3" in cases:
            for n in map(int, a.fig3_grids.split(",")):
                target = {2048: "4x, 99.9%", 4096: "10x, 99.9%"}.get(n, "99.9%")
                out.append(_case(f"figure 3 window {n}^2", [*FIG3, "--grid", str(n)], target,
                                 "status", tmp, a.repeat))
        if "map" in cases:
            out.append(_case(f"lr map {a.map_grid}^2", [*MAP, "--grid", str(a.map_grid)],
                             "99.9%", "status", tmp, a.repeat))
        if "nn" in cases:
            out.append(_case(f"tanh net {a.nn_grid}^2 x {a.nn_iters}",
                             [*NN, "--grid", str(a.nn_grid), "--iters", str(a.nn_iters)],
                             "2x, 99.5%", "trainable", tmp, a.repeat))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()

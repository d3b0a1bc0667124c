"""Start-up of the figure-3 command: where the wall time goes beside the compute.

Run:  python benchmarks/bench_startup.py [--repeat 5] [--no-png]

Times, as fresh processes (medians over ``--repeat``, range in brackets):

* the command of the README, ``gdchaos basin --problem quotient --y 0.5 --lam 0.2 --eta 1
  --grid 2000 --range -2.5,3,0,10 --iters 200 --tol 1e-10 --out fig3.zarr --png fig3.png
  --json``: its wall time and its reported ``seconds`` (the compute: tiles, records, store);
* the pieces of its start-up, each in its own process: the interpreter with NumPy, ``import
  gdchaos``, ``import numba``, loading the compiled kernels (``gdchaos.engine.prepare``:
  numba's target initialisation, which imports SciPy for its BLAS check, and the cached
  kernels), ``import xarray, zarr`` and ``import matplotlib.pyplot``.

The last line is the overhead (wall - compute) beside the issue's aim, compute + 0.6 s.
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

CMD = ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2", "--eta", "1", "--grid",
       "2000", "--range", "-2.5,3,0,10", "--iters", "200", "--tol", "1e-10", "--out", "fig3.zarr",
       "--json"]
PIECES = {
    "python + numpy": "import numpy",
    "import gdchaos": "import gdchaos",
    "import numba": "import numpy, numba",
    "load the kernels (prepare)": (
        "import os; os.environ.setdefault('OMP_WAIT_POLICY', 'passive')\n"
        "import gdchaos as gc; from gdchaos.engine import prepare, RunConfig\n"
        "prepare(gc.QuotientMap(y=0.5, lam=0.2), RunConfig(eta=1.0, max_iter=200, tol=1e-10),"
        " store=False)"),
    "import xarray, zarr": "import numpy, xarray, zarr",
    "import matplotlib.pyplot": "import numpy, matplotlib; matplotlib.use('Agg');"
                                " import matplotlib.pyplot",
}


def _wall(argv, cwd):
    t = time.perf_counter()
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{r.stderr}")
    return time.perf_counter() - t, r.stdout


def _fmt(xs):
    return f"{statistics.median(xs):6.2f} s [{min(xs):.2f}-{max(xs):.2f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-png", action="store_true", help="time the command without --png")
    a = ap.parse_args()
    exe = os.path.join(os.path.dirname(sys.executable), "gdchaos")
    cmd = [exe] + CMD + ([] if a.no_png else ["--png", "fig3.png"])
    walls, secs = [], []
    pieces = {k: [] for k in PIECES}
    with tempfile.TemporaryDirectory() as tmp:
        _wall(cmd, tmp)  # a first run fills the kernel cache
        for _ in range(a.repeat):
            for f in ("fig3.zarr",):
                subprocess.run(["rm", "-rf", os.path.join(tmp, f)], check=True)
            w, out = _wall(cmd, tmp)
            walls.append(w)
            secs.append(json.loads(out)["seconds"])
            for k, code in PIECES.items():
                pieces[k].append(_wall([sys.executable, "-c", code], tmp)[0])
    print(f"gdchaos {' '.join(cmd[1:])}")
    print(f"  wall                         {_fmt(walls)}")
    print(f"  compute (reported seconds)   {_fmt(secs)}")
    print("start-up pieces, each a fresh process: every line includes the interpreter and NumPy;"
          " 'load the kernels' includes import gdchaos and numba:")
    for k, xs in pieces.items():
        print(f"  {k:28s} {_fmt(xs)}")
    over = [w - s for w, s in zip(walls, secs)]
    print(f"overhead (wall - compute): {_fmt(over)}; aim: compute + 0.6 s "
          f"(load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# GPU vs 2 CPU cores, in one run: the engine (figure 3's quotient map) on the torch backend on
# CUDA against numba on 2 CPU threads, and a figure-5 network slice on 2 CPU workers.
#
#   bash benchmarks/device_check.sh            # from the repository root
#   FIG3_GRID=4096 FIG5_GRID=32 bash benchmarks/device_check.sh
#
# Builds .venv with `make venv` when there is none (torch from constraints.txt).  Without CUDA it
# says so and still runs the CPU columns (the GPU column reads "no CUDA").  Prints one table:
# points (or networks) per second, GPU vs 2 CPU cores, and the agreement of the statuses.
# The network commands (`gdchaos nn slice`) run on the CPU only (they have no --device), so
# figure 5 has a CPU column only.  Sizes: FIG3_GRID (default 2000, the paper's), FIG5_GRID
# (default 24: 24 x 24 networks, 3000 steps; about 1-3 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ ! -x "$PY" ]; then
    echo "device_check: building .venv (make venv)"
    make venv
fi
export FIG3_GRID="${FIG3_GRID:-2000}" FIG5_GRID="${FIG5_GRID:-24}"
OUT="$(mktemp -d "${TMPDIR:-/tmp}/gdchaos_device_check.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
export DEVICE_CHECK_OUT="$OUT"

"$PY" - <<'EOF'
import json, os, subprocess, sys, time

import numpy as np

import gdchaos as gc
from gdchaos.engine import RunConfig, prepare

n = int(os.environ["FIG3_GRID"])
p = gc.QuotientMap(y=0.5, lam=0.2)
grid = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), n, n)
kw = dict(eta=1.0, max_iter=200, tol=1e-10, records=())
rows = []

try:
    import torch
    cuda = torch.cuda.is_available()
    gpu_name = torch.cuda.get_device_name(0) if cuda else None
except ImportError:
    torch, cuda, gpu_name = None, False, None
print(f"device_check: torch {'missing' if torch is None else torch.__version__}; "
      + (f"CUDA available: {gpu_name}" if cuda else "no CUDA here: GPU columns skipped, CPU "
         "columns still run"), flush=True)

import numba
numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
prepare(p, RunConfig(eta=1.0))


def timed(**extra):
    t0 = time.perf_counter()
    ds = gc.basin(p, grid, **kw, **extra)
    st = ds["status"].values
    return time.perf_counter() - t0, st


gc.basin(p, gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 64, 64), **kw)  # warm-up (compiled kernels)
cpu_s, cpu_st = timed()
rows.append(("fig 3 quotient map", f"{n}^2 points x 200 steps", n * n / cpu_s, None, None))
if cuda:
    timed(backend="torch", device="cuda")  # warm-up: CUDA context, kernels
    gpu_s, gpu_st = timed(backend="torch", device="cuda")
    agree = float(np.mean(gpu_st == cpu_st))
    rows[-1] = rows[-1][:3] + (n * n / gpu_s, agree)

# figure 5: a slice of the paper's network (3072-25-25-1, 3000 steps) on 2 CPU worker processes
m = int(os.environ["FIG5_GRID"])
store = os.path.join(os.environ["DEVICE_CHECK_OUT"], "fig5.zarr")
cmd = [sys.executable, "-m", "gdchaos.cli", "nn", "slice", "--preset", "paper", "--grid", str(m),
       "--workers", "2", "--out", store, "--no-png", "--json"]
r = subprocess.run(cmd, capture_output=True, text=True)
if r.returncode == 0:
    out = json.loads(r.stdout)
    rows.append(("fig 5 network slice", f"{m}^2 networks x 3000 steps",
                 m * m / out["seconds"], "n/a (CPU only)", None))
    f5 = f"network-steps/s on 2 CPU workers: {out['network_steps_per_second']:,.0f}"
else:
    rows.append(("fig 5 network slice", f"{m}^2 networks", float("nan"), "n/a", None))
    f5 = "fig 5 failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]

print()
print(f"{'workload':<22} {'size':<30} {'2 CPU cores /s':>16} {'GPU /s':>16} {'GPU/CPU':>8} "
      f"{'statuses agree':>15}")
for name, size, cpu, gpu, agree in rows:
    g = "no CUDA" if gpu is None else (gpu if isinstance(gpu, str) else f"{gpu:,.1f}")
    ratio = f"{gpu / cpu:.1f}x" if isinstance(gpu, float) else "-"
    a = "-" if agree is None else f"{agree:.6f}"
    print(f"{name:<22} {size:<30} {cpu:>16,.1f} {g:>16} {ratio:>8} {a:>15}")
print(f"({f5})")
EOF

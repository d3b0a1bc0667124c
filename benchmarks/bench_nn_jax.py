"""``gdchaos nn map`` against a JAX implementation of Sohl-Dickstein (2024)'s structure, written
here: his tanh network trained at every pixel for all steps (``jax.jit`` of ``jax.vmap`` over the
grid of ``lax.scan`` over the steps, float64), on the same arrays gdchaos uses.

Run:  python benchmarks/bench_nn_jax.py [--grid 32] [--iters 200] [--repeat 1]
                                        [--jax-python PATH] [--json FILE]

The script itself imports neither jax nor gdchaos: it starts every part as its own process,
one after the other (never two at once), each pinned to one core (``taskset``) with one thread
(OMP/MKL/OpenBLAS 1, ``XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1``, ``gdchaos nn map --threads 1``), and times it end to end as a
user runs it (fresh process: start-up, imports, JAX's compilation, the store):

(a) ``gdchaos nn map --grid N --iters T --threads 1 --out ...`` (every pixel; core 0);
(b) the same with ``--refine`` (boundary refinement; core 0);
(c) his notebook's loop in JAX (``Sohl-Dickstein/fractal``,
    ``the_boundary_of_neural_network_trainability_is_fractal.ipynb``: ``train_step_lrvmap =
    jit(vmap(train_step))`` called once per step from Python on the whole grid, up to his
    ``outer_batch_size`` of 50000 pixels, the losses stacked and judged by his
    ``convergence_measure``; core 1);
(d) the same training as one ``jit(vmap(lax.scan))`` call on the whole grid;
(e) ``jit(vmap(lax.scan))`` on ``--jax-batch`` pixels per call (default 64: activations that fit
    the caches), what a JAX user tuning for one CPU core would write.

Every JAX row gets the data, targets, initial weights and learning-rate grid that gdchaos uses:
a gdchaos-side process (not timed) writes them to an .npz from ``NetMapSettings(iters=T)
.problem()``, ``problem.init(seed, scheme)`` and the coordinates of store (a), and checks the
data's SHA-256 and the initialization against the store.

Setting (gdchaos's definition of his, ``src/gdchaos/nn/maps.py``, ``mlp.py``, ``models.py``):
width 16, one hidden layer, mean-field ``f(x) = (1/16) W_out tanh(sqrt(2/16) W_in x)``, no
biases, 272 synthetic points ``N(0, 1)`` (NumPy PCG64, data seed 0; as many as parameters),
weights ``N(0, 1)`` (init seed 0), MSE without 1/2, gradient descent with learning rate
``eta_in`` on ``W_in`` (columns) and ``eta_out`` on ``W_out`` (rows), both log10 in [-1, 5].
``gdchaos --iters T`` reads the T + 1 losses at the iterates 0..T; the JAX side scans T + 1
steps, recording the loss before each update (his loop), so both read the same losses.
Trainable: his ``convergence_measure``, the mean of the last 20 losses over the first below 1
(non-finite losses set to 1e6, normalised losses clipped at 1e6).

A network-step is one loss and gradient evaluation of one network (and its update): gdchaos
takes ``iterations + 1`` of them at a pixel it computes (``iterations`` from the store; a
diverged network leaves the batch), the JAX side T + 1 at every pixel.  The FLOP floor of one
network-step is counted analytically (printed); the peak is a one-core float64 NumPy matmul
(best over sizes that fit the caches).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.abspath(__file__)
REPO = os.path.dirname(os.path.dirname(HERE))
AXES = ("eta_in:log:1e-1,1e5", "eta_out:log:1e-1,1e5")

ONE_THREAD = {
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1", "VECLIB_MAXIMUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "JAX_PLATFORMS": "cpu", "TF_CPP_MIN_LOG_LEVEL": "2",
}


# --------------------------------------------------------------------------------------------
# FLOP floor of one network-step (analytic)
# --------------------------------------------------------------------------------------------
def step_flops(N, d, h):
    """FLOPs of one loss + gradient evaluation and update of the mean-field one-hidden-layer
    network on N points of dimension d, width h (a multiply-add = 2 FLOPs, tanh = 1)."""
    P = h * d + h
    terms = {
        "Z = X W_in^T (forward GEMM)": 2 * N * d * h,
        "scale s_in, tanh": 2 * N * h,
        "f = H w_out, scale 1/h": 2 * N * h + N,
        "r = f - y, loss = mean r^2": 3 * N,
        "df = 2 r / N": N,
        "grad w_out = H^T df (+ scale)": 2 * N * h + h,
        "dH = df w_out^T / h": 2 * N * h,
        "dZ = dH (1 - H^2) s_in": 4 * N * h,
        "grad W_in = dZ^T X (backward GEMM)": 2 * N * d * h,
        "update (2 per parameter)": 2 * P,
    }
    return sum(terms.values()), terms


FLOP_FORMULA = ("F = 4 N d h (the two GEMMs) + 12 N h (tanh, output, its gradient, "
                "back-propagation) + 5 N (residual, loss, 2/N) + h (scale) + 2 P (update), "
                "P = h d + h")


# --------------------------------------------------------------------------------------------
# Part run by any interpreter with NumPy: the one-core peak
# --------------------------------------------------------------------------------------------
def part_peak():
    import numpy as np

    best, per = 0.0, {}
    for n in (64, 96, 128, 192, 256):
        a = np.random.default_rng(0).standard_normal((n, n))
        b = np.random.default_rng(1).standard_normal((n, n))
        c = np.empty((n, n))
        reps = max(3, int(2e8 / (2 * n ** 3)))
        np.matmul(a, b, out=c)
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(reps):
                np.matmul(a, b, out=c)
            times.append((time.perf_counter() - t) / reps)
        g = 2 * n ** 3 / min(times) / 1e9
        per[n] = g
        best = max(best, g)
    print(json.dumps({"peak_gflops": best, "by_size": per, "numpy": np.__version__}))


# --------------------------------------------------------------------------------------------
# Part run by the gdchaos interpreter: the arrays gdchaos uses, and what its stores say
# --------------------------------------------------------------------------------------------
def part_read(store, iters, out, inputs):
    import hashlib

    import numpy as np

    import gdchaos
    from gdchaos.nn.maps import NetMapSettings

    ds = gdchaos.open_store(store)
    res = {"score": np.asarray(ds["score"].values, dtype=float),
           "iterations": np.asarray(ds["iterations"].values, dtype=np.int64),
           "status": np.asarray(ds["status"].values, dtype=np.int64),
           "final_loss": np.asarray(ds["final_loss"].values, dtype=float)}
    res["trainable"] = res["score"] < 1.0
    res["computed"] = (np.asarray(ds["computed"].values) >= 1 if "computed" in ds
                       else np.ones(res["score"].shape, dtype=bool))
    info = {}
    if inputs:
        run = json.loads(ds.attrs["gdchaos_run"])
        s = NetMapSettings(iters=iters)
        p = s.problem()
        theta = np.asarray(p.init(s.init_seed, s.init_scheme), dtype=float)
        X = p.X.numpy().astype(float)
        y = p.y.numpy().astype(float)
        sha = hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()
        stored_init = np.asarray(ds["init"].values, dtype=float)
        prob = run["problem"]
        info = {"data_sha_matches_store": sha == prob["data_sha256"],
                "init_matches_store": bool(np.array_equal(stored_init, theta)),
                "widths": prob["widths"], "scales": prob["scales"],
                "activation": prob["activation"], "bias": prob["bias"], "loss": prob["loss"],
                "n_data": prob["n_data"], "window": run["window"],
                "max_iter": run["config"]["max_iter"], "x_axis": run["x_axis"],
                "y_axis": run["y_axis"], "div": run["config"]["div_threshold"],
                "tol": run["config"]["tol"], "optimizer": run["optimizer"]["kind"]}
        np.savez(inputs, X=X, y=y, theta=theta, eta_in=np.asarray(ds.x.values, dtype=float),
                 eta_out=np.asarray(ds.y.values, dtype=float), iters=iters,
                 window=int(run["window"]), width=int(prob["widths"][1]))
    np.savez(out, **res)
    print(json.dumps(info))


# --------------------------------------------------------------------------------------------
# Part run by the jax interpreter: his structure
# --------------------------------------------------------------------------------------------
def part_jax(inputs, out, variant, batch):
    """``variant`` ``loop``: his notebook's loop (``train_step_lrvmap = jit(vmap(train_step))``
    called once per step from Python on the whole grid, up to his ``outer_batch_size`` 50000
    pixels per call, the losses stacked and judged by his ``convergence_measure``); ``scan``:
    one ``jit(vmap(lax.scan))`` call per ``batch`` pixels (the whole grid by default)."""
    t0 = time.perf_counter()
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax

    t_import = time.perf_counter() - t0
    z = np.load(inputs)
    X, Y, theta = z["X"], z["y"][:, None], z["theta"]
    eta_in, eta_out = z["eta_in"], z["eta_out"]
    T, window, h = int(z["iters"]), int(z["window"]), int(z["width"])
    d = X.shape[1]
    # gdchaos's flat layout is W_in (h, d) row-major then W_out (h,); his W are (fan_in, fan_out)
    theta0 = [jnp.asarray(theta[:h * d].reshape(h, d).T), jnp.asarray(theta[h * d:][:, None])]
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def net(th, A):  # his mean-field network, tanh
        for W in th:
            Zl = jnp.dot(A, W) / jnp.sqrt(W.shape[0])
            A = jax.nn.tanh(Zl * jnp.sqrt(2))
        return Zl / jnp.sqrt(W.shape[0])

    def loss(th):
        return jnp.mean((net(th, Xj) - Yj) ** 2)  # MSE, no 1/2

    def train_step(th, hp):  # his train_step, lr_vs_lr, full batch, readout 'loss'
        L, g = jax.value_and_grad(loss)(th)
        lrs = [hp[i % hp.shape[0]] for i in range(len(th))]
        return jax.tree_util.tree_map(lambda t, gg, lr: t - lr * gg, th, g, lrs), L

    def convergence_measure(v, max_val=1e6):  # his, as published (an inf loss becomes NaN:
        fin = jnp.isfinite(v)  # inf * 0; NaN < 1 is False, so the label is the same)
        v = v * fin + max_val * (1 - fin)
        v = v / v[0]
        exceeds = v > max_val
        v = v * (1 - exceeds) + max_val * exceeds
        return jnp.mean(v[-window:])  # trainable iff < 1 (his `converged`)

    E1, E0 = np.meshgrid(eta_out, eta_in, indexing="ij")  # rows eta_out (y), columns eta_in (x)
    hp_all = np.stack([E0.ravel(), E1.ravel()], axis=-1)  # his lr = stack([lr0, lr1])
    n = hp_all.shape[0]
    b = min(batch, n)
    pad = (-n) % b
    hp_all = np.concatenate([hp_all, np.repeat(hp_all[-1:], pad, axis=0)])
    tile = lambda th, m: [jnp.tile(u, (m,) + (1,) * u.ndim) for u in th]

    if variant == "loop":
        step = jax.jit(jax.vmap(train_step, in_axes=(0, 0), out_axes=(0, 0)), donate_argnums=(0,))
        measure = jax.jit(jax.vmap(convergence_measure))
        t = time.perf_counter()
        step_c = step.lower(tile(theta0, b), jnp.zeros((b, 2))).compile()
        measure_c = measure.lower(jnp.zeros((b, T + 1))).compile()
        t_compile = time.perf_counter() - t

        def run_batch(hp):
            th, losses = tile(theta0, b), []
            for _ in range(T + 1):
                th, L = step_c(th, hp)
                losses.append(L)
            return measure_c(jnp.stack(losses, axis=-1))
    else:
        def train(hp):
            def body(th, _):
                return train_step(th, hp)

            return lax.scan(body, theta0, None, length=T + 1)[1]

        pixels = jax.jit(jax.vmap(lambda hp: convergence_measure(train(hp))))
        t = time.perf_counter()
        pixels_c = pixels.lower(jnp.zeros((b, 2))).compile()
        t_compile = time.perf_counter() - t
        run_batch = pixels_c

    t = time.perf_counter()
    scores = [np.asarray(jax.block_until_ready(run_batch(jnp.asarray(hp_all[s:s + b]))))
              for s in range(0, n + pad, b)]
    t_run = time.perf_counter() - t
    score = np.concatenate(scores)[:n].reshape(E0.shape)
    np.savez(out, score=score, trainable=score < 1.0)
    print(json.dumps({"import_s": t_import, "compile_s": t_compile, "run_s": t_run,
                      "network_steps": int((n + pad) * (T + 1)), "pixels": n, "batch": b,
                      "variant": variant, "jax": jax.__version__,
                      "backend": jax.default_backend()}))


# --------------------------------------------------------------------------------------------
# Orchestration (no jax, no gdchaos)
# --------------------------------------------------------------------------------------------
def die(msg):
    print(f"bench_nn_jax: {msg}", file=sys.stderr)
    sys.exit(2)


def can_import(python, module):
    try:
        code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec('{module}') is None)"
        r = subprocess.run([python, "-c", code], check=False, capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def pinned(core, argv):
    if shutil.which("taskset") and hasattr(os, "sched_getaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        return ["taskset", "-c", str(cores[core % len(cores)])] + argv
    return argv


def timed(argv, what):
    """Run ``argv`` (one thread), return (wall s, CPU s of the child, stdout)."""
    env = dict(os.environ, **ONE_THREAD)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(argv, check=False, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        die(f"{what} failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return wall, cpu, p.stdout


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"no JSON in output: {text[-500:]!r}")


JAX_ROWS = (  # key, variant, batch (None: --jax-batch), label
    ("jax_loop", "loop", 50000, "(c) JAX, his loop: jit(vmap(step)) per step, whole grid"),
    ("jax_scan", "scan", 50000, "(d) JAX, jit(vmap(lax.scan)), whole grid"),
    ("jax_scan_b", "scan", None, "(e) JAX, jit(vmap(lax.scan)), {b} pixels per call"),
)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", type=int, default=32)
    ap.add_argument("--iters", type=int, default=200,
                    help="gdchaos --iters T (T + 1 losses read; JAX takes T + 1 steps)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest is reported")
    ap.add_argument("--jax-python", default=None,
                    help="interpreter with jax (default: this one, if it has jax)")
    ap.add_argument("--gdchaos-python", default=None,
                    help="interpreter with gdchaos (default: the repository's .venv, else this)")
    ap.add_argument("--jax-batch", type=int, default=64,
                    help="pixels per call of row (e) (default 64: activations fit the caches)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--workdir", default=None,
                    help="keep the stores and .npz files here (default: a temporary folder, "
                         "removed at the end)")
    ap.add_argument("--_part", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a._part is not None:
        kind, *rest = a._part
        if kind == "peak":
            return part_peak()
        if kind == "read":
            return part_read(rest[0], int(rest[1]), rest[2], rest[3] if len(rest) > 3 else None)
        if kind == "jax":
            return part_jax(rest[0], rest[1], rest[2], int(rest[3]))
        die(f"unknown part {kind}")

    for k in ("grid", "iters", "repeat", "jax_batch"):
        if getattr(a, k) < 1:
            die(f"--{k.replace('_', '-')} must be a positive integer")
    jax_py = a.jax_python or sys.executable
    if not can_import(jax_py, "jax"):
        die(f"{jax_py} cannot import jax; make an interpreter that can "
                 f"(python3.11 -m venv /tmp/jaxenv && /tmp/jaxenv/bin/pip install jax jaxlib "
                 f"numpy) and pass --jax-python /tmp/jaxenv/bin/python")
    gd_py = a.gdchaos_python
    if gd_py is None:
        venv = os.path.join(REPO, ".venv", "bin", "python")
        gd_py = venv if os.path.exists(venv) else sys.executable
    if not can_import(gd_py, "gdchaos"):
        die(f"{gd_py} cannot import gdchaos; pass --gdchaos-python")
    gd_cli = os.path.join(os.path.dirname(gd_py), "gdchaos")
    gd_cmd = [gd_cli] if os.path.exists(gd_cli) else [gd_py, "-c",
                                                        "from gdchaos.cli import main; main()"]

    if a.workdir is None:
        with tempfile.TemporaryDirectory(prefix="bench_nn_jax_") as work:
            return run(a, work, jax_py, gd_py, gd_cmd)
    os.makedirs(a.workdir, exist_ok=True)
    return run(a, a.workdir, jax_py, gd_py, gd_cmd)


def run(a, work, jax_py, gd_py, gd_cmd):
    G, T = a.grid, a.iters
    W = lambda name: os.path.join(work, name)
    load0 = os.getloadavg()
    print(f"# bench_nn_jax: tanh, width 16, mean-field, {G} x {G} pixels, --iters {T} "
          f"({T + 1} losses), one core and one thread each, one process at a time; load "
          f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")

    _, _, out = timed(pinned(0, [gd_py, HERE, "--_part", "peak"]), "peak")
    peak = last_json(out)

    base = gd_cmd + ["nn", "map", "--grid", str(G), "--iters", str(T), "--threads", "1",
                     "--x-axis", AXES[0], "--y-axis", AXES[1], "--quiet", "--json",
                     "--overwrite"]
    rows = {k: [] for k in ("full", "refine") + tuple(r[0] for r in JAX_ROWS)}
    info = None
    for _ in range(a.repeat):
        for key, extra in (("full", []), ("refine", ["--refine"])):
            wall, cpu, out = timed(pinned(0, base + ["--out", W(f"{key}.zarr")] + extra),
                                   f"gdchaos {key}")
            cli = last_json(out)
            rows[key].append({"wall_s": wall, "cpu_s": cpu, "compute_s": cli["seconds"],
                              "cli": cli})
            argv = [gd_py, HERE, "--_part", "read", W(f"{key}.zarr"), str(T), W(f"{key}.npz")]
            if info is None:
                argv.append(W("inputs.npz"))
            _, _, out = timed(argv, f"reading {key}")
            if info is None:
                info = last_json(out)
        for key, variant, batch, _ in JAX_ROWS:
            wall, cpu, out = timed(pinned(1, [jax_py, HERE, "--_part", "jax", W("inputs.npz"),
                                              W(f"{key}.npz"), variant,
                                              str(batch or a.jax_batch)]), f"JAX {key}")
            j = last_json(out)
            rows[key].append({"wall_s": wall, "cpu_s": cpu, "compute_s": j["run_s"], "jax": j})
    load1 = os.getloadavg()

    import numpy as np  # both interpreters have it; the results are .npz files

    res = {k: np.load(W(f"{k}.npz")) for k in rows}
    lab = {k: z["trainable"].astype(bool) for k, z in res.items()}
    full, ref = res["full"], res["refine"]
    inp = np.load(W("inputs.npz"))
    N, d = inp["X"].shape
    F, terms = step_flops(N, d, int(inp["width"]))
    best = {k: min(v, key=lambda r: r["wall_s"]) for k, v in rows.items()}
    steps = {"full": int((full["iterations"] + 1).sum()),
             "refine": int((ref["iterations"] + 1)[ref["computed"]].sum())}
    steps.update({k: best[k]["jax"]["network_steps"] for k, *_ in JAX_ROWS})
    same_data = "equal to" if info["data_sha_matches_store"] else "DIFFERENT from"
    same_init = "equal" if info["init_matches_store"] else "DIFFERENT"
    print(f"# inputs: data SHA-256 {same_data} the store's, initialization {same_init};"
          f" gdchaos multipliers {info['scales']} (JAX: 1/sqrt(16) sqrt(2) and 1/16); {N} points")
    print(f"# FLOPs per network-step: {FLOP_FORMULA}; N = {N}, d = h = 16: F = {F:,}")
    print(f"# one-core float64 peak (NumPy {peak['numpy']} matmul, best of n = "
          f"{', '.join(str(k) for k in peak['by_size'])}): {peak['peak_gflops']:.1f} GFLOP/s")
    for k, *_ in JAX_ROWS:
        j = best[k]["jax"]
        print(f"# JAX {j['jax']} ({j['backend']}) {k}: import {j['import_s']:.2f} s, compile "
              f"{j['compile_s']:.2f} s, run {j['run_s']:.2f} s, {j['batch']} pixels per call")
    print()
    print("| what | wall s | CPU s | compute s | network-steps | steps/pixel | us CPU/step "
          "(end to end) | us/step (compute) | GFLOP/s (compute) | of peak | labels = (a) |")
    print("|" + "---|" * 11)
    names = {"full": "(a) `gdchaos nn map` (every pixel)",
             "refine": "(b) `gdchaos nn map --refine`"}
    names.update({k: lbl.format(b=a.jax_batch) for k, _, _, lbl in JAX_ROWS})
    table = {}
    for k, reps in rows.items():
        r, n = best[k], steps[k]
        gf = F * n / r["compute_s"] / 1e9
        t = table[k] = {
            "label": names[k], "wall_s": r["wall_s"], "cpu_s": r["cpu_s"],
            "compute_s": r["compute_s"], "network_steps": n,
            "steps_per_pixel": n / lab["full"].size, "us_cpu_per_step": 1e6 * r["cpu_s"] / n,
            "us_per_step_compute": 1e6 * r["compute_s"] / n, "gflops": gf,
            "of_peak": gf / peak["peak_gflops"],
            "agree_full": float((lab[k] == lab["full"]).mean()),
            "all_walls_s": [x["wall_s"] for x in reps]}
        print(f"| {names[k]} | {t['wall_s']:.2f} | {t['cpu_s']:.2f} | {t['compute_s']:.2f} | "
              f"{n:,} | {t['steps_per_pixel']:.1f} | {t['us_cpu_per_step']:.1f} | "
              f"{t['us_per_step_compute']:.1f} | {gf:.2f} | {100 * t['of_peak']:.1f}% | "
              f"{t['agree_full']:.4f} |")
    print()
    agree = {f"{k}_vs_full": table[k]["agree_full"] for k in rows if k != "full"}
    agree["refine_vs_jax_loop"] = float((lab["refine"] == lab["jax_loop"]).mean())
    agree["jax_scan_vs_jax_loop"] = float((lab["jax_scan"] == lab["jax_loop"]).mean())
    diff = np.argwhere(lab["full"] != lab["jax_loop"])
    print(f"# labels: (a) vs his loop (c) {agree['jax_loop_vs_full']:.4f} ({len(diff)} of "
          f"{lab['full'].size} pixels differ), (b) vs (c) {agree['refine_vs_jax_loop']:.4f}, "
          f"(b) vs (a) {agree['refine_vs_full']:.4f}, (d) vs (c) "
          f"{agree['jax_scan_vs_jax_loop']:.4f}; trainable: (a) {lab['full'].mean():.4f}, "
          f"(c) {lab['jax_loop'].mean():.4f}")
    eo, ei = inp["eta_out"], inp["eta_in"]
    for r_, c_ in diff[:10]:
        print(f"#   differs at eta_in {ei[c_]:.6g}, eta_out {eo[r_]:.6g}: gdchaos score "
              f"{full['score'][r_, c_]:.6g} (status {full['status'][r_, c_]}, "
              f"{full['iterations'][r_, c_]} iterations), his "
              f"{res['jax_loop']['score'][r_, c_]:.6g}")
    print(f"# load before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after {load1[0]:.2f} "
          f"{load1[1]:.2f} {load1[2]:.2f}" + (f"; stores in {work}" if a.workdir else ""))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"grid": G, "iters": T, "repeat": a.repeat, "n_data": N,
                       "flops_per_step": F, "flop_terms": terms, "flop_formula": FLOP_FORMULA,
                       "peak": peak, "rows": table, "agreement": agree, "checks": info,
                       "jax": {k: best[k]["jax"] for k, *_ in JAX_ROWS},
                       "refine": best["refine"]["cli"].get("refine"),
                       "load_before": load0, "load_after": load1,
                       "differing_pixels": diff.tolist()}, fh, indent=1)


if __name__ == "__main__":
    main()

"""Network trainability maps (``gdchaos nn map``) against the way the published code computes
them: ``vmap`` of the training of every grid point (Sohl-Dickstein 2024's notebook uses
``jax.vmap``; here ``torch.func.vmap``, the same structure in PyTorch), in the same process.

Run:  python benchmarks/bench_nn_map.py [--grid 64] [--steps 200] [--activation tanh]
                                         [--n-points 272] [--plain] [--threads 2]

Setting (his): one hidden layer of width 16, no biases, mean-field, data N(0, 1), the learning
rates of the input and output layers on log axes 1e-1..1e5, trainable when the mean of the
last 20 losses is below the first.  Columns:

* ``gdchaos``: :func:`gdchaos.nn.maps.network_map` (manual batched backward in cache-sized
  blocks, diverged networks leave the batch);
* ``vmap``: every grid point's parameters stacked, ``vmap(grad_and_value(loss))`` for all of
  them at every step, all ``--steps`` steps, the losses kept and judged at the end (his loop);
* with ``--plain``: one network at a time, a plain autograd loop (the independent reference of
  the acceptance test: labels agree on >= 99% of pixels).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "nn"))


def his_loss(W0, W1, X, y, act):
    Z0 = X @ W0.T / math.sqrt(16)
    H = {"tanh": torch.tanh(math.sqrt(2) * Z0), "relu": math.sqrt(2) * torch.relu(Z0),
         "identity": Z0}[act]
    return ((H @ W1 / 16.0 - y) ** 2).mean()


def convergence_label(V):
    """His ``convergence_measure`` sign on losses ``V`` (steps, points)."""
    V = np.array(V, dtype=float)
    V[~np.isfinite(V)] = 1e6
    with np.errstate(all="ignore"):
        V = np.minimum(V / V[0], 1e6)
    return V[-20:].mean(0) < 1


def vmap_map(X, y, theta, e0, e1, steps, act, chunk=512):
    """All pixels by vmap, fixed steps, judged at the end (chunks of ``chunk`` pixels)."""
    vg = torch.func.vmap(torch.func.grad_and_value(
        lambda W0, W1: his_loss(W0, W1, X, y, act), argnums=(0, 1)))
    out = []
    for s in range(0, e0.numel(), chunk):
        a, b = e0[s:s + chunk], e1[s:s + chunk]
        n = a.numel()
        W0 = theta[:256].reshape(16, 16).expand(n, 16, 16).clone()
        W1 = theta[256:].expand(n, 16).clone()
        V = []
        for _ in range(steps):
            (g0, g1), loss = vg(W0, W1)
            V.append(loss.numpy().copy())
            W0 = W0 - a[:, None, None] * g0
            W1 = W1 - b[:, None] * g1
        out.append(convergence_label(V))
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--activation", default="tanh", choices=["tanh", "relu", "identity"])
    ap.add_argument("--n-points", type=int, default=None)
    ap.add_argument("--plain", action="store_true", help="also the one-network-at-a-time loop")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from gdchaos.nn.maps import NetMapSettings, network_map

    s = NetMapSettings(activation=a.activation, n_points=a.n_points, iters=a.steps - 1)
    p = s.problem()
    theta = torch.as_tensor(p.init(0))
    print(f"# {a.activation}, width 16, {p.X.shape[0]} data points, {a.grid}^2 pixels, "
          f"{a.steps} steps, {a.threads} threads, load {os.getloadavg()[0]:.2f}")
    network_map(s, grid=4)  # warm-up (imports, first calls)
    t = time.perf_counter()
    ds = network_map(s, grid=a.grid)
    t_ours = time.perf_counter() - t
    lab = ds["trainable"].values.astype(bool)
    e1, e0 = np.meshgrid(ds.y.values, ds.x.values, indexing="ij")
    e0t, e1t = torch.as_tensor(e0.ravel()), torch.as_tensor(e1.ravel())
    t = time.perf_counter()
    ref = vmap_map(p.X, p.y, theta, e0t, e1t, a.steps, a.activation).reshape(lab.shape)
    t_vmap = time.perf_counter() - t
    steps_done = int(ds["iterations"].values.sum() + lab.size)
    print(f"gdchaos nn map : {t_ours:8.2f} s  ({steps_done / lab.size:.0f} steps per pixel)")
    print(f"vmap, his loop : {t_vmap:8.2f} s  -> {t_vmap / t_ours:.1f}x; labels agree on "
          f"{(lab == ref).mean():.4f} of pixels; trainable {lab.mean():.3f}")
    if a.plain:
        from test_nn_maps import plain_label

        W0, W1 = theta[:256].reshape(16, 16), theta[256:]
        t = time.perf_counter()
        pl = np.array([plain_label(p.X, p.y, W0, W1, x0, x1, a.steps, a.activation)
                       for x0, x1 in zip(e0.ravel(), e1.ravel())]).reshape(lab.shape)
        t_plain = time.perf_counter() - t
        print(f"plain loop     : {t_plain:8.2f} s  -> {t_plain / t_ours:.1f}x; labels agree "
              f"on {(lab == pl).mean():.4f} of pixels")


if __name__ == "__main__":
    main()

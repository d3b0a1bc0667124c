"""Sharpness from Hessian-vector products: Lanczos and power iteration against the full Hessian."""

import numpy as np
import pytest
import torch

from gdchaos.nn import (
    hessian_matrix,
    init_params,
    load_pair,
    loss_hvp,
    n_params,
    power_iteration,
    sharpness,
    start_vector,
    top_eigenvalues,
)
from gdchaos.nn.sharpness import RowsMatvec


@pytest.fixture(scope="module")
def digits():
    return load_pair("digits", (0, 1), 15, seed=0)


@pytest.mark.parametrize("loss,seed,scale", [("mse", 0, 1.0), ("mse", 1, 2.5), ("ce", 2, 2.0)])
def test_lanczos_and_power_against_full_hessian(digits, loss, seed, scale):
    widths = (64, 16, 16, 1)
    assert n_params(widths) <= 2000
    p = init_params(widths, seed=seed) * scale
    H = hessian_matrix(p, digits.X, digits.y, widths, loss)
    ev = torch.linalg.eigvalsh(H)
    top = float(ev[-1])
    lz = sharpness(p, digits.X, digits.y, widths, loss)
    assert abs(lz - top) <= 1e-6 * abs(top)
    pw = sharpness(p, digits.X, digits.y, widths, loss, method="power")
    assert abs(pw - top) <= 1e-3 * abs(top)
    v = start_vector(p.numel(), 5)
    assert torch.allclose(loss_hvp(digits.X, digits.y, widths, loss)(p, v), H @ v, rtol=0,
                          atol=1e-10 * float(ev.abs().max()))


def test_lanczos_gives_largest_algebraic_eigenvalue():
    # indefinite operator whose largest |eigenvalue| is negative: Lanczos must return +3
    d = torch.tensor([-10.0, -1.0, 0.5, 3.0] + [0.1] * 20, dtype=torch.float64)
    Qm, _ = torch.linalg.qr(torch.randn(24, 24, dtype=torch.float64,
                                        generator=torch.Generator().manual_seed(0)))
    A = Qm @ torch.diag(d) @ Qm.T
    from gdchaos.nn import lanczos_top

    theta, conv, _ = lanczos_top(lambda V, rows: V @ A, start_vector(24)[None], 50, 1e-12)
    assert bool(conv[0]) and float(theta[0]) == pytest.approx(3.0, rel=1e-12)
    lam, _, _ = power_iteration(lambda V: V @ A, start_vector(24)[None], 500, 1e-12)
    assert float(lam[0]) == pytest.approx(-10.0, rel=1e-6)


def test_batched_eigensolvers_and_vmap(digits):
    widths = (64, 8, 8, 1)
    P = torch.stack([init_params(widths, seed=s) * (1 + s) for s in range(5)])
    hvp = loss_hvp(digits.X, digits.y, widths)
    singles = np.array([sharpness(p, digits.X, digits.y, widths) for p in P])
    batched = top_eigenvalues(P, digits.X, digits.y, widths, chunk=2)
    assert np.allclose(batched, singles, rtol=1e-9, atol=0)
    V0 = start_vector(P.shape[1]).expand(5, -1).clone()
    lam_b, _, its = power_iteration(RowsMatvec(P, hvp), V0)
    # power iteration without early exit is vmap-able, row by row, and gives the same values
    def one(p, v0):
        lam, _, _ = power_iteration(lambda V: torch.func.vmap(hvp)(p[None], V), v0[None],
                                    early_exit=False)
        return lam[0]

    lam_v = torch.func.vmap(one)(P, V0)
    assert torch.allclose(lam_v, lam_b, rtol=1e-12, atol=0)
    assert int(its.max()) <= 100
    bad = P.clone()
    bad[1, 0] = float("nan")
    out = top_eigenvalues(bad, digits.X, digits.y, widths)
    assert np.isnan(out[1]) and np.allclose(out[[0, 2, 3, 4]], singles[[0, 2, 3, 4]], rtol=1e-9)

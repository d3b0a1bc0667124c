"""Optimizers (engine/optim.py): the NumPy definition against the Numba kernel and the torch
runner, step by step, with per-group step sizes and per-point hyperparameters."""

import importlib.util

import numpy as np
import pytest

import gdchaos as gc
from gdchaos.engine.hypermap import run_optimizer
from gdchaos.engine.optim import (KINDS, STOP_RULES, Optimizer, init_state, reference_run,
                                  stability_threshold, stop_rule, update_state)

PROBLEMS = {
    "scalar": (gc.ScalarFactorization(d=2, y=1.0, lam=0.05), {"u": 0.07, "v": 0.02}),
    "matrix": (gc.MatrixFactorization(Y=((1.0, 0.3), (0.0, 0.8)), lam=0.02), {"U": 0.08}),
    "deep": (gc.DeepMatrixFactorization(Y=((0.9, 0.0), (0.1, 0.5)), k=3), {"W1": 0.03,
                                                                           "W3": 0.06}),
}
SETTINGS = {"gd": {}, "heavy_ball": {"momentum": 0.7}, "nesterov": {"momentum": 0.6},
            "adam": {"momentum": 0.85, "beta2": 0.99, "eps": 1e-8},
            "adamw": {"momentum": 0.9, "weight_decay": 0.3}}
K = 40
NOSTOP = dict(max_iter=K, tol=1e-300, gtol=0.0, div_threshold=1e300)


def _x0(problem, n=6, seed=1):
    return 0.6 * np.random.default_rng(seed).standard_normal((n, problem.n_params)) + 0.4


def _backends():
    return ["numba"] + (["torch"] if importlib.util.find_spec("torch") else [])


#: every optimizer on every problem with torch; with Numba every optimizer on scalar and matrix
#: factorization and two on deep (each pair is one compiled kernel, ~10 s the first time)
CASES = ([(k, p, "torch") for k in KINDS for p in PROBLEMS if "torch" in _backends()]
         + [(k, p, "numba") for k in KINDS for p in ("scalar", "matrix")]
         + [("heavy_ball", "deep", "numba"), ("adam", "deep", "numba")])


@pytest.mark.parametrize("kind,pname,backend", CASES)
def test_engine_matches_numpy_reference(kind, pname, backend):
    problem, group_eta = PROBLEMS[pname]
    opt = Optimizer(kind, eta=0.04 if kind.startswith("adam") else 0.05, group_eta=group_eta,
                    **SETTINGS[kind])
    X0 = _x0(problem)
    ref = reference_run(problem, opt, X0, K)
    res = run_optimizer(problem, X0, opt, backend=backend, **NOSTOP)
    assert np.all(res["status"] == gc.UNDECIDED) and np.all(res["iterations"] == K)
    np.testing.assert_allclose(res["params"], ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res["final_loss"], problem.loss(ref), rtol=1e-12, atol=1e-14)
    # the step sizes per group really differ from the global one (the test would see a mix-up)
    assert not np.allclose(reference_run(problem, Optimizer(kind, eta=opt.eta,
                                                            **SETTINGS[kind]), X0, K), ref)


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("kind", ["heavy_ball", "adamw"])
def test_per_point_hyperparameters(kind, backend):
    """Per-point step sizes, momentum and weight decay (arrays) = one reference run per point."""
    problem = gc.ScalarFactorization(d=1, y=1.0)
    X0 = _x0(problem, n=4, seed=3)
    hyper = {"eta_u": np.array([0.01, 0.05, 0.1, 0.02]), "eta": np.array([0.03, 0.02, 0.01, 0.1]),
             "momentum": np.array([0.0, 0.3, 0.6, 0.9])}
    if kind == "adamw":
        hyper["weight_decay"] = np.array([0.0, 0.1, 0.5, 1.0])
    res = run_optimizer(problem, X0, Optimizer(kind), hyper=hyper, backend=backend, **NOSTOP)
    for i in range(4):
        opt = Optimizer(kind, eta=hyper["eta"][i], group_eta={"u": hyper["eta_u"][i]},
                        momentum=hyper["momentum"][i],
                        weight_decay=hyper.get("weight_decay", np.zeros(4))[i])
        np.testing.assert_allclose(res["params"][i], reference_run(problem, opt, X0[i], K)[0],
                                   rtol=1e-12, atol=1e-12)


def test_gd_kinds_match_problem_gd_pair():
    """The optimizer pair's GD and heavy ball = the problems' own ``gd`` pair, bit for bit."""
    problem = gc.ScalarFactorization(d=2, y=0.7)
    X0 = _x0(problem)
    for kind, beta in (("gd", 0.0), ("heavy_ball", 0.5)):
        init, update = Optimizer(kind, eta=0.1, momentum=beta).pair(problem.param_groups, 4)
        i2, u2 = problem.gd(0.1, beta)
        s, s2 = init(X0), i2(X0)
        for _ in range(20):
            s, s2 = update(s, problem.grad(s.x)), u2(s2)
        assert np.array_equal(s.x, s2.x)


def test_adam_first_step_is_sign_step():
    """Bias correction: Adam's first step is eta * g / (|g| + eps) per coordinate."""
    g = np.array([[3.0, -0.2, 1e-3]])
    s = update_state("adam", init_state(np.zeros((1, 3))), g, 0.1, 0.9, 0.999, 1e-8)
    np.testing.assert_allclose(s.x, -0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9])
def test_nesterov_threshold_is_the_jury_bound(beta):
    """The linearization of Nesterov's step at curvature h is stable iff eta h below the
    threshold (spectral radius of its 2 x 2 matrix)."""
    thr = stability_threshold("nesterov", beta)
    for eh, stable in ((thr * 0.999, True), (thr * 1.001, False)):
        A = np.array([[1 - eh * (1 + beta), -eh * beta**2], [1.0, beta]])  # state (x, m), h = 1
        assert (np.max(np.abs(np.linalg.eigvals(A))) < 1) == stable


def test_stop_rules_named():
    assert stop_rule("adam") == "loss_below_tol_and_still" and stop_rule("gd") == "loss_below_tol_and_stable"
    assert set(STOP_RULES) == {stop_rule(k) for k in KINDS} | {"loss_below_tol"}
    assert Optimizer("adamw").as_dict()["stop_rule"] == "loss_below_tol_and_still"
    assert Optimizer("gd", rule="loss_below_tol").as_dict()["stop_rule"] == "loss_below_tol"


def test_preconditioned_stability_rule():
    """With eta_u != eta_v a minimizer of 1/2 (uv - 1)^2 is stable iff eta_u v^2 + eta_v u^2 < 2
    (the top eigenvalue of D^1/2 H D^1/2), not iff max(eta) * sharpness < 2."""
    problem = gc.ScalarFactorization(d=1, y=1.0)
    X0 = np.random.default_rng(0).uniform(0.2, 2.5, (400, 2))
    res = run_optimizer(problem, X0, Optimizer("gd", eta=0.4, group_eta={"u": 1.5}),
                        max_iter=4000, tol=1e-12)
    conv = res["status"] == gc.CONVERGED
    assert conv.sum() > 20
    u, v = res["params"][conv].T
    assert np.all(1.5 * v**2 + 0.4 * u**2 < 2 + 1e-6)
    assert np.all(1.5 * (u**2 + v**2) > 2)  # the common-step rule would have refused them all
    for backend in _backends()[1:]:
        rt = run_optimizer(problem, X0, Optimizer("gd", eta=0.4, group_eta={"u": 1.5}),
                           max_iter=4000, tol=1e-12, backend=backend)
        assert np.mean(rt["status"] == res["status"]) >= 0.99


def test_adam_converges_by_step_rule():
    problem = gc.ScalarFactorization(d=1, y=1.0)
    X0 = np.array([[0.5, 1.5], [1.2, 0.4]])
    res = run_optimizer(problem, X0, Optimizer("adam", eta=0.01), max_iter=20000, tol=1e-10)
    assert np.all(res["status"] == gc.CONVERGED)
    assert np.all(res["final_loss"] <= 1e-10)


@pytest.mark.parametrize("bad", [dict(kind="sgd"), dict(kind="gd", momentum=0.5),
                                 dict(kind="adam", weight_decay=0.1), dict(eta=0.0),
                                 dict(kind="heavy_ball", momentum=1.0), dict(group_eta={"u": -1})])
def test_bad_optimizers_refused(bad):
    with pytest.raises(gc.GdchaosInputError):
        Optimizer(**bad)


def test_unknown_group_refused():
    with pytest.raises(gc.GdchaosInputError, match="no parameter group"):
        Optimizer(group_eta={"W1": 0.1}).step_sizes(gc.ScalarFactorization().param_groups, 2)


@pytest.mark.parametrize("backend", _backends())
def test_rule_loss_below_tol_on_both_backends(backend):
    """The networks' rule (no stability test): a point at an unstable minimizer's level of loss
    counts as converged, where the default rule keeps going."""
    problem = gc.ScalarFactorization(d=1, y=1.0)
    X0 = np.array([[1.0 + 1e-9, 1.0]])  # at a minimizer with u^2 + v^2 = 2: unstable for eta 1.1
    kw = dict(max_iter=50, tol=1e-6, backend=backend)
    loose = run_optimizer(problem, X0, Optimizer("gd", eta=1.1, rule="loss_below_tol"), **kw)
    strict = run_optimizer(problem, X0, Optimizer("gd", eta=1.1), **kw)
    assert loose["status"][0] == gc.CONVERGED and loose["iterations"][0] == 0
    assert not (strict["status"][0] == gc.CONVERGED and strict["iterations"][0] == 0)


def test_one_rule_vocabulary_and_the_older_names():
    """basin and a GD map record one name for one rule; the names older map stores recorded
    are read as today's (issue 19)."""

    from gdchaos.status import ENGINE_RULE

    assert Optimizer("gd").stop_rule == ENGINE_RULE
    assert Optimizer("gd", rule="loss+linear-stability").stop_rule == "loss_below_tol_and_stable"
    assert Optimizer("adam", rule="loss+step").stop_rule == "loss_below_tol_and_still"
    with pytest.raises(gc.GdchaosInputError):
        Optimizer("adam", rule="loss_below_tol_and_stable")

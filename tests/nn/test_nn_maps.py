"""Trainability maps of small networks (nn/maps.py, ``gdchaos nn map``) and the Sohl-Dickstein
(2024) reproduction (experiments/trainability.py): against an independent plain-PyTorch loop,
boundaries present, the command line."""

import json
import math
import os

import numpy as np
import pytest
import torch

from gdchaos.cli import main
from gdchaos.engine.hypermap import Axis
from gdchaos.nn.maps import NetMapSettings, map_image, network_map
from gdchaos.nn.mlp import MLP


def plain_label(X, y, W0, W1, eta0, eta1, steps, act):
    """One network trained by a plain loop written from his notebook's formulas (autograd,
    per-layer learning rates); trainable when the mean of the last 20 of the ``steps`` losses
    (each before its update) is below the first, non-finite losses counting as 1e6."""
    W0 = W0.clone().requires_grad_(True)
    W1 = W1.clone().requires_grad_(True)
    v = []
    for _ in range(steps):
        Z0 = X @ W0.T / math.sqrt(16)
        H = {"tanh": torch.tanh(math.sqrt(2) * Z0), "relu": math.sqrt(2) * torch.relu(Z0),
             "identity": Z0}[act]
        loss = ((H @ W1 / 16.0 - y) ** 2).mean()
        v.append(float(loss.detach()))
        if not math.isfinite(v[-1]):
            break
        g0, g1 = torch.autograd.grad(loss, (W0, W1))
        with torch.no_grad():
            W0 -= eta0 * g0
            W1 -= eta1 * g1
    v = np.array(v + [np.inf] * (steps - len(v)))
    v[~np.isfinite(v)] = 1e6
    v = np.minimum(v / v[0], 1e6)  # his convergence_measure
    return bool(np.mean(v[-20:]) < 1)


@pytest.mark.parametrize("act,n_points", [("tanh", 1), ("relu", 4)])
def test_map_agrees_with_plain_pytorch_loop(act, n_points):
    """Every pixel of a 16 x 16 map against one plain training loop per network: >= 99%."""
    steps = 100
    s = NetMapSettings(activation=act, n_points=n_points, iters=steps - 1)
    ds = network_map(s, "eta_in:log:1e-1,1e5", "eta_out:log:1e-1,1e5", 16)
    p = s.problem()
    theta = torch.as_tensor(p.init(0))
    W0, W1 = theta[:256].reshape(16, 16), theta[256:]
    lab = ds["trainable"].values.astype(bool)
    ref = np.array([[plain_label(p.X, p.y, W0, W1, e0, e1, steps, act) for e0 in ds.x.values]
                    for e1 in ds.y.values])
    assert 0.1 < ref.mean() < 0.9  # both outcomes on the map: a boundary is crossed
    assert (lab == ref).mean() >= 0.99


@pytest.fixture(scope="module")
def tiny_maps():
    from gdchaos.experiments.trainability import CONDITIONS, condition_map

    return {name: condition_map(name, 16, 49)[0] for name in CONDITIONS}


def test_each_condition_has_a_boundary(tiny_maps):
    from gdchaos.analysis import window_boundary

    for name, ds in tiny_maps.items():
        lab = ds["trainable"].values.astype(bool)
        assert 0.05 < lab.mean() < 0.95, name
        assert window_boundary(lab).sum() >= 10, name
        img = map_image(ds)
        assert np.all((img > 0) == lab) and np.abs(img).min() >= 0.25


def test_minibatch_changes_the_map_and_is_seeded(tiny_maps):
    a, b = tiny_maps["tanh"], tiny_maps["minibatch"]
    assert (a["trainable"].values != b["trainable"].values).any()
    assert b.attrs["problem_batch_size"] == 16


def test_offset_axis_adds_to_the_input_layer():
    s = NetMapSettings(n_points=1, iters=19)
    ds = network_map(s, Axis("offset_in", 0.5, 0.5 + 1e-9), Axis("eta", 1.0, 2.0), (1, 1))
    p = s.problem()
    x0 = p.init(0)
    x0[p.param_groups["in"]] += 0.5
    from gdchaos.engine.hypermap import run_optimizer

    ref = run_optimizer(p, x0[None], s.optimizer_obj(), hyper={"eta": np.array([1.0])},
                        max_iter=19, tol=s.tol, div_threshold=s.div, gtol=0.0, backend="torch")
    assert ds.final_loss.values[0, 0] == ref["final_loss"][0]


def test_nn_map_command(tmp_path, capsys):
    out = tmp_path / "m.zarr"
    png = tmp_path / "m.png"
    args = ["nn", "map", "--n-points", "1", "--grid", "12", "--iters", "29", "--out", str(out),
            "--json", "--png", str(png), "--records", "sharpness"]
    assert main(args) == 0
    rec = json.loads(capsys.readouterr().out)
    assert 0 < rec["trainable"] < 1 and rec["grid"] == [12, 12]
    from matplotlib.image import imread

    img = imread(png)
    assert img.shape[0] > 100 and img[..., :3].std() > 0.05  # a picture, not a blank
    from gdchaos import open_store

    ds = open_store(out)
    sh = ds["sharpness"].values[ds["status"].values != 2]
    assert sh.size and np.all(np.isfinite(sh)) and np.all(sh > 0)
    assert main(args) == 0  # resumed: the same store, nothing recomputed
    assert json.loads(capsys.readouterr().out)["trainable"] == rec["trainable"]


@pytest.mark.parametrize("extra,msg", [
    (["--x-axis", "eta_hidden1:log:1,10"], "no parameter group"),
    (["--batch-size", "0"], "--batch-size"),
    (["--x-axis", "eta:log:0,1"], "log axis"),
    (["--optimizer", "gd", "--y-axis", "momentum:lin:0,0.5"], "momentum"),
    (["--grid", "100000"], "--allow-large"),  # the size limits of every map command
])
def test_nn_map_bad_input_writes_nothing(tmp_path, capsys, extra, msg):
    out = tmp_path / "bad.zarr"
    try:
        code = main(["nn", "map", "--n-points", "1", "--grid", "4", "--iters", "5", "--out",
                     str(out), *extra])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not os.path.exists(out)


def test_synthetic_data_is_seeded_and_sized():
    a, b = MLP.synthetic(seed=3), MLP.synthetic(seed=3)
    assert a.data_sha256 == b.data_sha256 and a.X.shape == (272, 16)
    assert MLP.synthetic(seed=4).data_sha256 != a.data_sha256
    assert MLP.synthetic(activation="identity", n_points=16).X.shape == (16, 16)


def test_identity_boundary_has_lower_dimension_than_tanh():
    """At equal resolution (24 px frames, a zoom of two frames by 100 each into the densest
    boundary, 100 losses), his local-slope dimension of the identity network's boundary is
    below tanh's, with disjoint intervals (identity stays a smooth curve; tanh's fills in)."""
    from gdchaos.analysis import local_slope_dimension
    from gdchaos.experiments.trainability import WINDOWS, zoom_sequence

    dims = {}
    for name in ("identity", "tanh"):
        seq = zoom_sequence(name, 24, 99, WINDOWS["lr"], 4.0, 3)
        dims[name] = local_slope_dimension([lab for _, lab in seq[1:]], sizes="dyadic",
                                           min_size=2)
    assert dims["identity"].dimension < dims["tanh"].dimension
    assert dims["identity"].ci[1] < dims["tanh"].ci[0]
    assert dims["identity"].dimension == pytest.approx(1.0, abs=0.1)


def test_a_condition_map_refined_matches_its_full_map():
    """The trainability item's maps take the boundary refinement (its ``refine`` setting):
    the identity condition's map refined against the same map in full.  A frame whose coarse
    lattice would have under 32 cells per side is computed in full."""
    from gdchaos.experiments.trainability import condition_map, frame_levels

    assert [frame_levels(2, n) for n in (32, 48, 64, 128, 512)] == [0, 0, 1, 2, 2]
    small, _ = condition_map("identity", 32, 49, refine=2)
    assert "computed" not in small
    full, _ = condition_map("identity", 64, 49)
    ref, _ = condition_map("identity", 64, 49, refine=2)
    assert "computed" in ref and "computed" not in full
    assert (full.trainable.values == ref.trainable.values).mean() >= 0.98
    done = ref.computed.values != 0
    assert np.array_equal(full.score.values[done], ref.score.values[done], equal_nan=True)

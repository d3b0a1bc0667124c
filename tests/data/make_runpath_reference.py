"""Write ``runpath_reference.json``: hashes of the statuses, iterations and final losses of a
fixed set of runs (``CASES``), to pin the run path's results while it is rewritten.

Run from a checkout whose ``src`` is first on the path (``PYTHONPATH=src python
tests/data/make_runpath_reference.py OUT.json``); the committed file was made at f8e7ef5, before
the engine had one run path (issue 19).  ``tests/engine/test_runpath_reference.py`` reruns every
case with the code of the checkout and compares.
"""

import hashlib
import json
import os
import sys
import tempfile

SLICE = ["--range", "-2,2,-2,2"]
CASES = {
    "basin_scalar": ["basin", "--problem", "scalar", "--eta", "0.9", "--grid", "24", *SLICE],
    "basin_scalar_d3_momentum": ["basin", "--problem", "scalar", "--d", "3", "--y", "1.5",
                                 "--eta", "0.5", "--momentum", "0.3", "--grid", "20", *SLICE],
    "basin_matrix": ["basin", "--problem", "matrix", "--eta", "0.4", "--grid", "16", *SLICE],
    "basin_deep": ["basin", "--problem", "deep", "--eta", "0.2", "--grid", "12",
                   "--range", "-1,1,-1,1"],
    "basin_quotient": ["basin", "--problem", "quotient", "--y", "0.5", "--lam", "0.2",
                       "--eta", "1", "--grid", "32", "--iters", "200"],
    "basin_scalar_torch": ["basin", "--problem", "scalar", "--eta", "0.9", "--grid", "16",
                           *SLICE, "--backend", "torch"],
    "map_gd_eta_groups": ["map", "--problem", "scalar", "--x-axis", "eta_u:log:0.01,2",
                          "--y-axis", "eta_v:log:0.01,2", "--grid", "20"],
    "map_gd_slice": ["map", "--problem", "scalar", "--eta", "0.9", "--x-axis",
                     "slice_x:lin:-2,2", "--y-axis", "slice_y:lin:-2,2", "--grid", "16"],
    "map_heavy_ball": ["map", "--problem", "scalar", "--optimizer", "heavy_ball",
                       "--x-axis", "eta:log:0.01,2", "--y-axis", "momentum:lin:0,0.95",
                       "--grid", "16"],
    "map_nesterov": ["map", "--problem", "matrix", "--optimizer", "nesterov", "--x-axis",
                     "eta:log:0.01,1", "--y-axis", "momentum:lin:0,0.9", "--grid", "12"],
    "map_adam": ["map", "--problem", "scalar", "--d", "2", "--optimizer", "adam", "--x-axis",
                 "eta:log:0.001,1", "--y-axis", "momentum:lin:0,0.99", "--grid", "12",
                 "--iters", "300"],
    "map_adamw": ["map", "--problem", "scalar", "--optimizer", "adamw", "--x-axis",
                  "weight_decay:lin:0,0.5", "--y-axis", "eta:log:0.001,1", "--grid", "12",
                  "--iters", "300"],
    "map_init_scale_offset": ["map", "--problem", "scalar", "--eta", "0.5", "--x-axis",
                              "init_scale:log:0.1,10", "--y-axis", "offset_u:lin:-1,1",
                              "--grid", "12"],
    "map_lam": ["map", "--problem", "scalar", "--x-axis", "lam:lin:0,0.5", "--y-axis",
                "eta:log:0.01,2", "--grid", "12"],
    "map_heavy_ball_torch": ["map", "--problem", "scalar", "--optimizer", "heavy_ball",
                             "--x-axis", "eta:log:0.01,2", "--y-axis", "momentum:lin:0,0.95",
                             "--grid", "12", "--backend", "torch"],
    "map_adam_torch": ["map", "--problem", "scalar", "--d", "2", "--optimizer", "adam",
                       "--x-axis", "eta:log:0.001,1", "--y-axis", "momentum:lin:0,0.99",
                       "--grid", "10", "--iters", "300", "--backend", "torch"],
    "map_gd_cluster": ["map", "--problem", "scalar", "--x-axis", "eta_u:log:0.01,2",
                       "--y-axis", "eta_v:log:0.01,2", "--grid", "20", "--tile-rows", "5",
                       "--scheduler", "local:2"],
    "nn_map_tanh": ["nn", "map", "--grid", "8", "--iters", "60"],
    "nn_map_relu": ["nn", "map", "--activation", "relu", "--grid", "8", "--iters", "60"],
}
VARIABLES = ("status", "iterations", "final_loss")


def digest(ds):
    """name -> sha256 of the variable's bytes (status int8, iterations int32, loss float64)."""
    import numpy as np

    out = {}
    for name, dt in zip(VARIABLES, ("int8", "int32", "float64")):
        if name in ds:
            a = np.ascontiguousarray(np.asarray(ds[name].values), dtype=dt)
            out[name] = hashlib.sha256(a.tobytes()).hexdigest()
    return out


def run_case(argv, folder):
    import xarray as xr
    from gdchaos.cli import main

    out = os.path.join(folder, "store.zarr")
    rc = main([*argv, "--out", out, "--quiet"])
    if rc not in (0, None):
        raise SystemExit(f"{argv}: exit {rc}")
    with xr.open_zarr(out, consolidated=False) as ds:
        return digest(ds.load())


def main(path):
    result = {}
    for name, argv in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            result[name] = run_case(argv, tmp)
        print(name, result[name], flush=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])

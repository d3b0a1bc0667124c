"""Every figure at its ``tiny`` preset: the content of what it computes, and what it writes.

One session-wide ``gdchaos reproduce --preset tiny`` run (about 30 s on 2 cores) feeds the
per-figure tests and the report tests (test_report.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from gdchaos.experiments.registry import FIGURE_MODULES, all_figures, get_figure

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def num(run, n):
    rec = run["records"][n]
    assert not rec.get("error"), rec.get("error")
    return rec["numbers"]


# ------------------------------------------------------------------------- declarations
def test_every_figure_is_declared_once_with_three_presets():
    assert sorted(FIGURE_MODULES) == list(range(1, 14))
    for spec in all_figures():
        assert set(spec.presets) == {"paper", "quick", "tiny"}, spec.number
        keys = {k: set(v) for k, v in spec.presets.items()}
        assert keys["paper"] == keys["quick"] == keys["tiny"], spec.number
        assert spec.choices, f"figure {spec.number} records no choice"
        assert callable(spec.compute) and callable(spec.plot)


def test_settings_are_overridable_and_checked():
    from gdchaos import GdchaosInputError

    spec = get_figure(3)
    p = spec.params("tiny", {"grid": "123", "zrange": "-1,2", "eta": "0.5"})
    assert p["grid"] == 123 and p["zrange"] == [-1.0, 2.0] and p["eta"] == 0.5
    with pytest.raises(GdchaosInputError):
        spec.params("tiny", {"no_such_setting": "1"})
    with pytest.raises(GdchaosInputError):
        spec.params("tiny", {"grid": "many"})
    with pytest.raises(GdchaosInputError):
        spec.params("huge")


# ------------------------------------------------------------------------- what is written
NETWORK_FIGURES = (4, 5, 12, 13)


def test_every_figure_writes_png_pdf_store_and_json(tiny_run, cifar_present):
    from PIL import Image

    for n in range(1, 14):
        rec = tiny_run["records"][n]
        assert not rec.get("error") and not rec.get("not_run"), (n, rec)
        if n in NETWORK_FIGURES:  # without CIFAR-10 (tests never download): the digits stand-in
            assert rec["params"]["dataset"] == ("cifar10" if cifar_present else "digits")
            assert ("data" in rec) == ("data" in rec["numbers"]) == (not cifar_present), rec
        files = rec["files"]
        assert any(f.endswith(".pdf") for f in files)
        assert any(f.endswith(".zarr") for f in files)
        for f in files:
            assert os.path.exists(f), f
        png = next(f for f in files if f.endswith(".png"))
        img = np.asarray(Image.open(png).convert("L"), dtype=float)
        assert img.shape[0] > 300 and img.shape[1] > 500
        assert img.std() > 10, f"figure {n}: the PNG looks blank"
        with open(Path(tiny_run["out"]) / f"fig{n:02d}.json") as fh:
            js = json.load(fh)
        assert js["params"] and js["choices"] and js["numbers"]
        assert js["preset"] == "tiny"


def test_store_holds_the_computed_maps(tiny_run):
    import xarray as xr

    ds = xr.open_zarr(Path(tiny_run["out"]) / "fig07_y0p3.zarr", consolidated=False)
    conv = ds.status.values == 1
    assert np.mean(conv == ds.in_D0.values) > 0.98
    assert json.loads(ds.attrs["params"])["eta"] == 1.0


# ------------------------------------------------------------------------- content, per figure
def test_fig01_fractal_slice_and_preimages(tiny_run):
    n = num(tiny_run, 1)
    assert 0.05 < n["left_fractions"]["converged"] < 0.5
    lo, hi = n["left_limit_coordinate_range"]
    r = np.sqrt(1.0 - 0.6)  # |u| on M is sqrt(|y| - lam); a coordinate cannot exceed it
    assert lo < 0 < hi and max(-lo, hi) <= r + 1e-6
    assert n["right_preimages_inside_D0"]
    assert n["right_preimage_area_fraction"]["m1"] > 0 and n["right_preimage_area_fraction"]["m2"] > 0


def test_fig02_norms_fill_2_to_10_and_basins_touch_the_boundary(tiny_run):
    n = num(tiny_run, 2)
    lo, hi = n["sq_norm_range"]
    assert lo < 2.2 and hi > 9.0 and hi < 10.0  # (2|y|, 2/eta) = (2, 10), stable limits only
    assert n["sq_norm_bins_occupied_2.5_to_9.5"] == 1.0
    ilo, ihi = n["imbalance_range"]
    assert ilo < -5 and ihi > 5
    assert n["iterations_range"][1] > 5 * n["iterations_range"][0]
    assert 0.05 < n["box_fractions"]["converged"] < 0.6  # the box straddles the boundary of D0
    assert n["box_converged_outside_D0_fraction"] == 0.0
    assert n["saddle_basin_pixels"] > 0 and 39.5 < n["saddle_basin_Q_max"] < 40.0
    assert n["unstable_basin_pixels"] > 0 and n["unstable_minimizer_sq_norm_range"][0] > 10.0


def test_fig03_dimension_branches_and_both_minimizers(tiny_run):
    n = num(tiny_run, 3)
    assert n["box_counting_dimension_paper_procedure"] > 1.1
    assert all(c > 0 for c in n["boundary_pixels_per_branch_G0_G1_G2"])
    mid = n["mid_fractions"]
    assert mid["p(+r,+r)"] > 0.05 and mid["p(-r,-r)"] > 0.05  # both minimizers reached
    assert abs(mid["p(+r,+r)"] - mid["p(-r,-r)"]) < 0.02  # the symmetry (u, v) -> (-u, -v)
    assert n["theorem4_admissible"]
    assert n["theorem4_region_converged_fraction (off the saddle's stable line)"] == 1.0
    assert n["theorem5_region_closest_fraction"] == 1.0
    assert n["farthest_p_plus_fraction_of_converged"] > 0.05


def test_fig06_three_preimages_entropy_and_orbits(tiny_run):
    n = num(tiny_run, 6)
    assert n["fraction_of_GD_C_with_exactly_3_preimages"] == 1.0
    assert n["C_subset_of_GD_C_fraction"] == 1.0 and n["boundary_of_D0_inside_C"]
    assert n["critical_values_Q_below_B_level"]
    assert n["trajectory_max_abs_Q_minus_8_over_eta"] < 1e-9
    assert n["trajectory_angle_bins_visited_of_36"] >= 20  # it wanders along the boundary
    assert abs(n["topological_entropy_lap"] - np.log(3)) < 1e-6
    assert n["gd_periods_verified"] == [1, 2, 3, 4]


def test_fig07_d0_contains_wang_and_is_the_convergence_region(tiny_run):
    n = num(tiny_run, 7)
    for key in ("y=0.3", "y=0.9"):
        v = n[key]
        assert v["wang_inside_D0_fraction"] == 1.0
        assert v["wang_to_D0_area_ratio"] < 0.9
        assert v["engine_agrees_with_D0_outside_saddle_basin"] > 0.995
    assert n["y=0.9"]["wang_to_D0_area_ratio"] < n["y=0.3"]["wang_to_D0_area_ratio"]
    assert n["y=0.3"]["wang_first_condition_holds"] and not n["y=0.9"]["wang_first_condition_holds"]


def test_fig08_region_changes_with_weight_decay(tiny_run):
    n = num(tiny_run, 8)
    per = [n[f"lam={lam:g}"] for lam in (0.0, 0.01, 0.1, 0.5)]
    conv = [v["converged_fraction"] for v in per]
    rough = [v["perimeter_over_equal_area_circle"] for v in per]
    assert conv[-1] > conv[0] + 0.02  # the spikes add area
    assert abs(rough[1] - rough[0]) < 0.1 * rough[0]  # lam = 0.01: barely visible spikes
    assert rough[3] > rough[2] > 1.05 * rough[0]  # wider spikes as lam grows
    assert all(v["saddle_basin_pixels"] > 0 for v in per)
    assert all(v["saddle_basin_pixels_in_region_fraction"] > 0.9 for v in per)
    for v in per[1:3]:
        assert v["theorem4_admissible"]
        assert v["theorem4_region_converged_fraction (off the saddle's stable line)"] == 1.0


def test_fig09_limits_on_the_minimizers_and_sensitive_near_boundary(tiny_run):
    n = num(tiny_run, 9)
    floor = n["min_sq_norm_on_M (2 ||Y||_*)"]
    for key in ("slice 0", "slice 1"):
        v = n[key]
        assert 0.15 < v["converged_fraction"] < 0.7
        assert v["sq_norm_range"][0] >= floor - 1e-4  # none below 2 ||Y||_* (loss tol 1e-10)
        assert v["near_over_far"] > 2


def test_fig10_coordinates_bounded_by_the_minimizers(tiny_run):
    n = num(tiny_run, 10)
    smax = max(n["minimizer_singular_values_of_U_and_V"])
    for key in ("slice 0", "slice 1"):
        lo, hi = n[key]["coordinate_range"]
        assert lo < 0 < hi and max(-lo, hi) <= smax + 1e-6
        assert n[key]["near_over_far"] > 2


def test_fig11_deep_norm_floor_and_local_minimizers(tiny_run):
    n = num(tiny_run, 11)
    floor = 3 * (0.9 ** (2 / 3) + 0.5 ** (2 / 3))  # balanced depth-3 minimizer
    assert n["unreg slice 0"]["sq_norm_range"][0] >= floor - 1e-3
    assert n["unreg slice 0"]["converged_fraction"] > 0.3
    assert n["reg slice 0"]["stationary_non_global_fraction"] > 0.02  # e.g. the origin
    assert n["reg slice 0"]["converged_fraction"] > 0.1


# The network figures on CIFAR-10 (tiny preset, from the session's reproduction; skipped without
# the data, failed under GDCHAOS_REQUIRE_CIFAR), and the same code on scikit-learn's digits
# (always): settings where digits show the same behaviour (their sharpness is lower, so larger
# step sizes, and a slice window nearer the origin).
DIGITS = {4: {"dataset": "digits", "eta_gd": "0.1,1.2", "eta_momentum": "0.02,0.7", "tol": 1e-4},
          5: {"dataset": "digits", "range": "0,28,0,28"}}
DIGITS[12], DIGITS[13] = {"dataset": "digits"}, DIGITS[5]


def _digits_run(fig, tmp_path):
    from gdchaos.experiments.runner import run_figure

    rec = run_figure(get_figure(fig), "tiny", DIGITS[fig], str(tmp_path), progress=False,
                     formats=("png",))
    assert rec["numbers"]["data_source"] == "sklearn.datasets.load_digits"
    assert rec["params"]["dataset"] == "digits"
    assert (tmp_path / f"fig{fig:02d}.png").stat().st_size > 10_000
    return rec["numbers"]


def _check_stability_limit(n, fig):
    arms = [n["GD"], n["momentum 0.9"]]
    assert sum(a["converged"] for a in arms) >= 2
    for a in arms:
        assert a["n"] == 8
        if a["converged"]:
            # GD cannot settle in a minimum sharper than (2 + 2 beta)/eta
            assert a["max_sharpness_over_limit"] < 1.02
    if fig == 12:  # cross-entropy: well below the limit (Cohen et al.)
        assert max(a["max_sharpness_over_limit"] for a in arms) < 0.9


def _check_slice(n):
    fr = n["slice"]["fractions"]
    assert fr["diverged"] > 0.05 and fr["converged"] > 0.0
    s = n["slice"]
    assert s["final_loss_range"][1] < 5e-4  # converged = loss below the threshold
    assert s["all_non_diverged_sharpness_5_95"][1] > 3 * s["all_non_diverged_sharpness_5_95"][0]


@pytest.mark.parametrize("fig", [4, 12])
def test_fig04_fig12_converged_runs_respect_the_stability_limit(tiny_run, cifar_data, fig):
    _check_stability_limit(num(tiny_run, fig), fig)


@pytest.mark.parametrize("fig", [5, 13])
def test_fig05_fig13_slice_straddles_the_divergence_boundary(tiny_run, cifar_data, fig):
    _check_slice(num(tiny_run, fig))


def test_network_figures_on_cifar10_are_as_before(tiny_run, cifar_data):
    """With CIFAR-10 there, the default ``dataset=auto`` is CIFAR-10: the settings of the preset
    (step sizes, window) and the record as without the stand-in (no label, no changed setting)."""
    for n in NETWORK_FIGURES:
        rec = tiny_run["records"][n]
        preset = get_figure(n).presets["tiny"]
        assert rec["params"] == {**preset, "dataset": "cifar10", **(
            {"zoom_range_used": rec["params"]["zoom_range_used"]} if n in (5, 13) else {})}
        assert "data" not in rec and "data" not in rec["numbers"]
        assert "standin_settings" not in rec["numbers"]
        assert rec["numbers"]["data_source"] != "sklearn.datasets.load_digits"
    assert not any(c.get("data") for c in tiny_run["claims"])


def test_network_figure_on_the_digits_by_choice_is_not_a_stand_in(tmp_path):
    """``dataset=digits`` is the user's choice: the digits, the settings given, no label."""
    from gdchaos.experiments.runner import run_figure

    rec = run_figure(get_figure(13), "tiny", {"dataset": "digits", "grid": "4", "zoom_grid": "2",
                                              "iters": "50"}, str(tmp_path), progress=False,
                     formats=("png",))
    assert rec["params"]["dataset"] == "digits" and "data" not in rec["numbers"]
    assert rec["params"]["range"] == get_figure(13).presets["tiny"]["range"]


@pytest.mark.parametrize("fig", [4, 12])
def test_fig04_fig12_on_digits_respect_the_stability_limit(tmp_path, fig):
    n = _digits_run(fig, tmp_path)
    _check_stability_limit(n, fig)
    if fig == 4:  # plain GD on digits reaches the edge of stability, 2/eta
        assert n["GD"]["max_sharpness_over_limit"] > 0.9


@pytest.mark.parametrize("fig", [5, 13])
def test_fig05_fig13_on_digits_slice_straddles_the_divergence_boundary(tmp_path, fig):
    _check_slice(_digits_run(fig, tmp_path))


# ------------------------------------------------------------------------- determinism
def test_same_seed_same_result(tmp_path):
    import xarray as xr

    from gdchaos.experiments.runner import run_figure

    spec = get_figure(9)
    a = run_figure(spec, "tiny", {"grid": 32}, str(tmp_path / "a"), progress=False)
    b = run_figure(spec, "tiny", {"grid": 32}, str(tmp_path / "b"), progress=False)
    assert a["numbers"] == b["numbers"]
    da = xr.open_zarr(tmp_path / "a" / "fig09_slice0.zarr", consolidated=False)
    db = xr.open_zarr(tmp_path / "b" / "fig09_slice0.zarr", consolidated=False)
    np.testing.assert_array_equal(da.sq_norm.values, db.sq_norm.values)
    c = run_figure(spec, "tiny", {"grid": 32, "slice_seeds": "5,6"}, str(tmp_path / "c"),
                   progress=False)
    assert c["numbers"]["slice 5"] != a["numbers"]["slice 0"]

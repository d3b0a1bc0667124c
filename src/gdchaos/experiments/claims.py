"""The paper's claims as data: each a record with a stable id, what the paper says and where, the
band (or rule) a reproduced value must meet, and a check that measures it from the figures'
numbers.

:func:`evaluate_claims` turns the figures' JSON records into one :class:`ClaimResult` per claim
(id, measured value, band, source, verdict ``"agrees"``, ``"differs"`` or ``"not run"``, and the
text shown in the report).  A claim judged on a figure drawn on the digits stand-in (no CIFAR-10:
:mod:`.nn_standin`) is judged all the same, and its ``data`` says so.
A band is ``{"low": a, "high": b}`` (the measured number must lie in
``[a, b]``; ``None``: no end on that side) or ``{"rule": text}`` (the check says whether the measured values meet the rule).
Code and tests key claims by ``id``; ``title`` is prose for display only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .nn_standin import data_label

LOG3 = float(np.log(3))


@dataclass(frozen=True)
class Claim:
    id: str  # stable key, e.g. "thm1_critical_step"
    title: str  # prose, for display only
    paper: str  # the claim as the paper states it
    figure: int  # the figure whose numbers measure it
    source: str  # where the paper makes it
    band: dict  # {"low": a, "high": b} for the measured number, or {"rule": text}
    check: Callable  # numbers of ``figure`` (then of ``also``) -> (measured, text, ok | None)
    also: tuple = ()  # further figures the check reads (None when not run)

    def judge(self, measured, ok) -> bool:
        """``ok`` from the check, or, for a numeric band, whether ``measured`` lies in it."""
        if ok is not None:
            return bool(ok)
        lo, hi = self.band["low"], self.band["high"]
        return (measured is not None and bool(np.isfinite(measured))
                and (lo is None or lo <= measured) and (hi is None or measured <= hi))


@dataclass(frozen=True)
class ClaimResult:
    """One claim evaluated on the records at hand."""

    id: str
    title: str
    paper: str
    figure: int
    source: str
    band: dict
    measured: object  # JSON-able; None when not run
    verdict: str  # "agrees", "differs" or "not run"
    text: str  # the reproduced value as the report shows it
    extra: dict = field(default_factory=dict)
    data: str | None = None  # "digits stand-in (CIFAR-10 not available: ...)", else None

    def as_dict(self) -> dict:
        out = {"id": self.id, "title": self.title, "paper": self.paper, "figure": self.figure,
               "source": self.source, "band": self.band, "measured": self.measured,
               "verdict": self.verdict, "text": self.text}
        if self.data:  # only on a stand-in: the claims of a CIFAR-10 run are written as before
            out["data"] = self.data
        return out


def _f(x, nd=3):
    return "n/a" if x is None else f"{x:.{nd}g}" if isinstance(x, float) else str(x)


def _thm1(n):
    a = [n[k]["engine_agrees_with_D0_outside_saddle_basin"] for k in ("y=0.3", "y=0.9") if k in n]
    return (min(a) if a else None,
            f"GD (engine) converges exactly on D0 on {', '.join(f'{100 * v:.3f}%' for v in a)} of "
            "pixels off the saddle's stable line (y = 0.3, 0.9)", None)


def _wang(n):
    r = [(k, n[k]["wang_inside_D0_fraction"], n[k]["wang_to_D0_area_ratio"])
         for k in ("y=0.3", "y=0.9") if k in n]
    txt = "; ".join(f"{k}: inside D0 {100 * a:.1f}%, area ratio {b:.2f}" for k, a, b in r)
    measured = {k: {"inside_D0": a, "area_ratio": b} for k, a, b in r}
    return measured, txt, bool(r) and all(a == 1.0 and b < 1 for _, a, b in r)


def _thm2(n):
    r = n.get("sq_norm_range")
    occ = n.get("sq_norm_bins_occupied_2.5_to_9.5")
    return ({"sq_norm_range": r, "bins_occupied_2.5_to_9.5": occ},
            f"limits' squared norms span [{_f(r[0])}, {_f(r[1])}]; every bin of width 0.5 in "
            f"[2.5, 9.5] occupied: {100 * occ:.0f}%; imbalance range "
            f"{[round(v, 2) for v in n['imbalance_range']]}; iterations "
            f"{n['iterations_range']}", r is not None and r[0] < 2.2 and r[1] > 9.0 and occ == 1.0)


def _measure_zero(n):
    q = n.get("saddle_basin_Q_max")
    s = n.get("unstable_minimizer_sq_norm_range")
    return ({"saddle_basin_Q_max": q, "D0_level": n["D0_level_8_over_eta"],
             "unstable_minimizer_sq_norm_range": s},
            f"saddle-basin lines reach Q = {_f(q, 6)} (boundary at {_f(n['D0_level_8_over_eta'])}); "
            f"unstable minimizers reached in 6 steps with |p|^2 from {_f(s[0])} to {_f(s[1])}",
            q is not None and q > 0.999 * n["D0_level_8_over_eta"] and s[1] > 1e6)


def _thm4(n3, n8):
    k = "theorem4_region_converged_fraction (off the saddle's stable line)"
    vals = [("fig 3", n3.get(k))] if n3 else []
    if n8:
        vals += [(f"fig 8 {lk}", v.get(k)) for lk, v in n8.items()
                 if isinstance(v, dict) and v.get("theorem4_admissible")]
    vals = [(a, b) for a, b in vals if b is not None]
    return (min(b for _, b in vals) if vals else None,
            "; ".join(f"{a}: {100 * b:.2f}% converge" for a, b in vals), None)


def _thm5(n):
    c = n.get("theorem5_region_closest_fraction")
    pm, pp = n.get("closest_p_minus_fraction_of_converged"), n.get("farthest_p_plus_fraction_of_converged")
    return ({"closest_in_region": c, "p_minus_of_converged": pm, "p_plus_of_converged": pp},
            f"below 4/(4 lam + Q): {100 * c:.2f}% reach p-; overall p- {100 * pm:.1f}%, "
            f"p+ {100 * pp:.1f}% of converged points", c == 1.0 and pp > 0 and pm > 0)


def _dim(n):
    d = n["box_counting_dimension_paper_procedure"]
    ci = n["box_counting_regression_ci95"]
    return (d, f"{d:.4f} (regression 95% interval [{ci[0]:.3f}, {ci[1]:.3f}]), which implies an "
               f"uncertainty exponent 2 - D = {2 - d:.3f}; {n['boundary_pixels']} boundary "
               "pixels. Measured directly (gdchaos uncertainty, grid-free) the exponent is about "
               "0.71, D about 1.29: see docs/analysis.md", None)


def _selfsim(n):
    c = n["boundary_pixels_per_branch_G0_G1_G2"]
    f = n["F(boundary) within 2 px of boundary"]
    return ({"boundary_pixels_per_branch": c, "F_within_2px": f},
            f"boundary pixels in the strips of G0, G1, G2: {c}; F(boundary) within 2 pixels of "
            f"the boundary: {100 * f:.1f}%", min(c) > 0 and f > 0.5)


def _entropy(n):
    h = n["topological_entropy_lap"]
    return (h, f"lap numbers {[int(v) for v in n['boundary_map_lap_numbers'][:6]]}...: entropy "
               f"{h:.6f} (log 3 = {np.log(3):.6f})", None)


def _periodic(n):
    v = n["gd_periods_verified"]
    k = sorted(int(x) for x in n["gd_periodic_orbits"])
    return ({"verified": v, "found": k}, f"GD orbits of minimal period {v} verified by iterating "
                                         "float64 GD (return error < 1e-10)", v == k)


def _covering(n):
    f = n["fraction_of_GD_C_with_exactly_3_preimages"]
    return ({"three_preimages": f, "C_in_GD_C": n["C_subset_of_GD_C_fraction"]},
            f"{100 * f:.2f}% of GD(C) pixels have exactly 3 preimages; C in GD(C): "
            f"{100 * n['C_subset_of_GD_C_fraction']:.2f}%; critical values have Q <= "
            f"{n['max_Q_on_critical_values']:.2f} < {n['B_level_Q']:g}",
            f == 1.0 and n["C_subset_of_GD_C_fraction"] == 1.0)


def _lam(n):
    lams = [v for k, v in n.items() if k.startswith("lam=")]
    per = [(v["lam"], v["perimeter_over_equal_area_circle"]) for v in lams]
    inside = [v["saddle_basin_pixels_in_region_fraction"] for v in lams
              if v["saddle_basin_pixels_in_region_fraction"] is not None]
    ok = all(b >= a - 0.05 for (_, a), (_, b) in zip(per, per[1:])) and per[-1][1] > 1.5 * per[0][1]
    return ({"perimeter_over_circle": {f"{a:g}": b for a, b in per},
             "saddle_basin_inside_region": [min(inside), max(inside)]},
            "boundary length / equal-area circle: "
            + ", ".join(f"lam {a:g}: {b:.2f}" for a, b in per)
            + f"; saddle-basin pixels inside the region: {min(inside) * 100:.0f}-"
              f"{max(inside) * 100:.0f}%", ok and min(inside) > 0.9)


def _sens(n):
    r = [v["near_over_far"] for k, v in n.items() if isinstance(v, dict) and "near_over_far" in v
         and v["near_over_far"] is not None]
    return (min(r) if r else None,
            f"median jump of the limit between neighbouring pixels, near the boundary / far from "
            f"it: {', '.join(f'{x:.0f}x' for x in r)}", None)


def _deep(n):
    f = [v["stationary_non_global_fraction"] for k, v in n.items() if k.startswith("reg slice")]
    r = [v["near_over_far"] for k, v in n.items() if "slice" in k and v.get("near_over_far")]
    return ({"stationary_non_global": f, "near_over_far": r},
            f"regularized: {', '.join(f'{100 * x:.0f}%' for x in f)} of pixels stop at a "
            f"non-global stationary point (disconnected region); near/far jump ratio "
            f"{', '.join(f'{x:.0f}x' for x in r)}", bool(f) and min(f) > 0 and min(r) > 2)


def _regimes(n):
    g = n.get("GD", {})
    m = next((v for k, v in n.items() if k.startswith("momentum")), {})
    parts, ok, measured = [], True, {}
    for name, a in (("GD", g), ("momentum", m)):
        if not a or not a.get("split_eta") or not a.get("small") or not a.get("large"):
            parts.append(f"{name}: no split found")
            ok = False
            measured[name] = None
            continue
        s, L = a["small"], a["large"]
        measured[name] = {"split_eta": a["split_eta"],
                          "roughness_small": s["norm_roughness_median"],
                          "roughness_large": L["norm_roughness_median"]}
        parts.append(f"{name}: split at eta = {a['split_eta']:.3f}; sharpness/limit "
                     f"{s['sharpness_over_limit_median']:.2f} below (5-95%: "
                     f"{s['sharpness_over_limit_5_95'][0]:.2f}-{s['sharpness_over_limit_5_95'][1]:.2f}),"
                     f" {L['sharpness_over_limit_median']:.2f} above (5-95%: "
                     f"{L['sharpness_over_limit_5_95'][0]:.2f}-{L['sharpness_over_limit_5_95'][1]:.2f});"
                     f" norm roughness {s['norm_roughness_median']:.2g} vs "
                     f"{L['norm_roughness_median']:.2g}")
        ok &= L["norm_roughness_median"] > 3 * s["norm_roughness_median"]
    return measured, "; ".join(parts), ok


def _spread(n):
    s = n.get("slice", {})
    if "all_non_diverged_sharpness_5_95" not in s:
        return None, "no finite sharpness", False
    lo, hi = s["all_non_diverged_sharpness_5_95"]
    below = s["all_non_diverged_fraction_below_2_over_eta"]
    conv = s.get("sharpness_5_95")
    ctxt = "" if conv is None else f"; converged runs alone {conv[0]:.3g}-{conv[1]:.3g}"
    return ({"sharpness_5_95": [lo, hi], "fraction_below_2_over_eta": below},
            f"final sharpness of every run that did not diverge, 5-95%: {lo:.3g}-{hi:.3g} "
            f"(2/eta = {s['two_over_eta']:g}), {100 * below:.0f}% below 2/eta{ctxt}; converged "
            f"{100 * s['fractions']['converged']:.0f}%, diverged "
            f"{100 * s['fractions']['diverged']:.0f}%", hi > 3 * lo and below > 0.75)


def _fig1(n):
    r = n["left_limit_coordinate_range"]
    return ({"limit_coordinate_range": r, "preimages_inside_D0": n["right_preimages_inside_D0"]},
            f"limit coordinate spans [{r[0]:.3f}, {r[1]:.3f}]; preimages of both balls inside "
            f"D0: {n['right_preimages_inside_D0']}",
            r[0] < 0 < r[1] and n["right_preimages_inside_D0"])


def _rule(text):
    return {"rule": text}


_REGIMES_RULE = _rule("a split is found for GD and momentum, and above it the median roughness "
                      "of the final norm is more than 3x that below")
_SPREAD_RULE = _rule("5-95% range of the final sharpness of non-diverged runs spans more than 3x, "
                     "and more than 75% lie below 2/eta")
_SENS_BAND = {"low": 2.0, "high": None}  # no upper end

CLAIMS = [
    Claim("fig1_boundary_sensitivity", "Sensitivity at the boundary",
          "Near the convergence boundary the limit depends sensitively on the initialization; "
          "preimages of small balls around minimizers fragment near the smooth boundary of D0",
          1, "figure 1", _rule("the limit coordinate takes both signs and both preimages lie "
                               "inside D0"), _fig1),
    Claim("thm1_critical_step", "Theorem 1 (critical step size)",
          "For eta |y| < 1 the convergence region is, up to a null set, D0 = {Q < 8/eta}", 7,
          "Theorem 1, figure 7", {"low": 0.999, "high": 1.0}, _thm1),
    Claim("thm1_vs_wang", "Theorem 1 vs Wang et al.", "The region eta < 4/(u^2 + v^2 + 4|y|) of "
          "Wang et al. (2022) is a strict subset of D0", 7, "section 3.1, figure 7",
          _rule("Wang's region lies inside D0 (100%) with an area ratio below 1, for y = 0.3 "
                "and 0.9"), _wang),
    Claim("thm2_no_implicit_bias", "Theorem 2 (no simple implicit bias)",
          "Arbitrarily small sets at the boundary reach minimizers of every squared norm in "
          "(2|y|, 2/eta) = (2, 10), wide imbalance, iteration counts", 2, "Theorem 2, figure 2",
          _rule("squared norms reach below 2.2 and above 9.0, every 0.5-bin of [2.5, 9.5] "
                "occupied"), _thm2),
    Claim("measure_zero_basins", "Measure-zero basins at the boundary",
          "Basins of unstable minimizers and of the saddle accumulate on the boundary of D0", 2,
          "figure 2", _rule("saddle-basin lines reach Q > 0.999 x 8/eta and unstable minimizers "
                            "with |p|^2 > 1e6"), _measure_zero),
    Claim("thm1_entropy", "Theorem 1: entropy",
          "Topological entropy of GD >= log 3 (boundary map Z^3 - 3Z)", 6, "Theorem 1, figure 6",
          {"low": LOG3 - 1e-3, "high": LOG3 + 1e-3}, _entropy),
    Claim("thm1_periodic_orbits", "Theorem 1: periodic orbits",
          "GD has periodic orbits of every period", 6, "Theorem 1, figure 6",
          _rule("every period found is verified by iterating float64 GD"), _periodic),
    Claim("prop14_three_covering", "3-covering (Prop. 14)",
          "GD maps C three to one onto GD(C), which contains C", 6, "Proposition 14, figure 6",
          _rule("every pixel of GD(C) has exactly 3 preimages and C lies in GD(C)"), _covering),
    Claim("thm4_global_convergence", "Theorem 4",
          "eta < 8/(4 lam + Q) implies convergence to a global minimizer (a.e.)", 3,
          "Theorem 4, figures 3 and 8", {"low": 1.0, "high": 1.0}, _thm4, also=(8,)),
    Claim("thm5_closest_minimizer", "Theorem 5",
          "eta < 4/(4 lam + Q) implies convergence to the closest minimizer p-; both p- and p+ "
          "occur", 3, "Theorem 5, figure 3",
          _rule("100% of the region reach p-, and both p- and p+ occur"), _thm5),
    Claim("fractal_dimension", "Fractal dimension",
          "Box-counting dimension of the projected boundary 1.249 (uncertainty exponent 0.751)",
          3, "section 5, figure 3", {"low": 1.229, "high": 1.269}, _dim),
    Claim("self_similarity_degree3", "Self-similarity of degree 3",
          "The projected boundary is the union of its images under G0, G1, G2", 3,
          "section 5, figure 3", _rule("boundary pixels in every branch strip, and more than 50% "
                                       "of F(boundary) within 2 pixels of the boundary"),
          _selfsim),
    Claim("weight_decay_spikes", "Weight decay makes spikes",
          "Smooth at lam = 0, spikes barely visible at 0.01, wider as lam grows; the saddle's "
          "basin does not separate inside from outside", 8, "figure 8",
          _rule("boundary length / equal-area circle grows with lam (to more than 1.5x), "
                "saddle-basin pixels more than 90% inside the region"), _lam),
    Claim("mf_general_init_sensitivity", "General initialization (MF)",
          "Off W the boundary is not smooth and the limit is unpredictable near it", 9,
          "section 6, figure 9", _SENS_BAND, _sens),
    Claim("mf_regularized_sensitivity", "Regularized MF",
          "Fractal-like boundary, sensitivity near it", 10, "section 6, figure 10", _SENS_BAND,
          _sens),
    Claim("deep_mf_disconnected", "Deep MF", "Sensitivity near the boundary; with weight decay a "
          "disconnected region (local minimizers, non-strict saddles)", 11, "section 6, figure 11",
          _rule("regularized slices stop at non-global stationary points, and the near/far jump "
                "ratio exceeds 2"), _deep),
    Claim("nn_two_regimes_mse", "Two regimes (MSE)", "EoS below eta ~ 0.05 (sharpness at "
          "2/eta), chaotic above ~0.06 (norm and sharpness jump with eta)", 4,
          "section 4.3, figure 4", _REGIMES_RULE, _regimes),
    Claim("nn_sharpness_spread_wd", "Spread of sharpness (weight decay)",
          "Final sharpness spans a wide range of values below 2/eta; fractal basins in parameter "
          "space", 5, "section 4.3, figure 5", _SPREAD_RULE, _spread),
    Claim("nn_two_regimes_ce", "Two regimes (cross-entropy)",
          "Same two regimes; sharpness below 2/eta", 12, "appendix J, figure 12", _REGIMES_RULE,
          _regimes),
    Claim("nn_sharpness_spread_no_wd", "Spread of sharpness (no weight decay)",
          "Fractal patterns without weight decay too", 13, "appendix J, figure 13", _SPREAD_RULE,
          _spread),
]

CLAIMS_BY_ID = {c.id: c for c in CLAIMS}


def _usable(rec):
    return rec is not None and not (rec.get("error") or rec.get("not_run"))


def evaluate_claim(c: Claim, records) -> ClaimResult:
    """``c`` on the records at hand (dict figure number -> JSON record)."""
    def result(measured, verdict, text, data=None):
        return ClaimResult(c.id, c.title, c.paper, c.figure, c.source, c.band, measured,
                           verdict, text, data=data)

    rec = records.get(c.figure)
    if rec is not None and rec.get("not_run"):
        return result(None, "not run", f"not run: {rec['not_run']}")
    if rec is None or rec.get("error"):
        return result(None, "not run",
                      "figure not run" if rec is None else f"failed: {rec['error']}")
    others = [records[k]["numbers"] if _usable(records.get(k)) else None for k in c.also]
    measured, text, ok = c.check(rec["numbers"], *others)
    labels = [data_label(records.get(k)) for k in (c.figure, *c.also) if _usable(records.get(k))]
    return result(measured, "agrees" if c.judge(measured, ok) else "differs", text,
                  "; ".join(dict.fromkeys(filter(None, labels))) or None)


def evaluate_claims(records) -> list[ClaimResult]:
    """Every claim of :data:`CLAIMS`, in order, on the records at hand."""
    return [evaluate_claim(c, records) for c in CLAIMS]

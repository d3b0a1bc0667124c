"""The reproduction report: every figure, and each claim of the paper beside the value reproduced.

:func:`build_report` takes the JSON records written by :func:`run_figure` (one per figure) and
writes one self-contained HTML file (images embedded as base64 PNG).  :data:`CLAIMS` lists the
paper's claims; each is checked by a function of the records that returns the reproduced value
(text) and a verdict: ``"agrees"``, ``"differs"`` or ``"not run"``.
"""

from __future__ import annotations

import base64
import html
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MF_ORDER = (1, 2, 3, 6, 7, 8, 9, 10, 11)
NN_ORDER = (4, 5, 12, 13)
ORDER = MF_ORDER + NN_ORDER


@dataclass(frozen=True)
class Claim:
    name: str
    paper: str  # the claim as the paper states it
    figure: int
    check: Callable  # numbers of the figure -> (reproduced text, ok bool)


def _f(x, nd=3):
    return "n/a" if x is None else f"{x:.{nd}g}" if isinstance(x, float) else str(x)


def _thm1(n):
    a = [n[k]["engine_agrees_with_D0_outside_saddle_basin"] for k in ("y=0.3", "y=0.9") if k in n]
    return (f"GD (engine) converges exactly on D0 on {', '.join(f'{100 * v:.3f}%' for v in a)} of "
            "pixels off the saddle's stable line (y = 0.3, 0.9)", bool(a) and min(a) >= 0.999)


def _wang(n):
    r = [(k, n[k]["wang_inside_D0_fraction"], n[k]["wang_to_D0_area_ratio"])
         for k in ("y=0.3", "y=0.9") if k in n]
    txt = "; ".join(f"{k}: inside D0 {100 * a:.1f}%, area ratio {b:.2f}" for k, a, b in r)
    return txt, bool(r) and all(a == 1.0 and b < 1 for _, a, b in r)


def _thm2(n):
    r = n.get("sq_norm_range")
    occ = n.get("sq_norm_bins_occupied_2.5_to_9.5")
    return (f"limits' squared norms span [{_f(r[0])}, {_f(r[1])}]; every bin of width 0.5 in "
            f"[2.5, 9.5] occupied: {100 * occ:.0f}%; imbalance range "
            f"{[round(v, 2) for v in n['imbalance_range']]}; iterations "
            f"{n['iterations_range']}", r is not None and r[0] < 2.2 and r[1] > 9.0 and occ == 1.0)


def _measure_zero(n):
    q = n.get("saddle_basin_Q_max")
    s = n.get("unstable_minimizer_sq_norm_range")
    return (f"saddle-basin lines reach Q = {_f(q, 6)} (boundary at {_f(n['D0_level_8_over_eta'])}); "
            f"unstable minimizers reached in 6 steps with |p|^2 from {_f(s[0])} to {_f(s[1])}",
            q is not None and q > 0.999 * n["D0_level_8_over_eta"] and s[1] > 1e6)


def _thm4(n3, n8):
    k = "theorem4_region_converged_fraction (off the saddle's stable line)"
    vals = [("fig 3", n3.get(k))] if n3 else []
    if n8:
        vals += [(f"fig 8 {lk}", v.get(k)) for lk, v in n8.items()
                 if isinstance(v, dict) and v.get("theorem4_admissible")]
    vals = [(a, b) for a, b in vals if b is not None]
    return ("; ".join(f"{a}: {100 * b:.2f}% converge" for a, b in vals),
            bool(vals) and all(b == 1.0 for _, b in vals))


def _thm5(n):
    c = n.get("theorem5_region_closest_fraction")
    pm, pp = n.get("closest_p_minus_fraction_of_converged"), n.get("farthest_p_plus_fraction_of_converged")
    return (f"below 4/(4 lam + Q): {100 * c:.2f}% reach p-; overall p- {100 * pm:.1f}%, "
            f"p+ {100 * pp:.1f}% of converged points", c == 1.0 and pp > 0 and pm > 0)


def _dim(n):
    d = n["box_counting_dimension_paper_procedure"]
    ci = n["box_counting_regression_ci95"]
    return (f"{d:.4f} (regression 95% interval [{ci[0]:.3f}, {ci[1]:.3f}]), which implies an "
            f"uncertainty exponent 2 - D = {2 - d:.3f}; {n['boundary_pixels']} boundary pixels. "
            "Measured directly (gdchaos uncertainty, grid-free) the exponent is about 0.71, "
            "D about 1.29: see docs/analysis.md", abs(d - 1.249) < 0.02)


def _selfsim(n):
    c = n["boundary_pixels_per_branch_G0_G1_G2"]
    f = n["F(boundary) within 2 px of boundary"]
    return (f"boundary pixels in the strips of G0, G1, G2: {c}; F(boundary) within 2 pixels of the "
            f"boundary: {100 * f:.1f}%", min(c) > 0 and f > 0.5)


def _entropy(n):
    h = n["topological_entropy_lap"]
    return (f"lap numbers {[int(v) for v in n['boundary_map_lap_numbers'][:6]]}...: entropy "
            f"{h:.6f} (log 3 = {np.log(3):.6f})", abs(h - np.log(3)) < 1e-3)


def _periodic(n):
    v = n["gd_periods_verified"]
    k = sorted(int(x) for x in n["gd_periodic_orbits"])
    return (f"GD orbits of minimal period {v} verified by iterating float64 GD "
            f"(return error < 1e-10)", v == k)


def _covering(n):
    f = n["fraction_of_GD_C_with_exactly_3_preimages"]
    return (f"{100 * f:.2f}% of GD(C) pixels have exactly 3 preimages; C in GD(C): "
            f"{100 * n['C_subset_of_GD_C_fraction']:.2f}%; critical values have Q <= "
            f"{n['max_Q_on_critical_values']:.2f} < {n['B_level_Q']:g}",
            f == 1.0 and n["C_subset_of_GD_C_fraction"] == 1.0)


def _lam(n):
    lams = [v for k, v in n.items() if k.startswith("lam=")]
    per = [(v["lam"], v["perimeter_over_equal_area_circle"]) for v in lams]
    inside = [v["saddle_basin_pixels_in_region_fraction"] for v in lams
              if v["saddle_basin_pixels_in_region_fraction"] is not None]
    ok = all(b >= a - 0.05 for (_, a), (_, b) in zip(per, per[1:])) and per[-1][1] > 1.5 * per[0][1]
    return ("boundary length / equal-area circle: "
            + ", ".join(f"lam {a:g}: {b:.2f}" for a, b in per)
            + f"; saddle-basin pixels inside the region: {min(inside) * 100:.0f}-"
              f"{max(inside) * 100:.0f}%", ok and min(inside) > 0.9)


def _sens(n):
    r = [v["near_over_far"] for k, v in n.items() if isinstance(v, dict) and "near_over_far" in v
         and v["near_over_far"] is not None]
    return (f"median jump of the limit between neighbouring pixels, near the boundary / far from "
            f"it: {', '.join(f'{x:.0f}x' for x in r)}", bool(r) and min(r) > 2)


def _deep(n):
    f = [v["stationary_non_global_fraction"] for k, v in n.items() if k.startswith("reg slice")]
    r = [v["near_over_far"] for k, v in n.items() if "slice" in k and v.get("near_over_far")]
    return (f"regularized: {', '.join(f'{100 * x:.0f}%' for x in f)} of pixels stop at a "
            f"non-global stationary point (disconnected region); near/far jump ratio "
            f"{', '.join(f'{x:.0f}x' for x in r)}", bool(f) and min(f) > 0 and min(r) > 2)


def _regimes(n):
    g = n.get("GD", {})
    m = next((v for k, v in n.items() if k.startswith("momentum")), {})
    parts, ok = [], True
    for name, a in (("GD", g), ("momentum", m)):
        if not a or not a.get("split_eta") or not a.get("small") or not a.get("large"):
            parts.append(f"{name}: no split found")
            ok = False
            continue
        s, L = a["small"], a["large"]
        parts.append(f"{name}: split at eta = {a['split_eta']:.3f}; sharpness/limit "
                     f"{s['sharpness_over_limit_median']:.2f} below (5-95%: "
                     f"{s['sharpness_over_limit_5_95'][0]:.2f}-{s['sharpness_over_limit_5_95'][1]:.2f}),"
                     f" {L['sharpness_over_limit_median']:.2f} above (5-95%: "
                     f"{L['sharpness_over_limit_5_95'][0]:.2f}-{L['sharpness_over_limit_5_95'][1]:.2f});"
                     f" norm roughness {s['norm_roughness_median']:.2g} vs "
                     f"{L['norm_roughness_median']:.2g}")
        ok &= L["norm_roughness_median"] > 3 * s["norm_roughness_median"]
    return "; ".join(parts), ok


def _spread(n):
    s = n.get("slice", {})
    if "all_non_diverged_sharpness_5_95" not in s:
        return "no finite sharpness", False
    lo, hi = s["all_non_diverged_sharpness_5_95"]
    below = s["all_non_diverged_fraction_below_2_over_eta"]
    conv = s.get("sharpness_5_95")
    ctxt = "" if conv is None else f"; converged runs alone {conv[0]:.3g}-{conv[1]:.3g}"
    return (f"final sharpness of every run that did not diverge, 5-95%: {lo:.3g}-{hi:.3g} "
            f"(2/eta = {s['two_over_eta']:g}), {100 * below:.0f}% below 2/eta{ctxt}; converged "
            f"{100 * s['fractions']['converged']:.0f}%, diverged "
            f"{100 * s['fractions']['diverged']:.0f}%", hi > 3 * lo and below > 0.75)


def _fig1(n):
    r = n["left_limit_coordinate_range"]
    return (f"limit coordinate spans [{r[0]:.3f}, {r[1]:.3f}]; preimages of both balls inside D0: "
            f"{n['right_preimages_inside_D0']}", r[0] < 0 < r[1] and n["right_preimages_inside_D0"])


CLAIMS = [
    Claim("Sensitivity at the boundary", "Near the convergence boundary the limit depends "
          "sensitively on the initialization; preimages of small balls around minimizers "
          "fragment near the smooth boundary of D0", 1, _fig1),
    Claim("Theorem 1 (critical step size)", "For eta |y| < 1 the convergence region is, up to a "
          "null set, D0 = {Q < 8/eta}", 7, _thm1),
    Claim("Theorem 1 vs Wang et al.", "The region eta < 4/(u^2 + v^2 + 4|y|) of Wang et al. "
          "(2022) is a strict subset of D0", 7, _wang),
    Claim("Theorem 2 (no simple implicit bias)", "Arbitrarily small sets at the boundary reach "
          "minimizers of every squared norm in (2|y|, 2/eta) = (2, 10), wide imbalance, "
          "iteration counts", 2, _thm2),
    Claim("Measure-zero basins at the boundary", "Basins of unstable minimizers and of the "
          "saddle accumulate on the boundary of D0", 2, lambda n: _measure_zero(n)),
    Claim("Theorem 1: entropy", "Topological entropy of GD >= log 3 (boundary map Z^3 - 3Z)",
          6, _entropy),
    Claim("Theorem 1: periodic orbits", "GD has periodic orbits of every period", 6, _periodic),
    Claim("3-covering (Prop. 14)", "GD maps C three to one onto GD(C), which contains C", 6,
          _covering),
    Claim("Theorem 4", "eta < 8/(4 lam + Q) implies convergence to a global minimizer (a.e.)", 3,
          None),
    Claim("Theorem 5", "eta < 4/(4 lam + Q) implies convergence to the closest minimizer p-; "
          "both p- and p+ occur", 3, _thm5),
    Claim("Fractal dimension", "Box-counting dimension of the projected boundary 1.249 "
          "(uncertainty exponent 0.751)", 3, _dim),
    Claim("Self-similarity of degree 3", "The projected boundary is the union of its images "
          "under G0, G1, G2", 3, _selfsim),
    Claim("Weight decay makes spikes", "Smooth at lam = 0, spikes barely visible at 0.01, wider "
          "as lam grows; the saddle's basin does not separate inside from outside", 8, _lam),
    Claim("General initialization (MF)", "Off W the boundary is not smooth and the limit is "
          "unpredictable near it", 9, _sens),
    Claim("Regularized MF", "Fractal-like boundary, sensitivity near it", 10, _sens),
    Claim("Deep MF", "Sensitivity near the boundary; with weight decay a disconnected region "
          "(local minimizers, non-strict saddles)", 11, _deep),
    Claim("Two regimes (MSE)", "EoS below eta ~ 0.05 (sharpness at 2/eta), chaotic above ~0.06 "
          "(norm and sharpness jump with eta)", 4, _regimes),
    Claim("Spread of sharpness (weight decay)", "Final sharpness spans a wide range of values "
          "below 2/eta; fractal basins in parameter space", 5, _spread),
    Claim("Two regimes (cross-entropy)", "Same two regimes; sharpness below 2/eta", 12, _regimes),
    Claim("Spread of sharpness (no weight decay)", "Fractal patterns without weight decay too",
          13, _spread),
]


def evaluate_claims(records):
    """``[(claim, reproduced text, verdict)]`` for the records at hand (dict number -> record)."""
    out = []
    for c in CLAIMS:
        rec = records.get(c.figure)
        if rec is not None and rec.get("not_run"):
            out.append((c, f"not run: {rec['not_run']}", "not run"))
            continue
        if rec is None or rec.get("error"):
            out.append((c, "figure not run" if rec is None else f"failed: {rec['error']}",
                        "not run"))
            continue
        n = rec["numbers"]
        if c.check is None:  # Theorem 4: figures 3 and 8 together
            r8 = records.get(8)
            ok8 = r8 and not (r8.get("error") or r8.get("not_run"))
            txt, ok = _thm4(n, r8["numbers"] if ok8 else None)
        else:
            txt, ok = c.check(n)
        out.append((c, txt, "agrees" if ok else "differs"))
    return out


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}.agrees{color:#1a7f37;font-weight:600}.differs{color:#b42318;font-weight:600}
.notrun{color:#888}img.fig{max-width:100%;border:1px solid #eee}
details{margin:.4em 0}pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
.meta{color:#555;font-size:.9em}
"""


def _img_tag(path, alt):
    with open(path, "rb") as fh:
        b64 = base64.b64encode(fh.read()).decode("ascii")
    return f'<img class="fig" alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def _flat(d, prefix=""):
    rows = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            rows += _flat(v, key + " / ")
        else:
            if isinstance(v, float):
                v = f"{v:.6g}"
            elif isinstance(v, list) and len(v) > 12:
                v = f"[{len(v)} values]"
            rows.append((key, v))
    return rows


def build_report(records, path, preset="quick", total_seconds=None, extras=None):
    """Write the HTML report to ``path``; ``records`` maps figure number -> JSON record (or
    ``{"error": text}``, or ``{"not_run": reason}`` for a figure whose data are unavailable);
    ``extras`` optional list of ``(title, html)`` sections."""
    claims = evaluate_claims(records)
    n_ok = sum(v == "agrees" for _, _, v in claims)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>gdchaos reproduction report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Gradient Descent with Large Step Sizes: Chaos and Fractal Convergence Region "
             "&mdash; reproduction report</h1>"]
    from ..version import __version__

    tt = "" if total_seconds is None else f", total {total_seconds / 60:.1f} min"
    parts.append(f"<p class='meta'>gdchaos {__version__}, preset <b>{html.escape(preset)}</b>, "
                 f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.platform()}, "
                 f"{os.cpu_count()} CPUs{tt}. {n_ok} of {len(claims)} claims agree.</p>")
    skipped = [(k, records[k]["not_run"]) for k in ORDER if records.get(k, {}).get("not_run")]
    if skipped:  # one line per figure that could not run, and why
        parts.append("<h2 id='not-run'>Figures not run</h2><ul class='notrun'>")
        parts += [f"<li>figure {k}: {html.escape(why)}</li>" for k, why in skipped]
        parts.append("</ul>")
    parts.append("<h2 id='claims'>Claims of the paper and the values reproduced</h2><table>"
                 "<tr><th>claim</th><th>the paper</th><th>reproduced</th><th>verdict</th>"
                 "<th>figure</th></tr>")
    for c, txt, verdict in claims:
        cls = verdict.replace(" ", "")
        parts.append(f"<tr><td>{html.escape(c.name)}</td><td>{html.escape(c.paper)}</td>"
                     f"<td>{html.escape(txt)}</td><td class='{cls}'>{verdict}</td>"
                     f"<td><a href='#fig{c.figure}'>{c.figure}</a></td></tr>")
    parts.append("</table>")
    parts.append("<h2>Timings</h2><table><tr><th>figure</th><th>title</th><th>compute s</th>"
                 "<th>total s (with plots, stores)</th></tr>")
    for k in ORDER:
        r = records.get(k)
        if r:
            s = ("not run" if r.get("not_run") else "failed" if r.get("error")
                 else f"{r['seconds']:.1f}")
            w = r.get("wall_seconds")
            w = "" if w is None else f"{w:.1f}"
            parts.append(f"<tr><td>{k}</td><td>{html.escape(r.get('title', ''))}</td><td>{s}</td>"
                         f"<td>{w}</td></tr>")
    parts.append("</table>")
    for k in sorted(records):
        r = records[k]
        parts.append(f"<h2 id='fig{k}'>Figure {k}: {html.escape(r.get('title', ''))}</h2>")
        if r.get("not_run"):
            parts.append(f"<p class='notrun'>not run: {html.escape(r['not_run'])}</p>")
            continue
        if r.get("error"):
            parts.append(f"<p class='differs'>not produced: {html.escape(r['error'])}</p>")
            continue
        parts.append(f"<p><i>Paper:</i> {html.escape(r['caption'])}</p>")
        png = next((f for f in r["files"] if f.endswith(".png")), None)
        if png and os.path.exists(png):
            parts.append(_img_tag(png, f"figure {k}"))
        parts.append(f"<p class='meta'>preset {html.escape(r['preset'])}, "
                     f"{r['seconds']:.1f} s</p>")
        if r.get("choices"):
            parts.append("<details open><summary>Choices made where the paper's text is silent or "
                         "lost a setting</summary><table>")
            for ck, cv in r["choices"].items():
                parts.append(f"<tr><td>{html.escape(str(ck))}</td><td>{html.escape(str(cv))}</td></tr>")
            parts.append("</table></details>")
        parts.append("<details><summary>Numbers</summary><table>")
        for nk, nv in _flat(r["numbers"]):
            parts.append(f"<tr><td>{html.escape(nk)}</td><td>{html.escape(str(nv))}</td></tr>")
        parts.append("</table></details>")
        parts.append("<details><summary>Settings</summary><pre>"
                     f"{html.escape(json.dumps(r['params'], indent=1))}</pre></details>")
    for title, body in extras or ():
        parts.append(f"<h2>{html.escape(title)}</h2>{body}")
    parts.append("</body></html>")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    return {"path": os.fspath(path), "claims": [(c.name, txt, v) for c, txt, v in claims],
            "agree": n_ok, "total": len(claims)}


def extra_section(record):
    """HTML for an extras record (``{"title", "text", "images": [png paths], "gifs": [...]}``)."""
    parts = [f"<p>{html.escape(record.get('text', ''))}</p>"]
    for p in record.get("images", ()):
        if os.path.exists(p):
            parts.append(_img_tag(p, os.path.basename(p)))
    for g in record.get("gifs", ()):
        if os.path.exists(g):
            with open(g, "rb") as fh:
                b64 = base64.b64encode(fh.read()).decode("ascii")
            parts.append(f'<img class="fig" alt="{html.escape(os.path.basename(g))}" '
                         f'src="data:image/gif;base64,{b64}">')
    if record.get("numbers"):
        parts.append("<details><summary>Numbers</summary><table>")
        for nk, nv in _flat(record["numbers"]):
            parts.append(f"<tr><td>{html.escape(nk)}</td><td>{html.escape(str(nv))}</td></tr>")
        parts.append("</table></details>")
    return "\n".join(parts)


#: settings that ``reproduce`` changes from a figure's own preset (figure -> overrides), so that
#: the whole quick reproduction fits its time budget; recorded in each figure's JSON
REPRODUCE_OVERRIDES = {"quick": {}, "paper": {}, "tiny": {}}


def reproduce(preset="quick", out="reproduction", figures=None, overrides=None, extras=False,
              progress=print, figure_progress=False):
    """Run every figure (matrix-factorization figures first, then the network figures 4, 5, 12,
    13), then write ``out/report.html``.  ``overrides``: figure -> {setting: value}.  A figure
    whose data are unavailable (no CIFAR-10 and no download: offline) is listed as not run, with
    the reason, in the report and in one line on stderr; one that fails otherwise (bad input) is
    reported as failed; the others go on either way.  Returns the report's summary (path,
    claims, counts) with the records."""
    from ..errors import GdchaosInputError, check_int
    from .runner import run_figure
    from .registry import get_figure

    if figures is not None:
        figures = [check_int("figure number", f) for f in figures]
        bad = sorted(set(figures) - set(ORDER))
        if not figures or bad:
            raise GdchaosInputError(f"figures must be a non-empty list of {sorted(ORDER)}, "
                                    f"got {figures}")
    figs = [n for n in ORDER if figures is None or n in set(figures)]
    specs = {n: get_figure(n) for n in figs}
    plans = {}
    for n in figs:  # validate every setting before any work
        ov = dict(REPRODUCE_OVERRIDES.get(preset, {}).get(n, {}))
        ov.update((overrides or {}).get(n, {}))
        specs[n].params(preset, ov)
        plans[n] = ov
    from .runner import make_output_dir

    make_output_dir(out)
    records = {}
    t0 = time.perf_counter()
    for i, n in enumerate(figs, 1):
        spec = specs[n]
        t = time.perf_counter()
        try:
            rec = run_figure(spec, preset, plans[n], out, progress=figure_progress)
            rec["reproduce_overrides"] = plans[n]
            rec["wall_seconds"] = time.perf_counter() - t
            with open(os.path.join(out, f"fig{n:02d}.json"), "w") as fh:
                json.dump(rec, fh, indent=2)
            status = "done"
        except GdchaosInputError as exc:
            from ..nn.data import DataUnavailable  # only network figures raise it

            key = "not_run" if isinstance(exc, DataUnavailable) else "error"
            rec = {"figure": n, "title": spec.title, key: str(exc),
                   "seconds": time.perf_counter() - t}
            status = f"NOT RUN ({exc})" if key == "not_run" else f"FAILED ({exc})"
        records[n] = rec
        progress(f"[{i:2d}/{len(figs)}] figure {n:2d} ({preset}) {status} in "
                 f"{time.perf_counter() - t:6.1f} s  (total {time.perf_counter() - t0:6.1f} s)"
                 f"  {spec.title}")
    sections = []
    if extras:
        from .extras import run_extras

        for title, rec in run_extras(preset, os.path.join(out, "extras"), progress=progress):
            sections.append((title, extra_section(rec)))
    total = time.perf_counter() - t0
    info = build_report(records, os.path.join(out, "report.html"), preset, total, sections)
    info["records"] = records
    info["seconds"] = total
    info["not_run"] = {n: r["not_run"] for n, r in records.items() if r.get("not_run")}
    for n, why in info["not_run"].items():
        print(f"gdchaos reproduce: figure {n} not run: {why}", file=sys.stderr, flush=True)
    progress(f"report: {info['path']}  ({info['agree']} of {info['total']} claims agree, "
             f"{total / 60:.1f} min)")
    return info

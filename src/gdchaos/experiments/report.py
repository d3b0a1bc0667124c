"""The reproduction report: every figure, and each claim of the paper beside the value reproduced.

:func:`build_report` takes the JSON records written by :func:`run_figure` (one per figure) and
writes one self-contained HTML file (images embedded as base64 PNG) and, beside it,
``claims.json``: the paper's claims as data (:mod:`gdchaos.experiments.claims`: stable id,
measured value, band or rule, source, verdict ``"agrees"``, ``"differs"`` or ``"not run"``).
A network figure drawn on the digits stand-in (no CIFAR-10: :mod:`.nn_standin`) is labelled so
beside the figure and each of its claims, which count as judged.
"""

from __future__ import annotations

import base64
import html
import json
import os
import platform
import sys
import time

from .claims import CLAIMS, CLAIMS_BY_ID, Claim, ClaimResult, evaluate_claims

__all__ = ["CLAIMS", "CLAIMS_BY_ID", "Claim", "ClaimResult", "build_report", "evaluate_claims",
           "extra_section", "reproduce"]
MF_ORDER = (1, 2, 3, 6, 7, 8, 9, 10, 11)
NN_ORDER = (4, 5, 12, 13)
ORDER = MF_ORDER + NN_ORDER


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1150px;margin:2em auto;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}.agrees{color:#1a7f37;font-weight:600}.differs{color:#b42318;font-weight:600}
.notrun{color:#888}img.fig{max-width:100%;border:1px solid #eee}
.standin{color:#8a5a00;font-weight:600}
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
    from .nn_standin import data_label

    claims = evaluate_claims(records)
    n_ok = sum(c.verdict == "agrees" for c in claims)
    n_judged = sum(c.verdict != "not run" for c in claims)
    standin = {k: data_label(records[k]) for k in ORDER if data_label(records.get(k))}
    n_standin = sum(bool(c.data) for c in claims)
    on = f"; {n_standin} on the digits stand-in, not CIFAR-10" if n_standin else ""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>gdchaos reproduction report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Gradient Descent with Large Step Sizes: Chaos and Fractal Convergence Region "
             "&mdash; reproduction report</h1>"]
    from ..version import __version__

    tt = "" if total_seconds is None else f", total {total_seconds / 60:.1f} min"
    parts.append(f"<p class='meta'>gdchaos {__version__}, preset <b>{html.escape(preset)}</b>, "
                 f"{time.strftime('%Y-%m-%d %H:%M')}, {platform.platform()}, "
                 f"{os.cpu_count()} CPUs{tt}. {n_ok} of {len(claims)} claims agree ({n_judged} "
                 f"of {len(claims)} judged{on}).</p>")
    if standin:  # the network figures on the digits: once, with the way to the real data
        from ..nn.data import cifar10_hint

        hint = cifar10_hint()
        parts.append("<h2 id='standin'>Network figures on the digits stand-in</h2><p "
                     f"class='standin'>Figures {', '.join(map(str, standin))} are drawn on the "
                     f"{html.escape(next(iter(standin.values())))}: scikit-learn's 8 x 8 digits, "
                     "not CIFAR-10; their claims are judged on them.</p><p>"
                     f"{html.escape(hint[:1].upper() + hint[1:])}; then run again.</p>")
    skipped = [(k, records[k]["not_run"]) for k in ORDER if records.get(k, {}).get("not_run")]
    if skipped:  # one line per figure that could not run, and why
        parts.append("<h2 id='not-run'>Figures not run</h2><ul class='notrun'>")
        parts += [f"<li>figure {k}: {html.escape(why)}</li>" for k, why in skipped]
        parts.append("</ul>")
    parts.append("<h2 id='claims'>Claims of the paper and the values reproduced</h2><table>"
                 "<tr><th>claim</th><th>the paper</th><th>reproduced</th><th>verdict</th>"
                 "<th>figure</th></tr>")
    for c in claims:
        cls = c.verdict.replace(" ", "")
        on = ("" if not c.data else "<span class='standin'>[on the digits stand-in, not "
              "CIFAR-10]</span> ")
        parts.append(f"<tr><td>{html.escape(c.title)}</td><td>{html.escape(c.paper)}</td>"
                     f"<td>{on}{html.escape(c.text)}</td><td class='{cls}'>{c.verdict}</td>"
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
        if data_label(r):
            parts.append(f"<p class='standin'>On the {html.escape(data_label(r))}; its "
                         "settings for the digits: "
                         f"{html.escape(json.dumps(r['numbers'].get('standin_settings', {})))}"
                         "</p>")
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
    rows = [c.as_dict() for c in claims]
    claims_path = os.path.join(os.path.dirname(os.path.abspath(path)), "claims.json")
    with open(claims_path, "w", encoding="utf-8") as fh:
        json.dump({"preset": preset, "agree": n_ok, "judged": n_judged, "total": len(claims),
                   "claims": rows}, fh, indent=1)
    return {"path": os.fspath(path), "claims_path": claims_path, "claims": rows, "agree": n_ok,
            "judged": n_judged, "total": len(claims), "standin": standin}


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
              progress=print, figure_progress=False, scheduler=None, client=None,
              allow_large=False):
    """Run every figure (matrix-factorization figures first, then the network figures 4, 5, 12,
    13), then write ``out/report.html``.  ``overrides``: figure -> {setting: value}.
    ``scheduler`` / ``client``: the figures with a cluster path (the network figures) run on
    one Dask cluster, started once for the run (docs/cluster.md); the others as usual.  A figure
    without CIFAR-10 (none found and no download: offline) is drawn on the digits stand-in,
    labelled in its record, in the report and beside its claims (:mod:`.nn_standin`; one line
    on stderr for the run says how to get the data); ``dataset=cifar10`` without CIFAR-10 is
    refused before any work.  A figure whose data are unavailable otherwise is listed as not
    run, with the reason; one that fails otherwise (bad input) is reported as failed; the others
    go on either way.  Returns the report's summary (path, claims, counts) with the records."""
    from ..errors import GdchaosInputError, check_int
    from .runner import run_figure, runs_on_cluster
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
    from . import nn_standin

    for n in figs:  # validate every setting before any work
        ov = dict(REPRODUCE_OVERRIDES.get(preset, {}).get(n, {}))
        ov.update((overrides or {}).get(n, {}))
        p = specs[n].params(preset, ov, allow_large)
        if n in NN_ORDER:
            nn_standin.check_dataset(n, p)
        plans[n] = ov
    from .runner import check_figure_targets, make_output_dir

    for n in figs:  # every figure's outputs, before any figure runs: nothing of the user's is
        check_figure_targets(n, out)  # replaced, and a refusal leaves nothing behind
    if extras:
        from .runner import check_output_dir

        check_output_dir(os.path.join(out, "extras"), "--out extras folder")
    for n in figs:  # CIFAR-10 asked for by name: there (downloaded when allowed), or refused
        if n in NN_ORDER:
            nn_standin.refuse_missing_cifar10(n, specs[n].params(preset, plans[n], allow_large))
    if scheduler is not None and client is None and any(map(runs_on_cluster, specs.values())):
        from ..engine.cluster import connect, parse_scheduler

        parse_scheduler(scheduler)  # a bad value: one line, before a cluster starts
        with connect(scheduler) as cl:  # one cluster for the whole run
            return reproduce(preset, out, figures, overrides, extras, progress, figure_progress,
                             client=cl, allow_large=allow_large)
    make_output_dir(out)
    nn_standin.reset_notice()  # the stand-in's line: once in this run
    records = {}
    t0 = time.perf_counter()
    for i, n in enumerate(figs, 1):
        spec = specs[n]
        t = time.perf_counter()
        try:
            rec = run_figure(spec, preset, plans[n], out, progress=figure_progress,
                             allow_large=allow_large,
                             client=client if runs_on_cluster(spec) else None)
            rec["reproduce_overrides"] = plans[n]
            rec["wall_seconds"] = time.perf_counter() - t
            status = "done"
            if nn_standin.data_label(rec):
                rec["data"] = nn_standin.data_label(rec)
                status = "done on the digits stand-in (no CIFAR-10)"
            with open(os.path.join(out, f"fig{n:02d}.json"), "w") as fh:
                json.dump(rec, fh, indent=2)
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
    on = (f", {len(info['standin'])} network figures on the digits stand-in"
          if info["standin"] else "")
    progress(f"report: {info['path']}  ({info['agree']} of {info['total']} claims agree, "
             f"{info['judged']} judged{on}, {total / 60:.1f} min)")
    return info

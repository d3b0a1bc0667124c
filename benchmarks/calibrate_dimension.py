"""Calibration of the automatic box-counting estimator on sets of known dimension (issue 23).

The family (gdchaos.analysis.calibration.dimension_family): self-similar sets at several angles
and samplings, smooth closed and open curves at random angles, products with Cantor sets, filled
regions, and smooth basins computed by the engine.  Prints one row per set and the summary
(coverage of the 95% intervals, median absolute error); the table is in docs/analysis.md.

    PYTHONPATH=src python benchmarks/calibrate_dimension.py [--quick] [--json]
"""

import argparse
import json
import time

from gdchaos.analysis.calibration import calibrate_dimension, dimension_family, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the test's subset")
    ap.add_argument("--model", default="power+constant", help="box_dimension model")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = calibrate_dimension(dimension_family(quick=args.quick), model=args.model)
    s = summary(rows)
    s["seconds"] = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"rows": rows, "summary": s}))
        return
    print("| set | sample | truth | estimate | 95% interval | covers | octaves | fit |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['kind']} | {r['truth']:.4f} | {r['estimate']:.4f} | "
              f"[{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] | {'yes' if r['covered'] else 'NO'} | "
              f"{r['octaves']:.1f} | {r['model']}{' (warned)' if r['warnings'] else ''} |")
    print(f"\n{s['cases']} sets: coverage {s['coverage']:.3f}, median |error| "
          f"{s['median_abs_error']:.4f}, max |error| {s['max_abs_error']:.4f}, mean half-width "
          f"{s['mean_half_width']:.4f} ({s['seconds']:.0f} s)")


if __name__ == "__main__":
    main()

"""Calibration of the basin-entropy and uncertainty exponents on smooth and Cantor basins
(issue 23; gdchaos.analysis.calibration.exponent_family).  Prints one row per case and the
summary; the table is in docs/analysis.md.

    PYTHONPATH=src python benchmarks/calibrate_exponents.py [--quick] [--json]
"""

import argparse
import json
import time

from gdchaos.analysis.calibration import calibrate_exponents, exponent_family, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the test's subset")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    rows = calibrate_exponents(exponent_family(quick=args.quick))
    s = summary(rows)
    s["seconds"] = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"rows": rows, "summary": s}))
        return
    print("| case | measure | truth alpha | estimate | 95% interval | covers |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['kind']} | {r['truth']:.4f} | {r['estimate']:.4f} | "
              f"[{r['ci'][0]:.4f}, {r['ci'][1]:.4f}] | {'yes' if r['covered'] else 'NO'} |")
    print(f"\n{s['cases']} cases: coverage {s['coverage']:.3f}, median |error| "
          f"{s['median_abs_error']:.4f}, max |error| {s['max_abs_error']:.4f} "
          f"({s['seconds']:.0f} s)")


if __name__ == "__main__":
    main()

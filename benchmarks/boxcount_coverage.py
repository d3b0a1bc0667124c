"""Coverage study of the automatic box-counting estimator (issue 8; docs/analysis.md).

Random self-similar sets with the open set condition and exactly known dimension in [1.1, 1.9]
(gdchaos.analysis.selfsimilar.random_ifs), held-out seeds 1000 .. 1000 + n - 1 (the estimator's
rules were chosen on seeds 100 - 131).  For each kind of sample (deterministic cover points,
natural-measure points, pixel masks) it prints one row per set and a summary: the fraction of
95% intervals that contain the truth and the largest error.

    PYTHONPATH=src python benchmarks/boxcount_coverage.py [--sets 32] [--quick]
"""

import argparse
import time

import numpy as np

from gdchaos.analysis.selfsimilar import coverage_study

SIZES = {"full": {"cover": 50_000, "chaos": 200_000, "mask": 512},
         "quick": {"cover": 20_000, "chaos": 60_000, "mask": 256}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", type=int, default=32)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="the test's sizes")
    ap.add_argument("--kinds", default="cover,chaos,mask")
    args = ap.parse_args(argv)
    sizes = SIZES["quick" if args.quick else "full"]
    seeds = range(args.first_seed, args.first_seed + args.sets)
    summary = []
    for kind in args.kinds.split(","):
        t0 = time.perf_counter()
        rows = coverage_study(seeds, kind, sizes[kind])
        dt = time.perf_counter() - t0
        print(f"\n## {kind}, size {sizes[kind]}")
        print("| seed | k | maps | truth | estimate | 95% interval | covers | points | octaves |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['seed']} | {r['k']} | {r['m']} | {r['dimension']:.4f} | "
                  f"{r['estimate']:.4f} | [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}] | "
                  f"{'yes' if r['covered'] else 'NO'} | {r['n']} | {r['octaves']:.1f} |")
        err = np.array([r["error"] for r in rows])
        half = np.array([(r["ci"][1] - r["ci"][0]) / 2 for r in rows])
        summary.append((kind, sizes[kind], len(rows), np.mean([r["covered"] for r in rows]),
                        np.abs(err).max(), err.mean(), np.sqrt(np.mean(err ** 2)),
                        half.mean(), dt))
    print("\n## summary")
    print("| sample | size | sets | coverage | max abs error | mean error | rms error | "
          "mean half-width | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, sz, n, cov, mx, me, rms, hw, dt in summary:
        print(f"| {k} | {sz} | {n} | {cov:.3f} | {mx:.4f} | {me:+.4f} | {rms:.4f} | {hw:.4f} | "
              f"{dt:.0f} |")


if __name__ == "__main__":
    main()

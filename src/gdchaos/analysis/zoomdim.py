"""Local-slope box dimension over a sequence of zoom frames (Sohl-Dickstein 2024).

The method of J. Sohl-Dickstein, *The boundary of neural network trainability is fractal*
(arXiv:2402.06184; notebook ``estimate_fractal_dimension`` in github.com/Sohl-Dickstein/fractal,
which calls ``porespy.metrics.boxcount``):

1. boundary pixels of each frame: every 2 x 2 window of the outcome map that holds two different
   outcomes (his ``extract_edges``: the sign of the convergence measure changes inside the
   window); the boundary image has one row and one column fewer than the frame;
2. box counts of that image at ``n_sizes`` integer box sizes log-spaced from 10 pixels to the
   image's smaller side (porespy's rule ``unique(int(logspace(1, log10(min(shape)), 10)))``),
   boxes tiled from the origin with the trailing partial boxes kept, a box counted when it holds
   a boundary pixel *and is not entirely boundary* (porespy's ``any - all``);
3. local slopes ``-d log N / d log s`` at every size (``numpy.gradient`` on the log sizes:
   central differences inside, one-sided at both ends);
4. the dimension is the median of the slopes of all frames and all sizes pooled.

There is no fit and no error bar in the original; here the result also carries the interquartile
range of the pooled slopes and a bootstrap interval of the median that resamples whole frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import GdchaosInputError, check_int

__all__ = ["LocalSlopeResult", "local_slope_dimension", "sd_box_sizes", "spanning_box_counts",
           "window_boundary"]

SIZE_RULES = ("sd", "dyadic")
COUNT_RULES = ("spanning", "occupied")
SLOPE_RULES = ("gradient", "difference")


@dataclass
class LocalSlopeResult:
    """Median local slope of the box counts of several zoom frames, with the raw curves.

    ``sizes``: box sides in pixels (increasing, shared by all frames); ``counts`` and ``slopes``:
    one row per frame (``slopes[f, i]`` is the local slope at ``sizes[i]``, NaN where a count is
    zero); ``used``: the sizes whose slopes enter the median; ``frame_medians``: median slope of
    each frame; ``n_boundary``: boundary pixels per frame; ``iqr``: 25th and 75th percentiles of
    the pooled slopes; ``ci``: ``level`` bootstrap interval of the pooled median.
    """

    dimension: float
    ci: tuple
    iqr: tuple
    sizes: np.ndarray
    counts: np.ndarray
    slopes: np.ndarray
    used: np.ndarray
    frame_medians: np.ndarray
    n_boundary: np.ndarray
    method: dict = field(default_factory=dict)

    @property
    def n_frames(self):
        return int(self.counts.shape[0])

    @property
    def pooled_slopes(self):
        s = self.slopes[:, self.used].ravel()
        return s[np.isfinite(s)]

    def as_dict(self):
        return {"dimension": float(self.dimension), "ci": [float(c) for c in self.ci],
                "iqr": [float(c) for c in self.iqr], "sizes": self.sizes.tolist(),
                "counts": self.counts.tolist(), "slopes": self.slopes.tolist(),
                "used": self.used.tolist(), "frame_medians": self.frame_medians.tolist(),
                "n_boundary": self.n_boundary.tolist(), "method": dict(self.method)}


def _frame_array(frame, i):
    a = np.asarray(frame)
    if a.ndim != 2:
        raise GdchaosInputError(f"zoom frame {i} must be a 2-D map, got shape {a.shape}")
    if min(a.shape) < 2:
        raise GdchaosInputError(f"zoom frame {i} is too small ({a.shape}); need at least 2 x 2")
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating):
        return a
    raise GdchaosInputError(f"zoom frame {i} must hold booleans, integer labels or real "
                            f"values, got dtype {a.dtype}")


def window_boundary(frame):
    """Boundary image of one outcome map by the 2 x 2 window rule (shape one smaller per axis).

    ``frame``: booleans (two outcomes), integer labels (``< 0`` = invalid, never an outcome) or
    real values whose sign is the outcome (Sohl-Dickstein's convergence measure: negative =
    trainable, positive = divergent; 0 and NaN count as no outcome).  Pixel ``[i, j]`` of the
    result is true when the window ``frame[i:i+2, j:j+2]`` holds two different valid outcomes.
    """
    a = _frame_array(frame, 0)
    if a.dtype == bool:
        lab, valid = a.astype(np.int64), np.ones(a.shape, bool)
    elif np.issubdtype(a.dtype, np.integer):
        lab, valid = a.astype(np.int64), a >= 0
    else:
        fin = np.isfinite(a)
        lab = np.sign(np.where(fin, a, 0.0)).astype(np.int64)
        valid = fin & (a != 0)
    big = np.iinfo(np.int64).max
    hi = np.where(valid, lab, -big)
    lo = np.where(valid, lab, big)
    wins = [(slice(0, -1), slice(0, -1)), (slice(1, None), slice(0, -1)),
            (slice(0, -1), slice(1, None)), (slice(1, None), slice(1, None))]
    mx = np.maximum.reduce([hi[w] for w in wins])
    mn = np.minimum.reduce([lo[w] for w in wins])
    return mx > mn


def sd_box_sizes(n, n_sizes=10, min_size=10):
    """porespy's box sizes for an image whose smaller side is ``n``: the distinct integer parts
    of ``n_sizes`` log-spaced values from ``min_size`` to ``n`` (his default: 10 from 10)."""
    n = check_int("image side", n, lo=1)
    n_sizes = check_int("n_sizes", n_sizes, lo=2)
    min_size = check_int("min_size", min_size, lo=1)
    if n <= min_size:
        raise GdchaosInputError(f"frames of side {n} are too small for box sizes from "
                                f"{min_size} pixels; give larger frames or a smaller min_size")
    return np.unique(np.logspace(np.log10(min_size), np.log10(n), n_sizes).astype(np.int64))


def spanning_box_counts(mask, sizes, rule="spanning"):
    """Box counts of a 2-D boolean image at integer sizes, boxes tiled from ``[0, 0]`` with the
    trailing partial boxes kept.  ``rule="spanning"`` counts boxes holding a true pixel that are
    not all true (porespy); ``"occupied"`` counts boxes holding a true pixel."""
    if rule not in COUNT_RULES:
        raise GdchaosInputError(f"count rule must be one of {COUNT_RULES}, got {rule!r}")
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise GdchaosInputError(f"a boundary image must be 2-D, got shape {m.shape}")
    ones = m.astype(np.int64)
    out = np.empty(len(sizes), dtype=np.int64)
    for k, d in enumerate(np.asarray(sizes, dtype=np.int64)):
        if d < 1:
            raise GdchaosInputError(f"box sizes must be positive integers, got {d}")
        r0 = np.arange(0, m.shape[0], d)
        c0 = np.arange(0, m.shape[1], d)
        s = np.add.reduceat(np.add.reduceat(ones, r0, axis=0), c0, axis=1)
        hit = s > 0
        if rule == "spanning":
            h = np.minimum(r0 + d, m.shape[0]) - r0
            w = np.minimum(c0 + d, m.shape[1]) - c0
            hit &= s < h[:, None] * w[None, :]
        out[k] = int(np.count_nonzero(hit))
    return out


def _local_slopes(sizes, counts, rule):
    x = np.log(sizes.astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(counts.astype(float))
        if rule == "gradient":
            s = -np.gradient(y, x)
        else:  # forward differences, placed at the smaller size; last copies the previous
            d = -np.diff(y) / np.diff(x)
            s = np.append(d, d[-1])
    s[~np.isfinite(s)] = np.nan
    for i in np.nonzero(counts == 0)[0]:  # a zero count spoils its neighbours' differences too
        s[max(i - 1, 0):i + 2] = np.nan
    return s


def _bootstrap_median(slopes, n_boot, level, seed):
    """Percentile interval of the pooled median, resampling whole frames (slopes of one frame
    share its boundary and are correlated); with one frame, resampling its slopes."""
    rng = np.random.default_rng(seed)
    rows = [r[np.isfinite(r)] for r in slopes]
    rows = [r for r in rows if r.size]
    meds = np.empty(n_boot)
    if len(rows) == 1:
        r = rows[0]
        for b in range(n_boot):
            meds[b] = np.median(r[rng.integers(0, r.size, r.size)])
    else:
        for b in range(n_boot):
            pick = rng.integers(0, len(rows), len(rows))
            meds[b] = np.median(np.concatenate([rows[i] for i in pick]))
    a = (1.0 - level) / 2.0
    return float(np.quantile(meds, a)), float(np.quantile(meds, 1.0 - a))


def local_slope_dimension(frames, *, boundary="window", sizes="sd", n_sizes=10, min_size=10,
                          count="spanning", slope="gradient", size_range=None, level=0.95,
                          n_boot=2000, seed=0) -> LocalSlopeResult:
    """Sohl-Dickstein's fractal dimension of a boundary seen in a sequence of zoom frames.

    ``frames``: a sequence of 2-D maps of one shape, e.g. the frames of a zoom sequence (each a
    factor 2 deeper around one centre).  ``boundary="window"``: each frame is an outcome map
    (booleans, integer labels with ``-1`` invalid, or real values whose sign is the outcome) and
    its boundary is :func:`window_boundary`; ``"given"``: each frame is already a boolean
    boundary image.  ``sizes``: ``"sd"`` (his: :func:`sd_box_sizes` with ``n_sizes``,
    ``min_size``), ``"dyadic"`` (``min_size, 2 min_size, 4 min_size, ...`` up to the image side;
    ``min_size=1`` gives 1, 2, 4, ...) or an explicit increasing list of integer sizes.
    ``count``: ``"spanning"`` (his, porespy) or ``"occupied"`` (:func:`spanning_box_counts`; a
    1-pixel box is never "spanning", so sizes of 1 need ``count="occupied"``).  ``slope``:
    ``"gradient"`` (his, ``-numpy.gradient(log N, log s)``) or ``"difference"`` (forward
    differences).  ``size_range=(lo, hi)``: only slopes at sizes in ``[lo, hi]`` pixels enter
    the median (default all, as he did).  The interval ``ci`` is a ``level`` bootstrap of the
    pooled median over frames (``n_boot`` resamples, ``seed``); ``iqr`` the quartiles of the
    pooled slopes.
    """
    try:
        frames = list(frames)
    except TypeError:
        raise GdchaosInputError("frames must be a sequence of 2-D maps") from None
    if not frames:
        raise GdchaosInputError("no zoom frames given (empty sequence)")
    arrs = [_frame_array(f, i) for i, f in enumerate(frames)]
    shape = arrs[0].shape
    for i, a in enumerate(arrs):
        if a.shape != shape:
            raise GdchaosInputError(f"zoom frames must share one shape: frame 0 is {shape}, "
                                    f"frame {i} is {a.shape}")
    if boundary == "window":
        edges = [window_boundary(a) for a in arrs]
    elif boundary == "given":
        if any(a.dtype != bool for a in arrs):
            raise GdchaosInputError("boundary='given' needs boolean boundary images")
        edges = arrs
    else:
        raise GdchaosInputError(f"boundary must be 'window' or 'given', got {boundary!r}")
    if count not in COUNT_RULES:
        raise GdchaosInputError(f"count must be one of {COUNT_RULES}, got {count!r}")
    if slope not in SLOPE_RULES:
        raise GdchaosInputError(f"slope must be one of {SLOPE_RULES}, got {slope!r}")
    check_int("n_boot", n_boot, lo=1)
    if not 0 < float(level) < 1:
        raise GdchaosInputError(f"level must lie in (0, 1), got {level!r}")
    side = min(edges[0].shape)
    if isinstance(sizes, str):
        if sizes == "sd":
            sz = sd_box_sizes(side, n_sizes, min_size)
        elif sizes == "dyadic":
            m0 = check_int("min_size", min_size, lo=1)
            sz = m0 * 2 ** np.arange(int(np.floor(np.log2(side / m0))) + 1 if side >= m0 else 0)
        else:
            raise GdchaosInputError(f"sizes must be one of {SIZE_RULES} or a list, got {sizes!r}")
    else:
        sz = np.asarray(sizes)
        if sz.ndim != 1 or not np.all(np.isfinite(sz)) or np.any(sz != np.round(sz)):
            raise GdchaosInputError("explicit box sizes must be a 1-D list of integers")
    sz = np.asarray(sz, dtype=np.int64)
    if sz.size < 2 or np.any(np.diff(sz) <= 0) or sz[0] < 1 or sz[-1] > side:
        raise GdchaosInputError(f"box sizes must be >= 2 increasing integers in [1, {side}] "
                                f"(the boundary image's side), got {sz.tolist()}")
    if count == "spanning" and sz[0] == 1:
        raise GdchaosInputError("a 1-pixel box never spans two phases: use count='occupied' or "
                                "sizes from 2 pixels")
    counts = np.stack([spanning_box_counts(e, sz, count) for e in edges])
    slopes = np.stack([_local_slopes(sz, c, slope) for c in counts])
    used = np.ones(sz.size, dtype=bool)
    if size_range is not None:
        lo, hi = (float(v) for v in size_range)
        used = (sz >= lo) & (sz <= hi)
        if np.count_nonzero(used) == 0:
            raise GdchaosInputError(f"no box size in size_range {size_range}; sizes are "
                                    f"{sz.tolist()}")
    sel = slopes[:, used]
    pooled = sel[np.isfinite(sel)]
    if pooled.size == 0:
        raise GdchaosInputError("no frame has a boundary at these box sizes (all counts zero): "
                                "no dimension")
    with np.errstate(all="ignore"):
        fmed = np.array([np.median(r[np.isfinite(r)]) if np.isfinite(r).any() else np.nan
                         for r in sel])
    ci = _bootstrap_median(sel, int(n_boot), float(level), seed)
    method = {"name": "local-slope median (Sohl-Dickstein 2024)", "boundary": boundary,
              "sizes": sizes if isinstance(sizes, str) else "explicit", "count": count,
              "slope": slope, "n_sizes": int(n_sizes), "min_size": int(min_size),
              "size_range": None if size_range is None else [float(v) for v in size_range],
              "level": float(level), "n_boot": int(n_boot), "seed": seed,
              "n_slopes": int(pooled.size)}
    return LocalSlopeResult(float(np.median(pooled)), ci,
                            (float(np.quantile(pooled, 0.25)), float(np.quantile(pooled, 0.75))),
                            sz, counts, slopes, used, fmed,
                            np.array([int(np.count_nonzero(e)) for e in edges]), method)

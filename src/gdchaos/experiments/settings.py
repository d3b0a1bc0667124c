"""What a figure's settings may be: one rule per kind of setting, applied to every figure's
presets and to every ``--set KEY=VALUE`` before any work (``FigureSpec.params``).

A setting's kind is read from its name (the figures name their settings consistently: ``grid``,
``mid_grid``; ``steps``, ``iters``, ``traj_steps``; ``eta``, ``tol``, ``margin``; ``range``,
``zrange``...).  The size of a figure is bounded like every command's: the largest grid's points
times a per-point cost against the documented memory limit, past which ``--allow-large`` is
needed (``gdchaos figure``/``reproduce``; ``allow_large=True`` in Python).
"""

from __future__ import annotations

import math
import re

from ..errors import MEMORY_LIMIT_BYTES, GdchaosInputError

#: working bytes per grid point that a figure's map may hold at once (status, losses, records,
#: boundary masks): an upper estimate used for the size limit
BYTES_PER_POINT = 160

_COUNT = re.compile(r"^(grid|.*_grid|n_.*|k|k_min|k_max|lap_n|max_period|d|workers|hidden)$")
_STEPS = re.compile(r"^(steps|iters|.*_steps|.*_iters)$")
_POSITIVE = re.compile(r"^(eta|.*_eta|tol|.*_tol|wtol|div|inset_width|digits_per_step|r1|r2|"
                       r"b_level|eta_gd|eta_momentum)$")
_NONNEG = re.compile(r"^(lam|lams|margin|weight_decay)$")
#: the network figures' data: ``auto`` (CIFAR-10, else the labelled digits stand-in)
DATASETS = ("auto", "cifar10", "digits")
_RANGE = re.compile(r"^(range|.*_range|zrange|wrange|box)$")


def _values(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check_setting(key, value):
    """Refuse (one line) a value that this kind of setting cannot take."""
    vals = _values(value)
    if _COUNT.match(key):
        if not all(_is_int(v) and v >= 1 for v in vals):
            raise GdchaosInputError(f"setting {key}: must be an integer >= 1, got {value!r}")
    elif _STEPS.match(key):
        if not all(_is_int(v) and v >= 0 for v in vals):
            raise GdchaosInputError(f"setting {key}: must be an integer >= 0 (a step count), "
                                    f"got {value!r}")
        if any(v > 2**31 - 1 for v in vals):
            raise GdchaosInputError(f"setting {key}: step counts are at most 2^31 - 1 (int32 "
                                    f"counter), got {value!r}")
    elif _POSITIVE.match(key):
        if not all(_finite_number(v) and v > 0 for v in vals):
            raise GdchaosInputError(f"setting {key}: must be a finite number > 0, got {value!r}")
    elif _NONNEG.match(key):
        if not all(_finite_number(v) and v >= 0 for v in vals):
            raise GdchaosInputError(f"setting {key}: must be a finite number >= 0, got {value!r}")
    elif key == "refine":  # boundary refinement's levels (0: every pixel computed)
        if not (_is_int(value) and 0 <= value <= 10):
            raise GdchaosInputError(f"setting refine: must be an integer from 0 (none) to 10 "
                                    f"(levels), got {value!r}")
    elif key == "momentum":
        if not all(_finite_number(v) and 0 <= v < 1 for v in vals):
            raise GdchaosInputError(f"setting {key}: must be in [0, 1), got {value!r}")
    elif key == "dataset":
        if value not in DATASETS:
            raise GdchaosInputError(f"setting dataset must be one of {', '.join(DATASETS)}, "
                                    f"got {value!r}")
    elif _RANGE.match(key) and isinstance(value, (list, tuple)):
        if len(vals) not in (2, 4) or not all(_finite_number(v) for v in vals):
            raise GdchaosInputError(f"setting {key}: must be LO,HI or X0,X1,Y0,Y1 (finite), "
                                    f"got {value!r}")
        for lo, hi in zip(vals[::2], vals[1::2]):
            if not lo < hi:
                raise GdchaosInputError(f"setting {key}: each low end must be below its high "
                                        f"end, got {value!r}")


def _finite_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_settings(number, p, allow_large=False):
    """Every setting of figure ``number``'s resolved settings ``p``, then its size."""
    for k, v in p.items():
        try:
            check_setting(k, v)
        except GdchaosInputError as exc:
            raise GdchaosInputError(f"figure {number}: {exc}") from None
    if p.get("k_min", 0) > p.get("k_max", math.inf):
        raise GdchaosInputError(f"figure {number}: k_min ({p['k_min']}) must not exceed k_max "
                                f"({p['k_max']})")
    grids = {k: max(_values(v)) for k, v in p.items() if re.match(r"^(grid|.*_grid)$", k)}
    if grids and not allow_large:
        key = max(grids, key=grids.get)
        need = grids[key] ** 2 * BYTES_PER_POINT
        if need > MEMORY_LIMIT_BYTES:
            raise GdchaosInputError(
                f"figure {number}: setting {key}={grids[key]} needs about {need / 2**30:.3g} GiB "
                f"of memory (limit {MEMORY_LIMIT_BYTES / 2**30:.3g} GiB); pass --allow-large "
                "to go ahead")

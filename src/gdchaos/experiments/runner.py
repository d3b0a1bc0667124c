"""Figures as declarations: settings (presets) apart from computation and from plotting.

A :class:`FigureSpec` declares one figure of the paper once: its presets (``paper``, ``quick``
and ``tiny`` for tests), the settings the paper's text lost and the choice made for each, a
``compute`` function (params, output folder, progress) -> :class:`FigureData`, and a ``plot``
function (data, params) -> matplotlib figure.  :func:`run_figure` merges a preset with
overrides, computes, writes the data (zarr stores), PNG and PDF, and a JSON of the parameters
used and the numbers computed.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..version import __version__
from ..errors import GdchaosInputError


@dataclass
class FigureData:
    """What a figure's computation produced: datasets to store and numbers to report."""

    datasets: dict = field(default_factory=dict)  # name -> xarray.Dataset
    numbers: dict = field(default_factory=dict)  # JSON-able measured values
    arrays: dict = field(default_factory=dict)  # small extra arrays for plotting (not stored)


@dataclass(frozen=True)
class FigureSpec:
    number: int
    title: str
    caption: str  # what the paper's figure shows, to be reproduced
    presets: dict  # preset name -> dict of settings
    compute: Callable
    plot: Callable
    choices: dict = field(default_factory=dict)  # setting lost in the paper -> choice made

    def params(self, preset="quick", overrides=None):
        if preset not in self.presets:
            raise GdchaosInputError(f"figure {self.number}: unknown preset {preset!r}; "
                                    f"choose from {sorted(self.presets)}")
        p = dict(self.presets[preset])
        for k, v in (overrides or {}).items():
            if k not in p:
                raise GdchaosInputError(f"figure {self.number}: unknown setting {k!r}; "
                                        f"settings are {sorted(p)}")
            p[k] = _coerce(v, p[k], k)
            if "seed" in k:
                _check_seeds(k, p[k])
        return p


def _check_seeds(key, value):
    """Seeds are integers >= 0 (NumPy's generators refuse negative ones)."""
    vals = value if isinstance(value, (list, tuple)) else [value]
    for v in vals:
        if isinstance(v, bool) or not float(v).is_integer() or v < 0:
            raise GdchaosInputError(f"setting {key}: a seed is an integer >= 0, got {value!r}")


def check_output_dir(path, name="--out"):
    """Refuse, before anything is written, an output folder that is an existing file, an
    existing folder that cannot be written, or a new folder whose nearest existing parent is
    not a writable folder."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise GdchaosInputError(f"cannot write {name} {path}: it is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise GdchaosInputError(f"cannot write {name} {path}: the folder is not writable")
        return
    parent = os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise GdchaosInputError(f"cannot create {name} {path}: {parent} is a file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GdchaosInputError(f"cannot create {name} {path}: folder {parent} is not writable")


def make_output_dir(path, name="--out"):
    """:func:`check_output_dir`, then create the folder (an OS refusal is one clear line)."""
    check_output_dir(path, name)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise GdchaosInputError(f"cannot create {name} {path}: {exc.strerror or exc}") from None


def _coerce(value, like, key):
    if not isinstance(value, str):
        return value
    try:
        if isinstance(like, bool):
            return value.lower() in ("1", "true", "yes")
        if isinstance(like, int):
            return int(value)
        if isinstance(like, float):
            v = float(value)
            if not np.isfinite(v):
                raise ValueError
            return v
        if isinstance(like, (list, tuple)) or (isinstance(like, str) and "," in value):
            vals = [float(t) for t in value.split(",")]
            if not all(np.isfinite(vals)):
                raise ValueError
            return vals
    except ValueError:
        raise GdchaosInputError(f"setting {key}: cannot read {value!r} as {type(like).__name__}") \
            from None
    return value


def parse_overrides(items):
    """``["eta=0.2", "grid=400"]`` -> dict."""
    out = {}
    for it in items or []:
        if "=" not in it:
            raise GdchaosInputError(f"--set expects KEY=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (np.floating, np.integer, np.bool_)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return o


def run_figure(spec: FigureSpec, preset="quick", overrides=None, out="figures", progress=True,
               formats=("png", "pdf")):
    """Compute, store, plot and describe one figure; returns the JSON record (a dict)."""
    params = spec.params(preset, overrides)
    created = not os.path.exists(out)
    make_output_dir(out)
    stem = os.path.join(out, f"fig{spec.number:02d}")
    t0 = time.perf_counter()
    try:
        data = spec.compute(params, out, progress)
    except GdchaosInputError:
        if created and not os.listdir(out):  # a setting refused by the computation: leave
            os.rmdir(out)  # no empty folder of ours behind
        raise
    seconds = time.perf_counter() - t0
    files = []
    for name, ds in data.datasets.items():
        path = f"{stem}_{name}.zarr"
        ds = ds.copy()
        ds.attrs.update({"gdchaos_version": __version__, "figure": spec.number,
                         "preset": preset, "params": json.dumps(_jsonable(params))})
        ds.to_zarr(path, mode="w", consolidated=False)
        files.append(path)
    fig = spec.plot(data, params)
    for fmt in formats:
        path = f"{stem}.{fmt}"
        fig.savefig(path)
        files.append(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    record = {"figure": spec.number, "title": spec.title, "caption": spec.caption,
              "preset": preset, "params": params, "choices": spec.choices,
              "numbers": data.numbers, "seconds": seconds, "files": files,
              "gdchaos_version": __version__}
    record = _jsonable(record)
    with open(f"{stem}.json", "w") as fh:
        json.dump(record, fh, indent=2)
    return record

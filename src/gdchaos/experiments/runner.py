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
from .settings import check_settings


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

    def params(self, preset="quick", overrides=None, allow_large=False):
        """The preset's settings with ``overrides`` applied, every value and the size checked
        (:mod:`.settings`; past the size limit only with ``allow_large``)."""
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
        check_settings(self.number, p, allow_large)
        return p


def _check_seeds(key, value):
    """Seeds are integers >= 0 (NumPy's generators refuse negative ones)."""
    vals = value if isinstance(value, (list, tuple)) else [value]
    for v in vals:
        if isinstance(v, bool) or not float(v).is_integer() or v < 0:
            raise GdchaosInputError(f"setting {key}: a seed is an integer >= 0, got {value!r}")


def check_output_dir(path, name="--out"):
    """Refuse, before anything is written, an output folder that is an existing file, an
    existing folder that cannot be written, a new folder whose nearest existing parent is
    not a writable folder, or a folder in a zarr store (gdchaos' or another: its files would
    not be the store's)."""
    path = os.path.abspath(os.fspath(path))
    up = path
    while True:
        if os.path.isfile(os.path.join(up, "zarr.json")):
            raise GdchaosInputError(f"cannot write {name} {path}: {up} is a zarr store; name a "
                                    "folder outside it")
        if os.path.dirname(up) == up:
            break
        up = os.path.dirname(up)
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


def check_figure_targets(number, out, formats=("png", "pdf")):
    """Refuse, before any work, what figure ``number`` may not write into the folder ``out``:
    an ``out`` that is a file, cannot be written or lies in a zarr store; an existing
    ``figNN_*.zarr`` that is not this figure's store written by gdchaos, or holds files gdchaos
    did not write (nothing there is ever deleted); a folder where a picture or the record goes."""
    from ..engine import TiledStore

    check_output_dir(out)
    stem = f"fig{number:02d}"
    TiledStore.check_target(os.path.join(out, f"{stem}_*.zarr"), figure=number,
                            create_parents=True)  # the folders above: writable, not in a store
    if os.path.isdir(out):
        for name in sorted(os.listdir(out)):
            if name.startswith(f"{stem}_") and name.endswith(".zarr"):
                TiledStore.check_target(os.path.join(out, name), figure=number)
    for ext in tuple(formats) + ("json",):
        path = os.path.join(out, f"{stem}.{ext}")
        if os.path.isdir(path) or os.path.islink(path):
            raise GdchaosInputError(f"cannot write {path}: it is a folder or a link, not a file "
                                    "of gdchaos; it is left as it is")


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


def runs_on_cluster(spec: FigureSpec) -> bool:
    """Whether the figure's computation takes ``client=`` (a Dask client: docs/cluster.md)."""
    import inspect

    return "client" in inspect.signature(spec.compute).parameters


def check_cluster(spec: FigureSpec, scheduler=None, client=None):
    """Refuse (one line) a cluster for a figure that has no cluster path."""
    if (scheduler is not None or client is not None) and not runs_on_cluster(spec):
        from .registry import all_figures

        ok = [s.number for s in all_figures() if runs_on_cluster(s)]
        raise GdchaosInputError(f"figure {spec.number} does not run on a cluster; --scheduler "
                                f"applies to figures {', '.join(map(str, ok))}")


def run_figure(spec: FigureSpec, preset="quick", overrides=None, out="figures", progress=True,
               formats=("png", "pdf"), scheduler=None, client=None, allow_large=False):
    """Compute, store, plot and describe one figure; returns the JSON record (a dict).
    ``scheduler`` (``"local:N"``, ``"tcp://HOST:PORT"``) or ``client`` (a
    ``dask.distributed.Client``): the figure's long computations run on a Dask cluster (the
    figures whose ``compute`` takes ``client=``: the network figures); same data."""
    params = spec.params(preset, overrides, allow_large)
    check_cluster(spec, scheduler, client)
    check_figure_targets(spec.number, out, formats)  # nothing of the user's is ever replaced
    created = not os.path.exists(out)
    make_output_dir(out)
    stem = os.path.join(out, f"fig{spec.number:02d}")
    t0 = time.perf_counter()
    try:
        if scheduler is None and client is None:
            data = spec.compute(params, out, progress)
        else:
            from ..engine.cluster import connect

            with connect(scheduler, client) as cl:
                data = spec.compute(params, out, progress, client=cl)
    except GdchaosInputError:
        if created and not os.listdir(out):  # a setting refused by the computation: leave
            os.rmdir(out)  # no empty folder of ours behind
        raise
    seconds = time.perf_counter() - t0
    from ..engine import TiledStore

    files = []
    for name, ds in data.datasets.items():
        path = f"{stem}_{name}.zarr"
        ds = ds.copy()
        ds.attrs.update({"gdchaos_version": __version__, "figure": spec.number,
                         "preset": preset, "params": json.dumps(_jsonable(params))})
        TiledStore.write_dataset(ds, path, spec.number)  # checked again, replaced atomically
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
    if scheduler is not None or client is not None:  # where it ran (the data do not depend on it)
        from ..engine.cluster import parse_scheduler

        record["cluster"] = (parse_scheduler(scheduler).describe() if scheduler is not None
                             else "client")
    record = _jsonable(record)
    with open(f"{stem}.json", "w") as fh:
        json.dump(record, fh, indent=2)
    return record

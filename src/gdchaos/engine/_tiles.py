"""Tiles of a 2-D map computed into a store (one writer thread, reused tile buffers), into
memory, or on a cluster: shared by :func:`gdchaos.engine.basin` and
:func:`gdchaos.engine.hypermap.hyper_map`."""

from __future__ import annotations

import json
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..status import variable_attrs
from . import _zarr_files as zf
from ._progress import TileBar
from ._refine import refine_summary
from ._store import TiledStore
from ._store_targets import check_store_target

#: the tile bars: fractions of tiles, the ETA, and what the tile is doing (a refined tile's level)
TILE_BAR = "{l_bar}{bar}| {n:.1f}/{total_fmt} tiles [{elapsed}<{remaining}{postfix}]"
#: tiles a new store may compute ahead while the writer thread builds its template
_EARLY_TILES = 3


def tiles_into_store(ts: TiledStore, compute, overwrite=False, progress=False, desc="basin",
                     buffers=None, open_dataset=True):
    """Compute the pending tiles of the store ``ts`` (``compute(sl=rows)`` -> the variables of
    those rows) and write them; returns the store's dataset.  Shared by
    :func:`gdchaos.engine.basin` and :func:`gdchaos.engine.hypermap.hyper_map`.

    With ``buffers`` (a function of no arguments returning a set of output arrays for one tile)
    ``compute`` is called as ``compute(sl=rows, buffers=set)`` and may return views of the set;
    a set is handed out again only once the write of the tile it holds has finished, so a run
    reuses a few sets instead of taking fresh memory for every tile.  ``compute`` is called
    from this thread, one tile at a time.  ``open_dataset=False`` returns the store's path
    instead of its dataset (xarray is then not imported)."""
    from tqdm.auto import tqdm

    check_store_target(ts.path, overwrite)  # a refused target: before any tile is computed
    free = []  # buffer sets whose tile is written
    ds = None
    # the bar exists before the first tile is computed and counts computed tiles, moving within
    # a tile where the runner reports its steps (engine/_progress.py); for an existing store it
    # comes once the store is verified, so that a refusal (other parameters) is its one line
    tiles = TileBar(None)

    def make_bar():
        tiles.bar = tqdm(total=ts.n_tiles, disable=not progress, desc=desc, unit="tile",
                         leave=False, bar_format=TILE_BAR)

    def run(sl):
        if buffers is None:
            return None, tiles.compute(compute, sl=sl)
        bufs = free.pop() if free else buffers()
        return bufs, tiles.compute(compute, sl=sl, buffers=bufs)

    try:
        # one writer thread: it builds (or verifies) the store while the first tiles of a new
        # store are computed, then writes tile k while tile k+1 is computed (the kernels release
        # the GIL); at most one write is in flight, and its errors surface here
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdchaos-store") as writer:
            fresh = not os.path.exists(ts.path)  # then every tile is pending, in order
            opening = writer.submit(ts.open, overwrite=overwrite, resume=True)
            if fresh:
                make_bar()
            early = {}  # tiles computed while a new store's template is built (a few at most)
            while fresh and len(early) < min(ts.n_tiles, _EARLY_TILES) and not opening.done():
                sl = ts.tile_rows_slice(len(early))
                early[len(early)] = (sl, *run(sl))
            pending = opening.result()
            _say_repairs(ts)
            if tiles.bar is None:
                make_bar()
            if not early:
                tiles.set_done(ts.n_tiles - len(pending))
            inflight = None  # (future, buffer set) of the write in flight
            for i in pending:
                sl, bufs, data = early.pop(i, (None, None, None))
                if sl != ts.tile_rows_slice(i):  # none computed early, or another run made the
                    if bufs is not None:  # store: its layout
                        free.append(bufs)
                    bufs, data = run(ts.tile_rows_slice(i))
                if inflight is not None:
                    inflight[0].result()
                    free.append(inflight[1])
                inflight = (writer.submit(ts.write_tile, i, data), bufs)
            # the dataset is opened (metadata, coordinates: written with the template) while
            # the last tile is written
            if inflight is not None:
                if "computed" not in ts.variables:
                    ds = ts.dataset() if open_dataset else ts.path
                inflight[0].result()
            _record_refinement(ts)
    finally:
        if tiles.bar is not None:
            tiles.bar.close()
        ts.close()  # drop the writer lock
    if ds is None:
        ds = ts.dataset() if open_dataset else ts.path
    return ds


def refinement_attrs(computed) -> dict:
    """A refined map's summary (:func:`._refine.refine_summary`) as ``refine_*`` attributes."""
    return {f"refine_{k}": v for k, v in refine_summary(computed).items()}


def _record_refinement(ts) -> None:
    """A refined store's summary into its attributes, read from its ``computed`` tiles."""
    if "computed" in ts.variables:
        ts.finish(extra_attrs=refinement_attrs(zf.read_blocks(ts.path, "computed")))


def _say_repairs(ts):
    """One warning when reopening a store found damage: rebuilt, or tiles recomputed."""
    if ts.rebuilt:
        warnings.warn(f"store {ts.path}: {ts.rebuilt}; recomputing it whole", stacklevel=3)
    elif ts.recomputed:
        warnings.warn(f"store {ts.path}: {len(ts.recomputed)} tile(s) failing their checksums "
                      f"({', '.join(map(str, ts.recomputed[:5]))}) are recomputed", stacklevel=3)


def tiles_on_cluster(ts, store_args, compute, backend, device, scheduler, client, overwrite,
                     progress, threads, desc, open_dataset=True):
    """The cluster counterpart of :func:`tiles_into_store`: each pending tile is one task that
    runs ``compute(sl=rows)`` and writes its rows (shared by :func:`basin` and
    :func:`gdchaos.engine.hypermap.hyper_map`)."""
    from . import cluster

    check_store_target(ts.path, overwrite)  # refused before a cluster starts
    cluster.check_store_free(ts.path)  # a second writer is refused before a cluster starts
    with cluster.connect(scheduler, client) as cl:
        cluster.check_device_on_workers(cl, backend, device)
        pending = ts.open(overwrite=overwrite, resume=True)
        _say_repairs(ts)
        try:
            stats = cluster.run_basin_tiles(cl, ts, store_args, compute, backend, pending,
                                            threads=threads, progress=progress, desc=desc)
            ts.finish(summary=dict(stats, scheduler=str(cl.scheduler.address)))
            _record_refinement(ts)
        finally:
            ts.close()  # drop the writer lock
    return ts.dataset() if open_dataset else ts.path


def tile_buffers(n, n_params, points=None):
    """The initializations (``points``, if given) and the kernel's outputs for a tile of ``n``
    points (see :func:`tiles_into_store`)."""
    return {"points": np.empty((n, n_params)) if points is None else points,
            "params": np.empty((n, n_params)),
            "status": np.empty(n, dtype=np.int8), "iterations": np.empty(n, dtype=np.int32),
            "final_loss": np.empty(n)}


def tiles_in_memory(compute, coords, variables, sizes, static, attrs, run_info, tile_rows,
                    progress=False, desc="basin"):
    """The in-memory counterpart of :func:`tiles_into_store`: every tile computed
    (``compute(sl=rows, out=arrays)``; a kernel may write into ``out`` directly) into one
    ``xarray.Dataset`` on ``coords`` ``y`` and ``x``."""
    import xarray as xr
    from tqdm.auto import tqdm

    ny = len(coords["y"])
    sizes = dict(sizes, y=ny, x=len(coords["x"]))
    out = {name: np.empty(tuple(sizes[d] for d in spec.dims), dtype=spec.dtype)  # every tile fills
           for name, spec in variables.items()}
    n_tiles = -(-ny // tile_rows)
    bar = tqdm(total=n_tiles, disable=not progress, desc=desc, unit="tile", leave=False,
               bar_format=TILE_BAR)
    tiles = TileBar(bar)
    try:
        for i in range(n_tiles):
            sl = slice(i * tile_rows, min(ny, (i + 1) * tile_rows))
            for k, v in tiles.compute(compute, sl=sl, out=out).items():
                if not np.may_share_memory(v, out[k]):  # the kernel's outputs are there already
                    out[k][sl] = v
    finally:
        bar.close()
    ds = xr.Dataset(
        {name: (spec.dims, out[name], variable_attrs(name, spec.attrs))
         for name, spec in variables.items()},
        coords=coords)
    for name, (dims, arr) in static.items():
        ds[name] = (dims, np.asarray(arr))
    ds.attrs.update(attrs)
    if "computed" in variables:
        ds.attrs.update(refinement_attrs(out["computed"]))
    ds.attrs["gdchaos_run"] = json.dumps(json.loads(json.dumps(run_info, default=str)),
                                         sort_keys=True)
    return ds

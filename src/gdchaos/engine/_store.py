"""Tiled, resumable result stores: an xarray dataset on zarr (format 3), written tile by tile.

A grid of ``ny x nx`` points is split into tiles of whole rows.  Each data variable is a zarr
array chunked by tile, filled with its fill value until its tile is written.  After a tile's data
the tile's flag in ``tile_done`` (one chunk per tile) is set, so a run killed at any moment
resumes with the tiles whose flag is set and recomputes the others.  The store's attributes carry
every parameter of the run (``gdchaos_run``, a JSON string), the package version and the seed;
reopening a store with different parameters is refused rather than mixing two runs.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass

import numpy as np

from .._errors import GdchaosInputError


@dataclass(frozen=True)
class VarSpec:
    dims: tuple  # e.g. ("y", "x") or ("y", "x", "param")
    dtype: str
    fill: float
    attrs: dict | None = None
    compressors: object = "auto"  # zarr's create_array(compressors=...): "auto" = zarr's default


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


class TiledStore:
    """A zarr group laid out as an xarray dataset with a leading ``(y, x)`` grid.

    Parameters
    ----------
    path : store directory.
    coords : mapping name -> 1-D array; must contain ``"y"`` (rows) and ``"x"`` (columns); extra
        dimensions (``"param"``, ``"point"``, ...) may be given a coordinate too.
    sizes : sizes of extra dimensions without coordinates.
    variables : mapping name -> :class:`VarSpec` of per-point variables (leading dims ``y, x``).
    static : mapping name -> (dims, array) written once (e.g. the slice directions).
    run_info : JSON-able dict of every parameter; compared when an existing store is reopened.
    tile_rows : rows per tile (the chunk size along ``y``).
    """

    def __init__(self, path, coords, variables, run_info, tile_rows, sizes=None, static=None,
                 attrs=None):
        self.path = os.fspath(path)
        self.coords = {k: np.asarray(v) for k, v in coords.items()}
        self.variables = dict(variables)
        self.run_info = _jsonable(run_info)
        self.sizes = dict(sizes or {})
        for k, v in self.coords.items():
            self.sizes[k] = len(v)
        self.ny = self.sizes["y"]
        self.nx = self.sizes["x"]
        self.tile_rows = int(max(1, min(tile_rows, self.ny)))
        self.n_tiles = -(-self.ny // self.tile_rows)
        self.static = dict(static or {})
        self.attrs = _jsonable(attrs or {})
        self._group = None

    # ------------------------------------------------------------------ lifecycle
    def open(self, overwrite=False, resume=True):
        """Create the store, or reopen it to resume.  Returns the list of pending tile indices."""
        import zarr

        exists = os.path.exists(os.path.join(self.path, "zarr.json"))
        if exists and not overwrite:
            if not resume:
                raise GdchaosInputError(f"store {self.path} exists; pass --overwrite to replace it")
            g = zarr.open_group(self.path, mode="r+")
            old = g.attrs.get("gdchaos_run")
            if old is None or json.loads(old) != self.run_info:
                raise GdchaosInputError(
                    f"store {self.path} holds a run with different parameters; use another "
                    "--out or --overwrite")
            self._group = g
            return self.pending_tiles()
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise GdchaosInputError(f"output {self.path} exists and is not a directory")
        parent = os.path.dirname(os.path.abspath(self.path)) or "."
        if not os.path.isdir(parent):
            raise GdchaosInputError(f"cannot write {self.path}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise GdchaosInputError(f"cannot write {self.path}: folder {parent} is not writable")
        if exists and overwrite:
            shutil.rmtree(self.path)
        try:
            g = zarr.open_group(self.path, mode="w")
        except OSError as exc:
            raise GdchaosInputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        for name, arr in self.coords.items():
            a = g.create_array(name, shape=arr.shape, chunks=arr.shape, dtype=arr.dtype,
                               dimension_names=[name])
            a[...] = arr
        for name, (dims, arr) in self.static.items():
            arr = np.asarray(arr)
            a = g.create_array(name, shape=arr.shape, chunks=arr.shape or (1,), dtype=arr.dtype,
                               dimension_names=list(dims))
            a[...] = arr
        for name, spec in self.variables.items():
            shape = tuple(self.sizes[d] for d in spec.dims)
            chunks = (self.tile_rows,) + shape[1:]
            a = g.create_array(name, shape=shape, chunks=chunks, dtype=spec.dtype,
                               fill_value=spec.fill, dimension_names=list(spec.dims),
                               compressors=spec.compressors)
            if spec.attrs:
                a.attrs.update(_jsonable(spec.attrs))
        td = g.create_array("tile_done", shape=(self.n_tiles,), chunks=(1,), dtype="int8",
                            fill_value=0, dimension_names=["tile"])
        td.attrs["description"] = "1 where the tile (tile_rows rows of the grid) is computed"
        g.attrs.update(self.attrs)
        g.attrs["gdchaos_run"] = json.dumps(self.run_info, sort_keys=True)
        g.attrs["tile_rows"] = self.tile_rows
        self._group = g
        return list(range(self.n_tiles))

    def pending_tiles(self):
        td = self._group["tile_done"]
        done = []
        for i in range(self.n_tiles):
            try:
                done.append(int(td[i]) == 1)
            except Exception:  # a flag chunk torn by a kill counts as not done
                done.append(False)
        return [i for i, d in enumerate(done) if not d]

    def tile_rows_slice(self, i):
        r0 = i * self.tile_rows
        return slice(r0, min(self.ny, r0 + self.tile_rows))

    def write_tile(self, i, data):
        """Write the arrays of tile ``i`` (each of leading shape ``(rows, nx)``), then its flag."""
        sl = self.tile_rows_slice(i)
        for name, spec in self.variables.items():
            arr = np.asarray(data[name]).astype(spec.dtype, copy=False)
            self._group[name][sl] = arr
        self._group["tile_done"][i] = 1

    def finish(self, extra_attrs=None):
        if extra_attrs:
            self._group.attrs.update(_jsonable(extra_attrs))

    def dataset(self):
        import xarray as xr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return xr.open_zarr(self.path, consolidated=False)


def open_store(path):
    """Open a store written by gdchaos as an xarray dataset (lazy)."""
    import xarray as xr

    if not os.path.exists(os.path.join(os.fspath(path), "zarr.json")):
        raise GdchaosInputError(f"{path} is not a gdchaos store (no zarr.json)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_zarr(os.fspath(path), consolidated=False)

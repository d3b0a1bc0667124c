"""Tiled, resumable, self-checking result stores: an xarray dataset on zarr (format 3).

A grid of ``ny x nx`` points is split into tiles of whole rows; each data variable is a zarr
array with one chunk per tile.  A store is created complete (every array, coordinate and static
array, and last our marker ``gdchaos/zarr.json``) in a sibling folder and renamed into place, so
a path holds either nothing of ours or a whole template.  After a tile's data, its record
``gdchaos/tiles/<i>.json`` (a CRC-32C of each variable's bytes) is written atomically, then its
flag in ``gdchaos/tile_done`` (bookkeeping, outside the dataset).  The root document carries
consolidated metadata (a plain ``xarray.open_zarr`` opens the store silently).  Reopening verifies every recorded tile against its checksums and
recomputes those that fail, so a store is either complete and verified or recomputed.  One writer
at a time holds ``gdchaos/.lock``.  Layout and guarantees: docs/engine.md, "Stores".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import GdchaosInputError
from ..status import variable_attrs
from . import _store_fs as fs
from . import _zarr_files as zf
from ._rundiff import mismatch_detail
from ._store_targets import check_store_target, foreign_entries, write_dataset
from ._store_verify import _crc, _metadata_problem, _tile_ok, verify_store  # noqa: F401


@dataclass(frozen=True)
class VarSpec:
    dims: tuple  # e.g. ("y", "x") or ("y", "x", "param")
    dtype: str
    fill: float
    attrs: dict | None = None


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


#: keys added to a run's record (``gdchaos_run``) after stores were written without them; a
#: store whose record lacks one is still this run and is resumed (``basin``'s ``optimizer``,
#: derived from its config)
RECORDED_SINCE = ("optimizer",)


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
    tile_rows : rows per tile (the chunk size along ``y``); an existing store keeps its own.

    :meth:`open` takes the writer lock; :meth:`close` (or the end of the process) drops it.
    :meth:`write_tile` may be called from one writer thread while others compute.
    """

    #: the checks of a target path, before anything is written (also for callers that refuse
    #: early): :func:`gdchaos.engine._store_targets.check_store_target`
    check_target = staticmethod(check_store_target)
    #: a figure's dataset written as its store: :func:`gdchaos.engine._store_targets.write_dataset`
    write_dataset = staticmethod(write_dataset)

    def __init__(self, path, coords, variables, run_info, tile_rows, sizes=None, static=None,
                 attrs=None):
        self.path = os.fspath(path)
        self.coords = {k: np.asarray(v) for k, v in coords.items()}
        self.variables = dict(variables)
        self.run_info = _jsonable(run_info)
        self.run_json = json.dumps(self.run_info, sort_keys=True)
        self.run_hash = hashlib.sha256(self.run_json.encode()).hexdigest()
        # the same run as recorded before a key was added to the record: resumed as it was
        self._older = {}
        for key in RECORDED_SINCE:
            if key in self.run_info:
                older = json.dumps({k: v for k, v in self.run_info.items() if k != key},
                                   sort_keys=True)
                self._older[hashlib.sha256(older.encode()).hexdigest()] = older
        self.sizes = dict(sizes or {})
        for k, v in self.coords.items():
            self.sizes[k] = len(v)
        self.ny = self.sizes["y"]
        self.nx = self.sizes["x"]
        self._set_layout(tile_rows)
        self.static = {k: (tuple(d), np.asarray(a)) for k, (d, a) in (static or {}).items()}
        self.attrs = _jsonable(attrs or {})
        self._group = None
        self._arrays = {}
        self._lock = None
        self._done = set()
        self._mutex = threading.Lock()
        self._writers = {}  # name -> zf.ChunkWriter, once open
        self.recomputed, self.rebuilt = [], None  # failing tiles; why rebuilt: said on open

    def _set_layout(self, tile_rows):
        self.tile_rows = int(max(1, min(int(tile_rows), self.ny)))
        self.n_tiles = -(-self.ny // self.tile_rows)

    @property
    def array_names(self):
        return list(self.coords) + list(self.static) + list(self.variables)

    # ------------------------------------------------------------------ lifecycle
    def open(self, overwrite=False, resume=True):
        """Create the store, or reopen it to resume (or replace it with ``overwrite``).

        Takes the writer lock.  Returns the pending tile indices (never run, or failing their
        checksums).  Refuses with a :class:`GdchaosInputError` (one line) every target
        :func:`check_store_target` refuses (a file, a folder that is not empty and not a gdchaos
        store, a folder that cannot be written, a path inside a store, with ``overwrite`` a
        store holding files gdchaos did not write), a store with other parameters, and a store
        another process is writing.
        """
        path = self.path
        check_store_target(path, overwrite)  # refuses before anything is written
        fs.remove_leftovers(path)
        kind = fs.classify(path)
        if kind in ("absent", "empty"):
            return self._create(path)
        if kind == "legacy":
            if not overwrite:
                raise GdchaosInputError(
                    f"store {path} was written by an older gdchaos without checksums; pass "
                    "--overwrite to recompute it")
            return self._replace(path, self.array_names_of_legacy(path), lock=None)
        lock = fs.WriterLock.acquire(os.path.join(path, fs.LOCK), path)
        try:
            marker = fs.read_marker(path)
            arrays = marker.get("arrays", [])
            if overwrite:
                return self._replace(path, arrays, lock)
            self._adopt_older(marker.get("run_sha256"))
            if marker.get("run_sha256") != self.run_hash:
                raise GdchaosInputError(
                    f"store {path} holds a run with different parameters"
                    f"{mismatch_detail(path, json.loads(self.run_json))}; use another --out or "
                    "--overwrite")
            if not resume:
                raise GdchaosInputError(f"store {path} exists; pass --overwrite to replace it")
            self._set_layout(marker.get("tile_rows", self.tile_rows))  # its layout wins
            problem = self._check_metadata(marker)
            if problem:
                self.rebuilt = problem
                return self._replace(path, arrays, lock)
        except BaseException:
            lock.release()
            raise
        self._lock = lock
        return self._verify_tiles(repair=True)

    def _adopt_older(self, stored):
        """Where the store holds this run as recorded by an older gdchaos (without a key of
        :data:`RECORDED_SINCE`), continue it with its own record."""
        if stored in self._older:
            self.run_hash, self.run_json = stored, self._older[stored]
            self.run_info = json.loads(self.run_json)

    def close(self):
        """Drop the writer lock (the data stay)."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def array_names_of_legacy(path):
        return [e for e in os.listdir(path) if os.path.isfile(os.path.join(path, e, "zarr.json"))]

    def _create(self, path):
        tmp = self._build()
        try:
            os.rename(tmp, path)  # atomic; replaces an empty folder, fails on a non-empty one
        except OSError:
            self._discard(tmp)
            if fs.classify(path) in ("absent", "empty"):
                raise GdchaosInputError(f"cannot create store {path}") from None
            return self.open(overwrite=False, resume=True)  # another run made it meanwhile
        self._reopen_group(path)
        return list(range(self.n_tiles))

    def _replace(self, path, arrays, lock):
        """Put a fresh template in place of our store at ``path`` (only our entries go)."""
        try:
            if fs.contains_cwd(path):
                raise GdchaosInputError(f"will not replace {path}: it holds the current folder")
            bad = foreign_entries(path, arrays)
            if bad:
                raise GdchaosInputError(
                    f"will not replace store {path}: it holds files gdchaos did not write "
                    f"({', '.join(sorted(bad)[:3])}); move them or name a new folder")
            tmp = self._build()
            old = fs.sibling(path, "old")
            os.rename(path, old)
            os.rename(tmp, path)
        finally:
            if lock is not None:
                lock.release()
        shutil.rmtree(old, ignore_errors=True)
        self._reopen_group(path)
        return list(range(self.n_tiles))

    def _discard(self, tmp):
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        shutil.rmtree(tmp, ignore_errors=True)

    def _build(self):
        """Write the complete template into a new sibling folder of ours; returns its path
        (holding the writer lock of the new store).  The zarr documents and the static chunks
        are written as files (:mod:`._zarr_files`); zarr itself only for a static array of a
        kind written there (none of the package's own)."""
        if fs.contains_cwd(self.path):
            raise GdchaosInputError(f"will not write a store at {self.path}: it holds the current "
                                    "folder; name a new folder")
        tmp = fs.sibling(self.path, "tmp")
        try:
            os.mkdir(tmp)
            os.mkdir(os.path.join(tmp, fs.META))
            self._lock = fs.WriterLock.acquire(os.path.join(tmp, fs.LOCK), self.path)
            open(os.path.join(tmp, fs.BUILDING), "w").close()
            os.mkdir(os.path.join(tmp, fs.TILES))
            zf.write_document(tmp, zf.group_document(dict(self.attrs, gdchaos_run=self.run_json,
                                                          tile_rows=self.tile_rows)))
            static_crc = {}
            statics = [(name, (name,), arr) for name, arr in self.coords.items()]
            statics += [(name, dims, arr) for name, (dims, arr) in self.static.items()]
            for name, dims, arr in statics:
                if zf.supported(arr.shape, arr.dtype):
                    zf.write_array(os.path.join(tmp, name), arr, dims, compressed=True)
                else:
                    zf.write_with_zarr(tmp, name, dims, arr)
                static_crc[name] = _crc(arr)
            for name, (shape, dtype, chunks, fill, dims, attrs) in self._layout().items():
                zf.write_document(os.path.join(tmp, name), zf.array_document(
                    shape, chunks, dtype, fill, dims, zf.compressed(dtype), attrs))
            marker = {"gdchaos_store": fs.FORMAT, "run_sha256": self.run_hash,
                      "tile_rows": self.tile_rows, "n_tiles": self.n_tiles,
                      "arrays": self.array_names, "variables": list(self.variables),
                      "static_crc32c": static_crc}
            fs.write_json_atomic(os.path.join(tmp, fs.MARKER),
                                 {"zarr_format": 3, "node_type": "group", "attributes": marker})
            zf.consolidate(tmp)
            os.remove(os.path.join(tmp, fs.BUILDING))
        except OSError as exc:
            self._discard(tmp)
            raise GdchaosInputError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        except BaseException:
            self._discard(tmp)
            raise
        return tmp

    def _layout(self):
        """name -> (shape, dtype, chunks, fill, dims, attrs) of the tiled arrays."""
        out = {}
        for name, spec in self.variables.items():
            shape = tuple(self.sizes[d] for d in spec.dims)
            if not zf.supported(shape, spec.dtype):
                raise ValueError(f"variable {name}: shape {shape}, dtype {spec.dtype} (a store "
                                 "holds numeric variables of positive size)")
            out[name] = (shape, np.dtype(spec.dtype), (self.tile_rows,) + shape[1:], spec.fill,
                         spec.dims, _jsonable(variable_attrs(name, spec.attrs)))
        out[fs.TILE_DONE] = ((self.n_tiles,), np.dtype("int8"), (1,), 0, ("tile",), fs.FLAGS_DOC)
        return out

    def _reopen_group(self, path):
        """Prepare the chunk writers of the store at ``path`` (zarr opens it when read)."""
        self._group = None
        self._arrays = {}
        self._writers = {name: zf.ChunkWriter(os.path.join(path, name), chunks, dtype, fill,
                                              zf.compressed(dtype))
                         for name, (_, dtype, chunks, fill, _, _) in self._layout().items()}
        os.makedirs(os.path.join(path, fs.TILES), exist_ok=True)
        self._done = set()

    def _zarr(self):
        """The store's zarr group and tiled arrays (for reading), opened once."""
        import zarr

        if self._group is None:
            self._group = zarr.open_group(self.path, mode="r+", use_consolidated=False)
            self._arrays = {name: self._group[name]
                            for name in list(self.variables) + [fs.TILE_DONE]}
        return self._group, self._arrays

    def _set_flag(self, i, value):
        self._writers[fs.TILE_DONE].write((i,), np.array([value], dtype=np.int8))

    def _check_metadata(self, marker):
        """Why the store's metadata do not match this run (a string), or '' when they do."""
        if marker.get("gdchaos_store") != fs.FORMAT:
            return f"store layout {marker.get('gdchaos_store')} of an earlier gdchaos"
        self._reopen_group(self.path)
        try:
            group, _ = self._zarr()
        except Exception as exc:  # noqa: BLE001 - any unreadable metadata means: rebuild
            return f"unreadable metadata ({type(exc).__name__})"
        layout = self._layout()
        expected = {name: (shape, dtype, chunks) for name, (shape, dtype, chunks, *_) in
                    layout.items()}
        return _metadata_problem(group, marker, self.run_json, expected) or \
            zf.codec_problem(self.path, layout)

    # ------------------------------------------------------------------ tiles
    def _tile_ok(self, i) -> bool:
        return _tile_ok(self.path, self._zarr()[1], self._dtypes(), self.tile_rows_slice(i), i)

    def _dtypes(self):
        return {name: spec.dtype for name, spec in self.variables.items()}

    def _verify_tiles(self, repair):
        self._done = set()
        pending = []
        for i in range(self.n_tiles):
            if self._tile_ok(i):
                self._done.add(i)
                if repair and self._flag(i) != 1:
                    self._set_flag(i, 1)
                continue
            pending.append(i)
            rec = os.path.join(self.path, fs.TILES, f"{i}.json")
            if repair and os.path.exists(rec):
                self.recomputed.append(i)
                os.remove(rec)
            if repair and self._flag(i) != 0:
                self._set_flag(i, 0)
        return pending

    def _flag(self, i):
        try:
            return int(self._zarr()[1][fs.TILE_DONE][i])
        except Exception:  # noqa: BLE001 - a torn flag chunk is rewritten
            return -1

    def attach(self):
        """Open this run's existing store for tile writes without the lock (a cluster worker)."""
        stored = (fs.read_marker(self.path) or {}).get("run_sha256")
        self._adopt_older(stored)
        if stored != self.run_hash:
            raise GdchaosInputError(f"store {self.path} is not a store of this run")
        self._reopen_group(self.path)
        return self

    def pending_tiles(self):
        """Tiles not (verified) computed, as known to this writer."""
        return [i for i in range(self.n_tiles) if i not in self._done]

    def tile_rows_slice(self, i):
        r0 = i * self.tile_rows
        return slice(r0, min(self.ny, r0 + self.tile_rows))

    def write_tile(self, i, data):
        """Write the arrays of tile ``i`` (each of leading shape ``(rows, nx)``), its checksum
        record, then its flag.  Safe to call from one writer thread while others compute."""
        sl = self.tile_rows_slice(i)
        arrs = {name: np.ascontiguousarray(np.asarray(data[name]).astype(spec.dtype, copy=False))
                for name, spec in self.variables.items()}
        rec = {"tile": int(i), "rows": [sl.start, sl.stop],
               "crc32c": {name: _crc(a) for name, a in arrs.items()}}
        with self._mutex:
            if not self._writers:
                raise RuntimeError("TiledStore.write_tile before open")
            for name, a in arrs.items():  # one chunk file per variable
                self._writers[name].write((i,) + (0,) * (a.ndim - 1), a)
            fs.write_json_atomic(os.path.join(self.path, fs.TILES, f"{int(i)}.json"), rec)
            self._set_flag(i, 1)
            self._done.add(int(i))

    def finish(self, extra_attrs=None, summary=None):
        """Add ``extra_attrs`` to the store's attributes; write ``summary`` (timings, counts of
        this run: what differs between a resumed and an uninterrupted run) to
        ``gdchaos/last_run.json``, outside the dataset."""
        with self._mutex:
            if extra_attrs:
                zf.update_root_attributes(self.path, _jsonable(extra_attrs))
                self._group = None  # its attributes changed
            if summary is not None:
                fs.write_json_atomic(os.path.join(self.path, fs.LAST_RUN), _jsonable(summary))

    def dataset(self):
        """The store as a lazy ``xarray.Dataset``."""
        return _open_dataset(self.path)


def _open_dataset(path):
    import xarray as xr

    return xr.open_zarr(os.fspath(path), consolidated=False, chunks=None)  # NumPy, not dask


def open_store(path, allow_incomplete=False):
    """Open a store written by gdchaos as a lazy ``xarray.Dataset``, after verifying it.

    A store with tiles not computed or failing their checksums is refused (one line) unless
    ``allow_incomplete``; a zarr store not made by gdchaos' tiled writer (e.g. a figure's) is
    opened as it is."""
    path = os.fspath(path)
    if not os.path.isdir(path) or not os.path.exists(os.path.join(path, "zarr.json")):
        if fs.classify(path) != "ours":
            raise GdchaosInputError(f"{path} is not a gdchaos store (no zarr.json)")
    rep = verify_store(path)
    if rep["kind"] in ("ours", "legacy"):
        if rep["problem"]:
            raise GdchaosInputError(f"store {path} is damaged ({rep['problem']}); run the command "
                                    "that made it again to recompute it")
        if rep["pending"] and not allow_incomplete:
            raise GdchaosInputError(
                f"store {path} is incomplete: {len(rep['pending'])} of {rep['n_tiles']} tiles not "
                "computed or failing their checksums; run the command that made it again to "
                "finish it")
    try:
        return _open_dataset(path)
    except Exception as exc:  # noqa: BLE001 - a store that cannot be read is bad input
        raise GdchaosInputError(f"cannot open store {path}: {type(exc).__name__}: {exc}") from None

"""Where a store may be written, checked before anything is written (issue 18).

:func:`check_store_target` is the one check every command that writes a store goes through
(:meth:`TiledStore.open <gdchaos.engine.TiledStore.open>` calls it first; commands may call it
earlier, as ``TiledStore.check_target``, to refuse before any work).  It refuses, with one line
(:class:`~gdchaos.errors.GdchaosInputError`):

* a path below a file (``f.txt/o.zarr``: "f.txt is a file, not a folder"), below a folder that
  does not exist (unless ``create_parents``) or that cannot be written, or inside a zarr store
  (``o.zarr/inner.zarr``);
* a path that is a file, holds the working folder, or is an existing folder that cannot be
  written (an empty read-only folder is not replaced by a writable store);
* a folder that is neither empty nor a store of ours (nothing in it is written or deleted);
* with ``overwrite`` (and always for a figure's store, which is rewritten each run), a store of
  ours that holds anything gdchaos did not write: the refusal names the file.

Nothing the program did not create is ever deleted: what ``--overwrite`` removes is exactly what
:func:`foreign_entries` finds to be ours (the arrays' documents and chunks, the marker, the lock,
the tile records, the run summary, and the temporary ``NAME.<32 hex>.partial`` files of our own
and zarr's atomic writes).  :func:`write_dataset` writes a figure's store the same way a
:class:`TiledStore` is created: into a sibling folder of ours, then renamed into place.
"""

from __future__ import annotations

import os
import re
import shutil

from ..errors import GdchaosInputError
from . import _store_fs as fs
from . import _zarr_files as zf

#: the temporary file of an atomic write: ours (``NAME.<hex>.partial``) or zarr's (the suffix of
#: NAME replaced: ``zarr.<hex>.partial``)
_PARTIAL = re.compile(r"^(?P<stem>.+)\.[0-9a-f]{32}\.partial$")


def _partial_of(name, allowed) -> bool:
    m = _PARTIAL.match(name)
    if not m:
        return False
    stem = m.group("stem")
    return any(stem == a or stem == os.path.splitext(a)[0] for a in allowed)


def _entries(folder):
    """(name, is a real folder, is a real file) of the entries of ``folder`` (a link is
    neither: it is never ours)."""
    with os.scandir(folder) as it:
        return sorted((e.name, e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False))
                      for e in it)


def _foreign_chunks(folder, prefix):
    """Entries below an array's ``c/`` that are not chunks (integer names)."""
    bad = []
    for name, is_dir, is_file in _entries(folder):
        rel = f"{prefix}/{name}"
        if is_dir and name.isdigit():
            bad += _foreign_chunks(os.path.join(folder, name), rel)
        elif is_file and (name.isdigit() or (_PARTIAL.match(name) and
                                             _PARTIAL.match(name).group("stem").isdigit())):
            continue
        else:
            bad.append(rel)
    return bad


def _foreign_in_array(folder, prefix):
    bad = []
    for name, is_dir, is_file in _entries(folder):
        rel = f"{prefix}/{name}"
        if is_file and (name == "zarr.json" or _partial_of(name, ("zarr.json",))):
            continue
        if name == "c" and is_file:  # the chunk of a 0-d array
            continue
        if name == "c" and is_dir:
            bad += _foreign_chunks(os.path.join(folder, name), rel)
            continue
        bad.append(rel)
    return bad


def _foreign_in_meta(folder):
    bad = []
    files = ("zarr.json", ".lock", "last_run.json")
    for name, is_dir, is_file in _entries(folder):
        rel = f"{fs.META}/{name}"
        if is_file and (name in files or _partial_of(name, files)):
            continue
        if name == "tile_done" and is_dir:
            bad += _foreign_in_array(os.path.join(folder, name), rel)
            continue
        if name == "tiles" and is_dir:
            for t, t_dir, t_file in _entries(os.path.join(folder, name)):
                m = _PARTIAL.match(t)
                stem = m.group("stem") if m else t
                if not (t_file and stem.endswith(".json") and stem[:-5].isdigit()):
                    bad.append(f"{rel}/{t}")
            continue
        bad.append(rel)
    return bad


def foreign_entries(path, arrays, meta=True) -> list:
    """Entries of the store ``path`` (relative names, sorted) that gdchaos did not write: anything
    but the root document, the arrays ``arrays`` (their documents and chunks), our bookkeeping
    folder (with ``meta``) and the temporary files of atomic writes."""
    bad = []
    arrays = set(arrays)
    for name, is_dir, is_file in _entries(path):
        full = os.path.join(path, name)
        if is_file and (name in ("zarr.json", fs.BUILDING) or _partial_of(name, ("zarr.json",))):
            continue
        if meta and name == fs.META and is_dir:
            bad += _foreign_in_meta(full)
        elif name in arrays and is_dir:
            bad += _foreign_in_array(full, name)
        else:
            bad.append(name)
    return sorted(bad)


def _figure_arrays(path):
    """The array folders of a figure's store (those holding a zarr.json)."""
    return [n for n, is_dir, _ in _entries(path)
            if is_dir and os.path.isfile(os.path.join(path, n, "zarr.json"))]


def is_figure_store(path, figure) -> bool:
    """``path`` is a zarr store written for figure ``figure`` by :func:`write_dataset`."""
    root = fs.read_json(os.path.join(path, "zarr.json"))
    attrs = (root or {}).get("attributes") or {}
    return "gdchaos_version" in attrs and attrs.get("figure") == figure


def _shown(p, like):
    """``p`` as the user would write it: relative when the path given (``like``) is."""
    if os.path.isabs(like):
        return p
    rel = os.path.relpath(p)
    return p if rel.startswith("..") else rel


def _is_zarr_node(folder) -> bool:
    return os.path.isfile(os.path.join(folder, "zarr.json")) or \
        fs.read_marker(folder) is not None


def _check_parents(shown, full, create_parents):
    parent = os.path.dirname(full)
    anc = parent
    while not os.path.lexists(anc):
        anc = os.path.dirname(anc)
    if not os.path.isdir(anc):
        raise GdchaosInputError(f"cannot write {shown}: {_shown(anc, shown)} is a file, not a "
                                "folder")
    if anc != parent and not create_parents:
        raise GdchaosInputError(f"cannot write {shown}: folder {_shown(parent, shown)} does not "
                                "exist")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise GdchaosInputError(f"cannot write {shown}: folder {_shown(anc, shown)} is not "
                                "writable")
    a = anc
    while True:
        if _is_zarr_node(a):
            raise GdchaosInputError(f"cannot write {shown}: it would be inside the store "
                                    f"{_shown(a, shown)}; name a folder outside it")
        up = os.path.dirname(a)
        if up == a:
            return
        a = up


def _refuse_foreign_files(shown, bad, what="store"):
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise GdchaosInputError(
            f"will not replace {what} {shown}: it holds files gdchaos did not write "
            f"({', '.join(bad[:3])}{more}); move them or name a new folder")


def check_store_target(path, overwrite=False, *, figure=None, create_parents=False) -> str:
    """Refuse (one line) a path where a store may not be written; returns its kind (``absent``,
    ``empty``, ``ours``, ``legacy``; see :func:`gdchaos.engine._store_fs.classify`).  Writes
    nothing.  ``figure``: the path is figure ``figure``'s store (rewritten by each run: an
    existing one must be that figure's and hold nothing else).  ``create_parents``: the folders
    above may be missing (they are created by the command)."""
    if path is None or os.fspath(path) == "":
        raise GdchaosInputError("no store path given")
    shown = os.fspath(path)
    full = os.path.abspath(shown)
    _check_parents(shown, full, create_parents)
    if fs.contains_cwd(full):
        raise GdchaosInputError(f"will not write a store at {shown}: it holds the current "
                                "folder; name a new folder")
    kind = fs.classify(full)
    if kind == "absent":
        return kind
    if kind == "file":
        raise GdchaosInputError(f"cannot write {shown}: it is a file, not a folder")
    replacing = overwrite or figure is not None or kind == "empty"
    if replacing and os.path.islink(full):
        raise GdchaosInputError(f"will not replace {shown}: it is a symbolic link; name the "
                                "folder itself")
    if figure is not None and kind != "empty":
        if not is_figure_store(full, figure):
            raise GdchaosInputError(
                f"{shown} is a folder that is not a gdchaos store of figure {figure}; it is left "
                "as it is: move it or name another --out")
        _refuse_foreign_files(shown, foreign_entries(full, _figure_arrays(full), meta=False))
    elif kind == "foreign":
        raise GdchaosInputError(
            f"{shown} is a folder that is not a gdchaos store; it is left as it is, name a new "
            "folder for the store")
    if not os.access(full, os.W_OK | os.X_OK) or (
            kind == "ours" and not os.access(os.path.join(full, fs.META), os.W_OK | os.X_OK)):
        raise GdchaosInputError(f"cannot write {shown}: the folder is not writable")
    if figure is None and overwrite and kind in ("ours", "legacy"):
        arrays = ((fs.read_marker(full) or {}).get("arrays", []) if kind == "ours" else
                  _figure_arrays(full))
        _refuse_foreign_files(shown, foreign_entries(full, arrays, meta=kind == "ours"))
    return kind


def write_dataset(ds, path, figure):
    """Write ``ds`` as figure ``figure``'s zarr store at ``path``, replacing the store an earlier
    run wrote there (checked by :func:`check_store_target` just before): the dataset is written
    into a sibling folder of ours and renamed into place, so a kill never leaves half a store at
    ``path``, and what is removed is only the earlier store."""
    path = os.fspath(path)
    full = os.path.abspath(path)
    fs.remove_leftovers(full)
    kind = check_store_target(path, figure=figure)
    tmp, lock = _our_folder(fs.sibling(full, "tmp"), path)
    old = old_lock = None
    try:
        ds.to_zarr(os.path.join(tmp, "store"), mode="w-", consolidated=False)
        zf.consolidate(os.path.join(tmp, "store"))
        if kind != "absent":  # our earlier store (or an empty folder) goes aside first
            old, old_lock = _our_folder(fs.sibling(full, "old"), path)
            os.rename(full, os.path.join(old, "store"))
        try:
            os.rename(os.path.join(tmp, "store"), full)
        except OSError:
            if old is not None:  # put the earlier store back
                os.rename(os.path.join(old, "store"), full)
            raise
    except OSError as exc:
        raise GdchaosInputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        lock.release()
        shutil.rmtree(tmp, ignore_errors=True)
        if old_lock is not None:
            old_lock.release()
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _our_folder(path, label):
    """A new folder of ours, and its writer lock: it holds our ``.gdchaos-building`` file, so
    a killed run's folder is removed by the next run, and not while its writer runs
    (:func:`gdchaos.engine._store_fs.remove_leftovers`)."""
    try:
        os.mkdir(path)
        os.mkdir(os.path.join(path, fs.META))
        lock = fs.WriterLock.acquire(os.path.join(path, fs.LOCK), label)
        open(os.path.join(path, fs.BUILDING), "w").close()
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise GdchaosInputError(f"cannot write {label}: {exc.strerror or exc}") from None
    return path, lock

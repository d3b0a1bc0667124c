"""Names of a map's coordinates: the ``long_name`` and ``description`` attributes of ``x`` and
``y`` in the datasets and stores of :func:`gdchaos.basin` and :func:`gdchaos.hyper_map`.

The attributes are metadata only: they are not part of a store's run record (its
``gdchaos_run`` and ``run_sha256``), so a store made before they existed is still a store of
the same run, and no data variable, chunk or tile changes.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..errors import GdchaosInputError
from . import _zarr_files as zf
from ._store import TiledStore


def parameter_names(problem):
    """A name for each of the problem's ``n_params`` parameters, from its ``param_groups``
    (``u``, ``v`` for scalar factorization with d = 1; ``u[0]``, ..., ``v[0]``, ... for d > 1),
    else ``x[i]``."""
    P = int(problem.n_params)
    names = [f"x[{i}]" for i in range(P)]
    try:
        groups = problem.param_groups or {}
    except Exception:  # noqa: BLE001 - a user's property that fails names nothing
        groups = {}
    for g, idx in groups.items():
        idx = np.asarray(idx, dtype=int).reshape(-1)
        for k, i in enumerate(idx):
            if 0 <= i < P:
                names[i] = str(g) if idx.size == 1 else f"{g}[{k}]"
    return names


def _unit_index(direction):
    """``i`` when ``direction`` is the unit vector ``e_i``, else ``None``."""
    d = np.asarray(direction, dtype=float)
    i = int(np.argmax(np.abs(d)))
    e = np.zeros_like(d)
    e[i] = 1.0
    return i if np.array_equal(d, e) else None


def slice_coord_attrs(problem, grid):
    """``{"x": attrs, "y": attrs}`` of a basin over the slice ``grid``: the problem's axis
    labels (the quotient map's ``z``, ``w``), else the parameter a coordinate-axes slice moves
    (``u``, ``v``), else the slice coordinates ``a``, ``b`` along ``slice_directions``."""
    labels = tuple(getattr(problem, "axis_labels", (None, None)) or (None, None))
    names = parameter_names(problem)
    out = {}
    for k, (coord, letter) in enumerate((("x", "a"), ("y", "b"))):
        i = _unit_index(grid.directions[k])
        c = 0.0 if i is None else float(grid.center[i])
        label = labels[k] if k < len(labels) else None
        if label is None and i is not None:
            label = names[i]
        if label is None:
            out[coord] = {"long_name": f"{letter} (along slice direction e{k + 1})",
                          "description": f"coordinate {letter} of the slice points "
                                         f"slice_center + a e1 + b e2 (e{k + 1} = "
                                         f"slice_directions[{k}])"}
            continue
        desc = f"{label} (coordinate {letter} of the slice points slice_center + a e1 + b e2)"
        if c != 0.0:
            desc = f"{label} minus the slice centre's {c:g} (coordinate {letter} of the slice " \
                "points slice_center + a e1 + b e2)"
            label = f"{label} - {c:g}"
        out[coord] = {"long_name": label, "description": desc}
    return out


def label_dataset(ds, coord_attrs):
    """Add ``coord_attrs`` (coordinate name -> attributes) to ``ds``'s coordinates, in place;
    returns ``ds``."""
    for name, attrs in coord_attrs.items():
        if name in ds.coords:
            ds[name].attrs.update(attrs)
    return ds


class LabelledStore(TiledStore):
    """A :class:`TiledStore` whose coordinate arrays carry ``coord_attrs`` (name -> attributes),
    written into the template before it is put in place (so a store has them from the start;
    an existing store keeps its own)."""

    def __init__(self, coord_attrs=None, **store_args):
        super().__init__(**store_args)
        self.coord_attrs = {k: dict(v) for k, v in (coord_attrs or {}).items()
                            if k in self.coords}

    def _build(self):
        tmp = super()._build()
        try:
            for name, attrs in self.coord_attrs.items():
                folder = os.path.join(tmp, name)
                with open(os.path.join(folder, "zarr.json")) as f:
                    doc = json.load(f)
                doc["attributes"] = dict(doc.get("attributes") or {}, **attrs)
                zf.write_document(folder, doc)
            if self.coord_attrs:
                zf.consolidate(tmp)  # the consolidated copy holds the new documents
        except (OSError, ValueError) as exc:
            self._discard(tmp)
            raise GdchaosInputError(f"cannot write {self.path}: "
                                    f"{getattr(exc, 'strerror', None) or exc}") from None
        except BaseException:
            self._discard(tmp)
            raise
        return tmp

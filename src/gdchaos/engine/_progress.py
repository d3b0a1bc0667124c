"""Progress within a tile: the tile loop (:mod:`._tiles`) installs a callback for the tile it
is computing, and a runner that steps in Python (the torch runners) reports the fraction of its
steps done, so that a map of one long tile (a network map) shows a moving bar with an ETA from
its first seconds instead of jumping from 0 to 1 at the end.  Numba kernels run a tile in one
call and report nothing: their tiles are short."""

from __future__ import annotations

import threading
from contextlib import contextmanager

_local = threading.local()


def report(done: float, total: float) -> None:
    """The tile being computed in this thread is ``done / total`` finished (a no-op when no
    tile loop listens)."""
    f = getattr(_local, "callback", None)
    if f is not None and total > 0:
        f(min(max(done / total, 0.0), 1.0))


def note(text: str) -> None:
    """What the tile being computed in this thread is doing now (a refined tile: its level),
    shown beside the bar (a no-op when no tile loop listens)."""
    f = getattr(_local, "note", None)
    if f is not None:
        f(text)


@contextmanager
def listening(callback):
    """Within the block, :func:`report` in this thread calls ``callback(fraction)``."""
    old = getattr(_local, "callback", None)
    _local.callback = callback
    try:
        yield
    finally:
        _local.callback = old


@contextmanager
def within(lo: float, hi: float):
    """Within the block, a runner's :func:`report` of its own fraction ``f`` reaches the
    current listener as ``lo + f (hi - lo)`` (a tile computed in several runs: a refined
    tile's levels), and the block ends with ``hi`` reported."""
    outer = getattr(_local, "callback", None)
    if outer is None:
        yield
        return
    with listening(lambda f: outer(lo + f * (hi - lo))):
        yield
    outer(hi)


class TileBar:
    """A tqdm bar in tiles that moves by fractions of a tile as the current tile reports."""

    def __init__(self, bar):
        self.bar = bar
        self._frac = 0.0

    def _advance(self, frac):
        if frac > self._frac:
            self.bar.update(frac - self._frac)
            self._frac = frac

    def _note(self, text):
        if hasattr(self.bar, "set_postfix_str"):
            self.bar.set_postfix_str(text, refresh=False)

    def compute(self, fn, *a, **k):
        """``fn(*a, **k)`` for one tile, the bar moving within it and ending one tile on."""
        self._frac = 0.0
        old = getattr(_local, "note", None)
        _local.note = self._note
        try:
            with listening(self._advance):
                out = fn(*a, **k)
        finally:
            _local.note = old
        self._advance(1.0)
        self._frac = 0.0
        return out

    def set_done(self, n_done):
        """Tiles already done (a resumed store)."""
        self.bar.n = n_done
        self.bar.refresh()

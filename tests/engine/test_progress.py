"""Progress from the first second (issues 20, 22): the bar of a tiled map exists before the
first tile is computed and moves within a tile where the runner steps in Python (the torch
runners: network maps), so that a one-tile map does not sit at 0 until its end."""

import pytest


class RecordingBar:
    """Stands in for tqdm: records when it was made and every position it moved to."""

    made = []

    def __init__(self, *a, total=None, disable=False, **k):
        self.total, self.n, self.positions = total, 0.0, []
        RecordingBar.made.append(self)

    def update(self, d):
        self.n += d
        self.positions.append(self.n)

    def refresh(self):
        pass

    def close(self):
        pass


@pytest.fixture
def bars(monkeypatch):
    import tqdm.auto

    RecordingBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    return RecordingBar.made


@pytest.mark.parametrize("store", [False, True])
def test_one_tile_network_map_moves_within_its_tile(bars, tmp_path, store):
    pytest.importorskip("torch")
    from gdchaos.nn.maps import NetMapSettings, network_map

    s = NetMapSettings(n_points=4, iters=40)
    network_map(s, "eta_in:log:1e-1,1e2", "eta_out:log:1e-1,1e2", 4, progress=True,
                store=str(tmp_path / "n.zarr") if store else None)
    bar = bars[-1]
    assert bar.total == 1  # one tile
    inside = [p for p in bar.positions if 0 < p < 1]
    assert len(inside) >= 10, bar.positions  # moved within the tile, step by step
    assert bar.positions == sorted(bar.positions) and bar.positions[-1] == pytest.approx(1.0)


def test_bar_exists_before_the_first_tile(bars, tmp_path, monkeypatch):
    """The bar is made before any tile is computed (a new store computes its first tiles while
    its template is written: they count too)."""
    import numpy as np

    import gdchaos as gc
    from gdchaos.engine import _run

    real = _run._tile
    seen = []

    def tile(*a, **k):
        seen.append(len(bars))
        return real(*a, **k)

    monkeypatch.setattr(_run, "_tile", tile)
    p = gc.QuotientMap(y=0.5, lam=0.2)
    grid = gc.Slice2D.axes(2, (-2.5, 3), (0, 10), 32, 32)
    gc.basin(p, grid, eta=1.0, max_iter=20, store=str(tmp_path / "q.zarr"), tile_rows=4,
             progress=True)
    assert seen and seen[0] >= 1  # a bar existed when the first tile started
    bar = bars[0]
    assert bar.total == 8 and bar.positions[-1] == pytest.approx(8.0)
    assert np.all(np.diff(bar.positions) > 0)


def test_a_refused_resume_prints_no_bar_before_its_line(tmp_path):
    """The bar of an existing store is made once the store is verified: a store of other
    parameters is refused with its one line and nothing else (no bar drawn first)."""
    import subprocess
    import sys

    base = [sys.executable, "-m", "gdchaos.cli", "basin", "--problem", "quotient", "--grid",
            "20", "--iters", "20", "--out", str(tmp_path / "s.zarr")]
    assert subprocess.run(base + ["--eta", "1", "--quiet"]).returncode == 0
    r = subprocess.run(base + ["--eta", "0.5"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("gdchaos: error:"), repr(r.stderr)
    assert "config.eta: stored 1.0, asked 0.5" in r.stderr

"""Ctrl-C (issue 22): a Numba kernel computes a tile in one call that SIGINT cannot interrupt,
so default tiles are bounded in point-steps (a long run gets smaller tiles and answers Ctrl-C
within about a tile's time); the command then exits 130 with one line saying how to resume."""

import signal

from gdchaos.engine._run import TILE_POINT_STEPS, TILE_POINTS, _default_tile_rows


def test_default_tiles_are_bounded_in_point_steps():
    assert _default_tile_rows(2000, max_iter=200) == TILE_POINTS // 2000  # figure 3: as before
    for nx, iters in [(600, 1000), (3000, 3000), (100, 10**6)]:
        rows = _default_tile_rows(nx, max_iter=iters)
        assert rows >= 1
        assert rows == 1 or rows * nx * iters <= TILE_POINT_STEPS
    assert _default_tile_rows(3000) == TILE_POINTS // 3000  # no step count: points only


def test_interrupted_basin_exits_130_and_says_how_to_resume(tmp_path):
    from _gate import at_gate, gated

    gate = tmp_path / "gate"
    args = ["basin", "--problem", "scalar", "--d", "5", "--eta", "1", "--grid", "400",
            "--iters", "2000", "--quiet", "--out", str(tmp_path / "b.zarr")]
    proc = gated(args, gate, "tile:1")
    at_gate(gate, proc)  # running: one tile done, the next one held
    proc.send_signal(signal.SIGINT)
    assert proc.wait() == 130

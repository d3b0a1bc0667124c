"""`gdchaos basin` lets the kernels' OpenMP threads sleep between parallel loops (passive wait
policy) unless the user chose a policy."""

import os

import pytest

from gdchaos.cli import main

TINY = ["basin", "--problem", "quotient", "--eta", "1", "--iters", "20", "--grid", "8", "--json"]


@pytest.mark.parametrize("preset", [None, "active"])
def test_basin_sets_passive_wait_policy_unless_set(tmp_path, monkeypatch, capsys, preset):
    if preset is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", preset)
    assert main(TINY + ["--out", str(tmp_path / "s.zarr")]) == 0
    assert os.environ["OMP_WAIT_POLICY"] == (preset or "passive")

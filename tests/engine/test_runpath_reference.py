"""The run path's results are pinned: every case of ``tests/data/make_runpath_reference.py``
(every built-in problem with ``basin``, ``map`` over each axis kind and each optimizer, numba
and torch, one process and ``--scheduler local:2``, ``nn map`` tanh and ReLU) gives statuses,
iterations and final losses bit-identical to the values recorded at f8e7ef5, before the engine
had one run path (``tests/data/runpath_reference.json``)."""

import importlib.util
import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
_spec = importlib.util.spec_from_file_location("make_runpath_reference",
                                               DATA / "make_runpath_reference.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)
EXPECTED = json.loads((DATA / "runpath_reference.json").read_text())


def test_every_case_has_a_reference():
    assert set(EXPECTED) == set(ref.CASES)
    for name, digests in EXPECTED.items():
        assert set(digests) == set(ref.VARIABLES), name


@pytest.mark.parametrize("name", sorted(ref.CASES))
def test_bit_identical_to_the_reference(name, tmp_path):
    if "torch" in name or name.startswith("nn_"):
        pytest.importorskip("torch")
    if "--scheduler" in ref.CASES[name]:
        pytest.importorskip("distributed")
    assert ref.run_case(ref.CASES[name], str(tmp_path)) == EXPECTED[name]

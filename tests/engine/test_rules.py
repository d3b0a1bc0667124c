"""Every run names its convergence rule; engine and networks use the same status codes."""

import numpy as np

import gdchaos
from gdchaos.status import CONVERGENCE_RULES, ENGINE_RULE


def test_engine_runs_store_their_convergence_rule(tmp_path):
    g = gdchaos.Slice2D.axes(2, (-1, 1), (-1, 1), 8)
    p = gdchaos.ScalarFactorization(d=1, y=1.0)
    for ds in (gdchaos.basin(p, g, eta=0.5, max_iter=50),
               gdchaos.basin(p, g, eta=0.5, max_iter=50, store=str(tmp_path / "s.zarr"))):
        assert ds.attrs["convergence_rule"] == ENGINE_RULE
    assert ENGINE_RULE in CONVERGENCE_RULES


def test_network_rule_is_a_named_rule():
    from gdchaos.nn import CONVERGENCE_RULE

    assert CONVERGENCE_RULE in CONVERGENCE_RULES and CONVERGENCE_RULE != ENGINE_RULE
    assert np.array_equal(gdchaos.status.NN_CODES, (gdchaos.CONVERGED, gdchaos.DIVERGED,
                                                    gdchaos.UNDECIDED))

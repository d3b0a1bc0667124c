"""The explorer inside Jupyter: ``gdchaos.explore.explorer(...)`` is a Panel layout of the same
app (the notebook displays it after ``pn.extension()``)."""

import pytest

pn = pytest.importorskip("panel", reason="the explorer needs the 'explore' extra")


def test_explorer_is_a_panel_layout_of_the_requested_view():
    from gdchaos.explore import explorer

    lay = explorer({"problem": "scalar", "eta": "0.5"}, iters=50)
    assert isinstance(lay, pn.layout.Panel)
    root = lay.get_root()  # its Bokeh models, built without a server (what a notebook shows)
    assert root is not None and len(list(root.references())) > 10
    from gdchaos import GdchaosInputError

    with pytest.raises(GdchaosInputError):
        explorer({"problem": "banana"})

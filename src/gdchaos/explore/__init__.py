"""A live map in the browser that recomputes as you zoom (``gdchaos explore``).

A Panel app with a HoloViews ``DynamicMap`` driven by the plot's range (``RangeXY``) on a
Bokeh server: every pan or zoom recomputes the window with the engine at the screen's
resolution.  Needs the ``explore`` extra (panel, holoviews, bokeh).  See docs/explore.md.
"""

from ._server import explorer, serve
from ._state import MAX_ITERS, MAX_WORK, ViewState, state_from_query
from ._store_view import StoreMap, StoreView
from ._view import compute_map, reproduce, resolution_warning, trajectory

__all__ = ["explorer", "serve", "ViewState", "state_from_query", "compute_map", "trajectory",
           "reproduce", "resolution_warning", "MAX_ITERS", "MAX_WORK", "StoreView", "StoreMap"]

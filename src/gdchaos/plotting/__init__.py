"""Publication-quality plots (matplotlib, Agg backend).

Importing this package registers the xarray accessors ``ds.gdchaos`` and ``da.gdchaos``
(``ds.gdchaos.plot()``); ``import gdchaos`` alone does not import it.
"""

from .style import use_style
from .api import GdchaosAccessor, axis_label, plot, register_accessors, run_title, variable_label
from .basin import plot_basin, save_figure

register_accessors()

__all__ = ["GdchaosAccessor", "axis_label", "plot", "plot_basin", "register_accessors",
           "run_title", "save_figure", "use_style", "variable_label"]

"""Publication-quality plots (matplotlib, Agg backend)."""

from .style import use_style
from .basin import plot_basin, save_figure

__all__ = ["plot_basin", "save_figure", "use_style"]

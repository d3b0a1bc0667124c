"""The map's "computing" state, drawn by the browser itself: the moment the plot's range
changes (a pan or zoom ends) BokehJS shows "computing ..." over the map and dims the old image
(which the browser otherwise stretches to the new range); the new image's arrival clears both.
The server clears them too when a request ends without a new image (a refusal)."""

from __future__ import annotations

BUSY_NAME = "gdchaos-busy"
_SHOW = "label.visible = true; if (glyph) glyph.global_alpha = 0.35;"
_HIDE = "label.visible = false; if (glyph) glyph.global_alpha = 1.0;"


def add_busy_indicator(plot, element):
    """A HoloViews hook of the map's ``Image`` plot: adds the label and its two callbacks once
    per figure."""
    from bokeh.models import CustomJS, Label

    fig = plot.state
    if any(getattr(m, "name", None) == BUSY_NAME for m in fig.center):
        return
    label = Label(x=8, y=8, x_units="screen", y_units="screen", text="computing ...",
                  name=BUSY_NAME, visible=False, text_font_size="15px", text_color="#202020",
                  background_fill_color="white", background_fill_alpha=0.9,
                  border_line_color="#202020")
    fig.add_layout(label)
    glyph = plot.handles.get("glyph")
    args = dict(label=label, glyph=glyph)
    fig.js_on_event("rangesupdate", CustomJS(args=args, code=_SHOW))
    source = plot.handles.get("source")
    if source is not None:
        source.js_on_change("data", CustomJS(args=args, code=_HIDE))


def clear_busy(layout_plots):
    """Server side: hide the label of every map figure of ``layout_plots`` (Panel's
    ``pane._plots`` values)."""
    for plot, _ in layout_plots:
        fig = getattr(plot, "state", None)
        for m in getattr(fig, "center", []) or []:
            if getattr(m, "name", None) == BUSY_NAME:
                m.visible = False
        for r in getattr(fig, "renderers", []) or []:
            if type(getattr(r, "glyph", None)).__name__ == "Image":
                r.glyph.global_alpha = 1.0

"""Serving the explorer: a Bokeh server (through Panel) on loopback by default.

Guards: every URL parameter is validated (:func:`state_from_query`; a bad one is shown as one
line on the page, never a traceback); each map is bounded in pixels x steps (``MAX_WORK``);
one computation runs at a time; at most ``MAX_SESSIONS`` pages are open at once (more get a
short "busy" page), and a page whose browser has gone is dropped within
``UNUSED_SESSION_MS``, so memory stays bounded however many viewers come; the app reads and
writes no files (PNG exports are built in memory).  Every resource of the page (scripts,
stylesheets) is served by the server itself: the page asks nothing of any other host.
"""

from __future__ import annotations

import ipaddress
import socket
import sys

from ..errors import GdchaosInputError
from ._state import ViewState, state_from_query

UNUSED_SESSION_MS = 10_000
CHECK_UNUSED_MS = 2_000
MAX_MESSAGE = 1 << 20  # largest websocket message a browser may send (bytes)


def explorer(query=None, **kw):
    """A Panel layout of the explorer for ``query`` (a dict of state fields, e.g.
    ``{"problem": "scalar", "eta": "0.5"}``); display it in Jupyter after ``pn.extension()``."""
    from .app import Explorer

    st = state_from_query(dict(query or {}, **{k: str(v) for k, v in kw.items()}))
    return Explorer(st).layout


def _admit():
    """Count a new session (and uncount it when its page is gone); ``None``, or the "busy" page
    when :data:`app.MAX_SESSIONS` viewers are open."""
    import panel as pn

    from . import app

    with app._SESSION_LOCK:
        busy = app._SESSIONS["n"] >= app.MAX_SESSIONS
        if not busy:
            app._SESSIONS["n"] += 1
    if busy:
        return pn.pane.Alert(f"gdchaos explore: {app.MAX_SESSIONS} viewers are open; try again "
                             "in a minute.", alert_type="warning")

    def _gone(_ctx):
        with app._SESSION_LOCK:
            app._SESSIONS["n"] -= 1

    pn.state.on_session_destroyed(_gone)
    return None


def _page(base=None):
    """One session's document (called by the Bokeh server for every new page); the URL's
    parameters change ``base`` (the server's starting view)."""
    import panel as pn

    from . import app

    full = _admit()
    if full is not None:
        return full
    args = {k: v[-1].decode("utf-8", "replace") for k, v in (pn.state.session_args or {}).items()
            if v}
    error = None
    try:
        st = state_from_query(args, base)
    except GdchaosInputError as exc:
        st, error = base or ViewState(), str(exc)
    ex = app.Explorer(st, sync_url=True)
    if error:
        ex._error(f"{error} (showing the default view instead)")
    return ex.layout


def warm_up(st):
    """Load the compiled kernels of the starting problem (and the double-double one for the
    quotient map) before the first page asks for a map."""
    from dataclasses import replace

    from ._view import compute_map

    compute_map(replace(st, iters=1), 4, 4)
    from ._state import make_problem

    if make_problem(st).supports_double_double:
        compute_map(replace(st, iters=1, precision="dd", x0=-1.0, x1=1.0, y0=0.0, y1=1.0), 4, 4)


def check_host(host):
    if not str(host).strip():
        raise GdchaosInputError("--host is empty; give an address of this machine (127.0.0.1)")
    try:
        addr = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        raise GdchaosInputError(f"--host {host!r} is not an address of this machine") from None
    return addr.is_loopback


def check_port_free(host, port):
    """Refuse, before anything starts, a port another program holds (port 0: any free one)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            s.bind((host, port))
        except OSError as exc:
            raise GdchaosInputError(f"--port {port}: cannot listen on {host}:{port} "
                                    f"({exc.strerror or exc}); another program may hold it, "
                                    "choose another --port (0: any free port)") from None


def _store_page(view):
    """One session's page of a store (``gdchaos explore STORE``)."""
    from ._store_page import StorePage

    full = _admit()
    return full if full is not None else StorePage(view).layout


def serve(port=5006, host="127.0.0.1", show=False, threaded=False, query=None, store=None):
    """Start the explorer's server; blocks until interrupted (``threaded=True``: returns the
    server running in a thread, for tests).  ``query``: the starting view (state fields as
    strings); ``store``: a store of ``gdchaos basin``, ``map`` or ``nn map`` to explore with
    its recorded run instead.  Prints the address."""
    if store is not None:
        from ._store_view import StoreView

        if query:
            raise GdchaosInputError("give a store or a problem's options, not both (a store's "
                                    "view is its recorded run)")
        view = StoreView(store)  # refused in one line before the server starts

        def page():
            return _store_page(view)
    else:
        base = state_from_query(query or {})

        def page():
            return _page(base)

    if not 0 <= int(port) <= 65535:
        raise GdchaosInputError(f"--port must be in [0, 65535], got {port}")
    loop = check_host(host)
    check_port_free(host, int(port))
    from .app import _import

    pn, _ = _import()
    from bokeh.settings import settings

    # every script and stylesheet from this server (the machine may be offline): Bokeh's and
    # Panel's own files under /static, never a CDN, whatever BOKEH_RESOURCES says
    settings.resources.set_value("server")
    kw = dict(port=int(port), address=host, show=show, title="gdchaos explore",
              websocket_origin=[f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"],
              unused_session_lifetime=UNUSED_SESSION_MS, check_unused_sessions=CHECK_UNUSED_MS,
              websocket_max_message_size=MAX_MESSAGE, threaded=threaded)
    if not loop:
        print(f"gdchaos explore: warning: serving on {host}, reachable from other machines",
              file=sys.stderr)
    if store is None:
        warm_up(base)
    if threaded:  # Panel starts the thread (and its IO loop); ``.stop()`` ends it
        return pn.serve({"/": page}, **kw)
    print(f"gdchaos explore: http://{host}:{port}/  (Ctrl-C stops)", flush=True)
    pn.serve({"/": page}, **kw)
    return None

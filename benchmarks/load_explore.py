"""Load test of `gdchaos explore` on loopback: N simulated viewers panning for T seconds.

Starts `gdchaos explore` on a free loopback port, then N threads each open a real Bokeh
session on it (``bokeh.client.pull_session``: the server builds the same page as for a
browser) and keep asking for new maps: each sets the page's step size to a new random value
in [0.9, 1.1] (a property patch, what the browser sends when eta is typed), waits until the
server's new image has arrived, records the latency, and asks again.  Each request costs the
server what a pan costs (the whole window recomputed at 560 x 460 by the engine and the image
pushed); a Python client cannot send Bokeh's ``rangesupdate`` UI event itself (the server
cannot resolve its model reference), so the window stays put.  The server's resident
memory is sampled every 0.5 s.  Prints one JSON object: requests, errors, latency median /
95th percentile / max, memory at start / peak / after the viewers left.  Bounded: it stops
after T seconds (plus at most 30 s for answers in flight) and kills the server it started.

    python benchmarks/load_explore.py [--viewers 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def viewer(url, stop, out, k):
    import panel.models  # noqa: F401 - the client must know Panel's Bokeh models
    from bokeh.client import pull_session
    from tornado.ioloop import IOLoop

    asyncio.set_event_loop(asyncio.new_event_loop())
    rng = np.random.default_rng(k)
    try:
        session = pull_session(url=url, io_loop=IOLoop.current())
    except Exception as exc:  # noqa: BLE001 - counted as an error
        out["errors"].append(f"connect: {type(exc).__name__}: {exc}")
        return
    doc = session.document
    try:
        eta_box = [m for m in doc.models if "gdchaos-eta" in (getattr(m, "css_classes", None)
                                                               or [])][0]
        view = [m for m in doc.models if isinstance(getattr(m, "text", None), str)
                and "gdchaos-view" in m.text][0]
        while not stop.is_set():
            eta = repr(round(float(rng.uniform(0.9, 1.1)), 6))
            t0 = time.perf_counter()
            eta_box.value = eta  # a property patch, as the browser sends on Enter
            while True:
                session.force_roundtrip()
                if f"&quot;eta&quot;: &quot;{eta}&quot;" in view.text:
                    out["latency"].append(time.perf_counter() - t0)
                    break
                if time.perf_counter() - t0 > 60:
                    out["errors"].append("no new image within 60 s")
                    break
                time.sleep(0.02)
    except Exception as exc:  # noqa: BLE001
        out["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        session.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--after", type=float, default=15.0,
                    help="seconds to watch memory after the viewers leave")
    a = ap.parse_args(argv)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    srv = subprocess.Popen([sys.executable, "-m", "gdchaos.cli", "explore", "--port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                if srv.poll() is not None or time.time() - t0 > 120:
                    raise SystemExit(f"server did not start: {srv.stderr.read()[-2000:]}")
                time.sleep(0.5)
        time.sleep(3)
        mem = {"start": rss_mb(srv.pid)}
        samples = []
        out = {"latency": [], "errors": []}
        stop = threading.Event()
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append((time.time(), rss_mb(srv.pid)))
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=viewer, args=(url, stop, out, k), daemon=True)
                   for k in range(a.viewers)]
        t_run = time.time()
        for t in threads:
            t.start()
            time.sleep(0.05)
        time.sleep(max(0.0, a.seconds - (time.time() - t_run)))
        stop.set()
        for t in threads:
            t.join(timeout=90)
        run_s = time.time() - t_run
        mem["peak_during"] = max(m for _, m in samples)
        time.sleep(a.after)  # sessions of closed viewers are dropped by the server
        done.set()
        mem["after"] = rss_mb(srv.pid)
        lat = np.array(out["latency"])
        res = {"viewers": a.viewers, "seconds": round(run_s, 1), "pans": int(lat.size),
               "errors": len(out["errors"]), "error_examples": out["errors"][:5],
               "latency_median_s": float(np.median(lat)) if lat.size else None,
               "latency_p95_s": float(np.percentile(lat, 95)) if lat.size else None,
               "latency_max_s": float(lat.max()) if lat.size else None,
               "server_rss_mb": {k: round(v, 1) for k, v in mem.items()},
               "server_alive": srv.poll() is None, "cpus": os.cpu_count()}
        print(json.dumps(res, indent=1))
        return 0 if not out["errors"] and res["server_alive"] else 1
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()


if __name__ == "__main__":
    sys.exit(main())

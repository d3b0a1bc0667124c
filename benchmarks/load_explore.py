"""Load test of `gdchaos explore` on loopback: N simulated viewers panning for T seconds.

Starts `gdchaos explore` on a free loopback port (a separate process, so its memory is its
own), then N threads each open a page on it with :class:`gdchaos.explore.client.Viewer` (a
Bokeh client session: the server builds the same page as for a browser) and pan as BokehJS
does (new x/y ranges and a ``rangesupdate`` event): each viewer moves its window by a random
step of up to 30% of its size, waits until the image of the new window has arrived, records
that latency (pan sent -> new image applied on the client) and pans again, until T seconds
have passed.  Every pan must cost one recompute: the page reports how many maps it computed
(``computed``), and the script checks that the total equals the number of pans.  The
server's resident memory (RSS) is sampled every 0.5 s.  Prints one JSON object.  Bounded: it
stops after T seconds plus the answers in flight (at most ``--timeout`` each) and ends the
server it started.

    nice python benchmarks/load_explore.py [--viewers 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np

_LOCK = threading.Lock()


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def windows(rng, deadline, start=(-2.5, 3.0, 0.0, 10.0)):
    """Random pans (each by up to 30% of the window) around the starting view, until the
    deadline; zoom in or out by up to 20% now and then."""
    x0, x1, y0, y1 = start
    while time.time() < deadline:
        w, h = x1 - x0, y1 - y0
        dx, dy = rng.uniform(-0.3, 0.3) * w, rng.uniform(-0.3, 0.3) * h
        s = rng.uniform(0.8, 1.25) if rng.random() < 0.25 else 1.0
        cx = min(max((x0 + x1) / 2 + dx, -4.0), 4.0)
        cy = min(max((y0 + y1) / 2 + dy, -2.0), 12.0)
        w, h = min(w * s, 8.0), min(h * s, 14.0)
        x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
        yield (x0, x1, y0, y1)


def viewer(url, deadline, timeout, out, k):
    from gdchaos.explore.client import Viewer

    try:
        v = Viewer(url)
        first = v.meta()["computed"]
    except Exception as exc:  # noqa: BLE001 - counted as an error
        out["errors"].append(f"connect: {type(exc).__name__}: {exc}"[:300])
        return
    res = v.run(windows(np.random.default_rng(k), deadline), timeout=timeout)
    with _LOCK:
        out["latency"].extend(res["latency"])
        out["pans"] += len(res["latency"])
        if res["meta"]:
            out["recomputes"] += res["meta"]["computed"] - first
        if res["error"]:
            out["errors"].append(res["error"][:300])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=180.0, help="longest wait for one image")
    ap.add_argument("--after", type=float, default=40.0,
                    help="seconds to watch memory after the viewers leave")
    ap.add_argument("--rounds", type=int, default=1,
                    help="waves of viewers, one after the other (memory must not grow)")
    a = ap.parse_args(argv)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    srv = subprocess.Popen([sys.executable, "-m", "gdchaos.cli", "explore", "--port", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(url, timeout=10).read()
                break
            except OSError:
                if srv.poll() is not None or time.time() - t0 > 180:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
        time.sleep(12)  # the probe's page is dropped after the unused-session lifetime
        mem = {"start": rss_mb(srv.pid)}
        samples = []
        out = {"latency": [], "errors": [], "pans": 0, "recomputes": 0}
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append(rss_mb(srv.pid))
                time.sleep(0.5)

        threading.Thread(target=sample, daemon=True).start()
        rounds = []
        for r in range(a.rounds):
            n0, t_run = len(samples), time.time()
            p0, c0, l0, e0 = out["pans"], out["recomputes"], len(out["latency"]), len(out["errors"])
            deadline = t_run + a.seconds
            threads = [threading.Thread(target=viewer, args=(url, deadline, a.timeout, out,
                                                             r * a.viewers + k), daemon=True)
                       for k in range(a.viewers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=a.seconds + a.timeout + 60)
            run_s = time.time() - t_run
            peak = max(samples[n0:])
            time.sleep(a.after)  # the closed viewers' sessions are dropped by the server
            lat = np.array(out["latency"][l0:]) if len(out["latency"]) > l0 else np.zeros(1)
            rounds.append({"wall_s": round(run_s, 1), "pans": out["pans"] - p0,
                           "recomputes": out["recomputes"] - c0,
                           "errors": len(out["errors"]) - e0,
                           "latency_median_s": round(float(np.median(lat)), 3),
                           "latency_p95_s": round(float(np.percentile(lat, 95)), 3),
                           "rss_peak_mb": round(peak, 1),
                           "rss_after_mb": round(rss_mb(srv.pid), 1)})
        done.set()
        mem["peak"] = max(samples)
        mem["end"] = rss_mb(srv.pid)
        lat = np.array(out["latency"])
        res = {"viewers": a.viewers, "seconds": a.seconds, "rounds": rounds,
               "pans": out["pans"], "recomputes": out["recomputes"],
               "errors": len(out["errors"]), "error_examples": out["errors"][:5],
               "latency_median_s": round(float(np.median(lat)), 3) if lat.size else None,
               "latency_p95_s": round(float(np.percentile(lat, 95)), 3) if lat.size else None,
               "latency_max_s": round(float(lat.max()), 3) if lat.size else None,
               "server_rss_mb": {k: round(v, 1) for k, v in mem.items()},
               "server_alive": srv.poll() is None, "cpus": os.cpu_count()}
        print(json.dumps(res, indent=1))
        ok = not out["errors"] and res["server_alive"] and out["recomputes"] == out["pans"]
        return 0 if ok else 1
    finally:
        srv.terminate()
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()


if __name__ == "__main__":
    sys.exit(main())

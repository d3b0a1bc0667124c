"""One explorer server for the module's tests: started in this process, in a thread, on a free
loopback port (no second Python start-up, and the kernels the other tests compiled are
already loaded)."""

import socket
import time
import urllib.request

import pytest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def explore_url():
    pytest.importorskip("panel", reason="the explorer needs the 'explore' extra")
    from gdchaos.explore import serve

    port = _free_port()
    server = serve(port=port, threaded=True)
    url = f"http://127.0.0.1:{port}/"
    t0 = time.time()
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if time.time() - t0 > 60:
                server.stop()
                pytest.fail("the explorer's server did not answer within 60 s")
            time.sleep(0.2)
    yield url
    server.stop()

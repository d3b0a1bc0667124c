import pytest


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """``gdchaos reproduce --preset tiny`` once for the whole session (every figure + report)."""
    from gdchaos.experiments.report import reproduce

    out = tmp_path_factory.mktemp("reproduce_tiny")
    lines = []
    info = reproduce("tiny", str(out), progress=lines.append)
    info["out"] = str(out)
    info["lines"] = lines
    return info

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
NPROC ?= 2

.PHONY: demo test test-slow bench reproduce reproduce-paper venv clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e ".[all,test]"
	touch $(STAMP)

venv: $(STAMP)

# the core demo (figure 3 region, figure 1 slice, critical steps; < 2 min), then every figure of
# the paper with the quick preset and the HTML report (demo-output/reproduction/report.html)
demo: $(STAMP)
	$(VENV)/bin/gdchaos demo --out demo-output
	$(VENV)/bin/gdchaos reproduce --preset quick --out demo-output/reproduction

reproduce: $(STAMP)
	$(VENV)/bin/gdchaos reproduce --preset quick --out reproduction

reproduce-paper: $(STAMP)
	$(VENV)/bin/gdchaos reproduce --preset paper --out reproduction-paper

test: $(STAMP)
	$(PY) -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(PY) -m pytest -m slow -q

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_analysis.py
	$(PY) benchmarks/bench_nn.py

clean:
	rm -rf $(VENV) demo-output reproduction reproduction-paper figures extras .pytest_cache

# Two commands do all the set-up (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-browser clean bench bytecode

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[tf,test,html]"
	touch $(STAMP)

# seedcheck's own bytecode, as a regular pip install compiles it: an editable install leaves it to
# Python's first import, which never writes it where PYTHONDONTWRITEBYTECODE is set (as on this
# project's VM), and every run then compiles the hook's modules again (measured: the hook's start-up
# on a script without TensorFlow +30-57 ms that way, +10 ms from bytecode). Stale files are rewritten.
bytecode: $(STAMP)
	@$(BIN)/python -m compileall -q seedcheck

# The demo shows both sides: a classifier seeded only with tf.random.set_seed, whose expected
# answer is "not reproducible" (exit 1; any other code fails the demo), and the same classifier
# seeded with keras.utils.set_random_seed (exit 0).
demo: $(STAMP) bytecode
	@echo "== 1/2: seeded only with tf.random.set_seed: expect DIVERGED and exit 1 =="
	@$(BIN)/seedcheck run sample_scripts/classifier_tf_seed_only.py --seed 123 --repeats 3; \
	  code=$$?; echo "seedcheck exited $$code"; test $$code -eq 1
	@echo "== 2/2: seeded with keras.utils.set_random_seed: expect reproducible and exit 0 =="
	@$(BIN)/seedcheck run sample_scripts/classifier_fully_seeded.py --seed 123 --repeats 3; \
	  code=$$?; echo "seedcheck exited $$code"; test $$code -eq 0

# Two tests at a time (pytest-xdist): a test spends most of its time in its runs' start-up, on one core.
test: $(STAMP) bytecode
	$(BIN)/python -m pytest -n 2

# The HTML report opened in a real headless browser: Debian's chromium and chromedriver (installed
# here when missing; apt needs root, or sudo), selenium to drive them. Screenshots land in
# .seedcheck/screenshots/.
test-browser: $(STAMP)
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium chromium-driver; }
	$(BIN)/python -m pip install --quiet -e ".[tf,test,html,browser]"
	$(BIN)/python -m pytest browser_tests

bench: $(STAMP) bytecode
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/fingerprints.py

clean:
	rm -rf $(VENV) .seedcheck .pytest_cache

# Two commands do all the set-up (README): `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[tf,test]"
	touch $(STAMP)

# The demo shows both sides: a classifier seeded only with tf.random.set_seed (diverges: exit 1
# is the expected answer there) and the same classifier seeded with keras.utils.set_random_seed.
demo: $(STAMP)
	-$(BIN)/seedcheck run sample_scripts/classifier_tf_seed_only.py --seed 123 --repeats 3
	$(BIN)/seedcheck run sample_scripts/classifier_fully_seeded.py --seed 123 --repeats 3

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py

clean:
	rm -rf $(VENV) .seedcheck .pytest_cache

# The two commands of mmibs: `make demo` and `make test` (style check + tests). Both set up .venv first (tools/setup_env.sh),
# which is skipped while the stamp is newer than the files that define the environment.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.mmibs-env-ready
ENV_INPUTS := tools/setup_env.sh setup.py pyproject.toml mmibs/evaluation/csrc/png_runs.c \
	$(addprefix requirements/,build.txt torch.txt mmcv.txt runtime.txt tests.txt)

DEMO_CONFIG ?= configs/mask2former/mask2former-ibs-partner-pairing-class-paired_r18-w32_1xb4-256x512-300it_synthetic-streets.py
DEMO_WORK_DIR ?= work_dirs/demo
SYNTHETIC_ROOT ?= data/synthetic

.PHONY: demo test env
.DELETE_ON_ERROR:

env: $(STAMP)

$(STAMP): $(ENV_INPUTS)
	bash tools/setup_env.sh $(VENV)
	touch $@

# The code style (ruff: pyproject.toml; pycodestyle's continuation lines: setup.cfg), then the
# test suite.
LINT_PATHS := mmibs tools tests bench configs setup.py

test: $(STAMP)
	$(PYTHON) -m ruff check $(LINT_PATHS)
	$(PYTHON) -m pycodestyle $(LINT_PATHS)
	$(PYTHON) -m pytest tests

$(SYNTHETIC_ROOT)/annotations/panoptic_val.json: | $(STAMP)
	$(PYTHON) tools/dataset_converters/make_synthetic_panoptic.py --out $(SYNTHETIC_ROOT)

demo: $(STAMP) $(SYNTHETIC_ROOT)/annotations/panoptic_val.json
	bash tools/demo.sh $(DEMO_CONFIG) $(DEMO_WORK_DIR)

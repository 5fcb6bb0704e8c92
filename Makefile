# The two commands of mmibs: `make demo` and `make test` (style check + tests). Both set up .venv first (tools/setup_env.sh),
# which is skipped while the stamp is newer than the files that define the environment.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.mmibs-env-ready
ENV_INPUTS := tools/setup_env.sh setup.py pyproject.toml mmibs/evaluation/csrc/png_runs.c \
	$(addprefix requirements/,build.txt torch.txt mmcv.txt runtime.txt tests.txt)

DEMO_WORK_DIR ?= work_dirs/demo

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

# The crop baseline and crop + IBS + class-paired sampling with the same seed, on generated
# synthetic streets (tools/demo.sh; the data go to data/synthetic-v2-*, finished runs are kept).
demo: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} bash tools/demo.sh $(DEMO_WORK_DIR)

# Galaxy Assistant — every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Rasa 3.6 needs Python 3.10 (pydantic 1); the action server, knowledge and tests use 3.11.
PY310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10 2>/dev/null))
PY311 ?= $(firstword $(shell command -v python3.11 2>/dev/null) $(wildcard $(HOME)/.pyenv/versions/3.11*/bin/python3.11))
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := PYTHONPATH=$(CURDIR) PYTHONWARNINGS=ignore $(RASA_VENV)/bin/rasa
STATE := .galaxy
MODEL := models/galaxy.tar.gz
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
# Rasa's telemetry and Sentry error reports send data off the machine: off for every rasa command.
export RASA_TELEMETRY_ENABLED := false

TRAINING_INPUTS := config.yml domain.yml $(shell find bot/data -name '*.yml' 2>/dev/null) $(wildcard bot/nlu/*.py) $(filter-out knowledge/data/subregions.json knowledge/data/partner_names_i18n.json,$(wildcard knowledge/data/*.json)) knowledge/names_i18n.py knowledge/closed_values.py
CATALOGUE := knowledge/data/partners.jsonl knowledge/data/solutions.jsonl
# NLU languages beside English, each with an independent held-out set tests/nlu/outside_xx.yml;
# `make test` fails below these intent-accuracy floors (set under what fresh trainings measured: the
# trainings of 2026-12-02 gave en 0.928-0.936 / 0.893-0.931, fr 0.890-0.953 / 0.889-0.932,
# ru 0.888-0.952 / 0.921-0.956, ar 0.879-0.953 / 0.787-0.856 on outside / outside2; the Arabic floor
# leaves room for one training's swing on a 90-message set)
NLU_LANGUAGES := fr ru ar
# Two independent held-out sets per language: outside (2026-11) and outside2 (2026-12, by a helper that
# had not seen the training data); tests/nlu/<set>.yml for English, <set>_xx.yml for the others.
NLU_HELD_OUT := outside outside2
NLU_FLOOR_en := 0.86
NLU_FLOOR_fr := 0.83
NLU_FLOOR_ru := 0.82
NLU_FLOOR_ar := 0.75

.PHONY: help run serve status chaos chat test test-fast validate train store store-ensure bench eval clean reset-data install system-deps widget eval-cv report margins

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed $(RASA_VENV)/.installed ## create both virtual environments (only when the lock files changed)

$(VENV)/.installed: requirements/actions.lock
	@test -n "$(PY311)" || { echo "python3.11 is needed"; exit 1; }
	test -x $(PY) || $(PY311) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	# The CPU build of torch lies on this machine's disk; installing it first keeps CUDA builds out.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements/actions.lock
	touch $@

$(RASA_VENV)/.installed: requirements/rasa.lock
	@test -n "$(PY310)" || { echo "python3.10 is needed for Rasa 3.6"; exit 1; }
	test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --upgrade "pip<25"
	$(RASA_VENV)/bin/python -m pip install --quiet -r requirements/rasa.lock
	touch $@

# Environments are order-only prerequisites: a lock-file change reinstalls, it does not retrain.
bot/data/nlu/faq.yml: knowledge/data/faq.jsonl | $(VENV)/.installed
	$(PY) -m bot.faq_sync

# The organisations' names as a lookup table (a feature for DIET), generated from the catalogue.
bot/data/nlu/partner_names.yml: knowledge/data/partners.jsonl knowledge/data/faq.jsonl | $(VENV)/.installed
	$(PY) -m bot.partner_names

store: | $(VENV)/.installed ## (re)build the knowledge store from the seed catalogue, keeping the previous generation for rollback
	$(PY) -m knowledge.onnx_runtime >/dev/null
	$(PY) -m knowledge ingest $(CATALOGUE) --sync

# make run, eval and bench: a store is built only when there is none or the seed catalogue changed; an
# operator's import is never replaced (`python -m knowledge store status|rollback`).
# The query embedder runs through ONNX Runtime: its export (models/onnx/, once) is made here, so no
# server imports PyTorch to make it.
store-ensure: | $(VENV)/.installed
	$(PY) -m knowledge.onnx_runtime >/dev/null
	$(PY) -m knowledge store ensure

ONNX_MINILM := models/minilm-onnx/model.onnx

# MiniLM through ONNX Runtime gives the Rasa NLU pipeline dense features (bot/nlu/sentence_features.py).
$(ONNX_MINILM): scripts/export_minilm.py | $(VENV)/.installed
	$(PY) scripts/export_minilm.py models/minilm-onnx

train: $(MODEL) ## train the Rasa model (only when data or config changed)

$(MODEL): $(TRAINING_INPUTS) bot/data/nlu/faq.yml bot/data/nlu/partner_names.yml $(ONNX_MINILM) | $(RASA_VENV)/.installed
	mkdir -p models $(STATE)
	@set -e; start=$$(date +%s); \
	$(RASA) train --config config.yml --domain domain.yml --data bot/data --out models --fixed-model-name galaxy --quiet; \
	echo "$$(( $$(date +%s) - start ))" > $(STATE)/train_seconds; \
	echo "training took $$(cat $(STATE)/train_seconds)s"
	touch $@

run: install store-ensure $(MODEL) widget ## set up what is missing, then start the action server and Rasa; Ctrl-C stops both
	scripts/run_stack.sh

# Server mode (ops/): PostgreSQL, Redis, RASA_WORKERS Rasa and ACTION_WORKERS action-server processes, the
# partner web app, the outbox worker and nginx on SERVE_PORT, all under supervisord.
serve: install system-deps store-ensure $(MODEL) widget ## server mode: N Rasa and action workers behind nginx on SERVE_PORT, under supervisord; Ctrl-C stops all
	$(PY) -m ops serve

status: ## what server mode runs: supervisord's status and each process's readiness
	@$(PY) -m ops status

chaos: install system-deps $(MODEL) ## faults injected into a server mode of its own on loopback (kill -9 Rasa, an action server, the outbox worker; restart PostgreSQL); results table
	$(PY) -m bench.chaos

WIDGET := bot/widget
WIDGET_BUNDLE := $(WIDGET)/dist/galaxy-widget.js

widget: $(WIDGET_BUNDLE) ## build the web widget bundle (npm ci from the lock file, then esbuild)

# npm ci empties node_modules first, so the stamp inside it marks a complete install.
$(WIDGET)/node_modules/.installed: $(WIDGET)/package-lock.json
	cd $(WIDGET) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(WIDGET_BUNDLE): $(WIDGET)/package.json $(wildcard $(WIDGET)/src/*) $(WIDGET)/node_modules/.installed
	cd $(WIDGET) && npm run --silent build

chat: ## talk to the running assistant in the terminal
	$(PY) -m bot.terminal

validate: install bot/data/nlu/faq.yml bot/data/nlu/partner_names.yml ## check the training data, the FAQ file and the partner names
	$(PY) -m bot.faq_sync --check
	$(PY) -m bot.partner_names --check
	$(RASA) data validate --config config.yml --domain domain.yml --data bot/data --quiet

# PostgreSQL (Debian package) for the introductions-store tests and server mode; installed once, started by
# the tests and by make serve. Redis and nginx (Debian packages) for server mode and its tests.
# Chromium (Debian package) for the web widget tests, driven headless by Playwright.
system-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
	@{ test -x /usr/bin/redis-server && test -x /usr/sbin/nginx; } || { \
	  echo "installing Debian's redis-server and nginx for server mode"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server nginx >/dev/null; }
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the widget tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: install system-deps widget $(MODEL) validate ## install what is missing and run the whole test suite
	# --e2e: the conversations are classified from the user text, so NLU mistakes fail the run too
	$(RASA) test core --stories tests/conversations --model $(MODEL) --out $(STATE)/results/core --e2e --fail-on-prediction-errors --quiet
	# dialogue-policy stories (forms): intents given, no user text
	$(RASA) test core --stories tests/dialogue --model $(MODEL) --out $(STATE)/results/dialogue --fail-on-prediction-errors --quiet
	@echo "rasa test core: every conversation and dialogue story predicted correctly"
	# intent accuracy on the independent held-out sets, two per language written apart from the training
	# data and from each other (tests/nlu/outside*.yml, never trained on; floors: NLU_FLOOR_xx)
	@set -e; for lang in en $(NLU_LANGUAGES); do for set in $(NLU_HELD_OUT); do \
	  file=tests/nlu/$$set$$([ $$lang = en ] || echo _$$lang).yml; \
	  test -f $$file || { echo "$$file is missing"; exit 1; }; \
	  $(RASA) test nlu --nlu $$file --model $(MODEL) --out $(STATE)/results/nlu-$$set-$$lang --quiet; \
	  floor=$$(case $$lang in en) echo $(NLU_FLOOR_en);; fr) echo $(NLU_FLOOR_fr);; ru) echo $(NLU_FLOOR_ru);; ar) echo $(NLU_FLOOR_ar);; esac); \
	  echo "$$lang ($$file):"; \
	  $(PY) scripts/nlu_report.py $(STATE)/results/nlu-$$set-$$lang --min-accuracy $$floor; \
	done; done
	# pytest last, so its summary closes the run
	$(PY) -m pytest

test-fast: install ## unit tests only (no Rasa servers)
	$(PY) -m pytest -m "not e2e"

eval: install store-ensure $(MODEL) ## retrieval, SDG tagging and NLU quality on the labelled sets
	$(PY) -m knowledge.evaluate
	$(RASA) test nlu --nlu tests/nlu/heldout.yml --model $(MODEL) --out $(STATE)/results/nlu --quiet
	$(PY) scripts/nlu_report.py $(STATE)/results/nlu
	@set -e; for set in $(NLU_HELD_OUT); do \
	  echo "independent held-out set (tests/nlu/$$set.yml):"; \
	  $(RASA) test nlu --nlu tests/nlu/$$set.yml --model $(MODEL) --out $(STATE)/results/nlu-$$set-en --quiet >/dev/null 2>&1; \
	  $(PY) scripts/nlu_report.py $(STATE)/results/nlu-$$set-en; \
	done
	@# French, Russian and Arabic: the independent sets (outside*_xx.yml) and our tuning split (dev_xx.yml)
	@set -e; for lang in $(NLU_LANGUAGES); do \
	  for set in $(NLU_HELD_OUT) dev; do \
	    test -f tests/nlu/$${set}_$$lang.yml || { echo "$$lang: tests/nlu/$${set}_$$lang.yml is missing, skipped"; continue; }; \
	    $(RASA) test nlu --nlu tests/nlu/$${set}_$$lang.yml --model $(MODEL) --out $(STATE)/results/nlu-$$set-$$lang --quiet >/dev/null 2>&1; \
	    echo "$$lang, tests/nlu/$${set}_$$lang.yml:"; \
	    $(PY) scripts/nlu_report.py $(STATE)/results/nlu-$$set-$$lang; \
	  done; \
	done

eval-cv: install ## NLU intent accuracy and macro-F1 by 5-fold cross-validation over the training data (slow: five trainings)
	$(RASA) test nlu --nlu bot/data --config config.yml --cross-validation --folds 5 --out $(STATE)/results/nlu-cv --quiet
	$(PY) scripts/nlu_report.py $(STATE)/results/nlu-cv

margins: install $(MODEL) ## conversation-test turns read as the wrong intent or close to it (fails on a wrong one)
	PYTHONWARNINGS=ignore $(RASA_VENV)/bin/python scripts/conversation_margins.py $(MODEL) tests/conversations 2>/dev/null

bench: install system-deps store-ensure $(MODEL) widget ## speed and memory numbers
	$(PY) -m bench
	$(PY) -m bench.analytics
	@echo "== server mode: load through nginx (bench/serve_load.py) =="
	$(PY) -m bench.serve_load

report: install ## staff analytics report: one self-contained HTML file in .galaxy/results/analytics/
	$(PY) -m analytics report

MODELS_DIR := models

clean: ## remove rebuildable artefacts: trained models, store generations, results (keeps databases, secrets, logs)
	rm -rf $(MODELS_DIR) $(STATE)/store $(STATE)/results $(STATE)/train_seconds $(STATE)/ready_seconds

# Databases (introductions, hand-offs, conversations), secrets, mail and logs: only on explicit confirmation.
reset-data: ## delete ALL runtime data under the state directory (asks first; CONFIRM=yes skips the question)
	@if [ "$(CONFIRM)" != "yes" ]; then \
	  printf 'This deletes the databases, secrets, mail and logs in %s. Type "yes" to go on: ' "$(STATE)"; \
	  read -r answer; [ "$$answer" = "yes" ] || { echo "nothing deleted"; exit 1; }; \
	fi
	rm -rf $(STATE)
	@echo "runtime data in $(STATE) deleted"

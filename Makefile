# Two commands matter on a fresh machine: `make run` (the local stack) and `make test` (everything CI runs).
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
PYTEST_ARGS ?=
# 3 xdist workers on 2 cores: the third fills the time the others wait (polls, threads of a race, the browser);
# measured on a quiet 2-core machine, make test 5:40 / 5:33 with 3 against 6:05 / 6:02 with 2 (issue 13)
PYTEST_WORKERS ?= 3
# Bytecode is written (an environment may set PYTHONDONTWRITEBYTECODE): the pytest processes of one `make test` (the
# fuzz run, the xdist controller and its workers) then compile the repository and rewrite the asserts of the
# pytest plugins' modules (schemathesis, hypothesis: about 260 modules) once, not each on its own (~2-3 s a process)
unexport PYTHONDONTWRITEBYTECODE
# `make test` runs the static checks and the fuzz run beside the tests at a lower priority: they take the cores
# while the tests wait (polls, timeouts, subprocesses), instead of the tests waiting for them (empty otherwise)
BESIDE ?=

.PHONY: venv run invoke test checks lint validate scan cfn-lint sam-validate sam-build pytest pytest-main fuzz unit fast integration \
	deploy-console \
	workflow e2e clean report bench-report bench

venv:
	@./scripts/bootstrap.sh

run: venv  ## start moto, deploy template.yaml into it, serve the API on 127.0.0.1:3000
	$(PY) -m shoplocal run $(RUN_ARGS)

INVOKE_ARGS ?= --seed
invoke: venv  ## make invoke FN=CatalogFunction EVENT=events/catalog/get_product.json (demo data seeded)
	$(PY) -m shoplocal invoke $(FN) -e $(EVENT) $(INVOKE_ARGS)

test: venv  ## what CI runs: the tests on 3 workers, with the static checks and the fuzz run beside them (niced)
	@$(MAKE) --no-print-directory -j 5 --output-sync=target pytest-main checks fuzz BESIDE="nice -n 10"

checks: lint validate scan

lint: venv
	$(BESIDE) $(PY) -m ruff check .
	$(BESIDE) $(PY) -m mypy
	PYTHONPATH=layers/shop $(BESIDE) $(VENV)/bin/lint-imports --no-cache --no-logo  # the contexts' order: [tool.importlinter]

validate: cfn-lint sam-validate sam-build

cfn-lint: venv
	$(BESIDE) cfn-lint template.yaml

sam-validate: venv
	$(BESIDE) sam validate --lint --region $(AWS_DEFAULT_REGION)

scan: venv  ## IaC scan: checkov over template.yaml, zero failed checks (.checkov.yaml; its own venv .venv-scan)
	$(BESIDE) .venv-scan/bin/checkov --config-file .checkov.yaml

sam-build: venv
	$(BESIDE) sam build --cached --parallel > .aws-sam-build.log 2>&1 || (cat .aws-sam-build.log; exit 1)
	@echo "sam build: ok"

FUZZ := tests/e2e/test_openapi_fuzz.py
pytest: pytest-main fuzz  ## every test: on 3 workers, and the OpenAPI fuzz (schemathesis items can't be spread by xdist)

pytest-main: venv
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --ignore=$(FUZZ) $(PYTEST_ARGS)

fuzz: venv
	$(BESIDE) $(PY) -m pytest $(FUZZ) $(PYTEST_ARGS)

unit fast integration workflow e2e: venv
	$(PY) -m pytest -m $@ $(PYTEST_ARGS)

# the staff console on AWS (docs/deploy.md, Staff console): console/ to the stack's bucket, config.json from its outputs
CONSOLE_STACK ?= serverless-shop-dev
CONSOLE_REGION ?= eu-central-1
deploy-console: venv  ## make deploy-console CONSOLE_STACK=serverless-shop-prod: upload console/ (aws s3 sync) + config.json
	$(PY) scripts/deploy_console.py --stack-name $(CONSOLE_STACK) --region $(CONSOLE_REGION)

clean:
	rm -rf .aws-sam .aws-sam-build.log .local

report: venv  ## a generated day of demo orders through the daily report: reports/daily-<date>.html + the email
	$(PY) -m shoplocal report $(REPORT_ARGS)

bench-report: venv  ## report build time, a day of 1,000 vs 10,000 orders (prints the ratio)
	$(PY) scripts/bench_report.py

bench: venv  ## cold imports vs boto3 and each function's floor; per route and per order: calls, units, GB-s; cost per 1,000 orders; flash-sale simulation; issue 17's targets
	$(PY) scripts/bench.py $(BENCH_ARGS)

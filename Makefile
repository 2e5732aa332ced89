# Coffer build and test entry points. `make test` is the one command CI runs.
GO          ?= go
STATICCHECK_VERSION := v0.8.2
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
PKGS        := ./...
# Unit and integration tests run with the race detector; the timeout covers
# the slowest package on a 2-core machine with headroom.
TEST_FLAGS  ?= -race -count=1 -timeout 20m
FUZZTIME    ?= 15s

.PHONY: all build test lint vet fmt-check staticcheck unit fuzz bench clean

all: build

build:
	$(GO) build -o bin/coffer ./cmd/coffer

## test: everything CI checks: formatting, vet, staticcheck, unit and
## integration tests (with -race), and a short run of every fuzz target.
test: fmt-check vet staticcheck unit fuzz

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(PKGS)

unit:
	$(GO) test $(TEST_FLAGS) $(PKGS)

## fuzz: run each fuzz target for FUZZTIME (the seed corpora already run in `unit`).
fuzz:
	@scripts/fuzz-all.sh $(FUZZTIME)

## bench: the benchmarks recorded in BENCHMARKS.md.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./internal/barrier/ ./internal/policy/ ./internal/storage/... ./internal/engine/kv/ ./internal/token/ ./internal/server/...

clean:
	rm -rf bin

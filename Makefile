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

.PHONY: all build deps test lint vet fmt-check staticcheck unit fuzz bench bench-go bench-load bench-leases bench-audit bench-cluster clean

all: build

build:
	$(GO) build -o bin/coffer ./cmd/coffer

## test: everything CI checks: formatting, vet, staticcheck, unit and
## integration tests (with -race), and a short run of every fuzz target.
test: deps fmt-check vet staticcheck unit fuzz

## deps: install the real services the tests start (PostgreSQL, etcd,
## Chromium) and build kube-apiserver (cached), if missing.
deps:
	@sh scripts/deps.sh

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

# Load runs of `make bench`: see BENCHMARKS.md for the method.
BENCH_DURATION    ?= 10s
BENCH_WARMUP      ?= 2s
BENCH_CONCURRENCY ?= 1,16,64
BENCH_WORKLOADS   ?= kv-read kv-write kv-mixed token-lookup
BENCH_ADDR        ?= 127.0.0.1:18299
BENCH_FORMAT      ?= table
BENCH_REPEAT      ?= 3
# BENCH_AUDIT=file runs the server with one file audit sink; BENCH_AUDIT=off without.
BENCH_AUDIT       ?= file
# BENCH_FLAGS are extra `coffer bench` flags, e.g. -token-type=service for the login workloads.
BENCH_FLAGS       ?=

## bench: the benchmarks recorded in BENCHMARKS.md: the Go benchmarks, then
## the load runs.
bench: bench-go bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./internal/barrier/ ./internal/policy/ ./internal/storage/... ./internal/engine/kv/ ./internal/token/ ./internal/server/...

## bench-load: `coffer bench ceiling -process` against bin/coffer serving TLS (a fresh
## P-256 certificate) from in-memory storage with a file audit sink, on
## BENCH_ADDR; the ceiling shares the machine and the TLS settings.
bench-load: build
	@set -e; d=$$(mktemp -d); pid=; \
	trap 'if [ -n "$$pid" ]; then kill $$pid; wait $$pid || true; fi; rm -rf $$d' EXIT INT TERM; \
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	  -addext subjectAltName=IP:127.0.0.1 -keyout $$d/key.pem -out $$d/cert.pem 2>/dev/null; \
	printf 'storage "inmem" {}\nlistener "tcp" {\n  address       = "%s"\n  tls_cert_file = "%s"\n  tls_key_file  = "%s"\n}\nlog_level = "warn"\n' \
	  "$(BENCH_ADDR)" "$$d/cert.pem" "$$d/key.pem" > $$d/coffer.hcl; \
	if [ "$(BENCH_AUDIT)" = file ]; then printf 'audit "file" {\n  path = "%s"\n}\n' "$$d/audit.log" >> $$d/coffer.hcl; fi; \
	bin/coffer server -config $$d/coffer.hcl > $$d/server.log 2>&1 & pid=$$!; \
	export COFFER_ADDR=https://$(BENCH_ADDR) COFFER_CACERT=$$d/cert.pem; \
	for i in $$(seq 100); do rc=0; bin/coffer operator init -status >/dev/null 2>&1 || rc=$$?; \
	  [ $$rc -eq 0 ] || [ $$rc -eq 2 ] && break; sleep 0.1; done; \
	init=$$(bin/coffer operator init -key-shares=1 -key-threshold=1 -format=json); \
	bin/coffer operator unseal "$$(echo "$$init" | jq -r '.unseal_keys_b64[0]')" >/dev/null; \
	export COFFER_TOKEN=$$(echo "$$init" | jq -r .root_token); \
	bin/coffer bench ceiling -process -format=$(BENCH_FORMAT) -duration=$(BENCH_DURATION) -warmup=$(BENCH_WARMUP) -repeat=$(BENCH_REPEAT) \
	  -concurrency=$(BENCH_CONCURRENCY) $(BENCH_FLAGS) $(BENCH_WORKLOADS)

## bench-leases: issue 5's target over HTTP: kv-read p99 while LEASES (10 000)
## PostgreSQL leases expire in the same second, RUNS (3) times; see
## scripts/bench-lease-expiry.sh for the method and its other knobs.
bench-leases: build
	@scripts/bench-lease-expiry.sh

## bench-audit: issue 3's measurement: kv-read on two servers at once, one
## without audit sinks and one with a file sink, benched in alternation for
## ROUNDS (10) rounds; prints each round's cost and the medians; see
## scripts/bench-audit-ab.sh for the method and its knobs.
bench-audit: build
	@scripts/bench-audit-ab.sh

## bench-cluster: issue 4's read benchmark: kv-read on one raft node, then on
## a 3-node cluster's active node, a standby (consistent and stale reads) and
## all three nodes at once; see scripts/bench-cluster.sh for the method and
## its knobs (DURATION=10s WARMUP=2s CONCURRENCY=16,64 PORT_BASE=18310).
bench-cluster:
	@scripts/bench-cluster.sh

clean:
	rm -rf bin

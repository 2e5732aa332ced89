#!/usr/bin/env bash
# Server CPU per request: what one kv-read costs the server process itself,
# a figure that holds steadier than throughput on a shared machine.
#
# Starts bin/coffer (make build first) with TLS (a fresh P-256 certificate),
# in-memory storage (STORAGE=raft: one raft node, which bootstraps itself)
# and, with AUDIT=file, one file audit sink; initializes
# and unseals it; runs `coffer bench WORKLOADS -concurrency=$CONCURRENCY
# -duration=$DURATION -warmup=$WARMUP -format=json` against it; and prints
# the bench's JSON, then the server's CPU time (user + system, from
# /proc/PID/stat) over the bench run divided by the requests sent in it
# (measured and warm-up: the warm-up's are estimated at the measured rate).
# ROUNDS>1 repeats the whole thing with a fresh server each round.
#
# Usage: scripts/bench-server-cpu.sh. Environment:
#   AUDIT=file|off (file) STORAGE=inmem|raft (inmem) WORKLOADS=kv-read CONCURRENCY=16 DURATION=8s WARMUP=1s
#   ROUNDS=1 ADDR=127.0.0.1:18400 BIN=bin/coffer
#   COFFER_SERVER_ENV="GOGC=200" passes environment to the server only.
#   AUDIT_OPTIONS='checkpoint_entries = 1000' adds options to the file sink.
#   SERVER_LOG=path keeps the (last round's) server log there.
set -euo pipefail
cd "$(dirname "$0")/.."

AUDIT=${AUDIT:-file}
STORAGE=${STORAGE:-inmem}
WORKLOADS=${WORKLOADS:-kv-read}
CONCURRENCY=${CONCURRENCY:-16}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-1s}
ROUNDS=${ROUNDS:-1}
ADDR=${ADDR:-127.0.0.1:18400}
BIN=${BIN:-bin/coffer}
[ -x "$BIN" ] || { echo "bench-server-cpu: $BIN not built (make build)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench-server-cpu: needs jq" >&2; exit 2; }

ticks=$(getconf CLK_TCK)
# shellcheck source=scripts/lib/bench-server.sh
. scripts/lib/bench-server.sh

round() {
	local d pid=
	d=$(mktemp -d)
	trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; fi
		if [ -n "${SERVER_LOG:-}" ]; then cp "$d/server.log" "$SERVER_LOG"; fi; rm -rf "$d"' RETURN
	bench_server_start "$d" "$ADDR" "$AUDIT" "$STORAGE"
	pid=$SERVER_PID
	export COFFER_ADDR=https://$ADDR COFFER_CACERT=$d/cert.pem COFFER_TOKEN=$SERVER_TOKEN
	local t0 t1 out
	t0=$(bench_cpu_ticks "$pid")
	out=$("$BIN" bench -format=json -concurrency="$CONCURRENCY" -duration="$DURATION" -warmup="$WARMUP" $WORKLOADS 2>/dev/null)
	t1=$(bench_cpu_ticks "$pid")
	echo "$out" | jq -c '.[] | {workload, concurrency, requests_per_second, p50_ms, p99_ms, errors}'
	local reqs
	reqs=$(echo "$out" | jq --arg w "$(bench_secs "$WARMUP")" --arg d "$(bench_secs "$DURATION")" \
		'[.[] | .requests * (1 + ($w|tonumber) / ($d|tonumber))] | add')
	echo "audit=$AUDIT storage=$STORAGE server_cpu_seconds=$(echo "scale=2; ($t1-$t0)/$ticks" | bc) requests=${reqs%.*}" \
		"server_cpu_us_per_request=$(echo "scale=1; ($t1-$t0)*1000000/$ticks/$reqs" | bc)"
}

for _ in $(seq "$ROUNDS"); do round; done

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
secs() { case $1 in *ms) echo "scale=3; ${1%ms}/1000" | bc ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac; }

round() {
	local d pid=
	d=$(mktemp -d)
	trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; fi
		if [ -n "${SERVER_LOG:-}" ]; then cp "$d/server.log" "$SERVER_LOG"; fi; rm -rf "$d"' RETURN
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	case $STORAGE in
	inmem) printf 'storage "inmem" {}\n' > "$d/coffer.hcl" ;;
	raft) printf 'storage "raft" {\n  path    = "%s"\n  node_id = "bench"\n}\n' "$d/raft" > "$d/coffer.hcl" ;;
	*) echo "bench-server-cpu: STORAGE=$STORAGE: want inmem or raft" >&2; return 2 ;;
	esac
	printf 'listener "tcp" {\n  address       = "%s"\n  tls_cert_file = "%s"\n  tls_key_file  = "%s"\n}\nlog_level = "warn"\n' \
		"$ADDR" "$d/cert.pem" "$d/key.pem" >> "$d/coffer.hcl"
	if [ "$AUDIT" = file ]; then printf 'audit "file" {\n  path = "%s"\n%s\n}\n' "$d/audit.log" "${AUDIT_OPTIONS:-}" >> "$d/coffer.hcl"; fi
	# shellcheck disable=SC2086 # COFFER_SERVER_ENV is a list of NAME=value words
	env ${COFFER_SERVER_ENV:-} "$BIN" server -config "$d/coffer.hcl" > "$d/server.log" 2>&1 & pid=$!
	export COFFER_ADDR=https://$ADDR COFFER_CACERT=$d/cert.pem
	for _ in $(seq 100); do rc=0; "$BIN" operator init -status >/dev/null 2>&1 || rc=$?
		{ [ $rc -eq 0 ] || [ $rc -eq 2 ]; } && break; sleep 0.1; done
	local init
	init=$("$BIN" operator init -key-shares=1 -key-threshold=1 -format=json)
	"$BIN" operator unseal "$(echo "$init" | jq -r '.unseal_keys_b64[0]')" >/dev/null
	export COFFER_TOKEN; COFFER_TOKEN=$(echo "$init" | jq -r .root_token)
	local t0 t1 out
	t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
	out=$("$BIN" bench -format=json -concurrency="$CONCURRENCY" -duration="$DURATION" -warmup="$WARMUP" $WORKLOADS 2>/dev/null)
	t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
	echo "$out" | jq -c '.[] | {workload, concurrency, requests_per_second, p50_ms, p99_ms, errors}'
	local reqs
	reqs=$(echo "$out" | jq --arg w "$(secs "$WARMUP")" --arg d "$(secs "$DURATION")" \
		'[.[] | .requests * (1 + ($w|tonumber) / ($d|tonumber))] | add')
	echo "audit=$AUDIT storage=$STORAGE server_cpu_seconds=$(echo "scale=2; ($t1-$t0)/$ticks" | bc) requests=${reqs%.*}" \
		"server_cpu_us_per_request=$(echo "scale=1; ($t1-$t0)*1000000/$ticks/$reqs" | bc)"
}

for _ in $(seq "$ROUNDS"); do round; done

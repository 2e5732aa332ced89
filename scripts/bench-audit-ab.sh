#!/usr/bin/env bash
# Issue 3's measurement: what one file audit sink costs KV v2 read
# throughput, as an A/B test that holds up on a noisy shared machine.
#
# Starts TWO servers from the same binary (bin/coffer), both with TLS and
# in-memory storage, one without audit sinks (A, on ADDR) and one with a file
# sink (B, on the next port), and initializes and unseals both. Then, ROUNDS
# times, runs `coffer bench kv-read -concurrency=$CONCURRENCY
# -duration=$DURATION -warmup=$WARMUP` against A and against B, one after the
# other, alternating which goes first. Only one server is under load at a
# time; the other idles. Because the two runs of a round are seconds apart,
# load from elsewhere on the machine weighs on both alike, which running
# one server after the other (minutes apart) does not give.
#
# Prints, per round, each server's req/s and server CPU per read (from
# /proc/PID/stat), and the sink's cost: 1 - B/A. Then the medians: of the
# per-round costs, of each side's req/s (and the cost they give), and of
# each side's server CPU per read.
#
# Usage: scripts/bench-audit-ab.sh (make build first). Environment:
#   ROUNDS=10 DURATION=5s WARMUP=1s CONCURRENCY=16 ADDR=127.0.0.1:18420
#   BIN=bin/coffer COFFER_SERVER_ENV and AUDIT_OPTIONS as in bench-server-cpu.sh
#   KEEP=1 keeps the temporary directory (configs, server logs, audit log).
#   AUDIT_A=off AUDIT_B=file: the two servers' sinks; AUDIT_A=file (A/A)
#   checks that the set-up itself favours neither side.
#   BIN_A, BIN_B (both BIN): the two servers' binaries, to compare two builds
#   (say AUDIT_A=file BIN_A=/tmp/coffer-before); BIN is the bench client.
#   WORKLOAD=kv-read: the `coffer bench` workload run against both (say
#   transit-encrypt); "µs/read" below is then server CPU per request.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-10}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
CONCURRENCY=${CONCURRENCY:-16}
ADDR=${ADDR:-127.0.0.1:18420}
BIN=${BIN:-bin/coffer}
KEEP=${KEEP:-}
AUDIT_A=${AUDIT_A:-off}
AUDIT_B=${AUDIT_B:-file}
BIN_A=${BIN_A:-$BIN}
WORKLOAD=${WORKLOAD:-kv-read}
BIN_B=${BIN_B:-$BIN}
for b in "$BIN" "$BIN_A" "$BIN_B"; do
	[ -x "$b" ] || { echo "bench-audit-ab: $b not built (make build)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "bench-audit-ab: needs jq" >&2; exit 2; }
# shellcheck source=scripts/lib/bench-server.sh
. scripts/lib/bench-server.sh

ticks=$(getconf CLK_TCK)
host=${ADDR%:*}
port=${ADDR##*:}
addr_b=$host:$((port + 1))
d=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ -n "$KEEP" ]; then echo "kept $d" >&2; else rm -rf "$d"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$d/a" "$d/b"
BIN=$BIN_A bench_server_start "$d/a" "$ADDR" "$AUDIT_A" inmem
pid_a=$SERVER_PID token_a=$SERVER_TOKEN
pids+=("$pid_a")
BIN=$BIN_B bench_server_start "$d/b" "$addr_b" "$AUDIT_B" inmem
pid_b=$SERVER_PID token_b=$SERVER_TOKEN
pids+=("$pid_b")

# run SIDE: one bench run against that side's server; prints
# "req/s µs p50_ms p99_ms".
run() {
	local side=$1 addr pid token t0 t1 out reqs
	case $side in
	a) addr=$ADDR pid=$pid_a token=$token_a ;;
	b) addr=$addr_b pid=$pid_b token=$token_b ;;
	esac
	t0=$(bench_cpu_ticks "$pid")
	out=$(COFFER_ADDR=https://$addr COFFER_CACERT=$d/$side/cert.pem COFFER_TOKEN=$token \
		"$BIN" bench -format=json -concurrency="$CONCURRENCY" -duration="$DURATION" -warmup="$WARMUP" "$WORKLOAD" 2>/dev/null)
	t1=$(bench_cpu_ticks "$pid")
	if [ "$(echo "$out" | jq '[.[].errors] | add')" != 0 ]; then
		echo "bench-audit-ab: the $side server answered with errors: $out" >&2
		exit 1
	fi
	reqs=$(echo "$out" | jq --arg w "$(bench_secs "$WARMUP")" --arg d "$(bench_secs "$DURATION")" \
		'[.[] | .requests * (1 + ($w|tonumber) / ($d|tonumber))] | add')
	echo "$(echo "$out" | jq '.[0].requests_per_second | floor')" \
		"$(echo "scale=1; ($t1-$t0)*1000000/$ticks/$reqs" | bc)" \
		"$(echo "$out" | jq '.[0].p50_ms')" "$(echo "$out" | jq '.[0].p99_ms')"
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

printf '%5s %10s %10s %8s %12s %12s\n' round "A req/s" "B req/s" cost "A µs/read" "B µs/read"
echo "$WORKLOAD; A: audit $AUDIT_A ($BIN_A), B: audit $AUDIT_B ($BIN_B); cost is 1 - B/A"
results=()
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then a=$(run a); b=$(run b); else b=$(run b); a=$(run a); fi
	read -r rps_a us_a p50_a p99_a <<<"$a"
	read -r rps_b us_b p50_b p99_b <<<"$b"
	cost=$(echo "scale=4; (1 - $rps_b / $rps_a) * 100" | bc)
	printf '%5d %10d %10d %7.1f%% %12s %12s\n' "$r" "$rps_a" "$rps_b" "$cost" "$us_a" "$us_b"
	results+=("$rps_a $rps_b $cost $us_a $us_b $p50_a $p50_b $p99_a $p99_b")
done

col() { printf '%s\n' "${results[@]}" | awk -v c="$1" '{print $c}' | median; }
m_a=$(col 1) m_b=$(col 2)
echo "median of the per-round costs: $(col 3)%"
echo "median req/s: A $m_a, B $m_b: cost $(echo "scale=4; (1 - $m_b / $m_a) * 100" | bc)%"
echo "median server µs per read: A $(col 4), B $(col 5)"
echo "median p50 ms: A $(col 6), B $(col 7); median p99 ms: A $(col 8), B $(col 9)"

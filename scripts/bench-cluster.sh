#!/usr/bin/env bash
# Issue 4's read benchmark: KV v2 read throughput of a 3-node raft cluster
# against one raft node, all on loopback on this machine.
#
# Builds coffer into a temporary directory and makes there a TLS CA with a
# certificate for 127.0.0.1 (every API listener serves it), a static seal key
# (32 random bytes, hex, mode 0600) and one config per server. Then:
#   (a) starts ONE raft node (storage "raft" without retry_join: it
#       bootstraps itself), initializes it, benches it, stops it;
#   starts THREE raft nodes (each with retry_join to the other two, its own
#   api_addr and cluster_addr, the same static seal), PUTs sys/init on
#   node 0, waits until the other two report "standby": true on
#   sys/health?standbyok=true and autopilot reports 3 voters, then benches
#   (b) the active node, (c) a standby (consistent reads: each read waits for
#   the active node's commit index), (d) the same standby with
#   -header "X-Coffer-Consistency: stale", (e) all three nodes at once: one
#   coffer bench per node, in parallel, with the same settings; (e) reports
#   the sum of the three throughputs and the worst p50/p99 of the three.
# Each case is `coffer bench kv-read -concurrency=$CONCURRENCY
# -duration=$DURATION -warmup=$WARMUP -format=json` with the root token; audit
# off, log_level warn. It prints a table (case, concurrency, req/s, p50, p99,
# errors) and the ratios (e)/(a) and (c)/(b), as text and as Markdown, and
# how many cores each server and the load generators kept busy per case,
# and the measured reads per CPU-second of all servers: on a shared machine
# that cost is steadier than throughput.
#
# Every server and every client shares this machine's cores (2 here): (e)
# runs three servers and three load generators on them, so it shows that all
# three nodes serve reads, not what three machines would serve.
#
# Usage: scripts/bench-cluster.sh (make bench-cluster). Environment:
#   DURATION=10s WARMUP=2s CONCURRENCY=16,64 PORT_BASE=18310 (uses PORT_BASE..+7)
#   KEEP=1 keeps the temporary directory (configs, logs, JSON results).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONCURRENCY=${CONCURRENCY:-16,64}
PORT_BASE=${PORT_BASE:-18310}
KEEP=${KEEP:-}

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
die() { log "error: $*"; exit 1; }

d=$(mktemp -d)
pids=() # every server and bench process this script started and has not reaped
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$KEEP" ]; then log "kept $d"; else rm -rf "$d"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports: single node api/cluster, then api/cluster of nodes 0..2.
single_api=$PORT_BASE
single_cluster=$((PORT_BASE + 1))
api() { echo $((PORT_BASE + 2 + 2 * $1)); }
clusterp() { echo $((PORT_BASE + 3 + 2 * $1)); }
for p in $(seq "$PORT_BASE" $((PORT_BASE + 7))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use (set PORT_BASE)"; fi
done

# --- build, TLS, seal key ------------------------------------------------
log "building coffer"
go build -o "$d/coffer" ./cmd/coffer
coffer="$d/coffer"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=bench-cluster CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$d/key.pem" -out "$d/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
  -days 1 -extfile "$d/server.ext" -out "$d/cert.pem" 2>/dev/null
chmod 600 "$d/key.pem" "$d/ca-key.pem"
(umask 077 && openssl rand -hex 32 > "$d/seal.key")

# config NAME API_PORT CLUSTER_PORT [JOIN_PORT...]: writes $d/NAME.hcl.
config() {
  local name=$1 ap=$2 cp=$3 j
  shift 3
  {
    printf 'storage "raft" {\n  path    = "%s"\n  node_id = "%s"\n' "$d/$name" "$name"
    for j in "$@"; do
      printf '  retry_join {\n    leader_api_addr     = "https://127.0.0.1:%s"\n    leader_ca_cert_file = "%s"\n  }\n' "$j" "$d/ca.pem"
    done
    printf '}\n'
    printf 'listener "tcp" {\n  address       = "127.0.0.1:%s"\n  tls_cert_file = "%s"\n  tls_key_file  = "%s"\n}\n' \
      "$ap" "$d/cert.pem" "$d/key.pem"
    printf 'api_addr     = "https://127.0.0.1:%s"\ncluster_addr = "https://127.0.0.1:%s"\n' "$ap" "$cp"
    printf 'seal "static" {\n  key_file = "%s"\n}\nlog_level = "warn"\n' "$d/seal.key"
  } > "$d/$name.hcl"
  mkdir -p "$d/$name"
}

# start NAME: starts the server of $d/NAME.hcl, logging to $d/NAME.log;
# sets started_pid.
start() {
  "$coffer" server -config "$d/$1.hcl" > "$d/$1.log" 2>&1 &
  started_pid=$!
  pids+=("$started_pid")
}

# stop PID: stops one server this script started and waits for it.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
}

# forget PID: drops a reaped process from pids, so that cleanup never
# signals a PID the system may have reused.
forget() {
  local p keep=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}

# get PORT PATH [TOKEN]: the body of GET https://127.0.0.1:PORT/v1/PATH
# whatever the status (health answers 429/503 with a body); fails only when
# nothing answers.
get() {
  local h=()
  [ -n "${3:-}" ] && h=(-H "X-Vault-Token: $3")
  curl -sS --max-time 5 --cacert "$d/ca.pem" "${h[@]}" "https://127.0.0.1:$1/v1/$2"
}

# wait_for SECONDS WHAT COMMAND...: retries COMMAND every 0.2 s.
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for i in $(seq $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  die "timed out after ${secs}s waiting for $what"
}

# init PORT: PUT sys/init with one recovery share; prints the root token.
init() {
  curl -sS --fail-with-body --max-time 60 --cacert "$d/ca.pem" -X PUT \
    -d '{"recovery_shares":1,"recovery_threshold":1}' "https://127.0.0.1:$1/v1/sys/init" | jq -er .root_token
}

answers() { get "$1" sys/health >/dev/null; }
active() { get "$1" sys/health | jq -e '.initialized and (.sealed | not) and (.standby | not)'; }
standby() { get "$1" 'sys/health?standbyok=true' | jq -e '.standby == true and (.sealed | not)'; }
voters() { get "$1" sys/storage/raft/autopilot/state "$TOKEN" | jq -e '((.data.voters // .voters) | length) == 3 and (.data.healthy // .healthy)'; }

# CPU accounting: cores busy per server and for the clients over each case
# (setup, warm-ups and both concurrencies included), from /proc: a server's
# utime+stime, and the clients' as this shell's reaped children's.
hz=$(getconf CLK_TCK)
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
child_ticks() { awk '{ sub(/^.*\) /, ""); print $14 + $15 }' "/proc/$$/stat"; }
# busy_ticks: the whole machine's non-idle CPU time (every process, ours or not).
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
servers=() # "name:pid" of the servers running now
case_start() {
  local s
  t0=$(date +%s.%N); c0=$(child_ticks); m0=$(busy_ticks); s0=()
  for s in "${servers[@]}"; do s0+=("$(ticks "${s#*:}")"); done
}
case_end() { # LABEL JSON...: the case's results, for reads per server CPU-second
  local label=$1 t1 wall line i s dt all=0 reqs
  shift
  t1=$(date +%s.%N); wall=$(echo "$t1 - $t0" | bc -l); line="$label: $(printf '%.0f' "$wall") s;"
  for i in "${!servers[@]}"; do
    s=${servers[$i]}
    dt=$(( $(ticks "${s#*:}") - ${s0[$i]} )); all=$((all + dt))
    line+=$(printf ' %s %.2f' "${s%%:*}" "$(echo "$dt / $hz / $wall" | bc -l)")
  done
  line+=$(printf '; clients %.2f' "$(echo "($(child_ticks) - $c0) / $hz / $wall" | bc -l)")
  line+=$(printf '; whole machine %.2f' "$(echo "($(busy_ticks) - $m0) / $hz / $wall" | bc -l)")
  reqs=$(jq -s '[.[][].requests] | add' "$@")
  line+=$(printf '; %.0f reads per server CPU-second' "$(echo "$reqs * $hz / $all" | bc -l)")
  echo "$line" >> "$d/cpu.txt"
}

# bench_start NAME PORT [BENCH FLAGS...]: starts coffer bench kv-read
# against node PORT in the background, JSON to $d/NAME.json, progress and
# errors to $d/NAME.err; sets started_pid.
bench_start() {
  local name=$1 port=$2
  shift 2
  COFFER_ADDR="https://127.0.0.1:$port" COFFER_CACERT="$d/ca.pem" COFFER_TOKEN="$TOKEN" \
    "$coffer" bench kv-read -concurrency="$CONCURRENCY" -duration="$DURATION" -warmup="$WARMUP" -format=json "$@" \
    > "$d/$name.json" 2> "$d/$name.err" &
  started_pid=$!
  pids+=("$started_pid")
}

# bench_wait NAME PID: waits for a bench bench_start started; fails the
# script, with the end of its output, if it failed.
bench_wait() {
  local rc=0
  wait "$2" || rc=$?
  forget "$2"
  if [ "$rc" -ne 0 ]; then tr '\r' '\n' < "$d/$1.err" | tail -n 5 >&2; die "bench $1 failed"; fi
}

# bench NAME PORT [BENCH FLAGS...]: one bench, in the foreground.
bench() {
  bench_start "$@"
  bench_wait "$1" "$started_pid"
}

log "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); all servers and clients share them"
# --- (a) one raft node ---------------------------------------------------
config single "$single_api" "$single_cluster"
start single
single_pid=$started_pid
servers=("single:$single_pid")
wait_for 30 "the single node to answer" answers "$single_api"
TOKEN=$(init "$single_api")
wait_for 60 "the single node to become active" active "$single_api"
log "(a) one node"
case_start; bench a "$single_api"; case_end "(a) one node" "$d/a.json"
stop "$single_pid"
servers=()

# --- the 3-node cluster ---------------------------------------------------
for i in 0 1 2; do
  joins=()
  for j in 0 1 2; do [ "$j" = "$i" ] || joins+=("$(api "$j")"); done
  config "node-$i" "$(api "$i")" "$(clusterp "$i")" "${joins[@]}"
  start "node-$i"
  servers+=("node-$i:$started_pid")
done
for i in 0 1 2; do wait_for 30 "node-$i to answer" answers "$(api "$i")"; done
TOKEN=$(init "$(api 0)")
log "cluster initialized on node-0; waiting for two standbys and three voters"
wait_for 60 "node-0 to become active" active "$(api 0)"
for i in 1 2; do wait_for 120 "node-$i to become a standby" standby "$(api "$i")"; done
wait_for 120 "autopilot to report 3 healthy voters" voters "$(api 0)"

act=; sby=
for i in 0 1 2; do
  if get "$(api "$i")" sys/leader | jq -e .is_self >/dev/null; then act=$i; elif [ -z "$sby" ]; then sby=$i; fi
done
[ -n "$act" ] && [ -n "$sby" ] || die "no active node or no standby among the three"
log "active node-$act, standby node-$sby"

log "(b) active node"
case_start; bench b "$(api "$act")"; case_end "(b) active node-$act" "$d/b.json"
log "(c) standby, consistent reads"
case_start; bench c "$(api "$sby")"; case_end "(c) standby node-$sby" "$d/c.json"
log "(d) standby, X-Coffer-Consistency: stale"
case_start; bench d "$(api "$sby")" -header "X-Coffer-Consistency: stale"; case_end "(d) standby node-$sby, stale" "$d/d.json"
log "(e) all three nodes at once"
case_start
epids=()
for i in 0 1 2; do
  bench_start "e$i" "$(api "$i")"
  epids+=("$started_pid")
done
for i in 0 1 2; do bench_wait "e$i" "${epids[$i]}"; done
case_end "(e) all three nodes" "$d/e0.json" "$d/e1.json" "$d/e2.json"
log "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -------------------------------------------------------------------
# rows CASE FILE...: one TSV line per concurrency: case, concurrency, summed
# req/s, worst p50, worst p99, summed errors over the files.
rows() {
  local c=$1
  shift
  jq -rs --arg c "$c" '[.[][]] | group_by(.concurrency)[] |
    [$c, .[0].concurrency, (map(.requests_per_second) | add), (map(.p50_ms) | max), (map(.p99_ms) | max), (map(.errors) | add)] | @tsv' "$@"
}
{
  rows "a one node" "$d/a.json"
  rows "b active" "$d/b.json"
  rows "c standby" "$d/c.json"
  rows "d standby stale" "$d/d.json"
  rows "e 3 nodes" "$d/e0.json" "$d/e1.json" "$d/e2.json"
} > "$d/rows.tsv"
ratio() { # NUM DEN CONCURRENCY
  awk -F'\t' -v n="$1" -v dn="$2" -v c="$3" '$2 == c && index($1, n) == 1 { a = $3 } $2 == c && index($1, dn) == 1 { b = $3 }
    END { if (b > 0) printf "%.2f", a / b; else printf "-" }' "$d/rows.tsv"
}
echo
echo "kv-read, $DURATION per point after $WARMUP warm-up; $(nproc) cores shared by every server and client"
awk -F'\t' 'BEGIN { printf "%-16s %11s %9s %9s %9s %7s\n", "case", "concurrency", "req/s", "p50 ms", "p99 ms", "errors" }
  { printf "%-16s %11d %9.0f %9.2f %9.2f %7d\n", $1, $2, $3, $4, $5, $6 }' "$d/rows.tsv"
for c in ${CONCURRENCY//,/ }; do
  echo "c=$c: (e)/(a) = $(ratio e a "$c")  (c)/(b) = $(ratio c b "$c")  (d)/(b) = $(ratio d b "$c")"
done
echo
echo "CPU cores busy over each case (wall seconds; setup and warm-ups included): per server, the"
echo "coffer bench clients, and the whole machine (the rest is other work sharing it); measured"
echo "reads over the CPU seconds of every server (warm-up CPU included, warm-up reads not):"
sed 's/^/  /' "$d/cpu.txt"
echo
echo "| case | concurrency | req/s | p50 ms | p99 ms | errors |"
echo "|---|---:|---:|---:|---:|---:|"
awk -F'\t' '{ printf "| %s | %d | %.0f | %.2f | %.2f | %d |\n", $1, $2, $3, $4, $5, $6 }' "$d/rows.tsv"
echo
echo "(e) sums the three nodes' req/s and shows the worst node's p50 and p99."

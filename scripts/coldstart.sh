#!/usr/bin/env bash
# Measures cold start of the dev server: process start until sys/health
# answers 200, over N runs (default 20). Prints each run and the median in ms.
# Usage: scripts/coldstart.sh [runs]
set -euo pipefail
runs=${1:-20}
cd "$(dirname "$0")/.."
bin=$(mktemp -d)/coffer
go build -o "$bin" ./cmd/coffer
port=18299
times=()
for i in $(seq "$runs"); do
  start=$(date +%s%N)
  "$bin" server -dev -dev-listen-address "127.0.0.1:$port" >/dev/null 2>&1 &
  pid=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v1/sys/health" || true)" = 200 ]; do
    sleep 0.002
  done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  echo "run $i: ${ms} ms"
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "median: ${sorted[$((runs / 2))]} ms over $runs runs"
rm -rf "$(dirname "$bin")"

#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time each (default 15s).
# Usage: scripts/fuzz-all.sh [fuzztime]
#
# Go 1.26's fuzz coordinator can report "context deadline exceeded" when
# -fuzztime ends while a worker is mid-call (golang/go#75804, fixed in Go
# 1.27). Such a run found nothing: a real failure writes its input under
# testdata/fuzz/<target>/ and reports it. A target that fails that way with
# no new input is run once more; any other failure, or the same one twice,
# fails the run.
set -euo pipefail
fuzztime=${1:-15s}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# corpus lists the inputs saved for a target.
corpus() { ls "$1/testdata/fuzz/$2" 2>/dev/null | sort || true; }

# run fuzzes one target: 0 passed, 1 failed, 2 the coordinator race only.
run() {
  local pkg=$1 name=$2 before after
  before=$(corpus "$pkg" "$name")
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 3s "$pkg" >"$log" 2>&1; then
    return 0
  fi
  after=$(corpus "$pkg" "$name")
  if [ "$before" = "$after" ] && grep -q "^--- FAIL: ${name} " "$log" &&
    [ "$(grep -A1 "^--- FAIL: ${name} " "$log" | tail -1 | tr -d '[:space:]')" = "contextdeadlineexceeded" ]; then
    return 2
  fi
  return 1
}

status=0
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]+).*$/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  echo "fuzz: $pkg $name ($fuzztime)"
  rc=0
  run "$pkg" "$name" || rc=$?
  if [ "$rc" -eq 2 ]; then
    echo "fuzz: $name stopped with the fuzz coordinator's deadline race (golang/go#75804) and saved no input; running it again"
    rc=0
    run "$pkg" "$name" || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    cat "$log"
    status=1
  fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | grep -v '/vendor/')
exit $status

#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time each (default 15s).
# Usage: scripts/fuzz-all.sh [fuzztime]
set -euo pipefail
fuzztime=${1:-15s}
cd "$(dirname "$0")/.."
status=0
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]+).*$/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  echo "fuzz: $pkg $name ($fuzztime)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 3s "$pkg" >/tmp/coffer-fuzz.log 2>&1; then
    cat /tmp/coffer-fuzz.log
    status=1
  fi
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | grep -v '/vendor/')
exit $status

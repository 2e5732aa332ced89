#!/bin/sh
# kube-apiserver.sh builds a real kube-apiserver from the Go module proxy
# (k8s.io/kubernetes v1.31.4, as DESIGN.md §4 describes) and caches the
# binary. It prints the binary's path. The build takes about 7 minutes on 2
# cores the first time and nothing afterwards. Concurrent callers (test
# packages run in parallel) wait on a lock and share one build.
set -eu

VERSION=v1.31.4
STAGING=v0.31.4
CACHE="${COFFER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/coffer}"
BIN="$CACHE/kube-apiserver-$VERSION"

if [ -x "$BIN" ]; then
	echo "$BIN"
	exit 0
fi
mkdir -p "$CACHE"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$CACHE/.kube-apiserver.lock"
	flock 9
	if [ -x "$BIN" ]; then
		echo "$BIN"
		exit 0
	fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "kube-apiserver.sh: building kube-apiserver $VERSION (about 7 minutes on 2 cores)" >&2
go mod init coffer.local/kube-apiserver-build >/dev/null 2>&1
gomod=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$VERSION" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
[ -f "$gomod" ] || { echo "kube-apiserver.sh: cannot download k8s.io/kubernetes@$VERSION" >&2; exit 1; }
go mod edit -require="k8s.io/kubernetes@$VERSION"
for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod"); do
	go mod edit -replace="$m=$m@$STAGING"
done
printf 'package tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >tools.go
GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go get "k8s.io/kubernetes/cmd/kube-apiserver@$VERSION" >&2
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -o "$BIN.tmp" k8s.io/kubernetes/cmd/kube-apiserver
mv "$BIN.tmp" "$BIN"
echo "$BIN"

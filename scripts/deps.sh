#!/bin/sh
# deps.sh installs the services the test suite runs for real when they are
# missing: PostgreSQL 15 (initdb, pg_ctl) for internal/testpg, etcd (Debian
# etcd-server), Chromium (the OIDC browser-login test) and a kube-apiserver
# built from the Go module proxy
# (scripts/kube-apiserver.sh, cached) for internal/testkube. It is
# idempotent and prints nothing when everything is already present.
set -eu

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=""

# apt_install installs Debian packages quietly, updating the lists once.
apt_install() {
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "deps.sh: $* missing and apt-get is not available; install it by hand" >&2
		exit 1
	fi
	echo "deps.sh: installing $*" >&2
	if [ -z "$apt_updated" ]; then
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		apt_updated=1
	fi
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

have_postgres() {
	command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
	done
	return 1
}

have_etcd() {
	command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ]
}

if ! have_postgres; then
	apt_install postgresql
	have_postgres || { echo "deps.sh: postgresql installed but initdb/pg_ctl not found" >&2; exit 1; }
fi

have_chromium() {
	command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]
}

if ! have_chromium; then
	apt_install chromium
	have_chromium || { echo "deps.sh: chromium installed but not found" >&2; exit 1; }
fi

if ! have_etcd; then
	apt_install etcd-server
	have_etcd || { echo "deps.sh: etcd-server installed but etcd not found" >&2; exit 1; }
fi

# Prints the cached binary's path (discarded); builds it the first time.
sh "$(dirname "$0")/kube-apiserver.sh" >/dev/null

#!/bin/sh
# deps.sh installs the services the test suite runs for real when they are
# missing: PostgreSQL 15 (initdb, pg_ctl) for internal/testpg. It is
# idempotent and prints nothing when everything is already present.
set -eu

have_postgres() {
	command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && return 0
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
	done
	return 1
}

if ! have_postgres; then
	if ! command -v apt-get >/dev/null 2>&1; then
		echo "deps.sh: PostgreSQL (initdb, pg_ctl) is missing and apt-get is not available; install PostgreSQL 15" >&2
		exit 1
	fi
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	echo "deps.sh: installing postgresql" >&2
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
	have_postgres || { echo "deps.sh: postgresql installed but initdb/pg_ctl not found" >&2; exit 1; }
fi

# shellcheck shell=bash
# Helpers for the benchmark scripts, sourced, not run: start one coffer
# server with TLS on loopback, initialize and unseal it.

# bench_server_start DIR ADDR AUDIT STORAGE: writes DIR/coffer.hcl (TLS with
# a fresh P-256 certificate in DIR, storage "inmem" or one raft node under
# DIR/raft, and with AUDIT=file one file sink at DIR/audit.log plus
# $AUDIT_OPTIONS), starts $BIN server (environment: $COFFER_SERVER_ENV) with
# its log in DIR/server.log, initializes it with one key share and unseals
# it. Sets SERVER_PID and SERVER_TOKEN (the root token); the CA file is
# DIR/cert.pem.
bench_server_start() {
	local d=$1 addr=$2 audit=$3 storage=$4 rc init
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	case $storage in
	inmem) printf 'storage "inmem" {}\n' > "$d/coffer.hcl" ;;
	raft) printf 'storage "raft" {\n  path    = "%s"\n  node_id = "bench"\n}\n' "$d/raft" > "$d/coffer.hcl" ;;
	*) echo "bench: STORAGE=$storage: want inmem or raft" >&2; return 2 ;;
	esac
	printf 'listener "tcp" {\n  address       = "%s"\n  tls_cert_file = "%s"\n  tls_key_file  = "%s"\n}\nlog_level = "warn"\n' \
		"$addr" "$d/cert.pem" "$d/key.pem" >> "$d/coffer.hcl"
	case $audit in
	file) printf 'audit "file" {\n  path = "%s"\n%s\n}\n' "$d/audit.log" "${AUDIT_OPTIONS:-}" >> "$d/coffer.hcl" ;;
	off) ;;
	*) echo "bench: AUDIT=$audit: want file or off" >&2; return 2 ;;
	esac
	# shellcheck disable=SC2086 # COFFER_SERVER_ENV is a list of NAME=value words
	env ${COFFER_SERVER_ENV:-} "$BIN" server -config "$d/coffer.hcl" > "$d/server.log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		rc=0; COFFER_ADDR=https://$addr COFFER_CACERT=$d/cert.pem "$BIN" operator init -status >/dev/null 2>&1 || rc=$?
		{ [ $rc -eq 0 ] || [ $rc -eq 2 ]; } && break
		sleep 0.1
	done
	init=$(COFFER_ADDR=https://$addr COFFER_CACERT=$d/cert.pem "$BIN" operator init -key-shares=1 -key-threshold=1 -format=json)
	COFFER_ADDR=https://$addr COFFER_CACERT=$d/cert.pem \
		"$BIN" operator unseal "$(echo "$init" | jq -r '.unseal_keys_b64[0]')" >/dev/null
	SERVER_TOKEN=$(echo "$init" | jq -r .root_token)
}

# bench_cpu_ticks PID: the process's user + system CPU time in clock ticks.
bench_cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# bench_secs DURATION: "8s" or "500ms" as seconds.
bench_secs() { case $1 in *ms) echo "scale=3; ${1%ms}/1000" | bc ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac; }

package config

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors checks the whole message of each error: file, line,
// block, field and problem. Sources start with a storage block (line 1) and
// a listener (lines 2-4) unless they say otherwise.
func TestParseErrors(t *testing.T) {
	const (
		S  = "storage \"inmem\" {}\n"
		L  = "listener \"tcp\" {\n  tls_disable = true\n}\n"
		SL = S + L // extra lines start at 5
	)
	lst := func(body string) string { return S + "listener \"tcp\" {\n  tls_disable = true\n" + body + "\n}\n" } // body at 4
	raft := func(join string) string {
		return "storage \"raft\" {\n  path = \"/x\"\n  retry_join {\n" + join + "\n  }\n}\n" + L
	}
	tests := []struct {
		name string
		src  string
		want string // the full message
	}{
		// top level
		{"log_level", SL + `log_level = "loud"`, `c.hcl:5: log_level: must be "trace", "debug", "info", "warn" or "error"`},
		{"log_format", SL + `log_format = "xml"`, `c.hcl:5: log_format: must be "text" or "json"`},
		{"bool bad string", SL + `ui = "yes"`, `c.hcl:5: ui: must be true or false ("true", "false", "1" and "0" also work)`},
		{"bool bad number", SL + `disable_mlock = 2`, `c.hcl:5: disable_mlock: must be true or false ("true", "false", "1" and "0" also work)`},
		{"gc_heap_floor negative", SL + `gc_heap_floor = -1`, `c.hcl:5: gc_heap_floor: must be a number of bytes, 0 or more`},
		{"gc_heap_floor text", SL + `gc_heap_floor = "big"`, `c.hcl:5: gc_heap_floor: must be a whole number`},
		{"bool list", SL + `ui = [true]`, `c.hcl:5: ui: must be a bool, not a list`},
		{"bool block", SL + `ui { }`, `c.hcl:5: ui: must be a bool, not a block`},
		{"unknown key", SL + `bogus = 1`, `c.hcl:5: bogus: unknown key`},
		{"plugin_directory", SL + `plugin_directory = "/x"`, `c.hcl:5: plugin_directory: not supported by coffer`},
		{"telemetry", SL + "telemetry {\n  statsd_address = \"x\"\n}", `c.hcl:5: telemetry: not supported by coffer`},
		{"api_addr not url", SL + `api_addr = "coffer:8200"`, `c.hcl:5: api_addr: "coffer:8200" is not an http or https URL such as "https://10.0.0.1:8200"`},
		{"cluster_addr scheme", SL + `cluster_addr = "tcp://a:1"`, `c.hcl:5: cluster_addr: "tcp://a:1" is not an http or https URL such as "https://10.0.0.1:8200"`},
		{"api_addr number", SL + `api_addr = 5`, `c.hcl:5: api_addr: must be a string, not a number`},
		{"duration text", SL + `default_lease_ttl = "soon"`, `c.hcl:5: default_lease_ttl: must be a duration such as "90s", "1h" or "7d"`},
		{"duration float", SL + `default_lease_ttl = 1.5`, `c.hcl:5: default_lease_ttl: must be a duration such as "90s", "1h" or "7d", not a fractional number`},
		{"duration negative", SL + `default_lease_ttl = "-1h"`, `c.hcl:5: default_lease_ttl: must be positive`},
		{"duration zero", SL + `max_lease_ttl = 0`, `c.hcl:5: max_lease_ttl: must be positive`},
		{"duration overflow", SL + `max_lease_ttl = 99999999999999999`, `c.hcl:5: max_lease_ttl: must be a whole number of seconds that fits in a duration`},
		{"duration day overflow", SL + `max_lease_ttl = "999999999d"`, `c.hcl:5: max_lease_ttl: must be a duration such as "90s", "1h" or "7d"`},
		{"max below default", SL + "default_lease_ttl = \"2h\"\nmax_lease_ttl = \"1h\"", `c.hcl:6: max_lease_ttl: must be at least default_lease_ttl (1h0m0s < 2h0m0s)`},
		{"repeated attribute", SL + "ui = true\nui = false", `c.hcl:6: ui: set more than once (first at line 5)`},
		{"repeated storage", SL + S, `c.hcl:5: storage: declared more than once (first at line 1)`},
		{"repeated seal", SL + "seal \"shamir\" {}\nseal \"shamir\" {}", `c.hcl:6: seal: declared more than once (first at line 5)`},
		{"no storage", L, `c.hcl: storage: required, e.g. storage "bolt" { path = "/var/lib/coffer" }`},
		{"no listener", S, `c.hcl: listener: at least one listener block is required, e.g. listener "tcp" { ... }`},
		{"syntax", SL + "ui = maybe", `c.hcl:5: syntax error: Unknown token: 5:6 IDENT maybe`},
		{"dangling assign", SL + "ui =  # comment", `c.hcl:5: syntax error: missing value after '=' at end of file`},
		{"unclosed block", SL + "audit \"stdout\" {", `c.hcl:5: syntax error: object expected closing RBRACE got: EOF`},

		// storage
		{"storage path required", "storage \"bolt\" {}\n" + L, `c.hcl:1: storage "bolt": path: required`},
		{"storage path empty", "storage \"raft\" { path = \"\" }\n" + L, `c.hcl:1: storage "raft": path: required`},
		{"storage type", "storage \"foo\" {}\n" + L, `c.hcl:1: storage "foo": unknown storage type, want "inmem", "bolt", "raft", "etcd" or "postgresql"`},
		{"storage unknown option", "storage \"bolt\" {\n  path = \"/x\"\n  bogus = 1\n}\n" + L, `c.hcl:3: storage "bolt": bogus: unknown key`},
		{"storage option list", "storage \"raft\" {\n  path = [\"/x\"]\n}\n" + L, `c.hcl:2: storage "raft": path: must be a string, number or bool, not a list`},
		{"storage not a block", "storage = \"bolt\"\n" + L, `c.hcl:1: storage: must be a block such as storage "type" { ... }`},
		{"storage no label", "storage {}\n" + L, `c.hcl:1: storage: missing type label, as in storage "type" { ... }`},
		{"storage label missing, attrs", "storage {\n  path = \"x\"\n}\n" + L, `c.hcl:2: storage: missing type label, as in storage "type" { ... }`},
		{"storage empty label", "storage \"\" {}\n" + L, `c.hcl:1: storage: empty type label`},
		{"etcd address", "storage \"etcd\" {}\n" + L, `c.hcl:1: storage "etcd": address: required`},
		{"postgresql url", "storage \"postgresql\" { table = \"t\" }\n" + L, `c.hcl:1: storage "postgresql": connection_url: required`},
		{"retry_join outside raft", "storage \"bolt\" {\n  path = \"/x\"\n  retry_join { leader_api_addr = \"https://a\" }\n}\n" + L, `c.hcl:3: storage "bolt": retry_join: only valid for raft storage`},
		{"retry_join empty", raft(""), `c.hcl:3: storage "raft": retry_join: one of leader_api_addr or auto_join_dns is required`},
		{"retry_join url", raft(`leader_api_addr = "a:1"`), `c.hcl:4: storage "raft": retry_join: leader_api_addr: "a:1" is not an http or https URL such as "https://10.0.0.1:8200"`},
		{"retry_join both", raft("leader_api_addr = \"https://a:1\"\nauto_join_dns = \"x\""), `c.hcl:5: storage "raft": retry_join: auto_join_dns: cannot be set with leader_api_addr`},
		{"retry_join half cert", raft("leader_api_addr = \"https://a:1\"\nleader_client_key_file = \"k\""), `c.hcl:3: storage "raft": retry_join: leader_client_cert_file and leader_client_key_file must be set together`},
		{"auto_join_scheme", raft("auto_join_dns = \"x\"\nauto_join_scheme = \"ftp\""), `c.hcl:5: storage "raft": retry_join: auto_join_scheme: must be "http" or "https"`},
		{"auto_join_port range", raft("auto_join_dns = \"x\"\nauto_join_port = 70000"), `c.hcl:5: storage "raft": retry_join: auto_join_port: must be a port between 1 and 65535`},
		{"auto_join_port type", raft("auto_join_dns = \"x\"\nauto_join_port = \"high\""), `c.hcl:5: storage "raft": retry_join: auto_join_port: must be a whole number`},
		{"auto_join_port without dns", raft("leader_api_addr = \"https://a:1\"\nauto_join_port = 8300"), `c.hcl:5: storage "raft": retry_join: auto_join_port: only valid with auto_join_dns`},
		{"auto_join_scheme without dns", raft("leader_api_addr = \"https://a:1\"\nauto_join_scheme = \"http\""), `c.hcl:5: storage "raft": retry_join: auto_join_scheme: only valid with auto_join_dns`},
		{"retry_join unknown", raft(`leader_addr = "x"`), `c.hcl:4: storage "raft": retry_join: leader_addr: unknown key`},
		{"retry_join label", "storage \"raft\" {\n  path = \"/x\"\n  retry_join \"n2\" {}\n}\n" + L, `c.hcl:3: storage "raft": retry_join: must be a block without a label: retry_join { ... }`},

		// listener
		{"tls files required", S + "listener \"tcp\" {}\n", "c.hcl:2: listener \"tcp\": tls_cert_file: required unless tls_disable is set\n" +
			"c.hcl:2: listener \"tcp\": tls_key_file: required unless tls_disable is set"},
		{"listener type", S + "listener \"unix\" {\n  tls_disable = true\n}\n", `c.hcl:2: listener "unix": unknown listener type, want "tcp"`},
		{"tls_min_version", lst(`tls_min_version = "tls11"`), `c.hcl:4: listener "tcp": tls_min_version: must be "tls12" or "tls13"`},
		{"address", lst(`address = "localhost"`), `c.hcl:4: listener "tcp": address: "localhost" is not a host:port address such as "127.0.0.1:8200"`},
		{"address port", lst(`address = "127.0.0.1:99999"`), `c.hcl:4: listener "tcp": address: "127.0.0.1:99999" is not a host:port address such as "127.0.0.1:8200"`},
		{"address block", lst(`address { }`), `c.hcl:4: listener "tcp": address: must be a string, not a block`},
		{"redirect needs tls", lst(`redirect_address = "127.0.0.1:8080"`), `c.hcl:4: listener "tcp": redirect_address: needs TLS, but tls_disable is set`},
		{"client cert needs tls", lst(`tls_require_and_verify_client_cert = true`), `c.hcl:4: listener "tcp": tls_require_and_verify_client_cert: needs TLS, but tls_disable is set`},
		{"client cert needs ca", S + "listener \"tcp\" {\n  tls_cert_file = \"c\"\n  tls_key_file = \"k\"\n  tls_require_and_verify_client_cert = 1\n}\n",
			`c.hcl:2: listener "tcp": tls_client_ca_file: required when tls_require_and_verify_client_cert is set`},
		{"redirect same as address", S + "listener \"tcp\" {\n  tls_cert_file = \"c\"\n  tls_key_file = \"k\"\n  redirect_address = \"127.0.0.1:8200\"\n}\n",
			`c.hcl:5: listener "tcp": redirect_address: 127.0.0.1:8200 is already bound by the listener at line 2`},
		{"redirect address", S + "listener \"tcp\" {\n  tls_cert_file = \"c\"\n  tls_key_file = \"k\"\n  redirect_address = \"8080\"\n}\n",
			`c.hcl:5: listener "tcp": redirect_address: "8080" is not a host:port address such as "127.0.0.1:8200"`},
		{"two listeners one address", SL + L, `c.hcl:5: listener "tcp": address: 127.0.0.1:8200 is already bound by the listener at line 2`},
		{"max_request_size zero", lst(`max_request_size = 0`), `c.hcl:4: listener "tcp": max_request_size: must be a positive number of bytes`},
		{"max_request_size text", lst(`max_request_size = "big"`), `c.hcl:4: listener "tcp": max_request_size: must be a whole number`},
		{"max_request_size float", lst(`max_request_size = 1.5`), `c.hcl:4: listener "tcp": max_request_size: must be a whole number, not a fractional number`},
		{"max_request_duration", lst(`max_request_duration = "0s"`), `c.hcl:4: listener "tcp": max_request_duration: must be positive`},
		{"cluster_address", lst(`cluster_address = "nope"`), `c.hcl:4: listener "tcp": cluster_address: "nope" is not a host:port address such as "127.0.0.1:8200"`},
		{"cidr host bits, element line", lst("allowed_cidrs = [\n    \"10.0.0.0/8\",\n    \"10.1.2.3/8\",\n  ]"), `c.hcl:6: listener "tcp": allowed_cidrs: "10.1.2.3/8" has host bits set; did you mean "10.0.0.0/8"`},
		{"cidr in comma string", lst(`x_forwarded_for_authorized_addrs = "10.0.0.0/8, nope"`), `c.hcl:4: listener "tcp": x_forwarded_for_authorized_addrs: "nope" is not a CIDR such as "10.0.0.0/8"`},
		{"cidr zone", lst(`allowed_cidrs = ["fe80::1%eth0"]`), `c.hcl:4: listener "tcp": allowed_cidrs: "fe80::1%eth0" is not a CIDR such as "10.0.0.0/8"`},
		{"cidr number element", lst(`allowed_cidrs = [1]`), `c.hcl:4: listener "tcp": allowed_cidrs: list element must be a string, not a number`},
		{"cidr number", lst(`allowed_cidrs = 5`), `c.hcl:4: listener "tcp": allowed_cidrs: must be a list of CIDRs or a comma-separated string`},
		{"listener repeated key", lst(`tls_disable = false`), `c.hcl:4: listener "tcp": tls_disable: set more than once (first at line 3)`},
		{"listener unknown key", lst(`tls_min_versoin = "tls13"`), `c.hcl:4: listener "tcp": tls_min_versoin: unknown key`},
		{"listener extra label", S + "listener \"tcp\" \"x\" {\n  tls_disable = true\n}\n", `c.hcl:2: listener "tcp": x: unknown key`},

		// seal
		{"static key_file", SL + `seal "static" {}`, `c.hcl:5: seal "static": key_file: required`},
		{"static inline key", SL + "seal \"static\" {\n  key_file = \"k\"\n  current_key = \"abc\"\n}", `c.hcl:7: seal "static": current_key: unknown key`},
		{"seal type", SL + `seal "awskms" {}`, `c.hcl:5: seal "awskms": unknown seal type, want "shamir", "static" or "pkcs11"`},
		{"shamir takes no options", SL + "seal \"shamir\" {\n  shares = 5\n}", `c.hcl:6: seal "shamir": shares: unknown key`},
		{"pkcs11 required", SL + "seal \"pkcs11\" {\n  pin = \"1234\"\n}", "c.hcl:5: seal \"pkcs11\": lib: required\nc.hcl:5: seal \"pkcs11\": key_label: required"},
		{"pkcs11 pin list", SL + "seal \"pkcs11\" {\n  lib = \"l\"\n  key_label = \"k\"\n  pin = [\"1234\"]\n}", `c.hcl:8: seal "pkcs11": pin: must be a string, number or bool, not a list`},

		// audit
		{"audit file path", SL + `audit "file" {}`, `c.hcl:5: audit "file": path: required`},
		{"audit socket address", SL + `audit "socket" {}`, `c.hcl:5: audit "socket": address: required`},
		{"audit type", SL + `audit "syslog" {}`, `c.hcl:5: audit "syslog": unknown audit type, want "file", "socket" or "stdout"`},
		{"audit duplicate name", SL + "audit \"stdout\" {}\naudit \"stdout\" {}", `c.hcl:6: audit "stdout": name: "stdout" is already used by the audit block at line 5; give each a distinct name`},
		{"audit bad name", SL + `audit "stdout" { name = "a/b" }`, `c.hcl:5: audit "stdout": name: must be letters, digits, '-', '_' or '.', not starting with '.'`},
		{"audit mode", SL + "audit \"file\" {\n  path = \"x\"\n  mode = \"999\"\n}", `c.hcl:7: audit "file": mode: must be "required", "best-effort" or an octal file mode such as "0600"`},
		{"audit socket_type", SL + "audit \"socket\" {\n  address = \"x:1\"\n  socket_type = \"sctp\"\n}", `c.hcl:7: audit "socket": socket_type: must be "tcp", "udp" or "unix"`},

		// JSON: lines come from the colons, the only positions the JSON parser keeps
		{"json field", "{\n\"storage\": {\"inmem\": {}},\n\"listener\": {\"tcp\": {\n  \"tls_disable\": true,\n  \"tls_min_version\": \"tls11\"}}\n}",
			`c.hcl:5: listener "tcp": tls_min_version: must be "tls12" or "tls13"`},
		{"json unknown key", "{\n\"storage\": {\"inmem\": {}},\n\"listener\": {\"tcp\": {\"tls_disable\": true}},\n\"bogus\": 1\n}", `c.hcl:4: bogus: unknown key`},
		{"json repeated key", "{\n\"storage\": {\"inmem\": {}},\n\"listener\": {\"tcp\": {\"tls_disable\": true}},\n\"ui\": true,\n\"ui\": false\n}", `c.hcl:5: ui: set more than once (first at line 4)`},
		{"json null", "{\"storage\": {\"inmem\": {}}, \"listener\": {\"tcp\": {\"tls_disable\": null}}}", `c.hcl:1: listener "tcp": tls_disable: must be true or false ("true", "false", "1" and "0" also work)`},
		{"json truncated", "{\n\"storage\": {\"inmem\": {}},\n\"listener\": ", `c.hcl:3: syntax error: unexpected end of JSON input`},
		{"json bad", "{\n\"storage\": {\"inmem\": {}},\n\"listener\": nope\n}", `c.hcl:3: syntax error: invalid character 'o' in literal null (expecting 'u')`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.hcl", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse = %+v, want error %q", c, tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error =\n%s\nwant\n%s\nsource:\n%s", got, tt.want, tt.src)
			}
		})
	}
}

// TestParseReportsEveryProblem checks that problems are not cut off at the
// first one.
func TestParseReportsEveryProblem(t *testing.T) {
	src := "storage \"inmem\" {}\nlistener \"tcp\" {\n  tls_disable = true\n}\nlog_level = \"loud\"\nlog_format = \"xml\"\nbogus = 1\n"
	_, err := Parse("c.hcl", []byte(src))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	// Decoding stops before validation, so only the unknown key (a decode
	// error) is reported; fixing it reveals the two validation errors.
	if got := err.Error(); got != "c.hcl:7: bogus: unknown key" {
		t.Errorf("error = %q", got)
	}
	src = strings.Replace(src, "bogus = 1\n", "", 1)
	_, err = Parse("c.hcl", []byte(src))
	want := "c.hcl:5: log_level: must be \"trace\", \"debug\", \"info\", \"warn\" or \"error\"\n" +
		"c.hcl:6: log_format: must be \"text\" or \"json\""
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want\n%s", err, want)
	}
}

# Example Coffer server configuration: every setting, with its meaning.
# Coffer reads Vault-shaped HCL (or the same structure as JSON).

# Integrated raft storage: a 3-node cluster, each node with its own path.
storage "raft" {
  path    = "/var/lib/coffer"
  node_id = "coffer-1"

  # Nodes that start without data join the cluster through one of these.
  retry_join {
    leader_api_addr         = "https://coffer-2.internal:8200"
    leader_ca_cert_file     = "/etc/coffer/tls/ca.pem"
    leader_client_cert_file = "/etc/coffer/tls/client.pem"
    leader_client_key_file  = "/etc/coffer/tls/client-key.pem"
  }
  retry_join {
    auto_join_dns = "coffer.internal"
  }
}

# The API listener: TLS 1.2 or later, optional client certificates.
listener "tcp" {
  address                            = "0.0.0.0:8200"
  tls_cert_file                      = "/etc/coffer/tls/server.pem"
  tls_key_file                       = "/etc/coffer/tls/server-key.pem"
  tls_min_version                    = "tls13"
  tls_client_ca_file                 = "/etc/coffer/tls/ca.pem"
  tls_require_and_verify_client_cert = false

  # Plain HTTP that only redirects to https://.
  redirect_address = "0.0.0.0:8080"

  max_request_size     = 16777216 # bytes
  max_request_duration = "30s"

  # Proxies trusted to set X-Forwarded-For, and the clients allowed at all.
  x_forwarded_for_authorized_addrs = ["10.0.0.0/8", "192.168.1.10"]
  allowed_cidrs                    = "10.0.0.0/8, 172.16.0.0/12, ::1/128"

  # Behind one trusted load balancer: skip its own entry in the chain.
  x_forwarded_for_hop_skips             = 1
  x_forwarded_for_reject_not_authorized = false
  x_forwarded_for_reject_not_present    = "false"

  # Administrative paths only from the admin network and one static address.
  path_rule "sys/*" {
    allowed_cidrs = ["10.1.0.0/16", "172.16.0.7/32"]
  }
  path_rule "auth/token/create" {
    allowed_cidrs = "10.1.0.0/16"
  }
}

# A second listener for local administration only.
listener "tcp" {
  address     = "127.0.0.1:8300"
  tls_disable = "true"
}

# Auto-unseal from a key file (leave seal out for Shamir key shares).
seal "static" {
  key_file = "/etc/coffer/unseal.key"
}

# Audit sinks: every request and response, hash-chained.
audit "file" {
  path = "/var/log/coffer/audit.log"
  mode = "0600"
}
audit "socket" {
  name        = "siem"
  address     = "siem.internal:9090"
  socket_type = "tcp"
}
audit "stdout" {}

api_addr     = "https://coffer-1.internal:8200"
cluster_addr = "https://coffer-1.internal:8201"
ui           = true

log_level  = "debug"
log_format = "json"

default_lease_ttl = "24h"
max_lease_ttl     = "30d"

disable_mlock = true # accepted and ignored
gc_heap_floor = 67108864 # 64 MiB

# Login lockout (Vault's stanza): per auth type, "all" for the rest.
user_lockout "all" {
  lockout_threshold     = 5
  lockout_duration      = "15m"
  lockout_counter_reset = "15m"
  disable_lockout       = false
}
user_lockout "approle" {
  disable_lockout = true
}

# Network controls: a blocklist reloaded on change, and bans after repeated
# login failures from one address.
network {
  blocklist_file            = "/etc/coffer/blocklist.netset"
  blocklist_reload_interval = "10s"
  ban_threshold             = 20
  ban_window                = "5m"
  ban_duration              = "1h"
}

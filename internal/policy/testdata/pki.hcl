# PKI administration and issuance, after Vault's "Build your own CA"
# tutorial.

# Enable secrets engine
path "sys/mounts/*" {
  capabilities = [ "create", "read", "update", "delete", "list" ]
}

# List enabled secrets engine
path "sys/mounts" {
  capabilities = [ "read", "list" ]
}

# Work with pki secrets engine
path "pki*" {
  capabilities = [ "create", "read", "update", "delete", "list", "sudo", "patch" ]
}

# Issuers may only issue for example.com names with bounded TTLs
path "pki_int/issue/example-dot-com" {
  capabilities = ["update"]
  allowed_parameters = {
    "common_name" = ["*.example.com", "example.com"]
    "alt_names"   = ["*.example.com"]
    "ttl"         = ["24h", "72h"]
    "*"           = []
  }
  required_parameters = ["common_name"]
}

# Nobody may sign intermediates through this policy
path "pki/root/sign-intermediate" {
  capabilities = ["deny"]
}

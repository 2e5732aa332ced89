# Policy for a CI system that manages AppRole roles and fetches
# credentials for them, plus the policy the application's token gets.

# Manage the AppRole auth method's roles
path "auth/approle/role/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Read the RoleID of any role
path "auth/approle/role/+/role-id" {
  capabilities = ["read"]
}

# Generate SecretIDs, but only response-wrapped and short-lived
path "auth/approle/role/+/secret-id" {
  capabilities      = ["update"]
  min_wrapping_ttl  = "100s"
  max_wrapping_ttl  = 300
}

# Only allow setting safe fields on roles
path "auth/approle/role/jenkins" {
  capabilities = ["create", "update"]
  allowed_parameters = {
    "token_policies"     = ["jenkins", "default"]
    "token_ttl"          = []
    "token_max_ttl"      = []
    "secret_id_num_uses" = []
  }
  denied_parameters = {
    "bind_secret_id" = [false]
  }
}

# The application may read its own secrets
path "secret/data/jenkins/*" {
  capabilities = ["read"]
}

# Legacy syntax still used by older deployments
path "secret/legacy/jenkins" {
  policy = "read"
}

# Per-user secrets with identity templating: each entity gets its own
# subtree, and group members share a team subtree.
path "secret/data/{{identity.entity.id}}/*" {
  capabilities = ["create", "update", "patch", "read", "delete"]
}

path "secret/metadata/{{identity.entity.id}}/*" {
  capabilities = ["list"]
}

path "secret/data/teams/{{identity.groups.names.ops.id}}/*" {
  capabilities = ["read"]
}

path "secret/data/users/{{ identity.entity.aliases.auth_userpass_6671d643.name }}" {
  capabilities = ["read", "update"]
}

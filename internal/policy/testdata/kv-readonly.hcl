# Read-only access to one application's secrets in a KV v2 engine at
# secret/. Data lives under secret/data/, listings under secret/metadata/.
path "secret/data/webapp/*" {
  capabilities = ["read"]
}

path "secret/metadata/webapp/*" {
  capabilities = ["read", "list"]
}

# Allow listing the top of the mount so the UI can navigate.
path "secret/metadata/" {
  capabilities = ["list"]
}

# Never allow reading the production database credentials.
path "secret/data/webapp/prod/db" {
  capabilities = ["deny"]
}

package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/passpolicy"
	"github.com/cofferdev/coffer/internal/storage"
)

// passwordPolicyPath holds password policies, one barrier entry each (the
// policy text as written).
const passwordPolicyPath = "sys/password-policy/"

var passwordPolicyName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// ErrUnknownPasswordPolicy is returned when a named password policy does
// not exist.
var ErrUnknownPasswordPolicy = errors.New("core: unknown password policy")

// passwordPolicyPaths serve sys/policies/password: Vault's password
// policies, used by engines (database password_policy) and by clients
// through .../generate.
func (c *Core) passwordPolicyPaths() []*logical.Path {
	name := map[string]*logical.Field{
		"policy": {Type: logical.TypeString, Description: "the policy in HCL: length and charset rules"},
	}
	return []*logical.Path{
		{Pattern: "policies/password/?", Help: "list password policies",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ListOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					keys, err := c.barrier.List(ctx, passwordPolicyPath)
					if err != nil {
						return nil, err
					}
					return logical.ListResponse(keys), nil
				}})},
		{Pattern: "policies/password/(?P<name>[^/]+)/generate", Help: "generate a password from a policy",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					pw, err := c.GeneratePassword(ctx, d.String("name"))
					if err != nil {
						return nil, err
					}
					return logical.DataResponse(map[string]any{"password": pw}), nil
				}})},
		{Pattern: "policies/password/(?P<name>[^/]+)", Fields: name, Help: "write, read or delete a password policy",
			Operations: ops(map[logical.Operation]logical.Handler{
				logical.ReadOperation:   c.readPasswordPolicy,
				logical.UpdateOperation: c.writePasswordPolicy,
				logical.DeleteOperation: func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
					if err := c.barrier.Delete(ctx, passwordPolicyPath+d.String("name")); err != nil {
						return nil, err
					}
					return &logical.Response{NoContent: true}, nil
				}})},
	}
}

func (c *Core) readPasswordPolicy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	e, err := c.barrier.Get(ctx, passwordPolicyPath+d.String("name"))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{"policy": string(e.Value)}), nil
}

func (c *Core) writePasswordPolicy(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	n := d.String("name")
	if !passwordPolicyName.MatchString(n) {
		return nil, logical.InvalidRequest("invalid password policy name %q", n)
	}
	text := strings.TrimSpace(d.String("policy"))
	if text == "" {
		return nil, logical.InvalidRequest("missing policy text in \"policy\"")
	}
	p, err := passpolicy.Parse(text)
	if err != nil {
		return nil, logical.InvalidRequest("%v", err)
	}
	// Vault checks a policy can actually produce a password before saving it.
	if _, err := p.Generate(); err != nil {
		return nil, err
	}
	if err := c.barrier.Put(ctx, &storage.Entry{Key: passwordPolicyPath + n, Value: []byte(text)}); err != nil {
		return nil, err
	}
	return &logical.Response{NoContent: true}, nil
}

// GeneratePassword generates a password from the named policy.
func (c *Core) GeneratePassword(ctx context.Context, name string) (string, error) {
	if !passwordPolicyName.MatchString(name) {
		return "", logical.InvalidRequest("invalid password policy name %q", name)
	}
	e, err := c.barrier.Get(ctx, passwordPolicyPath+name)
	if errors.Is(err, storage.ErrNotFound) {
		return "", logical.InvalidRequest("%v %q", ErrUnknownPasswordPolicy, name)
	}
	if err != nil {
		return "", err
	}
	p, err := passpolicy.Parse(string(e.Value))
	if err != nil {
		return "", fmt.Errorf("core: stored password policy %q: %w", name, err)
	}
	return p.Generate()
}

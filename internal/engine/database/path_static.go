package database

import (
	"context"
	"log/slog"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
)

// minRotationPeriod is Vault's lower bound on rotation_period.
const minRotationPeriod = 5 * time.Second

// staticRole is an existing database user whose password the engine owns
// and rotates every RotationPeriod.
type staticRole struct {
	DBName             string        `json:"db_name"`
	Username           string        `json:"username"`
	RotationPeriod     time.Duration `json:"rotation_period"`
	RotationStatements []string      `json:"rotation_statements"`
	Password           string        `json:"password"`
	LastRotation       time.Time     `json:"last_vault_rotation"`
}

// LogValue keeps the password out of logs.
func (s *staticRole) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", s.Username), slog.String("password", "[REDACTED]"))
}

// String keeps the password out of formatted output.
func (s *staticRole) String() string { return "static role " + s.Username + " [REDACTED]" }

func (b *backend) staticPaths() []*logical.Path {
	return []*logical.Path{
		{Pattern: "static-roles/?", Help: "list static roles",
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: b.listPrefix("static-role/")}},
		{Pattern: "static-roles/(?P<name>[^/]+)", Help: "manage a static role",
			Fields: map[string]*logical.Field{
				"db_name":             {Type: logical.TypeString},
				"username":            {Type: logical.TypeString},
				"rotation_period":     {Type: logical.TypeDuration},
				"rotation_statements": {Type: logical.TypeRaw},
				"credential_type":     {Type: logical.TypeString},
			},
			Existence: func(ctx context.Context, _ *logical.Request, d *logical.FieldData) (bool, error) {
				r, err := getJSON[staticRole](ctx, b.store, "static-role/"+d.String("name"))
				return r != nil, err
			},
			Operations: map[logical.Operation]logical.Handler{
				logical.ReadOperation:   b.staticRead,
				logical.CreateOperation: b.staticWrite,
				logical.UpdateOperation: b.staticWrite,
				logical.DeleteOperation: b.staticDelete,
			}},
		{Pattern: "static-creds/(?P<name>[^/]+)", Help: "read a static role's current password",
			Operations: map[logical.Operation]logical.Handler{logical.ReadOperation: b.staticCreds}},
		{Pattern: "rotate-role/(?P<name>[^/]+)", Help: "rotate a static role's password now",
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: b.rotateRoleHandler}},
	}
}

func (b *backend) staticRead(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := getJSON[staticRole](ctx, b.store, "static-role/"+d.String("name"))
	if err != nil || s == nil {
		return nil, err
	}
	return logical.DataResponse(map[string]any{
		"db_name": s.DBName, "username": s.Username, "rotation_period": int64(s.RotationPeriod.Seconds()),
		"rotation_statements": nonNil(s.RotationStatements), "credential_type": "password",
		"last_vault_rotation": s.LastRotation.Format(time.RFC3339Nano),
	}), nil
}

func (b *backend) staticWrite(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	if !validName(name) {
		return nil, logical.InvalidRequest("invalid role name")
	}
	b.rotMu.Lock()
	defer b.rotMu.Unlock()
	s, err := getJSON[staticRole](ctx, b.store, "static-role/"+name)
	if err != nil {
		return nil, err
	}
	created := s == nil
	if created {
		s = &staticRole{DBName: d.String("db_name"), Username: d.String("username")}
	} else if v, ok := d.GetOk("username"); ok && v.(string) != s.Username {
		return nil, logical.InvalidRequest("cannot update static account username")
	}
	if s.DBName == "" || s.Username == "" {
		return nil, logical.InvalidRequest("db_name and username are required")
	}
	if _, ok := d.GetOk("rotation_period"); ok {
		s.RotationPeriod = d.Duration("rotation_period")
	}
	if s.RotationPeriod < minRotationPeriod {
		return nil, logical.InvalidRequest("rotation_period must be %v or more", minRotationPeriod)
	}
	stmts, ok, err := statementsField(d, "rotation_statements")
	if err != nil {
		return nil, err
	}
	if ok {
		s.RotationStatements = stmts
	}
	if created {
		// As Vault, a new static role takes over the account at once.
		return &logical.Response{NoContent: true}, b.rotateLocked(ctx, name, s)
	}
	return &logical.Response{NoContent: true}, putJSON(ctx, b.store, "static-role/"+name, s)
}

func (b *backend) staticDelete(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	b.rotMu.Lock()
	defer b.rotMu.Unlock()
	return nil, b.store.Delete(ctx, "static-role/"+d.String("name"))
}

func (b *backend) staticCreds(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	s, err := getJSON[staticRole](ctx, b.store, "static-role/"+d.String("name"))
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, logical.InvalidRequest("unknown role: %s", d.String("name"))
	}
	ttl := max(s.LastRotation.Add(s.RotationPeriod).Sub(b.now()), 0)
	return logical.DataResponse(map[string]any{
		"username": s.Username, "password": s.Password,
		"last_vault_rotation": s.LastRotation.Format(time.RFC3339Nano),
		"rotation_period":     int64(s.RotationPeriod.Seconds()), "ttl": int64(ttl.Seconds()),
	}), nil
}

func (b *backend) rotateRoleHandler(ctx context.Context, _ *logical.Request, d *logical.FieldData) (*logical.Response, error) {
	name := d.String("name")
	b.rotMu.Lock()
	defer b.rotMu.Unlock()
	s, err := getJSON[staticRole](ctx, b.store, "static-role/"+name)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, logical.InvalidRequest("unknown role: %s", name)
	}
	return &logical.Response{NoContent: true}, b.rotateLocked(ctx, name, s)
}

// rotateLocked sets a new password on the account and stores it. The caller
// holds rotMu.
func (b *backend) rotateLocked(ctx context.Context, name string, s *staticRole) error {
	c, err := getJSON[dbConfig](ctx, b.store, "config/"+s.DBName)
	if err != nil {
		return err
	}
	if c == nil || !c.allows(name) {
		return logical.InvalidRequest("%q is not an allowed role", name)
	}
	_, p, err := b.pool(ctx, s.DBName)
	if err != nil {
		return err
	}
	password, err := b.newPassword(ctx, c)
	if err != nil {
		return err
	}
	stmts := s.RotationStatements
	if len(stmts) == 0 {
		stmts = defaultRotationStatements
	}
	if err := b.beginRotation(ctx, journalStatic, name, password); err != nil {
		return err
	}
	vars := map[string]string{"name": s.Username, "username": s.Username, "password": password}
	if err := execStatements(ctx, p, stmts, vars); err != nil {
		return dbError("error rotating password of "+s.Username, err)
	}
	s.Password, s.LastRotation = password, b.now()
	return b.commitRotation(ctx, journalStatic, name, "static-role/"+name, s)
}

// rotateDue rotates every static role whose rotation period has elapsed.
// Failures are logged and retried on a later tick.
func (b *backend) rotateDue(ctx context.Context) {
	names, err := b.store.List(ctx, "static-role/")
	if err != nil {
		b.log.Error("database: listing static roles failed", "error", err)
		return
	}
	for _, name := range names {
		b.rotMu.Lock()
		s, err := getJSON[staticRole](ctx, b.store, "static-role/"+name)
		if err == nil && s != nil && !b.now().Before(s.LastRotation.Add(s.RotationPeriod)) {
			err = b.rotateLocked(ctx, name, s)
		}
		b.rotMu.Unlock()
		if err != nil && ctx.Err() == nil {
			b.log.Error("database: static role rotation failed", "role", name, "error", err)
		}
	}
}

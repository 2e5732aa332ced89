package approle

import (
	"context"
	"testing"
	"time"

	"github.com/cofferdev/coffer/internal/logical"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"github.com/cofferdev/coffer/internal/storage"
)

// env is an AppRole backend driven as the core drives it, with a settable
// clock.
type env struct {
	*logicaltest.Harness
	t     testing.TB
	b     *Backend
	clock *logicaltest.Clock
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{Harness: logicaltest.New(t, "auth/approle/"), t: t,
		clock: logicaltest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	e.open()
	return e
}

// open builds a new backend over the env's storage, as an unseal would,
// and sends the following requests to it.
func (e *env) open() {
	e.t.Helper()
	b, err := New(e.Config(), Options{Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	e.b, e.Backend = b, b
}

// roleID reads a role's role ID.
func (e *env) roleID(name string) string {
	e.t.Helper()
	return e.Must(logical.ReadOperation, "role/"+name+"/role-id", nil).Data["role_id"].(string)
}

// secretID generates a secret ID for a role and returns it and its accessor.
func (e *env) secretID(name string, data map[string]any) (string, string) {
	e.t.Helper()
	resp := e.Must(logical.UpdateOperation, "role/"+name+"/secret-id", data)
	return resp.Data["secret_id"].(string), resp.Data["secret_id_accessor"].(string)
}

// login logs in from addr.
func (e *env) login(addr, roleID, secret string) (*logical.Response, error) {
	data := map[string]any{"role_id": roleID}
	if secret != "" {
		data["secret_id"] = secret
	}
	return e.DoFrom(addr, logical.UpdateOperation, "login", data)
}

// slowStorage delays every Get after reading, to widen the window between a
// read and the write that follows it in concurrency tests.
type slowStorage struct{ storage.Backend }

func (s slowStorage) Get(ctx context.Context, key string) (*storage.Entry, error) {
	e, err := s.Backend.Get(ctx, key)
	time.Sleep(time.Millisecond)
	return e, err
}

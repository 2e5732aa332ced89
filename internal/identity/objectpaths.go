package identity

import (
	"context"
	"fmt"

	"github.com/cofferdev/coffer/internal/logical"
)

// objectHandlers serve one kind of identity object (entities or groups),
// each built for the by-ID paths (byID true) or the by-name paths.
type objectHandlers struct {
	list, read, write, delete func(byID bool) logical.Handler
}

// objectPaths declares the paths Vault serves for one kind of object under
// kind/: LIST kind/name and kind/id, read/write/delete of kind/name/:name
// and kind/id/:id, and POST kind, which updates the object with the given
// id (an error if there is none), else the one with the given name, else
// creates one. noun names one object in help texts ("an entity").
func objectPaths(kind, noun string, fields func() map[string]*logical.Field, h objectHandlers) []*logical.Path {
	register := func(ctx context.Context, req *logical.Request, d *logical.FieldData) (*logical.Response, error) {
		return h.write(d.String("id") != "")(ctx, req, d)
	}
	one := func(byID bool) map[logical.Operation]logical.Handler {
		return map[logical.Operation]logical.Handler{
			logical.ReadOperation:   h.read(byID),
			logical.UpdateOperation: h.write(byID),
			logical.DeleteOperation: h.delete(byID),
		}
	}
	return []*logical.Path{
		{
			Pattern:    kind + `/name/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: h.list(false)},
			Help:       fmt.Sprintf("List %s names.", kind),
		},
		{
			Pattern:    fmt.Sprintf(kind+`/name/`+seg, "name"),
			Fields:     fields(),
			Operations: one(false),
			Help:       fmt.Sprintf("Create, read, update or delete %s by name.", noun),
		},
		{
			Pattern:    kind + `/id/?`,
			Operations: map[logical.Operation]logical.Handler{logical.ListOperation: h.list(true)},
			Help:       fmt.Sprintf("List %s IDs.", kind),
		},
		{
			Pattern:    fmt.Sprintf(kind+`/id/`+seg, "id"),
			Fields:     fields(),
			Operations: one(true),
			Help:       fmt.Sprintf("Read, update or delete %s by ID.", noun),
		},
		{
			Pattern:    kind,
			Fields:     fields(),
			Operations: map[logical.Operation]logical.Handler{logical.UpdateOperation: register},
			Help:       fmt.Sprintf("Create %s, or update the one with the given id or name.", noun),
		},
	}
}

package policy_test

import (
	"os"
	"testing"

	"github.com/cofferdev/coffer/internal/policy"
)

func TestRender(t *testing.T) {
	text, err := os.ReadFile("testdata/templated.hcl")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, "tpl", string(text))
	full := &policy.Identity{
		EntityID: "ent-1", EntityName: "alice",
		Aliases: []policy.Alias{{MountAccessor: "auth_userpass_6671d643", Name: "alice-up"}},
		Groups:  []policy.Group{{ID: "grp-9", Name: "ops"}},
	}
	tests := []struct {
		name string
		id   *policy.Identity
		op   string
		path string
		want bool
	}{
		{"entity id", full, "update", "secret/data/ent-1/x", true},
		{"other entity", full, "update", "secret/data/ent-2/x", false},
		{"metadata list", full, "list", "secret/metadata/ent-1/", true},
		{"group id", full, "read", "secret/data/teams/grp-9/db", true},
		{"alias name with spaces in template", full, "read", "secret/data/users/alice-up", true},
		{"no identity", nil, "update", "secret/data/ent-1/x", false},
		{"no group", &policy.Identity{EntityID: "ent-1"}, "read", "secret/data/teams/grp-9/db", false},
		{"no group keeps other rules", &policy.Identity{EntityID: "ent-1"}, "update", "secret/data/ent-1/x", true},
		{"wildcard in value is dropped", &policy.Identity{EntityID: "*"}, "update", "secret/data/x/y", false},
		{"plus segment in value is dropped", &policy.Identity{EntityID: "+"}, "update", "secret/data/x/y", false},
		{"template in value is dropped", &policy.Identity{EntityID: "{{identity.entity.name}}"}, "update",
			"secret/data/{{identity.entity.name}}/y", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.Render(tt.id)
			if r.Templated {
				t.Error("rendered policy is still templated")
			}
			a, err := policy.NewACL(r)
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Check(tt.op, tt.path, nil, 0).Allowed; got != tt.want {
				t.Errorf("allowed = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRenderSelectors(t *testing.T) {
	id := &policy.Identity{
		EntityID: "e", EntityName: "n", EntityMetadata: map[string]string{"team": "blue"},
		Aliases: []policy.Alias{{MountAccessor: "acc", ID: "aid", Name: "an",
			Metadata: map[string]string{"k": "am"}, CustomMetadata: map[string]string{"c": "cm"}}},
		Groups: []policy.Group{{ID: "gid", Name: "gn", Metadata: map[string]string{"g": "gm"}}},
	}
	tests := []struct {
		tpl, want string // want "" means the rule is dropped
	}{
		{"{{identity.entity.id}}", "e"},
		{"{{identity.entity.name}}", "n"},
		{"{{identity.entity.metadata.team}}", "blue"},
		{"{{identity.entity.metadata.missing}}", ""},
		{"{{identity.entity.aliases.acc.id}}", "aid"},
		{"{{identity.entity.aliases.acc.name}}", "an"},
		{"{{identity.entity.aliases.acc.metadata.k}}", "am"},
		{"{{identity.entity.aliases.acc.custom_metadata.c}}", "cm"},
		{"{{identity.entity.aliases.other.id}}", ""},
		{"{{identity.groups.ids.gid.name}}", "gn"},
		{"{{identity.groups.names.gn.id}}", "gid"},
		{"{{identity.groups.names.gn.metadata.g}}", "gm"},
		{"{{identity.groups.names.nope.id}}", ""},
		{"{{identity.entity.groups.names}}", ""},
		{"{{time.now}}", ""},
		{"{{identity.entity.id}}-{{identity.entity.name}}", "e-n"},
	}
	for _, tt := range tests {
		t.Run(tt.tpl, func(t *testing.T) {
			p := mustParse(t, "t", `path "s/`+tt.tpl+`" { capabilities = ["read"] }`)
			r := p.Render(id)
			switch {
			case tt.want == "" && len(r.Paths) != 0:
				t.Errorf("rule kept as %q", r.Paths[0].Path)
			case tt.want != "" && (len(r.Paths) != 1 || r.Paths[0].Path != "s/"+tt.want):
				t.Errorf("rendered %+v, want path s/%s", r.Paths, tt.want)
			}
		})
	}
}

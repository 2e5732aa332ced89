package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/hcl/ast"
)

// decoder turns the HCL syntax tree into a Config by hand, so that every
// problem names its file, line and key and unknown keys are errors. It
// checks syntax and types only; semantic rules live in validate.go and run
// on the decoded Config, so configs built in Go get the same checks.
type decoder struct {
	rep *report
	c   *Config
}

// scope is where an attribute sits: key prefixes the source map
// ("listener[1]"), block is how messages name it (`listener "tcp"`).
type scope struct {
	key   string
	block string
}

func (s scope) keyOf(name string) string {
	if s.key == "" {
		return name
	}
	return s.key + "." + name
}

// setter decodes one attribute value into its destination; line is the
// attribute's line, for values (list elements) without a position.
type setter func(n ast.Node, line int) error

// decode parses src and decodes it over Default(). The returned report holds
// the source map that places validation errors.
func decode(filename string, src []byte) (*Config, *report, error) {
	f, err := parse(filename, src)
	if err != nil {
		return nil, nil, err
	}
	list, ok := f.Node.(*ast.ObjectList)
	if !ok {
		return nil, nil, &fieldError{file: filename, msg: "document is not an object"}
	}
	d := &decoder{rep: newReport(filename), c: Default()}
	d.top(list)
	if err := d.rep.err(); err != nil {
		return nil, nil, err
	}
	d.defaults()
	return d.c, d.rep, nil
}

// defaults applies the defaults that depend on what the file set: a
// max_lease_ttl below the default lease TTL, with default_lease_ttl left
// out, lowers the default to it.
func (d *decoder) defaults() {
	c := d.c
	if _, set := d.rep.lines["default_lease_ttl"]; !set && c.MaxLeaseTTL > 0 && c.MaxLeaseTTL < c.DefaultLeaseTTL {
		c.DefaultLeaseTTL = c.MaxLeaseTTL
	}
}

// top decodes the document's top-level items.
func (d *decoder) top(list *ast.ObjectList) {
	c := d.c
	fields := map[string]setter{
		"api_addr":          stringField(&c.APIAddr),
		"cluster_addr":      stringField(&c.ClusterAddr),
		"ui":                boolField(&c.UI),
		"log_level":         stringField(&c.LogLevel),
		"log_format":        stringField(&c.LogFormat),
		"default_lease_ttl": durationField(&c.DefaultLeaseTTL),
		"max_lease_ttl":     durationField(&c.MaxLeaseTTL),
		"disable_mlock":     boolField(&c.DisableMlock),
		"gc_heap_floor":     intField(&c.GCHeapFloor),
	}
	seen := map[string]int{}
	for _, item := range list.Items {
		name, ok := d.name(scope{}, item)
		if !ok {
			continue
		}
		switch name {
		case "storage":
			d.once(item, name, seen, d.storage)
		case "seal":
			d.once(item, name, seen, d.seal)
		case "listener":
			for _, b := range d.blocks(name, item) {
				d.listener(b, len(c.Listeners))
			}
		case "audit":
			for _, b := range d.blocks(name, item) {
				d.audit(b, len(c.Audit))
			}
		case "user_lockout":
			for _, b := range d.blocks(name, item) {
				d.userLockout(b, len(c.UserLockouts))
			}
		case "network":
			d.network(item, seen)
		case "raft_snapshot":
			d.raftSnapshot(item, seen)
		case "plugin_directory", "telemetry":
			d.rep.failAt(itemLine(item), "", name, "not supported by coffer")
		default:
			d.attr(scope{}, name, item, fields, seen)
		}
	}
}

// once decodes the blocks of item with fn, reporting a second declaration
// of a block that may appear only once.
func (d *decoder) once(item *ast.ObjectItem, name string, seen map[string]int, fn func(block)) {
	for _, b := range d.blocks(name, item) {
		if first, dup := seen[name]; dup {
			d.rep.failAt(b.line, "", name, "declared more than once (first at line %d)", first)
			continue
		}
		seen[name] = b.line
		fn(b)
	}
}

// name returns the first key of item.
func (d *decoder) name(sc scope, item *ast.ObjectItem) (string, bool) {
	if len(item.Keys) == 0 {
		d.rep.failAt(itemLine(item), sc.block, "", "item without a key")
		return "", false
	}
	name, err := tokenText(item.Keys[0].Token)
	if err != nil {
		d.rep.failAt(itemLine(item), sc.block, "", "bad key: %s", err.Error())
		return "", false
	}
	return name, true
}

// attr decodes one attribute with its setter from fields, reporting unknown
// and repeated keys.
func (d *decoder) attr(sc scope, name string, item *ast.ObjectItem, fields map[string]setter, seen map[string]int) {
	line := itemLine(item)
	set, ok := fields[name]
	if !ok {
		d.rep.failAt(line, sc.block, name, "unknown key")
		return
	}
	if d.repeated(sc, name, line, seen) {
		return
	}
	d.rep.at(sc.keyOf(name), line)
	if len(item.Keys) > 1 {
		d.rep.failAt(line, sc.block, name, "must be a value, not a block")
		return
	}
	if err := set(item.Val, line); err != nil {
		var le *lineError
		if errors.As(err, &le) {
			line = le.line
		}
		d.rep.failAt(line, sc.block, name, "%s", err.Error())
	}
}

// repeated reports whether name was already set in this block.
func (d *decoder) repeated(sc scope, name string, line int, seen map[string]int) bool {
	if first, dup := seen[name]; dup {
		d.rep.failAt(line, sc.block, name, "set more than once (first at line %d)", first)
		return true
	}
	seen[name] = line
	return false
}

// body decodes the attributes of a block: keys in fields with their
// setters, keys in blocks (nested blocks such as retry_join) with their
// decoder, and every other key into options when options is not nil, or as
// an unknown key when it is.
func (d *decoder) body(sc scope, list *ast.ObjectList, fields map[string]setter,
	blocks map[string]func(*ast.ObjectItem), options map[string]string) {
	seen := map[string]int{}
	for _, item := range list.Items {
		name, ok := d.name(sc, item)
		if !ok {
			continue
		}
		if fn, ok := blocks[name]; ok {
			fn(item)
			continue
		}
		if _, ok := fields[name]; ok || options == nil {
			d.attr(sc, name, item, fields, seen)
			continue
		}
		d.attr(sc, name, item, map[string]setter{name: optionField(options, name)}, seen)
	}
}

// itemLine returns the line of an item: its first key's in HCL, the colon's
// in JSON (whose parser keeps no positions on keys and values).
func itemLine(item *ast.ObjectItem) int {
	if len(item.Keys) > 0 && item.Keys[0].Pos().Line > 0 {
		return item.Keys[0].Pos().Line
	}
	if item.Assign.Line > 0 {
		return item.Assign.Line
	}
	if item.Val != nil {
		return item.Val.Pos().Line
	}
	return 0
}

func stringField(dst *string) setter {
	return func(n ast.Node, _ int) error {
		v, err := asString(n)
		*dst = v
		return err
	}
}

func boolField(dst *bool) setter {
	return func(n ast.Node, _ int) error {
		v, err := asBool(n)
		*dst = v
		return err
	}
}

func intField(dst *int64) setter {
	return func(n ast.Node, _ int) error {
		v, err := asInt(n)
		*dst = v
		return err
	}
}

func durationField(dst *time.Duration) setter {
	return func(n ast.Node, _ int) error {
		v, err := asDuration(n)
		*dst = v
		return err
	}
}

func prefixesField(dst *[]netip.Prefix) setter {
	return func(n ast.Node, line int) error {
		v, err := asPrefixes(n, line)
		*dst = v
		return err
	}
}

func optionField(options map[string]string, name string) setter {
	return func(n ast.Node, _ int) error {
		v, err := asText(n)
		if err == nil {
			options[name] = v
		}
		return err
	}
}

// labelOf returns the text of a block label.
func labelOf(k *ast.ObjectKey) (string, error) {
	s, err := tokenText(k.Token)
	if err != nil {
		return "", fmt.Errorf("bad label: %w", err)
	}
	if s == "" {
		return "", errors.New("empty type label")
	}
	return s, nil
}

// quote formats a block label for messages.
func quote(kind, label string) string {
	return kind + " " + strconv.Quote(label)
}

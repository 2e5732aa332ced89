package config

import (
	"fmt"

	"github.com/hashicorp/hcl/hcl/ast"
)

// block is one labeled block: `listener "tcp" { ... }`.
type block struct {
	label string
	line  int
	body  *ast.ObjectList
}

// blocks expands item into its labeled blocks. HCL writes
// `listener "tcp" { ... }`; the same can be nested as
// `listener { tcp { ... } }`, and the JSON parser flattens
// {"listener": {"tcp": {...}}} and lists of such objects into keys
// [listener tcp]. Keys after the label become a nested item of the body,
// which is how JSON spells a block whose only content is one block.
func (d *decoder) blocks(name string, item *ast.ObjectItem) []block {
	line := itemLine(item)
	if len(item.Keys) >= 2 {
		b, err := labeled(item.Keys[1], item.Keys[2:], item, line)
		if err != nil {
			d.rep.failAt(line, "", name, "%s", err.Error())
			return nil
		}
		return []block{b}
	}
	ot, ok := item.Val.(*ast.ObjectType)
	if !ok {
		d.rep.failAt(line, "", name, `must be a block such as %s "type" { ... }`, name)
		return nil
	}
	if ot.List == nil || len(ot.List.Items) == 0 {
		d.rep.failAt(line, "", name, `missing type label, as in %s "type" { ... }`, name)
		return nil
	}
	var out []block
	for _, inner := range ot.List.Items {
		innerLine := itemLine(inner)
		if innerLine == 0 {
			innerLine = line
		}
		_, isBlock := inner.Val.(*ast.ObjectType)
		if len(inner.Keys) == 0 || (len(inner.Keys) == 1 && !isBlock) {
			d.rep.failAt(innerLine, "", name, `missing type label, as in %s "type" { ... }`, name)
			continue
		}
		b, err := labeled(inner.Keys[0], inner.Keys[1:], inner, innerLine)
		if err != nil {
			d.rep.failAt(innerLine, "", name, "%s", err.Error())
			continue
		}
		out = append(out, b)
	}
	return out
}

// labeled builds the block with the given label key; rest are the keys
// between the label and item's value.
func labeled(labelKey *ast.ObjectKey, rest []*ast.ObjectKey, item *ast.ObjectItem, line int) (block, error) {
	label, err := labelOf(labelKey)
	if err != nil {
		return block{}, err
	}
	b := block{label: label, line: line}
	if l := labelKey.Pos().Line; l > 0 {
		b.line = l
	}
	if len(rest) > 0 {
		nested := &ast.ObjectItem{Keys: rest, Assign: item.Assign, Val: item.Val}
		b.body = &ast.ObjectList{Items: []*ast.ObjectItem{nested}}
		return b, nil
	}
	ot, ok := item.Val.(*ast.ObjectType)
	if !ok {
		return block{}, fmt.Errorf("%q must be a block, not %s", label, nodeKind(item.Val))
	}
	b.body = ot.List
	if b.body == nil {
		b.body = &ast.ObjectList{}
	}
	return b, nil
}

// storage decodes the storage block: any attribute is an option (checked
// against the type's table by validate), retry_join is a nested block.
func (d *decoder) storage(b block) {
	s := &d.c.Storage
	s.Type, s.Options = b.label, map[string]string{}
	sc := scope{key: "storage", block: quote("storage", b.label)}
	d.rep.at(sc.key, b.line)
	join := func(item *ast.ObjectItem) { d.retryJoin(sc, item) }
	d.body(sc, b.body, nil, map[string]func(*ast.ObjectItem){"retry_join": join}, s.Options)
}

// retryJoin decodes one retry_join block of the storage block.
func (d *decoder) retryJoin(parent scope, item *ast.ObjectItem) {
	line := itemLine(item)
	s := &d.c.Storage
	sc := scope{
		key:   fmt.Sprintf("storage.retry_join[%d]", len(s.RetryJoin)),
		block: parent.block + ": retry_join",
	}
	ot, ok := item.Val.(*ast.ObjectType)
	if len(item.Keys) != 1 || !ok {
		d.rep.failAt(line, parent.block, "retry_join", "must be a block without a label: retry_join { ... }")
		return
	}
	d.rep.at(sc.key, line)
	var rj RetryJoin
	fields := map[string]setter{
		"leader_api_addr":         stringField(&rj.LeaderAPIAddr),
		"leader_ca_cert_file":     stringField(&rj.LeaderCACertFile),
		"leader_client_cert_file": stringField(&rj.LeaderClientCertFile),
		"leader_client_key_file":  stringField(&rj.LeaderClientKeyFile),
		"auto_join_dns":           stringField(&rj.AutoJoinDNS),
		"auto_join_scheme":        stringField(&rj.AutoJoinScheme),
		"auto_join_port":          intField(&rj.AutoJoinPort),
	}
	list := ot.List
	if list == nil {
		list = &ast.ObjectList{}
	}
	d.body(sc, list, fields, nil, nil)
	s.RetryJoin = append(s.RetryJoin, rj)
}

// seal decodes the seal block into a generic options map.
func (d *decoder) seal(b block) {
	s := &Seal{Type: b.label, Options: map[string]string{}}
	sc := scope{key: "seal", block: quote("seal", b.label)}
	d.rep.at(sc.key, b.line)
	d.body(sc, b.body, nil, nil, s.Options)
	d.c.Seal = s
}

// audit decodes the i-th audit block; Name defaults to the type.
func (d *decoder) audit(b block, i int) {
	a := Audit{Type: b.label, Options: map[string]string{}}
	sc := scope{key: fmt.Sprintf("audit[%d]", i), block: quote("audit", b.label)}
	d.rep.at(sc.key, b.line)
	d.body(sc, b.body, map[string]setter{"name": stringField(&a.Name)}, nil, a.Options)
	if a.Name == "" {
		a.Name = a.Type
	}
	d.c.Audit = append(d.c.Audit, a)
}

// listener decodes the i-th listener block over DefaultListener.
func (d *decoder) listener(b block, i int) {
	l := DefaultListener()
	l.Type = b.label
	sc := scope{key: fmt.Sprintf("listener[%d]", i), block: quote("listener", b.label)}
	d.rep.at(sc.key, b.line)
	fields := map[string]setter{
		"address":                               stringField(&l.Address),
		"tls_disable":                           boolField(&l.TLSDisable),
		"tls_cert_file":                         stringField(&l.TLSCertFile),
		"tls_key_file":                          stringField(&l.TLSKeyFile),
		"tls_min_version":                       stringField(&l.TLSMinVersion),
		"tls_client_ca_file":                    stringField(&l.TLSClientCAFile),
		"tls_require_and_verify_client_cert":    boolField(&l.TLSRequireAndVerifyClientCert),
		"redirect_address":                      stringField(&l.RedirectAddress),
		"cluster_address":                       stringField(&l.ClusterAddress),
		"max_request_size":                      intField(&l.MaxRequestSize),
		"max_request_duration":                  durationField(&l.MaxRequestDuration),
		"x_forwarded_for_authorized_addrs":      prefixesField(&l.XForwardedForAuthorizedAddrs),
		"allowed_cidrs":                         prefixesField(&l.AllowedCIDRs),
		"x_forwarded_for_hop_skips":             intField(&l.XForwardedForHopSkips),
		"x_forwarded_for_reject_not_authorized": boolField(&l.XForwardedForRejectNotAuthorized),
		"x_forwarded_for_reject_not_present":    boolField(&l.XForwardedForRejectNotPresent),
	}
	rule := func(item *ast.ObjectItem) { d.pathRules(sc, item, &l) }
	d.body(sc, b.body, fields, map[string]func(*ast.ObjectItem){"path_rule": rule}, nil)
	d.c.Listeners = append(d.c.Listeners, l)
}

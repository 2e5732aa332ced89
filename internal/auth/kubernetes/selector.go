package kubernetes

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxSelectorLen bounds a bound_service_account_namespace_selector.
const maxSelectorLen = 16 << 10

// labelSelector is a Kubernetes metav1.LabelSelector, as a role's
// bound_service_account_namespace_selector gives it in JSON or YAML.
type labelSelector struct {
	MatchLabels      map[string]string  `yaml:"matchLabels"`
	MatchExpressions []labelRequirement `yaml:"matchExpressions"`
}

// labelRequirement is one entry of matchExpressions.
type labelRequirement struct {
	Key      string   `yaml:"key"`
	Operator string   `yaml:"operator"`
	Values   []string `yaml:"values"`
}

// Label selector operators.
const (
	opIn           = "In"
	opNotIn        = "NotIn"
	opExists       = "Exists"
	opDoesNotExist = "DoesNotExist"
)

// parseSelector parses a JSON or YAML label selector and checks it as the
// API server would: known fields only, In/NotIn with values,
// Exists/DoesNotExist without.
func parseSelector(s string) (*labelSelector, error) {
	if len(s) > maxSelectorLen {
		return nil, errors.New("selector too long")
	}
	dec := yaml.NewDecoder(strings.NewReader(s))
	dec.KnownFields(true)
	var sel labelSelector
	if err := dec.Decode(&sel); err != nil {
		return nil, errors.New("not a JSON or YAML label selector with matchLabels and matchExpressions")
	}
	for i, r := range sel.MatchExpressions {
		if r.Key == "" {
			return nil, fmt.Errorf("matchExpressions[%d]: empty key", i)
		}
		switch r.Operator {
		case opIn, opNotIn:
			if len(r.Values) == 0 {
				return nil, fmt.Errorf("matchExpressions[%d]: %s needs values", i, r.Operator)
			}
		case opExists, opDoesNotExist:
			if len(r.Values) != 0 {
				return nil, fmt.Errorf("matchExpressions[%d]: %s takes no values", i, r.Operator)
			}
		default:
			return nil, fmt.Errorf("matchExpressions[%d]: unknown operator %q", i, r.Operator)
		}
	}
	return &sel, nil
}

// matches reports whether labels satisfy every requirement; an empty
// selector matches every namespace, as in Kubernetes.
func (sel *labelSelector) matches(labels map[string]string) bool {
	for k, v := range sel.MatchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range sel.MatchExpressions {
		v, ok := labels[r.Key]
		switch r.Operator {
		case opIn:
			if !ok || !slices.Contains(r.Values, v) {
				return false
			}
		case opNotIn:
			if ok && slices.Contains(r.Values, v) {
				return false
			}
		case opExists:
			if !ok {
				return false
			}
		case opDoesNotExist:
			if ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}

package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// durationFlag is a flag holding a duration the way Vault writes them:
// seconds ("90"), a Go duration ("1h30m") or days ("7d"). The text is sent
// to the server as given, after it was checked here.
type durationFlag struct{ text string }

func (d *durationFlag) String() string { return d.text }

func (d *durationFlag) Type() string { return "duration" }

func (d *durationFlag) Set(s string) error {
	if _, err := parseDuration(s); err != nil {
		return err
	}
	d.text = s
	return nil
}

// parseDuration accepts seconds, "<n>d" or a Go duration; negatives are
// rejected.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q: want seconds, 1h30m or 7d", s)
	}
	return d, nil
}

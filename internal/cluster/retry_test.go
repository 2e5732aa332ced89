package cluster

import (
	"context"
	"errors"
	"github.com/cofferdev/coffer/internal/logical/logicaltest"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fastBackoff keeps tests quick; the shape is the same.
var fastBackoff = backoff{initial: time.Millisecond, max: 4 * time.Millisecond}

func TestRetryLoop(t *testing.T) {
	secret := "SECRET-CLIENT-KEY"
	leaders := []Leader{
		{APIAddr: "https://n1:8200", ClientKeyPEM: []byte(secret)},
		{APIAddr: "https://n2:8200", ClientKeyPEM: []byte(secret)},
	}
	tests := []struct {
		name string
		// acceptAt is the call number (from 1) at which try succeeds; 0 never.
		acceptAt   int
		targetsErr error
		wantCalls  []string
		wantLog    []string
	}{
		{name: "first leader accepts", acceptAt: 1, wantCalls: []string{"n1"}, wantLog: []string{"joined"}},
		{name: "second leader accepts", acceptAt: 2, wantCalls: []string{"n1", "n2"},
			wantLog: []string{"leader did not accept", "https://n1:8200", "refused 1"}},
		{name: "next round", acceptAt: 5, wantCalls: []string{"n1", "n2", "n1", "n2", "n1"},
			wantLog: []string{"retrying", "refused 4"}},
		{name: "targets error still tries what it got", acceptAt: 1, targetsErr: errors.New("dns down"),
			wantCalls: []string{"n1"}, wantLog: []string{"dns down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logicaltest.LogBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			var calls []string
			targets := func(context.Context) ([]Leader, error) { return leaders, tt.targetsErr }
			try := func(_ context.Context, l Leader) error {
				calls = append(calls, strings.TrimSuffix(strings.TrimPrefix(l.APIAddr, "https://"), ":8200"))
				if len(calls) == tt.acceptAt {
					return nil
				}
				return errors.New("refused " + string(rune('0'+len(calls))))
			}
			err := retryLoop(context.Background(), targets, try, logger, fastBackoff)
			if err != nil {
				t.Fatalf("retryLoop = %v", err)
			}
			if strings.Join(calls, ",") != strings.Join(tt.wantCalls, ",") {
				t.Errorf("calls = %v, want %v", calls, tt.wantCalls)
			}
			out := logs.String()
			for _, w := range tt.wantLog {
				if !strings.Contains(out, w) {
					t.Errorf("log lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, secret) {
				t.Errorf("log shows the client key:\n%s", out)
			}
		})
	}
}

func TestRetryLoopStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	rounds := 0
	targets := func(context.Context) ([]Leader, error) {
		rounds++
		if rounds == 3 {
			cancel()
		}
		return nil, nil // nothing to try: back off
	}
	try := func(context.Context, Leader) error { t.Error("try called without targets"); return nil }
	err := retryLoop(ctx, targets, try, nil, fastBackoff)
	if !errors.Is(err, context.Canceled) || rounds != 3 {
		t.Errorf("retryLoop = %v after %d rounds, want context.Canceled after 3", err, rounds)
	}

	// The exported loop honours an already-ended context at once.
	err = RetryLoop(ctx, targets, try, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("RetryLoop(done ctx) = %v", err)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := backoff{initial: time.Second, max: 30 * time.Second}
	tests := []struct {
		round int
		max   time.Duration
	}{
		{0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {4, 16 * time.Second},
		{5, 30 * time.Second}, {50, 30 * time.Second},
	}
	for _, tt := range tests {
		for range 20 {
			d := b.delay(tt.round)
			if d < tt.max/2 || d > tt.max {
				t.Errorf("delay(%d) = %v, want within [%v, %v]", tt.round, d, tt.max/2, tt.max)
			}
		}
	}
}

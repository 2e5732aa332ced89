package cluster

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Back-off of RetryLoop between rounds over every target.
const (
	retryInitial = time.Second
	retryMax     = 30 * time.Second
)

// backoff is a doubling delay with jitter.
type backoff struct {
	initial, max time.Duration
}

// delay returns the wait after the n-th failed round (n from 0): initial
// doubled n times, capped at max, then drawn uniformly from its upper half
// so nodes started together do not retry in step.
func (b backoff) delay(n int) time.Duration {
	d := b.initial
	for i := 0; i < n && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	half := d / 2
	return half + rand.N(half+1)
}

// RetryLoop tries to join until it succeeds or ctx ends. Each round it asks
// targets for the leaders to try (so DNS is resolved afresh) and calls try
// on each in turn; the first nil from try ends the loop with nil. After a
// round where every try failed it waits (1 s, doubling up to 30 s, with
// jitter). Each failure is logged at info with the leader's address and the
// error. When ctx ends, RetryLoop returns ctx's error.
func RetryLoop(ctx context.Context, targets func(ctx context.Context) ([]Leader, error),
	try func(ctx context.Context, l Leader) error, logger *slog.Logger) error {
	return retryLoop(ctx, targets, try, logger, backoff{initial: retryInitial, max: retryMax})
}

func retryLoop(ctx context.Context, targets func(ctx context.Context) ([]Leader, error),
	try func(ctx context.Context, l Leader) error, logger *slog.Logger, b backoff) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for round := 0; ; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if joinRound(ctx, targets, try, logger) {
			return nil
		}
		wait := b.delay(round)
		logger.InfoContext(ctx, "raft join: no leader accepted, retrying", "round", round+1, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// joinRound tries every target once and reports whether one accepted.
func joinRound(ctx context.Context, targets func(ctx context.Context) ([]Leader, error),
	try func(ctx context.Context, l Leader) error, logger *slog.Logger) bool {
	leaders, err := targets(ctx)
	if err != nil {
		logger.InfoContext(ctx, "raft join: finding leaders", "error", err)
	}
	for _, l := range leaders {
		if ctx.Err() != nil {
			return false
		}
		err := try(ctx, l)
		if err == nil {
			logger.InfoContext(ctx, "raft join: joined", "leader", l.APIAddr)
			return true
		}
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return false
		}
		logger.InfoContext(ctx, "raft join: leader did not accept", "leader", l.APIAddr, "error", err)
	}
	return false
}

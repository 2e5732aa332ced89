package httpapi

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

func TestLazyDeadlineBeforeAndAfterTheDeadline(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	ctx, release := withLazyDeadline(parent, 20*time.Millisecond)
	defer release()
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err before the deadline = %v", err)
	}
	if got := ctx.Value(ctxKey{}); got != "v" {
		t.Fatalf("Value = %v, want the parent's", got)
	}
	dl, ok := ctx.Deadline()
	if !ok || time.Until(dl) > 20*time.Millisecond {
		t.Fatalf("Deadline = %v, %v", dl, ok)
	}
	// Nothing asked for Done: the deadline still shows in Err.
	time.Sleep(time.Until(dl) + time.Millisecond)
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline = %v, want DeadlineExceeded", err)
	}
	// Asked for late, Done is already closed.
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not close after the deadline")
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err once armed = %v, want DeadlineExceeded", err)
	}
}

func TestLazyDeadlineDoneClosesAtTheDeadline(t *testing.T) {
	ctx, release := withLazyDeadline(context.Background(), 20*time.Millisecond)
	defer release()
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a child of the lazy deadline did not end with it")
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		t.Fatalf("Err = %v, Cause = %v, want DeadlineExceeded", ctx.Err(), context.Cause(ctx))
	}
}

func TestLazyDeadlineParentEnds(t *testing.T) {
	parent, cancelParent := context.WithCancel(context.Background())
	ctx, release := withLazyDeadline(parent, time.Hour)
	defer release()
	cancelParent()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err after the parent ended = %v, want Canceled", ctx.Err())
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done did not close with the parent")
	}
}

func TestLazyDeadlineTakesTheParentsEarlierDeadline(t *testing.T) {
	parent, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want, _ := parent.Deadline()
	ctx, release := withLazyDeadline(parent, time.Hour)
	defer release()
	if got, _ := ctx.Deadline(); !got.Equal(want) {
		t.Fatalf("Deadline = %v, want the parent's %v", got, want)
	}
}

func TestLazyDeadlineRelease(t *testing.T) {
	for _, armed := range []bool{false, true} {
		ctx, release := withLazyDeadline(context.Background(), time.Hour)
		var child context.Context
		if armed {
			var cancel context.CancelFunc
			child, cancel = context.WithCancel(ctx)
			defer cancel()
		}
		release()
		release() // twice is harmless
		if !errors.Is(ctx.Err(), context.Canceled) {
			t.Fatalf("armed=%v: Err after release = %v, want Canceled", armed, ctx.Err())
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("armed=%v: Done open after release", armed)
		}
		if armed {
			select {
			case <-child.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("a child outlived release")
			}
		}
	}
}

// TestLazyDeadlineAfterReleaseStaysCanceled: ended before its deadline, the
// context says Canceled for good, as context.WithDeadline's does.
func TestLazyDeadlineAfterReleaseStaysCanceled(t *testing.T) {
	ctx, release := withLazyDeadline(context.Background(), 10*time.Millisecond)
	release()
	time.Sleep(20 * time.Millisecond)
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v, want Canceled", ctx.Err())
	}
	// Armed only now, after its deadline: still Canceled, Done closed.
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err once armed after release and deadline = %v, want Canceled", ctx.Err())
	}
}

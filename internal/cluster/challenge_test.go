package cluster

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Challenges.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestChallenges() (*Challenges, *fakeClock) {
	clock := &fakeClock{now: time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)}
	c := NewChallenges()
	c.now = clock.Now
	return c, clock
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestChallengeRoundTrip(t *testing.T) {
	c, _ := newTestChallenges()
	root := randomKey(t)
	sealed, err := c.New("node-2", root)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != sealedChallengeSize {
		t.Errorf("sealed challenge is %d bytes, want %d", len(sealed), sealedChallengeSize)
	}
	answer, err := OpenChallenge(sealed, root, "node-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(answer) != ChallengeSize || bytes.Contains(sealed, answer) {
		t.Fatalf("answer has %d bytes or appears in the clear", len(answer))
	}
	if err := c.Check("node-2", answer); err != nil {
		t.Fatalf("Check(right answer) = %v", err)
	}
	if err := c.Check("node-2", answer); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("second Check = %v, want ErrBadAnswer (single use)", err)
	}
}

func TestOpenChallengeRefuses(t *testing.T) {
	c, _ := newTestChallenges()
	root := randomKey(t)
	sealed, err := c.New("node-2", root)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[20] ^= 1
	tests := []struct {
		name     string
		sealed   []byte
		root     []byte
		serverID string
		want     error
	}{
		{"other root key", sealed, randomKey(t), "node-2", ErrChallenge},
		{"other server id", sealed, root, "node-3", ErrChallenge},
		{"flipped bit", flipped, root, "node-2", ErrChallenge},
		{"truncated", sealed[:len(sealed)-1], root, "node-2", ErrChallenge},
		{"empty", nil, root, "node-2", ErrChallenge},
		{"short root key", sealed, root[:8], "node-2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer, err := OpenChallenge(tt.sealed, tt.root, tt.serverID)
			if err == nil || answer != nil {
				t.Fatalf("OpenChallenge = %x, nil; want an error", answer)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestChallengeCheck(t *testing.T) {
	root := randomKey(t)
	tests := []struct {
		name string
		// act runs between New("node-2") and Check("node-2", answer) and may
		// change the answer.
		act  func(t *testing.T, c *Challenges, clock *fakeClock, answer []byte) []byte
		want error
	}{
		{"right answer", func(_ *testing.T, _ *Challenges, _ *fakeClock, a []byte) []byte { return a }, nil},
		{"just before expiry", func(_ *testing.T, _ *Challenges, clock *fakeClock, a []byte) []byte {
			clock.Advance(ChallengeTTL - time.Second)
			return a
		}, nil},
		{"expired", func(_ *testing.T, _ *Challenges, clock *fakeClock, a []byte) []byte {
			clock.Advance(ChallengeTTL)
			return a
		}, ErrBadAnswer},
		{"wrong answer", func(_ *testing.T, _ *Challenges, _ *fakeClock, a []byte) []byte {
			b := bytes.Clone(a)
			b[0] ^= 1
			return b
		}, ErrBadAnswer},
		{"short answer", func(_ *testing.T, _ *Challenges, _ *fakeClock, a []byte) []byte { return a[:16] }, ErrBadAnswer},
		{"empty answer", func(*testing.T, *Challenges, *fakeClock, []byte) []byte { return nil }, ErrBadAnswer},
		{"replaced by a newer challenge", func(t *testing.T, c *Challenges, _ *fakeClock, a []byte) []byte {
			if _, err := c.New("node-2", root); err != nil {
				t.Fatal(err)
			}
			return a
		}, ErrBadAnswer},
		{"used up by a wrong guess", func(_ *testing.T, c *Challenges, _ *fakeClock, a []byte) []byte {
			c.Check("node-2", make([]byte, ChallengeSize))
			return a
		}, ErrBadAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, clock := newTestChallenges()
			sealed, err := c.New("node-2", root)
			if err != nil {
				t.Fatal(err)
			}
			answer, err := OpenChallenge(sealed, root, "node-2")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check("node-2", tt.act(t, c, clock, answer))
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestChallengeAnswerIsPerServer(t *testing.T) {
	c, _ := newTestChallenges()
	root := randomKey(t)
	s2, err := c.New("node-2", root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.New("node-3", root); err != nil {
		t.Fatal(err)
	}
	a2, err := OpenChallenge(s2, root, "node-2")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check("node-3", a2); !errors.Is(err, ErrBadAnswer) {
		t.Errorf("node-2's answer for node-3: %v, want ErrBadAnswer", err)
	}
	if err := c.Check("node-2", a2); err != nil {
		t.Errorf("node-2's answer for node-2: %v", err)
	}
}

func TestChallengeLimit(t *testing.T) {
	c, clock := newTestChallenges()
	root := randomKey(t)
	for i := range MaxChallenges {
		if _, err := c.New(fmt.Sprintf("n%d", i), root); err != nil {
			t.Fatalf("challenge %d: %v", i, err)
		}
	}
	if _, err := c.New("one-too-many", root); !errors.Is(err, ErrTooManyChallenges) {
		t.Fatalf("challenge %d: %v, want ErrTooManyChallenges", MaxChallenges+1, err)
	}
	// Replacing a server's own challenge does not need room.
	if _, err := c.New("n0", root); err != nil {
		t.Errorf("replacing n0's challenge: %v", err)
	}
	// Expired challenges make room.
	clock.Advance(ChallengeTTL)
	if _, err := c.New("one-too-many", root); err != nil {
		t.Errorf("after expiry: %v", err)
	}
	if got := c.String(); !strings.Contains(got, "{1 outstanding}") {
		t.Errorf("String() = %q, want every expired one dropped and only the new one left", got)
	}
}

func TestChallengeNewRefuses(t *testing.T) {
	c, _ := newTestChallenges()
	tests := []struct {
		name, id string
		root     []byte
	}{
		{"bad server id", "node/2", randomKey(t)},
		{"long server id", strings.Repeat("n", MaxNodeIDLen+1), randomKey(t)},
		{"no root key", "node-2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if sealed, err := c.New(tt.id, tt.root); err == nil {
				t.Errorf("New = %x, want an error", sealed)
			}
		})
	}
}

func TestChallengesConcurrent(t *testing.T) {
	c, _ := newTestChallenges()
	root := randomKey(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("node-%d", i)
			sealed, err := c.New(id, root)
			if err == nil {
				var answer []byte
				if answer, err = OpenChallenge(sealed, root, id); err == nil {
					err = c.Check(id, answer)
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

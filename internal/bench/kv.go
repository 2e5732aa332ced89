package bench

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cofferdev/coffer/internal/apiclient"
)

// kvUpgradeWait bounds how long Setup retries the first write to a new KV
// v2 mount: Vault answers errors while it upgrades a fresh mount.
const kvUpgradeWait = 15 * time.Second

// kvWorkload reads and writes KV v2 secrets on a mount of its own: every
// request reads (readRatio 1), writes (0) or picks at random.
type kvWorkload struct {
	name      string
	readRatio float64
	p         Params
	mount     string
	paths     []string
	writeBody []byte
}

func newKV(name string, p Params, readRatio float64) *kvWorkload {
	return &kvWorkload{name: name, p: p, readRatio: readRatio}
}

func (w *kvWorkload) Name() string { return w.name }

// Setup mounts KV v2 at a fresh path and writes Keys secrets of
// PayloadBytes each, 16 at a time.
func (w *kvWorkload) Setup(ctx context.Context, c *apiclient.Client) error {
	w.mount = uniqueName("bench-kv-")
	if err := mount(ctx, c, w.mount, "kv", map[string]any{"version": "2"}); err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"data": map[string]string{"value": randomValue(w.p.PayloadBytes)}})
	if err != nil {
		return fmt.Errorf("kv setup: %w", err)
	}
	w.writeBody = body
	w.paths = make([]string, w.p.Keys)
	for i := range w.paths {
		w.paths[i] = w.mount + "/data/key-" + strconv.Itoa(i)
	}
	if err := w.firstWrite(ctx, c); err != nil {
		return err
	}
	return writeAll(ctx, c, w.paths[1:], w.writeBody, 16)
}

// writeAll PUTs body to every path, parallel at a time, and returns the
// first error.
func writeAll(ctx context.Context, c *apiclient.Client, paths []string, body []byte, parallel int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		sem      = make(chan struct{}, parallel)
	)
	for _, p := range paths {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := c.DoRaw(ctx, http.MethodPut, p, body, nil, nil); err != nil {
				once.Do(func() { firstErr = fmt.Errorf("kv setup: %w", err); cancel() })
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// firstWrite writes the first key, retrying while a fresh mount upgrades.
func (w *kvWorkload) firstWrite(ctx context.Context, c *apiclient.Client) error {
	deadline := time.Now().Add(kvUpgradeWait)
	for {
		err := c.DoRaw(ctx, http.MethodPut, w.paths[0], w.writeBody, nil, nil)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("kv setup: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (w *kvWorkload) Next(rng *mrand.Rand, _ uint64) Op {
	i := 0
	if len(w.paths) > 1 {
		i = rng.IntN(len(w.paths))
	}
	read := w.readRatio >= 1 || (w.readRatio > 0 && rng.Float64() < w.readRatio)
	if read {
		return Op{Method: http.MethodGet, Path: w.paths[i]}
	}
	return Op{Method: http.MethodPut, Path: w.paths[i], Body: w.writeBody}
}

// Cleanup unmounts the workload's mount, which deletes every secret on it.
func (w *kvWorkload) Cleanup(ctx context.Context, c *apiclient.Client) error {
	return unmount(ctx, c, w.mount)
}

package barrier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
)

// pathKeyKeys are written before a keyring change and read after it.
var pathKeyKeys = []string{"r/a", "r/b/c", "r/ü/d", "r/b/"}

func putAll(t testing.TB, b *Barrier, keys []string) {
	t.Helper()
	for _, k := range keys {
		mustPut(t, b, k, "value of "+k)
	}
}

// checkReachable reads every key and lists "r/" and "r/b/".
func checkReachable(t testing.TB, b *Barrier, keys []string) {
	t.Helper()
	for _, k := range keys {
		if got := mustGet(t, b, k); got != "value of "+k {
			t.Errorf("Get(%q) = %q", k, got)
		}
	}
	for _, prefix := range []string{"r/", "r/b/"} {
		got, err := b.List(context.Background(), prefix)
		if want := modelList(keys, prefix); err != nil || !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, %v; want %q", prefix, got, err, want)
		}
	}
}

func TestRotateKeepsPathKey(t *testing.T) {
	ctx := context.Background()
	b, mem, root := newUnsealed(t)
	putAll(t, b, pathKeyKeys)
	before := physKeys(mem)
	stored := openStoredKeyring(t, mem, root).PathKey
	paths := b.kr.paths
	for range 3 {
		if _, err := b.Rotate(ctx); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
	}
	if b.kr.paths != paths {
		t.Error("Rotate replaced the path cipher")
	}
	if got := openStoredKeyring(t, mem, root).PathKey; !bytes.Equal(got, stored) {
		t.Error("Rotate changed the stored path key")
	}
	if after := physKeys(mem); !slices.Equal(after, before) {
		t.Errorf("physical keys changed by Rotate:\n%q\n%q", before, after)
	}
	keys := append(slices.Clone(pathKeyKeys), "r/after")
	mustPut(t, b, "r/after", "value of r/after")
	checkReachable(t, b, keys)
	fresh := New(mem, Options{})
	if err := fresh.Unseal(ctx, root); err != nil {
		t.Fatalf("Unseal: %v", err)
	}
	checkReachable(t, fresh, keys)
}

// physKeys returns the sorted physical keys under dataPrefix.
func physKeys(mem *memBackend) []string {
	var out []string
	for k := range mem.snapshot() {
		if strings.HasPrefix(k, dataPrefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func TestSealUnsealPaths(t *testing.T) {
	ctx := context.Background()
	b, _, root := newUnsealed(t)
	putAll(t, b, pathKeyKeys)
	phys := physKey(t, b, "r/b/c")
	for range 2 {
		b.Seal()
		if _, err := b.physicalKey("r/b/c"); !errors.Is(err, ErrSealed) {
			t.Fatalf("physicalKey while sealed = %v; want ErrSealed", err)
		}
		if err := b.Unseal(ctx, root); err != nil {
			t.Fatalf("Unseal: %v", err)
		}
		if got := physKey(t, b, "r/b/c"); got != phys {
			t.Fatalf("physical key after reseal = %q; want %q", got, phys)
		}
		checkReachable(t, b, pathKeyKeys)
	}
}

func TestReloadKeyringPathKey(t *testing.T) {
	ctx := context.Background()
	active, mem, root := newUnsealed(t)
	standby := New(mem, Options{})
	if err := standby.Unseal(ctx, root); err != nil {
		t.Fatal(err)
	}
	putAll(t, active, pathKeyKeys)
	checkReachable(t, standby, pathKeyKeys)
	paths := standby.kr.paths
	if _, err := active.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := standby.ReloadKeyring(ctx); err != nil {
		t.Fatalf("ReloadKeyring: %v", err)
	}
	if standby.kr.paths != paths {
		t.Error("ReloadKeyring replaced the path cipher (and its cache)")
	}
	checkReachable(t, standby, pathKeyKeys)

	t.Run("changed path key", func(t *testing.T) {
		changed := active.kr.withTerm(active.kr.active)
		other, err := generatePathCipher()
		if err != nil {
			t.Fatal(err)
		}
		changed.paths = other
		if err := active.writeKeyring(ctx, changed); err != nil {
			t.Fatal(err)
		}
		if err := standby.ReloadKeyring(ctx); !errors.Is(err, ErrPathKeyChanged) {
			t.Fatalf("ReloadKeyring = %v; want ErrPathKeyChanged", err)
		}
		if standby.kr.paths != paths || paths.block == nil {
			t.Fatal("a refused reload changed the path cipher")
		}
		checkReachable(t, standby, pathKeyKeys)
	})
	t.Run("bad path key", func(t *testing.T) {
		good := mem.raw(keyringPath)
		defer mem.setRaw(keyringPath, good)
		for name, field := range map[string]string{"absent": "", "null": "null", "short": `"AAAA"`} {
			setPathKeyField(t, mem, active.kr, root, field)
			if err := New(mem, Options{}).Unseal(ctx, root); !errors.Is(err, ErrDecrypt) {
				t.Errorf("%s: Unseal = %v; want ErrDecrypt", name, err)
			}
		}
	})
}

// setPathKeyField rewrites the stored keyring with its "path_key" field set
// to the JSON text field, or removed if field is "".
func setPathKeyField(t testing.TB, mem *memBackend, kr *keyring, root []byte, field string) {
	t.Helper()
	plain, err := json.Marshal(openStoredKeyring(t, mem, root))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(plain, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "path_key")
	if field != "" {
		doc["path_key"] = json.RawMessage(field)
	}
	if plain, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	value, err := encrypt(kr.rootAEAD, keyringTerm, keyringPath, plain)
	if err != nil {
		t.Fatal(err)
	}
	mem.setRaw(keyringPath, value)
}

func TestSegmentCacheBounded(t *testing.T) {
	c := newSegmentCache(4)
	for i := range 10 {
		c.add([]segmentPair{{plain: fmt.Sprint("p", i), enc: fmt.Sprint("e", i)}})
		if enc, dec := c.len(); enc > 4 || dec > 4 {
			t.Fatalf("after %d adds the cache holds %d and %d entries; limit 4", i+1, enc, dec)
		}
	}
	long := strings.Repeat("x", maxCachedSegmentLen+1)
	c.add([]segmentPair{{plain: long, enc: "long"}})
	if _, ok := c.enc[long]; ok {
		t.Error("a segment longer than maxCachedSegmentLen was cached")
	}
	c.drop()
	c.add([]segmentPair{{plain: "p", enc: "e"}})
	if enc, dec := c.len(); enc != 0 || dec != 0 {
		t.Errorf("a dropped cache took %d and %d entries", enc, dec)
	}
}

// TestSegmentCacheConcurrent runs Put, Get and List on many distinct
// segments through a tiny cache, so it is cleared over and over while read;
// run with -race.
func TestSegmentCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	b, _, _ := newUnsealed(t)
	b.kr.paths.cache = newSegmentCache(3)
	const workers, perWorker = 4, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("c/w%d/k%d", w, i)
				if err := b.Put(ctx, &storage.Entry{Key: key, Value: []byte(key)}); err != nil {
					t.Error(err)
					return
				}
				if e, err := b.Get(ctx, key); err != nil || string(e.Value) != key {
					t.Errorf("Get(%q) = %v, %v", key, e, err)
					return
				}
				if _, err := b.List(ctx, fmt.Sprintf("c/w%d/", w)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for w := range workers {
		got, err := b.List(ctx, fmt.Sprintf("c/w%d/", w))
		if err != nil || len(got) != perWorker || !slices.IsSorted(got) {
			t.Errorf("List(c/w%d/) = %q, %v", w, got, err)
		}
	}
	if enc, dec := b.kr.paths.cache.len(); enc > 3 || dec > 3 {
		t.Errorf("cache holds %d and %d entries; limit 3", enc, dec)
	}
}

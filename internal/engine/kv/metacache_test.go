package kv

import (
	"context"
	"errors"
	"testing"

	"github.com/cofferdev/coffer/internal/storage"
	"github.com/cofferdev/coffer/internal/storage/inmem"
)

// TestMetaCacheFollowsStorage checks that cached metadata is reused only
// while the stored bytes are unchanged, whoever changed them.
func TestMetaCacheFollowsStorage(t *testing.T) {
	ctx := context.Background()
	s := inmem.New()
	c := newMetaCache()
	put := func(raw string) {
		t.Helper()
		if err := s.Put(ctx, &storage.Entry{Key: metadataKey("k"), Value: []byte(raw)}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name        string
		raw         string // stored before the read; "" keeps what is there
		wantVersion uint64
		wantSame    bool // the same *keyMetadata as the previous read
		wantErr     error
	}{
		{"first read decodes", `{"current_version":1}`, 1, false, nil},
		{"unchanged bytes hit", "", 1, true, nil},
		{"changed bytes decode again", `{"current_version":2}`, 2, false, nil},
		{"corrupt entry", `{"current_version":`, 0, false, ErrCorruptEntry},
	}
	var prev *keyMetadata
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.raw != "" {
				put(st.raw)
			}
			meta, err := c.readMetadata(ctx, s, "k")
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("err = %v, want %v", err, st.wantErr)
			}
			if err != nil {
				return
			}
			if meta.CurrentVersion != st.wantVersion || meta.Versions == nil {
				t.Errorf("metadata = %+v, want version %d", meta, st.wantVersion)
			}
			if (meta == prev) != st.wantSame {
				t.Errorf("reused cached metadata = %v, want %v", meta == prev, st.wantSame)
			}
			prev = meta
		})
	}
	if err := s.Delete(ctx, metadataKey("k")); err != nil {
		t.Fatal(err)
	}
	if meta, err := c.readMetadata(ctx, s, "k"); meta != nil || err != nil {
		t.Errorf("read of a deleted key = %+v, %v; want nil, nil", meta, err)
	}
}

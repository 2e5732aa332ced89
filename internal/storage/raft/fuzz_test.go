package raft

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzDecodeReadIndex feeds peers' read-index answers to the parser: it
// never panics, and an accepted answer has a non-zero index that survives
// a round trip.
func FuzzDecodeReadIndex(f *testing.F) {
	f.Add(http.StatusOK, []byte(`{"index":42}`))
	f.Add(http.StatusOK, []byte(`{"index":0}`))
	f.Add(http.StatusConflict, []byte(`{"error":"not the leader"}`))
	f.Add(http.StatusInternalServerError, []byte(`<html>`))
	f.Add(http.StatusOK, []byte(`{"index":-1}`))
	f.Add(http.StatusOK, []byte(`{"index":18446744073709551616}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		idx, err := decodeReadIndex(status, bytes.NewReader(body))
		if err != nil {
			return
		}
		if status != http.StatusOK || idx == 0 {
			t.Fatalf("accepted index %d with status %d", idx, status)
		}
		again, err := json.Marshal(readIndexAnswer{Index: idx})
		if err != nil {
			t.Fatal(err)
		}
		if back, err := decodeReadIndex(http.StatusOK, bytes.NewReader(again)); err != nil || back != idx {
			t.Fatalf("round trip of %d: %d %v", idx, back, err)
		}
	})
}

// FuzzDecodeStats feeds peers' stats answers to the parser: it never
// panics, and accepted stats name a node and survive a round trip.
func FuzzDecodeStats(f *testing.F) {
	f.Add(http.StatusOK, []byte(`{"node_id":"n1","last_index":9,"last_term":2,"applied_index":9,"commit_index":9,"last_contact_ms":12,"state":"Follower"}`))
	f.Add(http.StatusOK, []byte(`{"node_id":""}`))
	f.Add(http.StatusNotFound, []byte(`{"error":"no such cluster endpoint"}`))
	f.Add(http.StatusOK, []byte(`{"node_id":"n","last_contact_ms":-1e3}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		s, err := decodeStats(status, bytes.NewReader(body))
		if err != nil {
			return
		}
		if status != http.StatusOK || s.NodeID == "" {
			t.Fatalf("accepted %+v with status %d", s, status)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeStats(http.StatusOK, bytes.NewReader(again))
		if err != nil || back != s {
			t.Fatalf("round trip of %+v: %+v %v", s, back, err)
		}
	})
}

package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// relink recomputes seq and prev_hash of lines[from:] as a forger who knows
// the format (but not the signing key) would.
func relink(t *testing.T, lines [][]byte, from int) {
	t.Helper()
	for i := from; i < len(lines); i++ {
		l, err := ParseLine(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		prev, _ := ParseLine(lines[i-1])
		sum := sha256.Sum256(lines[i-1])
		old := fmt.Sprintf(`{"seq":%d,"prev_hash":"%s"`, l.Seq, l.PrevHash)
		repl := fmt.Sprintf(`{"seq":%d,"prev_hash":"%s"`, prev.Seq+1, hex.EncodeToString(sum[:]))
		lines[i] = []byte(strings.Replace(string(lines[i]), old, repl, 1))
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	// 12 entries, checkpoint every 4. Line i holds seq i+1: the header
	// (seq 1), the unlock checkpoint (2), entries 3-6, checkpoint 7,
	// entries 8-11, checkpoint 12, entries 13-16, checkpoint 17 and the
	// final checkpoint 18.
	data, pub := writeLog(t, 12, 4)
	lines := splitLines(data)
	if _, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "audit.log", data); err != nil {
		t.Fatalf("intact log fails: %v", err)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, lines [][]byte) [][]byte
		wantSeq uint64
		wantMsg string
	}{
		{"edit one byte", func(t *testing.T, l [][]byte) [][]byte {
			l[4] = bytes.Replace(l[4], []byte(`"update"`), []byte(`"updatf"`), 1)
			return l
		}, 5, "entry seq 5 was edited"},
		{"delete a line", func(t *testing.T, l [][]byte) [][]byte {
			return append(l[:5:5], l[6:]...)
		}, 6, "entry seq 6 is missing"},
		{"swap two lines", func(t *testing.T, l [][]byte) [][]byte {
			l[5], l[6] = l[6], l[5]
			return l
		}, 6, "entry seq 6 is missing"},
		{"insert a copied line", func(t *testing.T, l [][]byte) [][]byte {
			return append(l[:6:6], append([][]byte{l[3]}, l[6:]...)...)
		}, 4, "entry seq 4 is out of order"},
		{"insert a forged line and relink the chain", func(t *testing.T, l [][]byte) [][]byte {
			forged := bytes.Replace(l[4], []byte("hmac-sha256:"), []byte("hmac-sha256:0"), 1)
			l = append(l[:5:5], append([][]byte{forged}, l[5:]...)...)
			relink(t, l, 5)
			return l
		}, 8, "checkpoint seq 8 has an invalid signature"},
		{"edit an entry and relink the chain", func(t *testing.T, l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte(`req-0`), []byte(`req-X`), 1)
			relink(t, l, 3)
			return l
		}, 7, "checkpoint seq 7 has an invalid signature"},
		{"cut the tail after a checkpoint", func(t *testing.T, l [][]byte) [][]byte {
			return l[:12] // ends with the checkpoint at seq 12, not the final one
		}, 12, "entries after checkpoint seq 12 are missing or the file was cut"},
		{"cut the tail after an entry", func(t *testing.T, l [][]byte) [][]byte {
			return l[:10]
		}, 7, "entries after checkpoint seq 7 are missing or the file was cut"},
		{"edit the final checkpoint", func(t *testing.T, l [][]byte) [][]byte {
			n := len(l) - 1
			l[n] = bytes.Replace(l[n], []byte(`"final":true`), []byte(`"final":true `), 1)
			return l
		}, uint64(len(lines)), "has an invalid signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := make([][]byte, len(lines))
			for i := range lines {
				cp[i] = bytes.Clone(lines[i])
			}
			_, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "audit.log", joinLines(tt.tamper(t, cp)))
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrTampered) {
				t.Fatalf("tampered log verified: %v", err)
			}
			if ve.Seq != tt.wantSeq || !strings.Contains(ve.Msg, tt.wantMsg) {
				t.Errorf("got seq %d %q, want seq %d containing %q", ve.Seq, ve.Msg, tt.wantSeq, tt.wantMsg)
			}
		})
	}
}

func TestVerifyEndings(t *testing.T) {
	data, pub := writeLog(t, 5, 100)
	wrongKey := bytes.Repeat([]byte{1}, 32)
	tests := []struct {
		name    string
		data    []byte
		opts    VerifyOptions
		wantErr string
	}{
		{"intact", data, VerifyOptions{PublicKey: pub}, ""},
		{"wrong key", data, VerifyOptions{PublicKey: wrongKey}, "not the key given"},
		{"cut inside a line", data[:len(data)-10], VerifyOptions{PublicKey: pub}, "the file was cut"},
		{"empty", nil, VerifyOptions{PublicKey: pub}, "no entries"},
		{"unsigned tail rejected", joinLines(splitLines(data)[:4]), VerifyOptions{PublicKey: pub}, "missing or the file was cut"},
		{"unsigned tail accepted live", joinLines(splitLines(data)[:4]), VerifyOptions{PublicKey: pub, Live: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyBytes(tt.opts, "f", tt.data)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParseLine(f *testing.F) {
	data, pub := writeLog(f, 3, 2)
	for _, l := range splitLines(data) {
		f.Add(l)
	}
	f.Add([]byte(`{"seq":1,"prev_hash":"","type":"checkpoint","signature":"AA=="}`))
	f.Add([]byte(`{"seq":`))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := ParseLine(line)
		if err != nil {
			return
		}
		if l.Seq == 0 || l.Type == "" {
			t.Fatalf("accepted line without seq or type: %q", line)
		}
		if l.Type == TypeCheckpoint && (len(l.Signature) != 64 || !bytes.HasPrefix(l.Signed, []byte(checkpointDomain))) {
			t.Fatalf("checkpoint without a well-formed signature: %q", line)
		}
		// A single line never verifies as a whole log unless it is a signed
		// final checkpoint; either way Verify must not panic.
		_, _ = VerifyBytes(VerifyOptions{PublicKey: pub}, "f", append(bytes.Clone(line), '\n'))
	})
}

// TestVerifyKeepsNumbersAsWritten: a request number outside float64's
// range (valid JSON, as a client may send it) is logged exactly and the log
// still verifies.
func TestVerifyKeepsNumbersAsWritten(t *testing.T) {
	e := sampleEntry(1)
	e.Request.Data = map[string]any{"huge": json.Number("1e700")}
	data, pub := writeEntries(t, 100, e)
	if !bytes.Contains(data, []byte(`"huge":1e700`)) {
		t.Fatalf("the number was not logged as sent:\n%s", data)
	}
	if _, err := VerifyBytes(VerifyOptions{PublicKey: pub}, "f", data); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

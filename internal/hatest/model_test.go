package hatest

import (
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
)

// opWrite and opRead are a register write and read for the tests below.
func opWrite(client int, v string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: regInput{write: true, value: v}, Output: "", Call: call, Return: ret}
}

func opRead(client int, v string, call, ret int64) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: regInput{}, Output: v, Call: call, Return: ret}
}

// TestRegisterModel checks the checker itself: histories a correct
// register can produce pass, stale or invented reads fail.
func TestRegisterModel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []porcupine.Operation
		want    porcupine.CheckResult
	}{
		{"empty register reads empty", []porcupine.Operation{opRead(0, "", 0, 1)}, porcupine.Ok},
		{"read after write", []porcupine.Operation{opWrite(0, "v1", 0, 1), opRead(1, "v1", 2, 3)}, porcupine.Ok},
		{"stale read after acknowledged write", []porcupine.Operation{opWrite(0, "v1", 0, 1), opWrite(0, "v2", 2, 3), opRead(1, "v1", 4, 5)}, porcupine.Illegal},
		{"read of a value never written", []porcupine.Operation{opWrite(0, "v1", 0, 1), opRead(1, "v9", 2, 3)}, porcupine.Illegal},
		{"concurrent write may be seen or not", []porcupine.Operation{opWrite(0, "v1", 0, 10), opRead(1, "", 1, 2), opRead(2, "v1", 3, 4)}, porcupine.Ok},
		{"unknown outcome may apply late", []porcupine.Operation{opWrite(0, "v1", 0, neverReturned), opRead(1, "", 1, 2), opRead(1, "v1", 50, 51)}, porcupine.Ok},
		{"unobserved unknown write is dropped", []porcupine.Operation{opWrite(0, "v1", 0, 1), opWrite(1, "v2", 2, neverReturned), opRead(2, "v1", 3, 4)}, porcupine.Ok},
		{"unknown write seen twice", []porcupine.Operation{opWrite(0, "v1", 0, neverReturned), opRead(1, "v1", 5, 6), opRead(2, "v1", 7, 8)}, porcupine.Ok},
		{"unknown outcome cannot be unseen", []porcupine.Operation{opWrite(0, "v1", 0, neverReturned), opRead(1, "v1", 1, 2), opRead(1, "", 3, 4)}, porcupine.Illegal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := porcupine.CheckOperations(registerModel, tc.history); got != (tc.want == porcupine.Ok) {
				t.Fatalf("CheckOperations = %v; want %v", got, tc.want)
			}
			resolved := resolveUnknown(append([]porcupine.Operation(nil), tc.history...))
			if got := porcupine.CheckOperations(registerModel, resolved); got != (tc.want == porcupine.Ok) {
				t.Fatalf("CheckOperations after resolveUnknown = %v; want %v", got, tc.want)
			}
			for _, op := range resolved {
				if op.Return == neverReturned {
					t.Fatalf("resolveUnknown left an open write: %+v", op)
				}
			}
		})
	}
}

// TestStaleReads checks the explanation printed for a failed check: it
// names a read of a value certainly older than one already visible, also
// when either write's outcome was unknown, and nothing else.
func TestStaleReads(t *testing.T) {
	for _, tc := range []struct {
		name    string
		history []porcupine.Operation
		want    string // part of the one explanation; "" for none
	}{
		{"acknowledged newer write", []porcupine.Operation{opWrite(0, "a", 0, 1), opWrite(0, "b", 2, 3), opRead(1, "a", 4, 5)}, `read "a" during [4ns, 5ns], but "b"`},
		{"unknown write seen, then overwritten and read again", []porcupine.Operation{
			opWrite(0, "a", 0, neverReturned), opRead(1, "a", 5, 6), opWrite(2, "b", 7, 8), opRead(1, "a", 9, 10)}, `read "a" during [9ns, 10ns], but "b"`},
		{"newer value seen by a read first", []porcupine.Operation{
			opWrite(0, "a", 0, 1), opWrite(1, "b", 2, neverReturned), opRead(2, "b", 3, 4), opRead(3, "a", 5, 6)}, `"b" (written by client 1 from 2ns) was read by client 2 at 4ns`},
		{"empty after a write", []porcupine.Operation{opWrite(0, "a", 0, 1), opRead(1, "", 2, 3)}, `read "" during [2ns, 3ns], but "a"`},
		{"concurrent writes are not ordered", []porcupine.Operation{opWrite(0, "a", 0, 10), opWrite(1, "b", 0, 10), opRead(2, "b", 11, 12), opRead(2, "a", 13, 14)}, ""},
		{"linearizable", []porcupine.Operation{opWrite(0, "a", 0, 1), opRead(1, "a", 2, 3), opWrite(0, "b", 4, neverReturned), opRead(1, "b", 5, 6), opRead(2, "b", 7, 8)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := staleReads(tc.history, 5)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("explained %q; want nothing", got)
			case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
				t.Fatalf("explained %q; want one naming %q", got, tc.want)
			}
		})
	}
}

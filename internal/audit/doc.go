// Package audit writes Coffer's tamper-evident, fail-closed audit log: one
// JSON line per request and response, secrets HMAC-redacted per sink, every
// line hash-chained to the one before it and the chain signed by periodic
// Ed25519 checkpoints, plus the verifier that checks such a log.
//
// Line layout (one JSON object per line, fields in this order):
//
//	{"seq":N,"prev_hash":"<hex SHA-256 of the previous line's bytes>","type":...,...}
//
// seq starts at 1 with an empty prev_hash (the genesis entry) and grows by
// one per line across rotations and restarts. A checkpoint line ends with
// `,"signature":"<base64>"}`; the signature is Ed25519 over
// "coffer-audit-checkpoint-v1\n" followed by the line's bytes up to (not
// including) that `,"signature":` suffix, so it covers the checkpoint's seq
// and prev_hash and, through the chain, every line before it.
package audit

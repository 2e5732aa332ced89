// Package gitops seals the values of configuration files (YAML, JSON, .env,
// INI, Kubernetes Secrets) so they can be committed to git, and opens them
// again for the recipients of the file's environment.
//
// # Sealed values
//
// Each file has its own random 256-bit data key. Every value is replaced in
// place by a token
//
//	ENC[coffer:v1,<base64(nonce || ciphertext || tag)>]
//
// where base64 is the standard alphabet with padding, nonce is 24 bytes and
// the ciphertext is XChaCha20-Poly1305 under a value key derived from the
// data key with HKDF-SHA256 (info "coffer gitops v1 value key"). The
// plaintext is the value's exact source text (quotes, block scalar
// indicators and all), so unsealing gives back the file byte for byte. The
// additional data is
//
//	"coffer:v1" || 0x00 || decimal document index || 0x00 || key path
//
// so a value moved to another key, another document or another file fails
// to open, and the error names the key path. Where a bare token might not
// parse (YAML flow collections, JSON, values quoted in the source) it is
// written inside double quotes. Values are at most 1 MiB. Of a Kubernetes
// v1 Secret only the data and stringData values are sealed; other
// Kubernetes manifests (documents with apiVersion and kind) are left alone. The nonce is the first 24
// bytes of HMAC-SHA256(nonce key, uint64be(len(additional data)) ||
// additional data || plaintext), the nonce
// key being derived with HKDF info "coffer gitops v1 nonce key": sealing is
// deterministic (a synthetic IV), so an unchanged value seals to the same
// token and diffs stay minimal. Integrity is per value, with no whole-file
// MAC, so two branches changing different values merge cleanly.
//
// # Key paths
//
// A key path joins mapping keys with "." and sequence indexes as "[i]";
// the characters '.', '[', ']' and '\' inside a key are escaped with '\'.
// For .env files the path is the variable name, for INI files
// "section.key" (keys before any section have no prefix).
//
// # Recipient block
//
// The data key is wrapped once per recipient. For YAML, .env and INI files
// the wrapped keys follow the body as a trailing comment block:
//
//	#coffer:v1[ noeol]
//	#coffer:recipient <recipient> <wrapped>
//	...
//	#coffer:mac <base64(HMAC-SHA256)>
//
// "noeol" records that the original body did not end in a newline (one was
// added before the block). For JSON, whose syntax has no comments, the same
// lines (without the leading '#') are the strings of an array stored as a
// last top-level member: `,\n  "coffer": [...]` right after the last value
// of the top-level object.
//
// <recipient> is an age X25519 public key (age1...), an SSH public key
// ("ssh-ed25519 AAAA..." or "ssh-rsa AAAA...", comment dropped) or
// coffer://transit/keys/<name>. <wrapped> is the base64 of a binary age
// file holding the data key for age and SSH recipients, and the transit
// ciphertext (vault:vN:...) of the base64 data key for transit recipients.
// The MAC, keyed by HKDF info "coffer gitops v1 recipients mac", covers
// every recipient line in order, so an edited recipient block is detected
// once any recipient opens the file.
package gitops

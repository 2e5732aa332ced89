package transit

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cofferdev/coffer/internal/logical"
)

// versionPrefix starts every ciphertext, signature and HMAC transit returns:
// "vault:v<N>:" then the base64 body, exactly as Vault formats them.
const versionPrefix = "vault:v"

// formatVersioned returns "vault:v<ver>:<body>".
func formatVersioned(ver int, body string) string {
	return versionPrefix + strconv.Itoa(ver) + ":" + body
}

// formatCiphertext encodes raw (nonce||ciphertext||tag, or an RSA-OAEP
// block) with standard base64 behind the version prefix.
func formatCiphertext(ver int, raw []byte) string {
	return formatVersioned(ver, base64.StdEncoding.EncodeToString(raw))
}

// splitVersioned parses "vault:v<N>:<body>" into N and body, with Vault's
// error messages naming what (ciphertext, signature, HMAC). Version 0
// means 1, as in Vault's first releases.
func splitVersioned(what, s string) (int, string, error) {
	rest, ok := strings.CutPrefix(s, versionPrefix)
	if !ok {
		return 0, "", logical.InvalidRequest("invalid %s: no prefix", what)
	}
	verStr, body, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, "", logical.InvalidRequest("invalid %s: wrong number of fields", what)
	}
	ver, err := strconv.Atoi(verStr)
	if err != nil || ver < 0 || verStr != strconv.Itoa(ver) {
		return 0, "", logical.InvalidRequest("invalid %s: version number could not be decoded", what)
	}
	if ver == 0 {
		ver = 1
	}
	return ver, body, nil
}

// parseCiphertext parses a ciphertext into its version and raw bytes.
func parseCiphertext(s string) (int, []byte, error) {
	ver, body, err := splitVersioned("ciphertext", s)
	if err != nil {
		return 0, nil, err
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return 0, nil, logical.InvalidRequest("invalid ciphertext: could not decode base64")
	}
	return ver, raw, nil
}

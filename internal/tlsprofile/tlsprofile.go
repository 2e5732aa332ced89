// Package tlsprofile holds the TLS settings Coffer's API listeners use, so
// the server and the benchmark ceiling serve over the same TLS stack.
package tlsprofile

import "crypto/tls"

// MinTLS13 is the listener setting (tls_min_version) that raises the
// minimum protocol version from TLS 1.2 to TLS 1.3.
const MinTLS13 = "tls13"

// aeadSuites returns the TLS 1.2 cipher suites Coffer accepts: ECDHE key
// exchange with an AEAD only. TLS 1.3 suites are all AEAD and not
// configurable in Go.
func aeadSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// Server returns a listener's base TLS configuration: TLS 1.2 or newer
// (1.3 when minVersion is MinTLS13), AEAD suites only, HTTP/2 and
// HTTP/1.1 offered by ALPN, certificates from getCert. Client certificate
// settings are the caller's to add.
func Server(minVersion string, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   aeadSuites(),
		GetCertificate: getCert,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	if minVersion == MinTLS13 {
		tc.MinVersion = tls.VersionTLS13
	}
	return tc
}

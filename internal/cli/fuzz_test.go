package cli

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzParseData checks that data arguments never panic the parser and that
// every plain key=value argument ends up in the result.
func FuzzParseData(f *testing.F) {
	f.Add("a=b\x00c=d", "")
	f.Add("-\x00x=y", `{"a":1,"b":[true,null]}`)
	f.Add("a=-\x00a=2", "stdin value\n")
	f.Add(`k=\@v`, "")
	f.Add("=v\x00novalue", "")
	f.Fuzz(func(t *testing.T, joined, stdin string) {
		if strings.Contains(joined, "@") {
			t.Skip("@file arguments read the file system")
		}
		args := strings.Split(joined, "\x00")
		got, err := parseData(args, strings.NewReader(stdin))
		if err != nil {
			return
		}
		for _, arg := range args {
			k, v, ok := strings.Cut(arg, "=")
			if !ok || v == "-" {
				continue
			}
			if _, present := got[k]; !present {
				t.Fatalf("key %q of %q missing from %v", k, arg, got)
			}
		}
	})
}

// FuzzDecodeRootToken checks that decoding undoes the server's encoding and
// that arbitrary input never panics.
func FuzzDecodeRootToken(f *testing.F) {
	f.Add("hvs.abcdefghijklmnopqrstuvwx", "0123456789ABCDEFGHIJKLMNOPQR", "garbage==")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, token, otp, garbage string) {
		_, _ = decodeRootToken(garbage, otp)
		if len(token) != len(otp) {
			return
		}
		x := make([]byte, len(token))
		for i := range x {
			x[i] = token[i] ^ otp[i]
		}
		got, err := decodeRootToken(base64.StdEncoding.EncodeToString(x), otp)
		if err != nil || got != token {
			t.Fatalf("decode(encode(%q)) = %q, %v", token, got, err)
		}
	})
}

// FuzzReadKeyMaterial: a transit import's KEY argument never panics the
// reader; what it accepts is non-empty, and base64 input comes back as
// exactly what it encodes.
func FuzzReadKeyMaterial(f *testing.F) {
	f.Add("MSxyiG1X95pA556T6kvKcvPc6oB2JEFxCJ1lsyM/pDk=")
	f.Add("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJQr4Kz3HU0i3BwR5b1OdDs966pXQ+3cjlGA8HN+Vtyk\n-----END PRIVATE KEY-----\n")
	f.Add("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, arg string) {
		if strings.HasPrefix(arg, "@") {
			return // names a file
		}
		material, err := readKeyMaterial(arg)
		if err != nil {
			return
		}
		if len(material) == 0 {
			t.Fatalf("accepted %q as empty key material", arg)
		}
		trimmed := strings.TrimSpace(arg)
		lines := strings.NewReplacer("\r", "", "\n", "").Replace(trimmed) // base64 may span lines
		if !strings.HasPrefix(trimmed, "-----BEGIN") && base64.StdEncoding.EncodeToString(material) != lines {
			t.Fatalf("base64 %q read as %x", arg, material)
		}
	})
}

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

package cli

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cofferdev/coffer/internal/keywrap"
)

func (a *app) transitCommand() *cobra.Command {
	return a.addAPIFlags(a.groupCommand("transit", "Import keys into the transit engine",
		`Bring your own key: wrap key material for a transit mount's wrapping key on
this machine and import it, as Vault's "transit import" does.`,
		a.transitImportCommand("import", "Import key material as a new transit key",
			`Import KEY as the new transit key at PATH (MOUNT/keys/NAME). KEY is the key
material: for aes256-gcm96 and chacha20-poly1305 the raw 32 bytes, for
aes128-gcm96 the raw 16 bytes, for ed25519, ecdsa-* and rsa-* a PKCS#8 private
key; base64, or @FILE holding it in base64
or as a PEM "PRIVATE KEY". K=V arguments are the import's fields (type,
allow_rotation, exportable, derived, allow_plaintext_backup, auto_rotate_period).
The material is wrapped here (RSA-OAEP with SHA-256, then RFC 5649): only the
wrapped form leaves this machine.`,
			`  coffer transit import transit/keys/app @app-key.b64
  coffer transit import transit/keys/signer @signer.pem type=ecdsa-p256 allow_rotation=true`),
		a.transitImportCommand("import-version", "Import key material as a new version of an imported key",
			`Import KEY as the new latest version of the imported transit key at PATH
(MOUNT/keys/NAME), with the same KEY forms as "transit import".`,
			"  coffer transit import-version transit/keys/app @app-key-2.b64"),
	))
}

func (a *app) transitImportCommand(verb, short, long, example string) *cobra.Command {
	endpoint := strings.ReplaceAll(verb, "-", "_") // import, import_version
	return &cobra.Command{
		Use:     verb + " PATH KEY [K=V...]",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    argsBetween(2, -1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			path := cleanPath(args[0])
			mount, _, ok := strings.Cut(path, "/keys/")
			if !ok || mount == "" || strings.HasSuffix(path, "/keys/") {
				return usageError(cmd, "PATH must be MOUNT/keys/NAME, not %q", args[0])
			}
			material, err := readKeyMaterial(args[1])
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			defer clear(material)
			data, err := parseData(args[2:], a.stdin)
			if err != nil {
				return usageError(cmd, "%v", err)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stderr, "Retrieving the transit wrapping key.")
			s, err := c.Read(cmd.Context(), mount+"/wrapping_key", nil)
			if err != nil {
				return fmt.Errorf("reading the wrapping key: %w", err)
			}
			var pemText string
			if s != nil {
				pemText, _ = s.Data["public_key"].(string)
			}
			fmt.Fprintln(a.stderr, "Wrapping the key with an ephemeral AES key, and that key with the wrapping key.")
			ct, err := wrapForTransit(pemText, material)
			if err != nil {
				return err
			}
			data["ciphertext"], data["hash_function"] = ct, "SHA256"
			fmt.Fprintln(a.stderr, "Submitting the wrapped key.")
			if _, err := c.Write(cmd.Context(), path+"/"+endpoint, data); err != nil {
				return fmt.Errorf("importing: %w", err)
			}
			_, err = fmt.Fprintf(a.stdout, "Success! Imported the key at: %s\n", path)
			return err
		}),
	}
}

// readKeyMaterial reads KEY: base64, or @FILE holding base64 or a PEM
// "PRIVATE KEY" block.
func readKeyMaterial(arg string) ([]byte, error) {
	text := []byte(arg)
	if name, ok := strings.CutPrefix(arg, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading the key: %w", err)
		}
		text = b
	}
	text = bytes.TrimSpace(text)
	if bytes.HasPrefix(text, []byte("-----BEGIN")) {
		block, rest := pem.Decode(text)
		if block == nil || block.Type != "PRIVATE KEY" || len(block.Bytes) == 0 || len(bytes.TrimSpace(rest)) > 0 {
			return nil, errors.New(`the key file must hold one PEM "PRIVATE KEY" (PKCS#8) block`)
		}
		return block.Bytes, nil
	}
	material, err := base64.StdEncoding.Strict().DecodeString(string(text))
	if err != nil || len(material) == 0 {
		return nil, errors.New("the key must be base64 (or @FILE)")
	}
	return material, nil
}

// wrapForTransit wraps material for the PEM wrapping key, as transit's
// import expects (keywrap.ForImport, RSA-OAEP with SHA-256), in base64.
func wrapForTransit(pemText string, material []byte) (string, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return "", errors.New("the server's wrapping key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	rsaPub, ok := pub.(*rsa.PublicKey)
	if err != nil || !ok {
		return "", errors.New("the server's wrapping key is not an RSA public key")
	}
	ct, err := keywrap.ForImport(rsaPub, sha256.New, material)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

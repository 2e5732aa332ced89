package compat

import (
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/cofferdev/coffer/internal/config"
	"github.com/cofferdev/coffer/internal/server"
	"github.com/cofferdev/coffer/internal/server/servertest"
)

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// isStatus reports whether err is a Vault API error with that status.
func isStatus(err error, code int) bool {
	var re *vaultapi.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

type rawResponse struct {
	StatusCode int
	Body       string
	Header     http.Header
}

// rawDo sends a request without the Vault client, to check wire details.
func rawDo(t *testing.T, in *servertest.Instance, method, path, token string, body io.Reader) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, in.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(b)), Header: resp.Header}
}

// createToken makes a child of the root token.
func createToken(t *testing.T, in *servertest.Instance, req *vaultapi.TokenCreateRequest) string {
	t.Helper()
	s, err := in.Client.Auth().Token().Create(req)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return s.Auth.ClientToken
}

// startErr starts a server from cfg and returns the error Start gave.
func startErr(t *testing.T, cfg *config.Config) (*server.Server, error) {
	t.Helper()
	srv, err := server.Start(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		t.Cleanup(srv.Close)
	}
	return srv, err
}

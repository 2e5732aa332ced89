// Package testpg starts a throwaway PostgreSQL 15 cluster for tests: initdb
// and pg_ctl in a temp directory, on a free loopback port, stopped and
// removed when the test ends.
package testpg

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cofferdev/coffer/internal/testport"
)

// SuperUser is the cluster's superuser.
const SuperUser = "postgres"

// fallbackBinDir is where Debian installs PostgreSQL 15.
const fallbackBinDir = "/usr/lib/postgresql/15/bin"

// Server is one running cluster.
type Server struct {
	// Port is the loopback TCP port.
	Port int
	// Password is SuperUser's password.
	Password string
	dir      string
	binDir   string
	asUser   string
}

// String keeps the password out of test logs.
func (s *Server) String() string { return fmt.Sprintf("testpg(127.0.0.1:%d)", s.Port) }

// Start initialises and starts a cluster, and stops and removes it in
// t.Cleanup. A missing PostgreSQL installation skips the test, except in CI
// (CI=true) where it fails: scripts/deps.sh installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testpg: %v (run scripts/deps.sh)", err)
		}
		t.Skipf("testpg: %v (run scripts/deps.sh)", err)
	}
	s := &Server{binDir: bin, Password: rand.Text()}
	if os.Geteuid() == 0 {
		s.asUser = SuperUser // PostgreSQL refuses to run as root.
	}
	s.dir, err = os.MkdirTemp("", "testpg-")
	if err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(s.dir) })
	if err := s.initdb(); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	s.Port = testport.Port(t)
	if err := s.Start(); err != nil {
		t.Fatalf("testpg: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

func binDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	if _, err := os.Stat(filepath.Join(fallbackBinDir, "initdb")); err == nil {
		return fallbackBinDir, nil
	}
	return "", fmt.Errorf("initdb and pg_ctl not found on PATH or in %s", fallbackBinDir)
}

// run runs a PostgreSQL binary, as the postgres user when we are root.
func (s *Server) run(name string, args ...string) error {
	bin := filepath.Join(s.binDir, name)
	cmd := exec.Command(bin, args...)
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", bin}, args...)...)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, out.String())
	}
	return nil
}

func (s *Server) initdb() error {
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.Password+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(s.dir, "sock"), 0o700); err != nil {
		return err
	}
	if s.asUser != "" {
		if err := chownTree(s.dir, s.asUser); err != nil {
			return err
		}
	}
	err := s.run("initdb", "-D", filepath.Join(s.dir, "data"), "-U", SuperUser, "--pwfile="+pwfile,
		"--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	_ = os.Remove(pwfile)
	return err
}

func chownTree(dir, name string) error {
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("look up %s: %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
}

// Start starts the (stopped) cluster and waits until it accepts connections.
func (s *Server) Start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", s.Port, filepath.Join(s.dir, "sock"))
	return s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-l", filepath.Join(s.dir, "log"),
		"-w", "-t", "60", "-o", opts, "start")
}

// Stop stops the cluster (fast shutdown: sessions are disconnected).
func (s *Server) Stop() error {
	return s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "-t", "60", "stop")
}

// URL is a connection URL for user and password on database "postgres".
func (s *Server) URL(user, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/postgres",
		RawQuery: "sslmode=disable&connect_timeout=5"}
	return u.String()
}

// SuperURL is the superuser's connection URL.
func (s *Server) SuperURL() string { return s.URL(SuperUser, s.Password) }

// TemplateURL is a connection URL with Vault's {{username}} and {{password}}
// placeholders, as the database engine's config takes it.
func (s *Server) TemplateURL() string {
	return fmt.Sprintf("postgres://{{username}}:{{password}}@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", s.Port)
}

package gitops

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs git in dir with a private, empty configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestThreeWayMerge changes different values of one sealed file on two
// branches; git merges them without conflict and the result opens with
// both changes.
func TestThreeWayMerge(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed") // the machine image has git; CI installs it
	}
	ctx := context.Background()
	kr, r := testKeys(t)
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	file := filepath.Join(dir, "values.yaml")
	base := "# service settings\ndb:\n  user: app\n  password: one\n  host: db.internal\ncache:\n  url: redis://cache\n  port: 6379\napi:\n  token: first\n"
	if err := os.WriteFile(file, sealBytes(t, kr, YAML, []byte(base), r), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", "values.yaml")
	git(t, dir, "commit", "-q", "-m", "base")

	edit := func(from, to string) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(YAML, src)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := kr.Open(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out, err := kr.Reseal(ctx, f, bytes.Replace(plain, []byte(from), []byte(to), 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "checkout", "-q", "-b", "feature")
	edit("password: one", "password: two")
	git(t, dir, "commit", "-q", "-am", "rotate password")
	if stat := git(t, dir, "diff", "--numstat", "HEAD~1"); stat != "1\t1\tvalues.yaml\n" {
		t.Fatalf("edit touched more than one line:\n%s", git(t, dir, "diff", "HEAD~1"))
	}
	git(t, dir, "checkout", "-q", "main")
	edit("token: first", "token: second")
	git(t, dir, "commit", "-q", "-am", "rotate token")
	git(t, dir, "merge", "-q", "--no-edit", "feature")

	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openBytes(t, kr, YAML, src)
	if err != nil {
		t.Fatalf("merged file does not open: %v", err)
	}
	want := strings.NewReplacer("password: one", "password: two", "token: first", "token: second").Replace(base)
	if string(got) != want {
		t.Fatalf("merged content:\n%s\nwant:\n%s", got, want)
	}
}

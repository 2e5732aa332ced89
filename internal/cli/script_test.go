package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cofferdev/coffer/internal/testport"
)

// TestMain lets testscript run the test binary as the coffer command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"coffer": func() {
			os.Exit(Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// TestScripts runs the end-to-end scripts in testdata/script against a real
// server started by each script (`coffer server -dev ... &`).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// `coffer login` stores its token in $HOME; keep it in the sandbox.
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"freeport":   cmdFreeport,
			"waitserver": cmdWaitServer,
			"exitcode":   cmdExitCode,
			"stdoutvar":  cmdStdoutVar,
			"jsonvar":    cmdJSONVar,
			"envsubst":   cmdEnvsubst,
		},
	})
}

// cmdFreeport sets VAR to a TCP port on 127.0.0.1 reserved until the
// script ends (see testport).
func cmdFreeport(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	addr, release, err := testport.Reserve("127.0.0.1")
	ts.Check(err)
	ts.Defer(release)
	_, port, err := net.SplitHostPort(addr)
	ts.Check(err)
	ts.Setenv(args[0], port)
}

// cmdWaitServer polls `coffer status` (in process, with the script's
// environment) until it answers with exit code 0 or 2, for up to 20s.
func cmdWaitServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: waitserver")
	}
	deadline := time.Now().Add(20 * time.Second)
	getenv := func(k string) string {
		if k == "COFFER_CLIENT_TIMEOUT" {
			return "2s" // a hung server should not stall one attempt for a minute
		}
		return ts.Getenv(k)
	}
	for {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"status"}, strings.NewReader(""), &out, &errOut, getenv)
		if code == exitOK || code == exitUsage {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("server did not answer: %s", errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdExitCode runs `coffer ARGS...` in process and checks its exit code:
// exitcode N ARGS... (testscript's "!" only knows success and failure).
// Files named in ARGS must be absolute, as the command runs in the test's
// directory rather than $WORK.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: exitcode N [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	code := run(context.Background(), args[1:], strings.NewReader(""), ts.Stdout(), ts.Stderr(), ts.Getenv)
	if code != want {
		ts.Fatalf("coffer %s: exit code %d, want %d", strings.Join(args[1:], " "), code, want)
	}
}

// cmdStdoutVar sets VAR to the previous command's stdout, trimmed.
func cmdStdoutVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stdoutvar VAR")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
}

// cmdJSONVar sets VAR to a value in the previous command's JSON stdout:
// jsonvar VAR a.b.0 reads {"a":{"b":["this"]}}.
func cmdJSONVar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonvar VAR PATH")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &v))
	for _, part := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("jsonvar: no element %q", part)
			}
			v = x[i]
		default:
			ts.Fatalf("jsonvar: %q not found", args[1])
		}
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	ts.Setenv(args[0], s)
}

// cmdEnvsubst expands $VAR and ${VAR} in a file of the script, in place.
func cmdEnvsubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: envsubst FILE")
	}
	out := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(out), 0o600))
}

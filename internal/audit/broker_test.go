package audit

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBrokerRedactsSecrets(t *testing.T) {
	tests := []struct {
		name      string
		cfg       func(SinkConfig) SinkConfig
		present   []string
		absent    []string
		unlockKey bool
	}{
		{"hashed", func(c SinkConfig) SinkConfig { return c }, []string{`"password":"hmac-sha256:`, `"n":3`, `"policies":["root"]`},
			[]string{"hunter0", "hvs.secrettoken", "acc123"}, true},
		{"accessor plain", func(c SinkConfig) SinkConfig { c.HMACAccessor = false; return c },
			[]string{`"accessor":"acc123"`}, []string{"hunter0", "hvs.secrettoken"}, true},
		{"log_raw", func(c SinkConfig) SinkConfig { c.LogRaw = true; return c },
			[]string{"hunter0", "hvs.secrettoken"}, nil, true},
		{"sealed drops secret fields", func(c SinkConfig) SinkConfig { return c },
			[]string{`"path":"secret/data/app"`}, []string{"hunter0", "hvs.secrettoken", "hmac-sha256:", `"password"`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.log")
			b := newTestBroker(t, tt.cfg(fileSink(path, 100)))
			if tt.unlockKey {
				keys, _ := testKeys("file")
				if err := b.Unlock(keys); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Log(sampleEntry(0)); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			for _, s := range tt.present {
				if !strings.Contains(string(data), s) {
					t.Errorf("log lacks %q:\n%s", s, data)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(string(data), s) {
					t.Errorf("log contains %q:\n%s", s, data)
				}
			}
			if tt.unlockKey && !tt.cfg(SinkConfig{}).LogRaw {
				h, err := b.Hash("file", "hunter0")
				if err != nil || !strings.Contains(string(data), `"password":"`+h+`"`) {
					t.Errorf("Hash(hunter0) = %q, %v: not what the log holds", h, err)
				}
			}
		})
	}
}

func TestBrokerModes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "missing-dir", "a.log") // cannot be created
	good := filepath.Join(dir, "ok.log")
	named := func(c SinkConfig, name string, m Mode) SinkConfig { c.Name, c.Mode = name, m; return c }
	tests := []struct {
		name    string
		sinks   []SinkConfig
		wantErr error
	}{
		{"required unwritable fails", []SinkConfig{named(fileSink(bad, 10), "bad", Required)}, ErrNoSink},
		{"best-effort unwritable passes", []SinkConfig{named(fileSink(bad, 10), "bad", BestEffort)}, nil},
		{"best-effort cannot save a failing required", []SinkConfig{named(fileSink(bad, 10), "bad", Required),
			named(fileSink(good, 10), "good", BestEffort)}, ErrNoSink},
		{"one required of two suffices", []SinkConfig{named(fileSink(bad, 10), "bad", Required),
			named(fileSink(good+"2", 10), "good", Required)}, nil},
		{"no sinks", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBroker(t, tt.sinks...)
			err := b.Log(sampleEntry(1))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Log = %v, want %v", err, tt.wantErr)
			}
			for _, s := range b.Status() {
				if s.Name == "bad" && (s.Failures == 0 || !strings.Contains(s.LastError, "missing-dir")) {
					t.Errorf("status of the failing sink: %+v", s)
				}
			}
		})
	}
}

// TestChainContinues covers restart (a new broker on the same file),
// rotation (Reopen after the file was moved) and entries written while
// sealed, which the next unlock's checkpoint signs.
func TestChainContinues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	keys, pub := testKeys("file")
	b1 := newTestBroker(t, fileSink(path, 3))
	for i := range 2 { // sealed: before the first unlock
		if err := b1.Log(sampleEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b1.Unlock(keys); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := b1.Log(sampleEntry(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := b1.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := b1.Log(sampleEntry(9)); err != nil {
		t.Fatal(err)
	}
	if err := b1.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := newTestBroker(t, fileSink(path, 3)) // restart
	if err := b2.Unlock(keys); err != nil {
		t.Fatal(err)
	}
	if err := b2.Log(sampleEntry(10)); err != nil {
		t.Fatal(err)
	}
	b2.Lock()
	if err := b2.Close(); err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(VerifyOptions{PublicKey: pub, Live: true})
	for _, name := range []string{path + ".1", path} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Add(name, f); err != nil {
			t.Fatalf("verify %s: %v", name, err)
		}
		f.Close()
	}
	sum, err := v.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Genesis || sum.Files != 2 || sum.Checkpoints < 4 {
		t.Errorf("summary %+v", sum)
	}
	second, _ := os.ReadFile(path)
	if !bytes.HasPrefix(second, []byte(`{"seq":`)) || !strings.Contains(strings.SplitN(string(second), "\n", 2)[0], `"type":"header"`) {
		t.Errorf("rotated file does not start with a header: %.200s", second)
	}
}

// tcpReceiver accepts connections and collects the lines it reads.
type tcpReceiver struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	conns []net.Conn
}

func newTCPReceiver(t *testing.T, read bool) *tcpReceiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpReceiver{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns = append(r.conns, c)
			r.mu.Unlock()
			if read {
				go r.read(c)
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

func (r *tcpReceiver) read(c net.Conn) {
	sc := bufio.NewScanner(c)
	sc.Buffer(nil, MaxLineSize)
	for sc.Scan() {
		r.mu.Lock()
		r.lines = append(r.lines, sc.Text())
		r.mu.Unlock()
	}
}

// stop closes the listener and every connection: the receiver is dead.
func (r *tcpReceiver) stop() {
	r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.conns {
		c.Close()
	}
}

func socketSink(addr string, mode Mode) SinkConfig {
	return SinkConfig{Type: "socket", Name: "sock", Address: addr, SocketType: "tcp", Mode: mode,
		WriteTimeout: 200 * time.Millisecond, HMACAccessor: true, CheckpointEntries: 100, CheckpointInterval: time.Hour}
}

func TestSocketSink(t *testing.T) {
	t.Run("receiver that stops", func(t *testing.T) {
		r := newTCPReceiver(t, true)
		file := filepath.Join(t.TempDir(), "a.log")
		b := newTestBroker(t, socketSink(r.ln.Addr().String(), BestEffort), fileSink(file, 100))
		keys, _ := testKeys("sock", "file")
		if err := b.Unlock(keys); err != nil {
			t.Fatal(err)
		}
		if err := b.Log(sampleEntry(0)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.lines) >= 3 })
		r.stop()
		for i := range 20 { // the socket fails; the required file sink keeps requests going
			if err := b.Log(sampleEntry(i)); err != nil {
				t.Fatalf("best-effort socket failure failed a request: %v", err)
			}
		}
		st := b.Status()[0]
		if st.Failures == 0 || st.LastError == "" {
			t.Errorf("dead socket not reported: %+v", st)
		}
		r.mu.Lock()
		got := strings.Join(r.lines, "\n")
		r.mu.Unlock()
		if !strings.Contains(got, `"type":"header"`) || strings.Contains(got, "hunter0") {
			t.Errorf("receiver got %q", got)
		}
	})
	t.Run("receiver that never reads", func(t *testing.T) {
		r := newTCPReceiver(t, false)
		c := socketSink(r.ln.Addr().String(), Required)
		c.LogRaw = true // so the 1 MiB value is written as is
		b := newTestBroker(t, c)
		big := sampleEntry(0)
		big.Request.Data["blob"] = strings.Repeat("x", 1<<20)
		var err error
		for i := 0; i < 200 && err == nil; i++ { // fills the socket buffers
			err = b.Log(big)
		}
		if !errors.Is(err, ErrNoSink) {
			t.Fatalf("required socket that never drains: Log = %v, want ErrNoSink", err)
		}
		if st := b.Status()[0]; !strings.Contains(st.LastError, "timeout") {
			t.Errorf("last error %q, want a timeout", st.LastError)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met in time")
}

func TestTimedCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	c := fileSink(path, 1000)
	c.CheckpointInterval = 20 * time.Millisecond
	b := newTestBroker(t, c)
	keys, pub := testKeys("file")
	if err := b.Unlock(keys); err != nil {
		t.Fatal(err)
	}
	if err := b.Log(sampleEntry(0)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		data, _ := os.ReadFile(path)
		lines := splitLines(data)
		l, err := ParseLine(lines[len(lines)-1])
		return err == nil && l.Type == TypeCheckpoint && l.Seq == 4
	})
	data, _ := os.ReadFile(path)
	if _, err := VerifyBytes(VerifyOptions{PublicKey: pub, Live: true}, "a.log", data); err != nil {
		t.Fatal(err)
	}
}
